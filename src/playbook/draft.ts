import type { InventoryHost } from "../inventory/host.js";
import { parameterNameProblem, parameterValueProblem, usernameProblem } from "../postfix/rules.js";
import type { NextHop } from "../postfix/state.js";
import type { SecretRef } from "../secrets/resolve.js";
import type { Secret } from "../secrets/secret.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { Play } from "./playbook.js";
import type { Problems } from "./problems.js";
import type { SecretRefInput } from "./schema.js";
import { Templater, type MapKind, type Origin, type Owned } from "./templater.js";

/**
 * One play's contribution to one host's state: `{{ vars }}` substituted, values checked, every value
 * still tied to where it was written so that merging can name both sides of a conflict.
 */

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
    if (key !== undefined) t.check(path, parameterNameProblem(key), true);
    let value: string | null | undefined;
    if (raw === null) value = null;
    else if (typeof raw === "boolean") value = raw ? "yes" : "no";
    // Keep numbers as written: YAML reads 0644 as 644 and 1.0 as 1.
    else if (typeof raw === "number") value = yaml.sourceText(path) ?? String(raw);
    else value = t.text(raw, path);
    if (typeof value === "string" && t.check(path, parameterValueProblem(value))) value = undefined;
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
    if (username !== undefined) t.check([...path, "username"], usernameProblem(username));
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
      if (parameter) t.check([...path, "parameter"], parameterNameProblem(parameter.value));
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
