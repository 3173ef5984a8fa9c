import type { InputError } from "../errors.js";
import type { VarsLayer, VarsOrigin } from "./layer.js";

export interface Group {
  name: string;
  /** Longest distance from `all` (Ansible's group depth): deeper groups' vars win. */
  depth: number;
  /** `ansible_group_priority` as an inventory set it (default 1): among equal depths, higher wins. */
  priority: number;
  /** Hosts of the group and of all its descendants, in inventory order. */
  hosts: string[];
  /** The group's variables as the inventories wrote them, in the order they were read. */
  layers: VarsLayer[];
}

export interface GroupTree {
  /** Host names in the order they first appear. */
  hostOrder: string[];
  /** Every variable map of a host written in the inventories, in the order read. */
  hostLayers: Map<string, VarsLayer[]>;
  groups: Map<string, Group>;
}

interface Node {
  layers: VarsLayer[];
  priority: number;
  ownHosts: Set<string>;
  /** child name -> where it was made a child (undefined for the implicit `ungrouped`) */
  children: Map<string, VarsOrigin | undefined>;
}

// Names must survive host patterns (`a:b`, `a,b`, `!a`, `&a`, `a*`) unambiguously. Host names may
// contain `:` for IPv6 addresses; a pattern naming such a host exactly still works.
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

/**
 * Hosts, groups and their variables, as every inventory source declares them, read one after the
 * other into this one structure (Ansible's InventoryData): a group or host named again adds to what
 * is there, and later variables of the same map win.
 */
export class InventoryData {
  readonly #nodes = new Map<string, Node>();
  readonly #hosts = new Map<string, VarsLayer[]>();
  readonly #errors: InputError[];

  constructor(errors: InputError[]) {
    this.#errors = errors;
    this.#node("all").children.set("ungrouped", undefined);
    this.#node("ungrouped");
  }

  hasGroup(name: string): boolean {
    return this.#nodes.has(name);
  }

  hasHost(name: string): boolean {
    return this.#hosts.has(name);
  }

  /** Declares a group; false (and an error at `origin`) when the name is unusable. */
  addGroup(name: string, origin: VarsOrigin): boolean {
    if (!GROUP_NAME.test(name)) {
      this.#errors.push(
        origin.error(undefined, `invalid group name "${name}": use letters, digits, "_", ".", "-"`, {
          atKey: true,
        }),
      );
      return false;
    }
    this.#node(name);
    return true;
  }

  /** Adds a host to `group`; a `port` from `name:port` counts only where the host first appears. */
  addHost(name: string, group: string, origin: VarsOrigin, port?: number): boolean {
    if (!HOST_NAME.test(name)) {
      const message = `invalid host name "${name}": use letters, digits, "_", ".", "-" (and ":" for IPv6 addresses)`;
      this.#errors.push(origin.error(undefined, message, { atKey: true }));
      return false;
    }
    if (!this.#hosts.has(name)) {
      this.#hosts.set(name, port === undefined ? [] : [{ vars: { ansible_port: port }, origin }]);
    }
    this.#node(group).ownHosts.add(name);
    return true;
  }

  addHostVars(host: string, layer: VarsLayer): void {
    this.#hosts.get(host)?.push(layer);
  }

  /** Group variables; `ansible_group_priority` is no variable but the group's priority, as in Ansible. */
  addGroupVars(group: string, layer: VarsLayer): void {
    const { ansible_group_priority: priority, ...vars } = layer.vars;
    const node = this.#node(group);
    if (priority !== undefined) {
      const value = typeof priority === "number" ? Math.trunc(priority) : Number(priority);
      if (typeof priority === "boolean" || !Number.isInteger(value) || String(priority).trim() === "") {
        this.#errors.push(layer.origin.error("ansible_group_priority", "expected a whole number"));
      } else node.priority = value;
    }
    node.layers.push({ vars, origin: layer.origin });
  }

  addChild(parent: string, child: string, origin: VarsOrigin): void {
    if (child === "all") {
      this.#errors.push(
        origin.error(undefined, `"all" is the implicit root group and cannot be a child`, { atKey: true }),
      );
      return;
    }
    this.#node(parent).children.set(child, origin);
    this.#node(child);
  }

  /** The finished graph: implicit parents and `ungrouped` settled, depths and memberships computed. */
  tree(): GroupTree {
    const parented = new Set([...this.#nodes.values()].flatMap((n) => [...n.children.keys()]));
    // Groups nobody contains are children of `all`, as in Ansible.
    for (const name of this.#nodes.keys()) {
      if (name !== "all" && !parented.has(name)) this.#node("all").children.set(name, undefined);
    }
    const depths = this.#depths();
    const members = new Map<string, Set<string>>();
    const membersOf = (name: string, seen: ReadonlySet<string> = new Set()): Set<string> => {
      const cached = members.get(name);
      if (cached) return cached;
      const result = new Set(this.#nodes.get(name)?.ownHosts ?? []);
      for (const child of this.#nodes.get(name)?.children.keys() ?? []) {
        if (seen.has(child)) continue; // a cycle, reported by #depths
        for (const host of membersOf(child, new Set([...seen, name]))) result.add(host);
      }
      members.set(name, result);
      return result;
    };

    // `ungrouped`: the hosts in no group but `all` (and `ungrouped`), as Ansible settles it.
    const hostOrder = [...this.#hosts.keys()];
    const grouped = new Set(
      [...this.#nodes.keys()]
        .filter((g) => g !== "all" && g !== "ungrouped")
        .flatMap((g) => [...membersOf(g)]),
    );
    this.#node("ungrouped").ownHosts = new Set(hostOrder.filter((h) => !grouped.has(h)));
    members.delete("ungrouped");
    members.delete("all");

    const groups = new Map<string, Group>();
    for (const [name, node] of this.#nodes) {
      const hosts = name === "all" ? new Set(hostOrder) : membersOf(name);
      groups.set(name, {
        name,
        depth: depths.get(name) ?? 1,
        priority: node.priority,
        hosts: hostOrder.filter((h) => hosts.has(h)),
        layers: node.layers,
      });
    }
    return { hostOrder, hostLayers: this.#hosts, groups };
  }

  #node(name: string): Node {
    let found = this.#nodes.get(name);
    if (!found) {
      found = { layers: [], priority: 1, ownHosts: new Set(), children: new Map() };
      this.#nodes.set(name, found);
    }
    return found;
  }

  /** Longest path from `all` to every group; reports cycles (a group that contains itself). */
  #depths(): Map<string, number> {
    const depths = new Map<string, number>([["all", 0]]);
    const visit = (name: string, depth: number, stack: readonly string[]) => {
      for (const [child, origin] of this.#nodes.get(name)?.children ?? []) {
        if (stack.includes(child)) {
          const message = `group "${child}" contains itself (${[...stack, child].join(" -> ")})`;
          if (origin) this.#errors.push(origin.error(undefined, message, { atKey: true }));
          continue;
        }
        if ((depths.get(child) ?? -1) >= depth + 1) continue;
        depths.set(child, depth + 1);
        visit(child, depth + 1, [...stack, child]);
      }
    };
    visit("all", 0, ["all"]);
    // Every group without a parent is a child of `all`: one out of its reach sits in a loop of groups.
    for (const name of this.#nodes.keys()) {
      if (depths.has(name)) continue;
      depths.set(name, 1);
      visit(name, 1, [name]);
    }
    return depths;
  }
}
