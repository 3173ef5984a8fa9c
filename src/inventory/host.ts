/** One inventory host after group/host variable merging. Plain data. */
export interface InventoryHost {
  name: string;
  /** Groups the host belongs to, including "all" and every ancestor group. */
  groups: string[];
  connection: ConnectionSpec;
  /** All variables visible to the host (host > child group > parent group > all). */
  vars: Record<string, unknown>;
}

export interface ConnectionSpec {
  /** Address to connect to; default the host's name. */
  address: string;
  port: number;
  user: string;
  /** Identity file path (~ expanded); undefined = ssh-agent, then the default key files. */
  keyFile?: string;
  /** Run remote commands through `sudo -n` (user is not root). */
  become: boolean;
  /** known_hosts file to check host keys against; default ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /**
   * `host_key_checking`: what to do with a host whose key is not in known_hosts (a changed or revoked key
   * is always refused). Undefined = strict. The command line's --host-key-checking wins over it.
   */
  hostKeyChecking?: "strict" | "accept-new";
}
