import type { InputError } from "../errors.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { GroupInput, VarsInput } from "./schema.js";

/** One `vars:` map (of a group) or one host entry, with where it is in the file. */
export interface VarsLayer {
  vars: VarsInput;
  path: YamlPath;
}

export interface Group {
  name: string;
  /** Longest distance from `all` (Ansible's group depth): deeper groups' vars win. */
  depth: number;
  /** Hosts of the group and of all its descendants, in inventory order. */
  hosts: string[];
  vars: VarsLayer[];
}

export interface GroupTree {
  /** Host names in the order they first appear in the file. */
  hostOrder: string[];
  /** Every host entry of a host, in file order (a host may be listed under several groups). */
  hostLayers: Map<string, VarsLayer[]>;
  groups: Map<string, Group>;
}

interface Node {
  vars: VarsLayer[];
  ownHosts: Set<string>;
  /** child name -> where it was declared */
  children: Map<string, YamlPath>;
}

// Names must survive host patterns (`a:b`, `a,b`, `!a`, `&a`, `a*`) unambiguously. Host names may
// contain `:` for IPv6 addresses; a pattern naming such a host exactly still works.
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

/**
 * Flattens the nested Ansible groups into a graph. A group may be declared in several places (its
 * hosts, vars and children add up), as in Ansible; a group that contains itself is an error.
 */
export function buildGroupTree(
  root: Record<string, GroupInput | null>,
  yaml: YamlFile,
  errors: InputError[],
): GroupTree {
  const nodes = new Map<string, Node>();
  const hostOrder: string[] = [];
  const hostLayers = new Map<string, VarsLayer[]>();
  const node = (name: string): Node => {
    let found = nodes.get(name);
    if (!found) nodes.set(name, (found = { vars: [], ownHosts: new Set(), children: new Map() }));
    return found;
  };

  const add = (name: string, group: GroupInput | null, path: YamlPath) => {
    const target = node(name);
    if (group?.vars) target.vars.push({ vars: group.vars, path: [...path, "vars"] });
    for (const [host, vars] of Object.entries(group?.hosts ?? {})) {
      const hostPath = [...path, "hosts", host];
      if (!HOST_NAME.test(host)) {
        errors.push(yaml.error(hostPath, hostNameProblem(host), { atKey: true }));
        continue;
      }
      if (!hostLayers.has(host)) hostOrder.push(host);
      hostLayers.set(host, [...(hostLayers.get(host) ?? []), { vars: vars ?? {}, path: hostPath }]);
      target.ownHosts.add(host);
    }
    for (const [child, childGroup] of Object.entries(group?.children ?? {})) {
      const childPath = [...path, "children", child];
      if (!GROUP_NAME.test(child) || child === "all") {
        errors.push(yaml.error(childPath, groupNameProblem(child), { atKey: true }));
        continue;
      }
      target.children.set(child, childPath);
      add(child, childGroup, childPath);
    }
  };

  node("all");
  for (const [name, group] of Object.entries(root)) {
    if (name !== "all") {
      if (!GROUP_NAME.test(name)) {
        errors.push(yaml.error([name], groupNameProblem(name), { atKey: true }));
        continue;
      }
      // Top-level groups other than `all` are its children, as in Ansible.
      node("all").children.set(name, [name]);
    }
    add(name, group, [name]);
  }

  const depths = groupDepths(nodes, yaml, errors);
  const members = new Map<string, Set<string>>();
  const membersOf = (name: string, seen: ReadonlySet<string> = new Set()): Set<string> => {
    const cached = members.get(name);
    if (cached) return cached;
    const result = new Set(nodes.get(name)?.ownHosts ?? []);
    for (const child of nodes.get(name)?.children.keys() ?? []) {
      if (seen.has(child)) continue; // a cycle, reported by groupDepths
      for (const host of membersOf(child, new Set([...seen, name]))) result.add(host);
    }
    members.set(name, result);
    return result;
  };

  // Hosts in no group but `all` are in `ungrouped`, as in Ansible; the group always exists.
  const grouped = new Set(
    [...nodes.keys()].filter((g) => g !== "all" && g !== "ungrouped").flatMap((g) => [...membersOf(g)]),
  );
  const ungrouped = node("ungrouped");
  for (const host of hostOrder) if (!grouped.has(host)) ungrouped.ownHosts.add(host);
  if (!node("all").children.has("ungrouped")) node("all").children.set("ungrouped", ["all"]);
  if (!depths.has("ungrouped")) depths.set("ungrouped", 1);
  members.delete("ungrouped");
  members.delete("all");

  const groups = new Map<string, Group>();
  for (const [name, { vars }] of nodes) {
    const hosts = name === "all" ? new Set(hostOrder) : membersOf(name);
    groups.set(name, {
      name,
      depth: depths.get(name) ?? 1,
      hosts: hostOrder.filter((h) => hosts.has(h)),
      vars,
    });
  }
  return { hostOrder, hostLayers, groups };
}

/** Longest path from `all` to every group; reports cycles (a group that contains itself). */
function groupDepths(nodes: Map<string, Node>, yaml: YamlFile, errors: InputError[]): Map<string, number> {
  const depths = new Map<string, number>([["all", 0]]);
  const visit = (name: string, depth: number, stack: readonly string[]) => {
    for (const [child, path] of nodes.get(name)?.children ?? []) {
      if (stack.includes(child)) {
        errors.push(
          yaml.error(path, `group "${child}" contains itself (${[...stack, child].join(" -> ")})`, {
            atKey: true,
          }),
        );
        continue;
      }
      if ((depths.get(child) ?? -1) >= depth + 1) continue;
      depths.set(child, depth + 1);
      visit(child, depth + 1, [...stack, child]);
    }
  };
  visit("all", 0, ["all"]);
  return depths;
}

function hostNameProblem(name: string): string {
  if (/\[.*:.*\]/.test(name)) return `host ranges such as "${name}" are not supported: list each host`;
  return `invalid host name "${name}": use letters, digits, "_", ".", "-" (and ":" for IPv6 addresses)`;
}

function groupNameProblem(name: string): string {
  if (name === "all") return `"all" is the implicit root group and cannot be a child`;
  return `invalid group name "${name}": use letters, digits, "_", ".", "-"`;
}
