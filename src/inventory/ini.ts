import { InputError, type SourceLocation } from "../errors.js";
import type { InventoryData } from "./groups.js";
import { hostEntry, HostRangeError } from "./host-range.js";
import { checkLayer, lineOrigin, type VarsLayer } from "./layer.js";
import { pythonLiteral } from "./python-literal.js";
import { ShlexError, shlexSplit } from "./shlex.js";

/**
 * Reads an Ansible INI inventory into `data`, line by line as Ansible's ini plugin does: hosts before
 * any section are ungrouped; `[g]` lists hosts (`name[:port] key=value ...`), `[g:vars]` one
 * `key=value` a line, `[g:children]` group names. Every value is typed by `pythonLiteral`, in
 * `:vars` sections too (ansible-core does so, although its documentation says otherwise:
 * ansible/ansible#86229). A `:vars` or `:children` section may come before the group's own section,
 * but the group must be declared in the file (or an inventory read before it).
 */
export function readIniInventory(
  text: string,
  file: string,
  data: InventoryData,
  errors: InputError[],
): void {
  const pending = new Map<string, Pending>();
  let group = "ungrouped";
  // "skip": the lines of a section that was refused (the error is reported once, at its header).
  let state: "hosts" | "vars" | "children" | "skip" = "hosts";

  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const number = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const column = raw.length - raw.trimStart().length + 1;
    const at = (col = column): SourceLocation => ({ file, line: number, column: col });
    const origin = lineOrigin(at());
    const fail = (message: string, col?: number) =>
      errors.push(new InputError(message, { location: at(col) }));

    const section = SECTION.exec(line);
    if (section) {
      const [, name = "", kind = "hosts"] = section;
      if (kind !== "hosts" && kind !== "vars" && kind !== "children") {
        fail(`unknown section type "${kind}": use [${name}], [${name}:vars] or [${name}:children]`);
        state = "skip";
        continue;
      }
      [group, state] = [name, kind];
      if (!data.hasGroup(name)) {
        if (!data.addGroup(name, origin)) {
          pending.delete(name);
          state = "skip";
          continue;
        }
        if (kind === "vars" && !pending.has(name)) pending.set(name, { line: number, kind, parents: [] });
      }
      const waiting = pending.get(name);
      if (waiting && kind !== "vars") {
        if (waiting.kind === "children") addPendingChildren(name, pending, data, file);
        else pending.delete(name);
      }
      continue;
    }
    if (line.startsWith("[") && line.endsWith("]")) {
      fail(
        `invalid section "${line}": a group name has no spaces, ":" or "]"; write [name], [name:vars] or [name:children]`,
      );
      state = "skip";
      continue;
    }

    if (state === "skip") continue;
    if (state === "vars") {
      const equals = line.indexOf("=");
      if (equals <= 0) {
        fail(`expected key=value in [${group}:vars], got "${line}"`);
        continue;
      }
      const key = line.slice(0, equals).trim();
      const layer = {
        vars: { [key]: pythonLiteral(line.slice(equals + 1).trim()) },
        origin: lineOrigin(at()),
      };
      errors.push(...checkLayer(layer));
      data.addGroupVars(group, layer);
    } else if (state === "children") {
      const child = CHILD.exec(line)?.[1];
      if (child === undefined) fail(`expected a group name in [${group}:children], got "${line}"`);
      else if (data.hasGroup(child)) data.addChild(group, child, origin);
      else {
        const waiting = pending.get(child) ?? { line: number, kind: "children", parents: [] };
        waiting.parents.push(group);
        pending.set(child, waiting);
      }
    } else {
      readHostLine(raw, line, group, at, data, errors);
    }
  }

  for (const [name, waiting] of pending) {
    const location = { file, line: waiting.line, column: 1 };
    errors.push(
      new InputError(
        waiting.kind === "vars"
          ? `[${name}:vars] is for a group that is never declared: add a [${name}] section (or list ${name} under a [parent:children] section)`
          : `[${waiting.parents.at(-1) ?? ""}:children] lists "${name}", which is never declared: add a [${name}] section`,
        { location },
      ),
    );
  }
}

interface Pending {
  line: number;
  kind: "vars" | "children";
  /** Groups whose :children section named this one before it was declared. */
  parents: string[];
}

// As Ansible's ini plugin: `[name]` or `[name:kind]`, then only whitespace or a `#` comment.
const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const CHILD = /^([^:\]\s]+)\s*(?:#.*)?$/;

function addPendingChildren(name: string, pending: Map<string, Pending>, data: InventoryData, file: string) {
  const waiting = pending.get(name);
  pending.delete(name);
  for (const parent of waiting?.parents ?? []) {
    data.addChild(parent, name, lineOrigin({ file, line: waiting?.line ?? 1, column: 1 }));
    if (pending.get(parent)?.kind === "children") addPendingChildren(parent, pending, data, file);
  }
}

/** `name[:port] key=value key="a b" ...`: the host (or range of hosts) and its variables. */
function readHostLine(
  raw: string,
  line: string,
  group: string,
  at: (column?: number) => SourceLocation,
  data: InventoryData,
  errors: InputError[],
): void {
  const fail = (message: string, column?: number) =>
    errors.push(new InputError(message, { location: at(column) }));
  let tokens: string[];
  try {
    tokens = shlexSplit(line);
  } catch (error) {
    if (!(error instanceof ShlexError)) throw error;
    fail(
      error.message === "No closing quotation"
        ? "a quote is never closed: close it"
        : "a line may not end with a backslash",
    );
    return;
  }
  const [entry, ...assignments] = tokens;
  if (entry === undefined) return;
  if (entry.includes("=")) {
    fail(`"${entry}" is a variable, but [${group}] lists hosts: put it under [${group}:vars]`);
    return;
  }
  const columnOf = (text: string) => raw.indexOf(text) + 1 || undefined;

  const vars: Record<string, unknown> = {};
  const columns = new Map<string, SourceLocation>();
  for (const assignment of assignments) {
    const equals = assignment.indexOf("=");
    if (equals <= 0) {
      fail(
        `expected key=value after the host, got "${assignment}": quote a value that has spaces (key="a b")`,
        columnOf(assignment),
      );
      return;
    }
    const key = assignment.slice(0, equals);
    vars[key] = pythonLiteral(assignment.slice(equals + 1));
    columns.set(key, at(columnOf(`${key}=`)));
  }
  const origin = lineOrigin(at(), columns);
  const layer: VarsLayer = { vars, origin };
  errors.push(...checkLayer(layer));
  let hosts: { names: string[]; port?: number };
  try {
    hosts = hostEntry(entry);
  } catch (error) {
    if (!(error instanceof HostRangeError)) throw error;
    fail(`${entry}: ${error.message}`);
    return;
  }
  if (entry.endsWith(":") && hosts.port === undefined) {
    fail(
      `"${entry}" ends in ":" without a port: write ${entry.slice(0, -1)}:PORT or just ${entry.slice(0, -1)}`,
    );
    return;
  }
  for (const name of hosts.names) {
    if (data.addHost(name, group, origin, hosts.port)) data.addHostVars(name, layer);
  }
}
