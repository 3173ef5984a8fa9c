import { InputError } from "../errors.js";
import { closest } from "../yaml/did-you-mean.js";
import type { Inventory } from "./inventory.js";

export interface PatternMatch {
  /** Selected host names, in inventory order. */
  hosts: string[];
  /** Terms that name no host or group and whose glob or regex matches none (likely typos). */
  unmatched: string[];
}

/**
 * Ansible host patterns: `all` or `*`; a host or group name; `a,b` or `a:b` (union); `a:!b`
 * (exclude); `a:&b` (intersection); globs (`pi*`, `web?`, `[ab]*`); `~regex`. As in Ansible, unions
 * are taken first, then intersections, then exclusions, whatever their order in the pattern.
 */
export function matchHostPattern(inventory: Inventory, pattern: string): PatternMatch {
  const all = inventory.hosts.map((h) => h.name);
  const unmatched: string[] = [];
  const include: Set<string>[] = [];
  const intersect: Set<string>[] = [];
  const exclude: Set<string>[] = [];
  for (const term of splitPattern(inventory, pattern)) {
    const [list, name] = term.startsWith("!")
      ? [exclude, term.slice(1)]
      : term.startsWith("&")
        ? [intersect, term.slice(1)]
        : [include, term];
    const hosts = termHosts(inventory, all, name);
    if (hosts === undefined) unmatched.push(term);
    list.push(hosts ?? new Set());
  }
  let selected = include.length > 0 ? new Set(include.flatMap((s) => [...s])) : new Set(all);
  for (const set of intersect) selected = new Set([...selected].filter((h) => set.has(h)));
  for (const set of exclude) selected = new Set([...selected].filter((h) => !set.has(h)));
  return { hosts: all.filter((h) => selected.has(h)), unmatched };
}

/**
 * The hosts `pattern` selects (all hosts when undefined), in inventory order. A term matching
 * nothing is an error naming it: a misspelt `--limit` must not silently select fewer hosts.
 */
export function selectHosts(inventory: Inventory, pattern: string | undefined): string[] {
  if (pattern === undefined) return inventory.hosts.map((h) => h.name);
  const { hosts, unmatched } = matchHostPattern(inventory, pattern);
  if (unmatched.length > 0)
    throw new InputError(`--limit ${JSON.stringify(pattern)}: ${unmatchedMessage(inventory, unmatched)}`);
  return hosts;
}

export function unmatchedMessage(inventory: Inventory, unmatched: readonly string[]): string {
  const terms = unmatched.map((t) => JSON.stringify(t)).join(", ");
  // A misspelt name ("hmoe") gets a suggestion; globs and regexes do not.
  const names = [...inventory.hosts.map((h) => h.name), ...inventory.groups.keys()];
  const hints = unmatched.flatMap((term) => {
    const name = term.replace(/^[!&]/, "");
    const hint = /[*?[~]/.test(name) ? undefined : closest(name, names);
    return hint === undefined ? [] : [{ name, hint }];
  });
  const suggestion =
    hints.length === 0
      ? ""
      : `; did you mean ${hints
          .map(
            ({ name, hint }) =>
              JSON.stringify(hint) + (unmatched.length > 1 ? ` for ${JSON.stringify(name)}` : ""),
          )
          .join(", ")}?`;
  return `host pattern ${unmatched.length === 1 ? "term" : "terms"} ${terms} ${unmatched.length === 1 ? "matches" : "match"} no host or group of ${inventory.file}${suggestion}`;
}

function splitPattern(inventory: Inventory, pattern: string): string[] {
  const isName = (term: string) =>
    inventory.groups.has(term.replace(/^[!&]/, "")) ||
    inventory.hosts.some((h) => h.name === term.replace(/^[!&]/, ""));
  // Commas first; then colons, except inside a name that has them (an IPv6 address as host name).
  const terms = pattern.split(",").flatMap((part) => (isName(part.trim()) ? [part] : part.split(":")));
  const trimmed = terms.map((t) => t.trim()).filter((t) => t.length > 0);
  if (trimmed.length === 0) throw new InputError(`empty host pattern ${JSON.stringify(pattern)}`);
  return trimmed;
}

/** Hosts a single term names, or undefined when it matches no host or group at all. */
function termHosts(inventory: Inventory, all: readonly string[], term: string): Set<string> | undefined {
  if (term === "all" || term === "*") return new Set(all);
  let test: (name: string) => boolean;
  if (term.startsWith("~")) {
    let regex: RegExp;
    try {
      regex = new RegExp(term.slice(1));
    } catch {
      throw new InputError(`invalid regular expression in host pattern: ${JSON.stringify(term)}`);
    }
    test = (name) => regex.test(name);
  } else if (/[*?[]/.test(term)) {
    const glob = globToRegExp(term);
    test = (name) => glob.test(name);
  } else {
    test = (name) => name === term;
  }
  const hosts = new Set<string>();
  let matched = false;
  for (const name of all) {
    if (!test(name)) continue;
    matched = true;
    hosts.add(name);
  }
  for (const [group, members] of inventory.groups) {
    if (!test(group)) continue;
    matched = true;
    for (const host of members) hosts.add(host);
  }
  return matched ? hosts : undefined;
}

/** fnmatch: `*` any run, `?` one character, `[...]` a class (`[!...]` negated); the rest literal. */
function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] ?? "";
    const close = char === "[" ? glob.indexOf("]", i + 2) : -1;
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else if (close > 0) {
      const body = glob
        .slice(i + 1, close)
        .replace(/^!/, "^")
        .replace(/[\\\]]/g, "\\$&");
      source += `[${body}]`;
      i = close;
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
