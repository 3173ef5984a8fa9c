import type { InventoryHost } from "../inventory/host.js";
import { renderTemplate, TemplateError, type Vars } from "../inventory/template.js";
import type { NextHop } from "../postfix/state.js";
import { shellInserter } from "../secrets/command-template.js";
import type { SecretRef } from "../secrets/resolve.js";
import type { Secret } from "../secrets/secret.js";
import { controlCharacterProblem } from "../yaml/validate.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { Play } from "./playbook.js";
import type { Problems } from "./problems.js";
import type { SecretRefInput } from "./schema.js";

/**
 * One play's contribution to one host's state: `{{ vars }}` substituted, values checked, every value
 * still tied to where it was written so that merging can name both sides of a conflict.
 */

export interface Origin {
  play: Play;
  path: YamlPath;
}

/** A value with its (substituted) key and where it came from. */
export interface Owned<T> {
  key: string;
  value: T;
  origin: Origin;
}

/** A password to fetch; `secret` is filled in by the asynchronous secrets pass. */
export interface SecretSlot {
  ref: SecretRef | { literal: string };
  origin: Origin;
  secret?: Secret;
}

export interface RelayDraft extends NextHop {
  username?: string;
  password?: SecretSlot;
  tls?: string;
  mechanisms?: string[];
  securityOptions?: string[];
}

export interface SenderDraft {
  relay: NextHop;
  username?: string;
  password?: SecretSlot;
}

export interface TableDraft {
  type?: Owned<string>;
  parameter: Owned<string>;
  entries: Owned<string>[];
}

export type MapKind = "generic" | "canonical" | "virtual";

export interface Draft {
  play: Play;
  tableType?: Owned<string>;
  main: Owned<string | null>[];
  maps: Partial<Record<MapKind, Owned<string>[]>>;
  relay?: Owned<RelayDraft>;
  senders?: Owned<SenderDraft>[];
  tables?: Owned<TableDraft>[];
  secrets: SecretSlot[];
}

const PARAMETER = /^[A-Za-z0-9_-]+$/;

/** user@domain or @domain: a DNS name or an address literal ([192.0.2.1]) after the one "@". */
const DNS_LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?";
const ADDRESS = new RegExp(`^[^@\\s]*@(?:${DNS_LABEL}(?:\\.${DNS_LABEL})*|\\[[^\\]\\s]+\\])$`);

/** Builds one play's draft for one host; problems are collected, not thrown, to report them all. */
export function buildDraft(play: Play, host: InventoryHost, yaml: YamlFile, problems: Problems): Draft {
  const t = new Templater(play, host, yaml, problems);
  const at = (...path: (string | number)[]): YamlPath => [play.index, "postfix", ...path];
  const origin = (path: YamlPath): Origin => ({ play, path });
  const { postfix } = play;
  const draft: Draft = { play, main: [], maps: {}, secrets: [] };

  if (postfix.table_type !== undefined) {
    const value = t.text(postfix.table_type, at("table_type"));
    if (value !== undefined) draft.tableType = { key: "table_type", value, origin: origin(at("table_type")) };
  }

  for (const [rawKey, raw] of Object.entries(postfix.main ?? {})) {
    const path = at("main", rawKey);
    const key = t.key(rawKey, path);
    if (key !== undefined && !PARAMETER.test(key))
      t.problem(path, `invalid main.cf parameter name "${key}": use letters, digits, "_" and "-"`, true);
    let value: string | null | undefined;
    if (raw === null) value = null;
    else if (typeof raw === "boolean") value = raw ? "yes" : "no";
    // Keep numbers as written: YAML reads 0644 as 644 and 1.0 as 1.
    else if (typeof raw === "number") value = yaml.sourceText(path) ?? String(raw);
    else value = t.text(raw, path);
    if (key !== undefined && value !== undefined) draft.main.push({ key, value, origin: origin(path) });
  }

  for (const kind of ["generic", "canonical", "virtual"] as const) {
    const entries = postfix[kind];
    if (entries) draft.maps[kind] = t.entries(entries, at(kind), { addresses: kind });
  }

  const slot = (ref: SecretRefInput, path: YamlPath): SecretSlot | undefined => {
    const resolved = t.secretRef(ref, path);
    if (!resolved) return undefined;
    const secretSlot = { ref: resolved, origin: origin(path) };
    draft.secrets.push(secretSlot);
    return secretSlot;
  };
  const credentials = (given: { username?: string; password?: SecretRefInput }, path: YamlPath) => {
    const username = given.username === undefined ? undefined : t.text(given.username, [...path, "username"]);
    if (username?.includes(":")) {
      t.problem(
        [...path, "username"],
        `a username may not contain ":" (sasl_passwd splits at the first colon)`,
      );
    }
    const password = given.password === undefined ? undefined : slot(given.password, [...path, "password"]);
    return { ...(username !== undefined && { username }), ...(password && { password }) };
  };

  if (postfix.relay) {
    const { relay } = postfix;
    const path = at("relay");
    const tls = relay.tls === undefined ? undefined : t.text(relay.tls, at("relay", "tls"));
    const mechanisms =
      relay.mechanisms === undefined ? undefined : t.list(relay.mechanisms, at("relay", "mechanisms"));
    const securityOptions =
      relay.security_options === undefined
        ? undefined
        : t.list(relay.security_options, at("relay", "security_options"));
    const value: RelayDraft = {
      ...t.nextHop(relay, path),
      ...credentials(relay, path),
      ...(tls !== undefined && { tls }),
      ...(mechanisms && { mechanisms }),
      ...(securityOptions && { securityOptions }),
    };
    draft.relay = { key: "relay", value, origin: origin(path) };
  }

  if (postfix.senders) {
    draft.senders = [];
    for (const [rawAddress, sender] of Object.entries(postfix.senders)) {
      const path = at("senders", rawAddress);
      const address = t.tableKey(rawAddress, path);
      const value: SenderDraft = {
        relay: t.nextHop(sender.relay, [...path, "relay"]),
        ...credentials(sender, path),
      };
      if (address !== undefined) draft.senders.push({ key: address, value, origin: origin(path) });
    }
  }

  if (postfix.tables) {
    draft.tables = [];
    for (const [name, table] of Object.entries(postfix.tables)) {
      const path = at("tables", name);
      const own = (key: string, value: string | undefined): Owned<string> | undefined =>
        value === undefined ? undefined : { key, value, origin: origin([...path, key]) };
      const type = table.type === undefined ? undefined : own("type", t.text(table.type, [...path, "type"]));
      const parameter = own("parameter", t.text(table.parameter, [...path, "parameter"]));
      if (parameter && !PARAMETER.test(parameter.value)) {
        t.problem(
          [...path, "parameter"],
          `invalid main.cf parameter name "${parameter.value}": use letters, digits, "_" and "-"`,
        );
      }
      const entries = t.entries(table.entries, [...path, "entries"]);
      if (parameter)
        draft.tables.push({
          key: name,
          value: { ...(type && { type }), parameter, entries },
          origin: origin(path),
        });
    }
  }
  return draft;
}

const ADDRESS_FORMS =
  'expected user@domain, @domain or a bare user name, with a domain such as "example.com" (no "..", no empty labels)';

/** Substitutes one host's variables into a play's values, recording problems at their position. */
class Templater {
  readonly #scopes: readonly Vars[];

  constructor(
    readonly play: Play,
    readonly host: InventoryHost,
    readonly yaml: YamlFile,
    readonly problems: Problems,
  ) {
    // Inventory variables win; the play's vars only fill what the inventory leaves undefined.
    this.#scopes = [host.vars, play.vars];
  }

  problem(path: YamlPath, message: string, atKey = false): void {
    this.problems.add(this.yaml, path, message, { host: this.host.name, atKey });
  }

  render(
    text: string,
    path: YamlPath,
    options: { atKey?: boolean; secret?: boolean; shell?: boolean } = {},
  ): string | number | undefined {
    try {
      return renderTemplate(text, this.#scopes, options.shell ? shellInserter(text) : undefined);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      // Some template messages quote the text; a literal password must not end up in one.
      const message =
        options.secret && !error.aboutVariable
          ? "invalid {{ }} template in a literal password"
          : error.message;
      this.problem(path, message, options.atKey);
      return undefined;
    }
  }

  text(
    text: string,
    path: YamlPath,
    options: { secret?: boolean; shell?: boolean } = {},
  ): string | undefined {
    const value = this.render(text, path, options);
    return value === undefined ? undefined : this.#clean(String(value), path, false);
  }

  key(text: string, path: YamlPath): string | undefined {
    const value = this.render(text, path, { atKey: true });
    return value === undefined ? undefined : this.#clean(String(value), path, true);
  }

  /** A lookup table key: one word that Postfix will not read as a comment. */
  tableKey(text: string, path: YamlPath): string | undefined {
    const key = this.key(text, path);
    if (key === undefined) return undefined;
    if (key === "") this.problem(path, "empty key", true);
    else if (/\s/.test(key))
      this.problem(
        path,
        `key "${key}" contains whitespace, which would end the key early in the table file; remove it`,
        true,
      );
    else if (key.startsWith("#"))
      this.problem(path, `key "${key}" starts with "#", which makes the line a comment`, true);
    else return key;
    return undefined;
  }

  /**
   * A lookup table's entries. Keys differing only in case clash: Postfix lowercases them. In an address
   * map (generic, canonical, virtual) a key with "@" must be an address; so must a generic or canonical
   * value (virtual values may be lists).
   */
  entries(
    entries: Record<string, string>,
    path: YamlPath,
    options: { addresses?: MapKind } = {},
  ): Owned<string>[] {
    const owned: Owned<string>[] = [];
    const { addresses } = options;
    for (const [rawKey, rawValue] of Object.entries(entries)) {
      const entryPath = [...path, rawKey];
      const key = this.tableKey(rawKey, entryPath);
      const value = this.text(rawValue, entryPath);
      if (value !== undefined && value.trim() === "") this.problem(entryPath, "empty value");
      if (key === undefined || value === undefined || value.trim() === "") continue;
      if (addresses && key.includes("@") && !ADDRESS.test(key)) {
        this.problem(entryPath, `key ${JSON.stringify(key)} is not a valid address: ${ADDRESS_FORMS}`, true);
        continue;
      }
      if (addresses && addresses !== "virtual" && value.includes("@") && !ADDRESS.test(value.trim())) {
        this.problem(entryPath, `value ${JSON.stringify(value)} is not a valid address: ${ADDRESS_FORMS}`);
        continue;
      }
      const same = owned.find((o) => o.key.toLowerCase() === key.toLowerCase());
      if (same) {
        this.problem(
          entryPath,
          `key "${key}" is the same as "${same.key}" (Postfix lowercases table keys)`,
          true,
        );
        continue;
      }
      owned.push({ key, value, origin: { play: this.play, path: entryPath } });
    }
    return owned;
  }

  nextHop(hop: { host: string; port?: string | number; mx?: boolean }, path: YamlPath): NextHop {
    const host = this.text(hop.host, [...path, "host"]) ?? "";
    if (/[\s[\]]/.test(host)) {
      this.problem(
        [...path, "host"],
        `write the host name alone: no [brackets] (they come from mx: false), no spaces`,
      );
    }
    const port = typeof hop.port === "string" ? this.render(hop.port, [...path, "port"]) : hop.port;
    if (typeof port === "string" && !/^[A-Za-z0-9_-]+$/.test(port)) {
      this.problem([...path, "port"], `invalid port "${port}": expected a number or a service name`);
    }
    return { host, ...(port !== undefined && { port }), mx: hop.mx ?? false };
  }

  /** A comma-separated string or a list, as items ("plain, login" -> ["plain", "login"]). */
  list(value: string | string[], path: YamlPath): string[] | undefined {
    const items = (typeof value === "string" ? [value] : value).map((item, i) =>
      this.text(item, typeof value === "string" ? path : [...path, i]),
    );
    if (items.some((item) => item === undefined)) return undefined;
    return items.flatMap((item) => (item ?? "").split(/[\s,]+/)).filter((item) => item !== "");
  }

  secretRef(ref: SecretRefInput, path: YamlPath): SecretSlot["ref"] | undefined {
    if (typeof ref === "string") {
      const literal = this.text(ref, path, { secret: true });
      return literal === undefined ? undefined : { literal };
    }
    const [kind, raw] =
      "env" in ref
        ? (["env", ref.env] as const)
        : "file" in ref
          ? (["file", ref.file] as const)
          : (["command", ref.command] as const);
    // A password command runs in sh: substituted values are quoted as data (command-template.ts).
    const value = this.text(raw, [...path, kind], { shell: kind === "command" });
    if (value === undefined) return undefined;
    return { [kind]: value } as SecretRef;
  }

  /** Substituted values are checked like written ones: no line breaks or control characters. */
  #clean(value: string, path: YamlPath, atKey: boolean): string | undefined {
    const problem = controlCharacterProblem(value);
    if (problem === undefined) return value;
    this.problem(path, `the substituted ${atKey ? "key" : "value"} ${problem}`, atKey);
    return undefined;
  }
}
