import { listItems } from "../postfix/rules.js";
import { readTableEntries } from "../postfix/table.js";
import { KEY_VALUE_TYPES } from "../postfix/tabletypes.js";

/**
 * Reading a hand-made Postfix setup for `provision import`: `postconf -n` as parameters, the lookup
 * tables main.cf refers to, and their entries as Postfix reads them. Pure.
 */

/** `postconf -n` output -> name -> value, in order. */
export function parsePostconfN(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf(" = ");
    if (eq > 0) params.set(line.slice(0, eq), line.slice(eq + 3));
    else if (line.endsWith(" =")) params.set(line.slice(0, -2), "");
  }
  return params;
}

/** A table provision could own: one `TYPE:/etc/postfix/NAME` of a key/value type, alone in its parameter. */
export interface TableRef {
  parameter: string;
  type: string;
  path: string;
  /** The file name in /etc/postfix. */
  name: string;
}

const OWNABLE = /^([a-z0-9]+):\/etc\/postfix\/([A-Za-z0-9][A-Za-z0-9_-]*)$/;

/**
 * The tables main.cf refers to that could be owned whole: a parameter whose value is exactly one such
 * table. A list of several tables, a regexp/pcre/cidr table or a file elsewhere stays a main: value.
 */
export function tableRefs(params: Map<string, string>): TableRef[] {
  const refs: TableRef[] = [];
  for (const [parameter, value] of params) {
    const items = listItems(value);
    const match = items.length === 1 ? OWNABLE.exec(items[0] ?? "") : null;
    if (!match) continue;
    const [, type = "", name = ""] = match;
    if (KEY_VALUE_TYPES.includes(type)) refs.push({ parameter, type, path: `/etc/postfix/${name}`, name });
  }
  return refs;
}

/** Every map of any kind a value names (TYPE:PATH), for notes about tables left unmanaged. */
export function mapsIn(value: string): string[] {
  return listItems(value).filter((item) => /^[a-z0-9]+:\//.test(item));
}

export interface HostEntry {
  key: string;
  value: string;
}

/** A table source's entries as Postfix reads them (the first of a key wins). */
export const tableEntries: (text: string) => HostEntry[] = readTableEntries;
