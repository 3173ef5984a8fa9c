import { homedir, userInfo } from "node:os";
import { InputError, InputErrors } from "../errors.js";
import { readInputFile } from "../yaml/read.js";
import { validateYaml } from "../yaml/validate.js";
import { YamlFile } from "../yaml/yaml-file.js";
import { connectionFor, connectionOrigins, type ConnectionDefaults } from "./connection.js";
import { buildGroupTree, type Group } from "./groups.js";
import type { InventoryHost } from "./host.js";
import { inventorySchema } from "./schema.js";

export interface Inventory {
  file: string;
  /** In the order they first appear in the file. */
  hosts: InventoryHost[];
  /** Group name -> its hosts (direct and through child groups), including "all" and "ungrouped". */
  groups: Map<string, string[]>;
}

export function loadInventory(path: string, defaults?: Partial<ConnectionDefaults>): Inventory {
  return parseInventory(readInputFile(path, "inventory"), path, defaults);
}

/**
 * Reads an Ansible YAML inventory. Variables of a host: `all` vars, then group vars from the
 * shallowest group to the deepest, then the host's own; later wins, whole values replaced (Ansible's
 * default `hash_behaviour: replace`). Groups at the same depth are ordered as Ansible orders them:
 * by `ansible_group_priority` (default 1), then by name, so `b`'s vars win over `a`'s.
 * `inventory_hostname` is set to the host's name, as in Ansible.
 */
export function parseInventory(
  text: string,
  file: string,
  defaults: Partial<ConnectionDefaults> = {},
): Inventory {
  const yaml = YamlFile.parse(text, file);
  const root = validateYaml(yaml, inventorySchema) ?? {};
  const errors: InputError[] = [];
  const tree = buildGroupTree(root, yaml, errors);
  if (tree.hostOrder.length === 0 && errors.length === 0) {
    throw new InputError(
      "the inventory lists no hosts: expected `all:` with `hosts:` (or groups with `hosts:` under `children:`)",
      { location: yaml.locate([]) },
    );
  }
  const resolved: ConnectionDefaults = {
    user: defaults.user ?? userInfo().username,
    home: defaults.home ?? homedir(),
  };

  const hosts = tree.hostOrder.map((name): InventoryHost => {
    const groups = [...tree.groups.values()].filter((g) => g.hosts.includes(name)).sort(byPrecedence);
    const layers = [...groups.flatMap((g) => g.vars), ...(tree.hostLayers.get(name) ?? [])];
    const vars: Record<string, unknown> = Object.assign({}, ...layers.map((l) => l.vars), {
      inventory_hostname: name,
    });
    const connection = connectionFor(name, layers, vars, resolved, yaml, errors);
    const origins = connectionOrigins(layers, yaml);
    return { name, groups: groups.map((g) => g.name), connection, origins, vars };
  });
  if (errors.length > 0) throw new InputErrors(errors);
  return { file, hosts, groups: new Map([...tree.groups.values()].map((g) => [g.name, g.hosts])) };
}

function byPrecedence(a: Group, b: Group): number {
  return a.depth - b.depth || priority(a) - priority(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function priority(group: Group): number {
  const given = group.vars
    .map((l) => l.vars.ansible_group_priority)
    .filter((p) => p !== undefined)
    .at(-1);
  return typeof given === "number" ? given : Number(given ?? 1) || 1;
}
