import type { SecretRef, SecretSite } from "../secrets/resolve.js";

/** One inventory host after group/host variable merging. Plain data. */
export interface InventoryHost {
  name: string;
  /** Groups the host belongs to, including "all" and every ancestor group. */
  groups: string[];
  connection: ConnectionSpec;
  /** FILE:LINE of every connection setting the inventory gives, by ConnectionSpec field (absent = not given). */
  origins?: Record<string, string>;
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
  /** ssh configuration file instead of ~/.ssh/config and /etc/ssh/ssh_config (ssh -F). */
  sshConfig?: string;
  /** Jump hosts, as ProxyJump takes them: `[user@]host[:port],...`. */
  jump?: string;
  /** ansible_ssh_common_args / ansible_ssh_extra_args, as written. */
  sshArgs?: { variable: string; text: string; origin: string }[];
  /** Passphrase of the host's encrypted key files. */
  keyPassphrase?: SecretSetting;
  /** sudo password for become. */
  becomePassword?: SecretSetting;
}

/** A secret named in the inventory, resolved by the CLI before any host is contacted. */
export interface SecretSetting {
  ref: SecretRef | { literal: string };
  site: SecretSite;
}
