import { homedir, userInfo } from "node:os";
import { InputError, InputErrors } from "../errors.js";
import { connectionFor, connectionOrigins, type ConnectionDefaults } from "./connection.js";
import { InventoryData, type Group, type GroupTree } from "./groups.js";
import type { InventoryHost } from "./host.js";
import type { VarsLayer } from "./layer.js";
import { readInventoryText, readSource, type SourceRead } from "./sources.js";
import { VarsFiles, type VarsKind } from "./vars-files.js";

export interface Inventory {
  /** The inventory sources, as named in messages ("hosts.ini, extra.yaml"). */
  file: string;
  /** In the order they first appear. */
  hosts: InventoryHost[];
  /** Group name -> its hosts (direct and through child groups), including "all" and "ungrouped". */
  groups: Map<string, string[]>;
}

export interface LoadOptions extends Partial<ConnectionDefaults> {
  /** The playbook's directory: its group_vars/ and host_vars/ count too, over the inventory's. */
  playbookDir?: string;
}

/**
 * Reads the inventory sources (every `-i` value, in order, into one inventory as Ansible merges them)
 * with the group_vars/ and host_vars/ beside each of them and beside the playbook.
 */
export function loadInventory(sources: string | readonly string[], options: LoadOptions = {}): Inventory {
  const list = typeof sources === "string" ? [sources] : [...sources];
  const errors: InputError[] = [];
  const data = new InventoryData(errors);
  const reads = list.map((source) => readSource(source, data, errors));
  const dirs = {
    inventory: reads.flatMap((read) => (read.varsDir === undefined ? [] : [read.varsDir])),
    playbook: options.playbookDir === undefined ? [] : [options.playbookDir],
  };
  return resolve(data, list.join(", "), reads[0]?.noHosts, dirs, options, errors);
}

/** One inventory given as text (YAML or INI), without group_vars/ and host_vars/. */
export function parseInventory(
  text: string,
  file: string,
  defaults: Partial<ConnectionDefaults> = {},
): Inventory {
  const errors: InputError[] = [];
  const data = new InventoryData(errors);
  const { noHosts } = readInventoryText(text, file, data, errors);
  return resolve(data, file, noHosts, { inventory: [], playbook: [] }, defaults, errors);
}

interface VarsDirs {
  inventory: string[];
  playbook: string[];
}

/**
 * Every host's variables, merged as Ansible merges them (later wins, whole values replaced:
 * `hash_behaviour: replace`): the inventories' `all` vars, their group vars (groups ordered by depth,
 * then `ansible_group_priority`, then name), group_vars/all beside the inventories then beside the
 * playbook, group_vars/GROUP likewise, the inventories' host vars, host_vars/HOST likewise.
 * `inventory_hostname` is the host's name.
 */
function resolve(
  data: InventoryData,
  file: string,
  noHosts: SourceRead["noHosts"] | undefined,
  dirs: VarsDirs,
  defaults: Partial<ConnectionDefaults>,
  errors: InputError[],
): Inventory {
  const tree = data.tree();
  if (tree.hostOrder.length === 0 && errors.length === 0) {
    throw new InputError(`the inventory lists no hosts: ${noHosts?.hint ?? ""}`, {
      location: noHosts?.location,
    });
  }
  const connection: ConnectionDefaults = {
    user: defaults.user ?? userInfo().username,
    home: defaults.home ?? homedir(),
  };
  const files = new VarsFiles(errors);
  const vars = (where: string[], kind: VarsKind, names: string[]) =>
    where.flatMap((dir) => names.flatMap((name) => files.layers(dir, kind, name)));
  // Every group's files are read, used or not, so that a mistake in one shows at once.
  for (const group of tree.groups.keys()) vars([...dirs.inventory, ...dirs.playbook], "group_vars", [group]);

  const groupsOf = hostGroups(tree);
  const hosts = tree.hostOrder.map((name): InventoryHost => {
    const groups = groupsOf.get(name) ?? [];
    const names = groups.map((g) => g.name);
    const layers: VarsLayer[] = [
      ...(tree.groups.get("all")?.layers ?? []),
      ...groups.flatMap((g) => g.layers),
      ...vars(dirs.inventory, "group_vars", ["all"]),
      ...vars(dirs.playbook, "group_vars", ["all"]),
      ...vars(dirs.inventory, "group_vars", names),
      ...vars(dirs.playbook, "group_vars", names),
      ...(tree.hostLayers.get(name) ?? []),
      ...vars(dirs.inventory, "host_vars", [name]),
      ...vars(dirs.playbook, "host_vars", [name]),
    ];
    const merged: Record<string, unknown> = Object.assign({}, ...layers.map((l) => l.vars), {
      inventory_hostname: name,
    });
    return {
      name,
      groups: ["all", ...names],
      connection: connectionFor(name, layers, merged, connection, errors),
      origins: connectionOrigins(layers),
      vars: merged,
    };
  });
  if (errors.length > 0) throw new InputErrors(errors);
  return { file, hosts, groups: new Map([...tree.groups.values()].map((g) => [g.name, g.hosts])) };
}

/** Each host's groups but `all`, in the order their variables apply (Ansible's sort_groups). */
function hostGroups(tree: GroupTree): Map<string, Group[]> {
  const result = new Map<string, Group[]>();
  const sorted = [...tree.groups.values()].filter((g) => g.name !== "all").sort(byPrecedence);
  for (const group of sorted) {
    for (const host of group.hosts) result.set(host, [...(result.get(host) ?? []), group]);
  }
  return result;
}

function byPrecedence(a: Group, b: Group): number {
  return a.depth - b.depth || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
