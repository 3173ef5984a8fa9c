import { dirname } from "node:path";
import { InputError } from "../errors.js";
import { loadInventory, selectHosts, type Inventory } from "../inventory/index.js";
import { loadPlaybook, resolveDesired } from "../playbook/index.js";
import { createSecretResolver } from "../secrets/resolve.js";
import type { Secret } from "../secrets/secret.js";
import type { PostfixState } from "../postfix/state.js";
import type { HostJob, RunMode } from "../engine/host-run.js";
import type { HostReach, HostKeyChecking } from "../transport/ssh.js";
import { reachAll } from "./reach-hosts.js";

/**
 * The local half of every command: the options they share, and reading inventory, playbook and secrets
 * into one job per host. No host is contacted here.
 */

export const DEFAULT_INVENTORY = "inventories/hosts.yaml";

export interface CommonOptions {
  /** Every -i, in order; none given: DEFAULT_INVENTORY. */
  inventory?: string[];
  limit?: string;
  json?: boolean;
  forks: number;
  /** Undefined when not given: each host's inventory `host_key_checking`, else strict. */
  hostKeyChecking?: HostKeyChecking;
  /** Undefined when not given: the ssh configuration's ConnectTimeout, else 15. */
  connectTimeout?: number;
  commandTimeout: number;
  lockTimeout: number;
  sshConfig?: string;
  askBecomePass?: boolean;
  verbose?: boolean;
}

export interface Loaded {
  jobs: HostJob[];
  secrets: Secret[];
  warnings: string[];
  reach: Map<string, HostReach>;
}

/** Everything local: read and validate inventory + playbook, resolve secrets. No host is contacted. */
export async function load(
  mode: RunMode,
  playbookFile: string | undefined,
  options: CommonOptions,
): Promise<Loaded> {
  // As ansible-playbook: group_vars/ and host_vars/ beside the playbook count too.
  const inventory: Inventory = loadInventory(options.inventory ?? [DEFAULT_INVENTORY], {
    ...(playbookFile !== undefined && { playbookDir: dirname(playbookFile) }),
  });
  const selected = selectHosts(inventory, options.limit);
  if (selected.length === 0)
    throw new InputError(`--limit ${options.limit ?? ""} matches no host of ${inventory.file}`);
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  const resolver = createSecretResolver();
  const playbook = mode === "facts" || !playbookFile ? undefined : loadPlaybook(playbookFile);
  const reached = await reachAll(
    selected.map((name) => byName.get(name)!),
    options,
    resolver,
  );
  const reach = { reach: reached.reach };
  // Reports name the address actually connected to (HostName from the ssh configuration, say).
  for (const [name, { target }] of reached.reach) {
    const host = byName.get(name)!;
    byName.set(name, { ...host, connection: { ...host.connection, address: target.hostname.value } });
  }
  if (!playbook) {
    const jobs = selected.map((name) => ({ host: byName.get(name)! }));
    return { jobs, secrets: reached.secrets, warnings: reached.warnings, ...reach };
  }
  // check goes on without a password it cannot get (a timer has no secrets): it compares all else.
  const desired = await resolveDesired(playbook, inventory, selected, resolver, {
    allowUnresolved: mode === "check",
  });
  const { states } = desired;
  const warnings = [...reached.warnings, ...desired.warnings];
  const jobs = selected
    .filter((name) => states.has(name))
    .map((name) => ({ host: byName.get(name)!, state: states.get(name)! }));
  if (jobs.length === 0) throw new InputError(`no play of ${playbookFile} applies to the selected hosts`);
  return {
    jobs,
    secrets: [...reached.secrets, ...[...states.values()].flatMap(secretsOf)],
    warnings,
    ...reach,
  };
}

function secretsOf(state: PostfixState): Secret[] {
  const secrets: Secret[] = [];
  if (state.relay?.password) secrets.push(state.relay.password);
  for (const sender of Object.values(state.senders ?? {})) if (sender.password) secrets.push(sender.password);
  return secrets.filter((secret) => secret.unresolved === undefined);
}
