import { HostError } from "../errors.js";
import type { PostfixHostInfo } from "./host-info.js";

export type { PostfixHostInfo } from "./host-info.js";

/** The index files `postmap TYPE:SOURCE` writes, by type. Types not listed here need no postmap. */
const INDEX_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  hash: [".db"],
  btree: [".db"],
  lmdb: [".lmdb"],
  cdb: [".cdb"],
  dbm: [".dir", ".pag"],
  sdbm: [".dir", ".pag"],
};

/** Every index suffix any type produces: an index of another type next to a source is stale. */
export const ALL_INDEX_SUFFIXES: readonly string[] = [".db", ".lmdb", ".cdb", ".dir", ".pag"];

/**
 * Types whose source file is a plain "key value" list, so the tool can render it and sort it. regexp,
 * pcre and cidr are first-match-wins in file order and use their own syntax; they are not offered.
 */
export const KEY_VALUE_TYPES: readonly string[] = [...Object.keys(INDEX_SUFFIXES), "texthash"];

/** True when the type is built into an index by postmap (never run postmap on regexp, cidr, ...). */
export function needsPostmap(type: string): boolean {
  return Object.hasOwn(INDEX_SUFFIXES, type);
}

/** The index files postmap builds from `sourcePath`; [] for types that need no postmap. */
export function indexPathsFor(type: string, sourcePath: string): string[] {
  const suffixes = Object.hasOwn(INDEX_SUFFIXES, type) ? (INDEX_SUFFIXES[type] ?? []) : [];
  return suffixes.map((suffix) => sourcePath + suffix);
}

/**
 * The concrete type to use on this host: "auto" means its default_database_type. Either way the result
 * must be one `postconf -m` lists, or postmap and every daemon reading the table would fail.
 */
export function resolveTableType(requested: string, host: PostfixHostInfo): string {
  const type = requested === "auto" ? host.defaultDatabaseType : requested;
  if (host.supportedTypes.includes(type)) return type;
  const offers = host.supportedTypes.length > 0 ? [...host.supportedTypes].sort().join(", ") : "nothing";
  const usable = KEY_VALUE_TYPES.filter((t) => host.supportedTypes.includes(t));
  const hint = usable.length > 0 ? `; the usable ones are ${usable.join(", ")}` : "";
  if (requested === "auto") {
    throw new HostError(
      host.name,
      `host ${host.name}: its default_database_type "${type}" is not supported by its Postfix ` +
        `(postconf -m offers: ${offers}); set table_type to a supported type${hint}`,
    );
  }
  throw new HostError(
    host.name,
    `host ${host.name}: table type "${type}" is not supported by its Postfix ${host.version} ` +
      `(postconf -m offers: ${offers}); use table_type: auto for the host's default ` +
      `(${host.defaultDatabaseType}) or another supported type${hint}`,
  );
}
