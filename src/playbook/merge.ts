import { foldKey } from "../postfix/rules.js";
import type { ExtraTableSpec, NextHop, PostfixState, RelaySpec, SenderSpec } from "../postfix/state.js";
import type { Secret } from "../secrets/secret.js";
import type { YamlFile } from "../yaml/yaml-file.js";
import { formatPath } from "../yaml/yaml-file.js";
import type { Draft, RelayDraft, SecretSlot, SenderDraft, TableDraft } from "./draft.js";
import { describePlay } from "./playbook.js";
import type { Problems } from "./problems.js";
import type { MapKind, Owned } from "./templater.js";

/**
 * Merges the drafts of every play matching one host into its PostfixState. Plays may add to each
 * other (more parameters, more table entries) but never disagree: one parameter, table key, relay or
 * sender given two different values is an error naming both plays and both positions.
 * Secrets must have been resolved (every SecretSlot filled) before.
 */
export function mergeDrafts(
  host: string,
  drafts: readonly Draft[],
  yaml: YamlFile,
  problems: Problems,
): PostfixState {
  const merger = new Merger(host, yaml, problems);
  const tableType = merger.one(
    "table_type",
    drafts.flatMap((d) => d.tableType ?? []),
    (a, b) => a === b,
  );
  const main = merger.many(
    "main.cf parameter",
    drafts.flatMap((d) => d.main),
    false,
    (a, b) => a === b,
  );
  const state: PostfixState = { tableType: tableType?.value ?? "auto", main: values(main) };

  for (const kind of ["generic", "canonical", "virtual"] as const satisfies MapKind[]) {
    const given = drafts.flatMap((d) => d.maps[kind] ?? []);
    if (drafts.some((d) => d.maps[kind]))
      state[kind] = values(merger.many(`${kind} key`, given, true, (a, b) => a === b));
  }

  const relay = merger.one(
    "relay",
    drafts.flatMap((d) => d.relay ?? []),
    (a, b) => differences(a, b).length === 0,
  );
  if (relay) state.relay = toRelay(relay.value);

  if (drafts.some((d) => d.senders)) {
    const senders = merger.many(
      "sender",
      drafts.flatMap((d) => d.senders ?? []),
      true,
      (a, b) => differences(a, b).length === 0,
    );
    state.senders = Object.fromEntries([...senders.values()].map((s) => [s.key, toSender(s.value)]));
  }

  if (drafts.some((d) => d.tables)) {
    const byName = new Map<string, Owned<TableDraft>[]>();
    for (const table of drafts.flatMap((d) => d.tables ?? []))
      byName.set(table.key, [...(byName.get(table.key) ?? []), table]);
    state.tables = {};
    for (const [name, tables] of byName) {
      const type = merger.one(
        `type of table ${name}`,
        tables.flatMap((t) => t.value.type ?? []),
        (a, b) => a === b,
      );
      const parameter = merger.one(
        `parameter of table ${name}`,
        tables.map((t) => t.value.parameter),
        (a, b) => a === b,
      );
      const entries = merger.many(
        `table ${name} key`,
        tables.flatMap((t) => t.value.entries),
        true,
        (a, b) => a === b,
      );
      const spec: ExtraTableSpec = { parameter: parameter?.value ?? "", entries: values(entries) };
      if (type) spec.type = type.value;
      state.tables[name] = spec;
    }
  }
  return state;
}

class Merger {
  constructor(
    readonly host: string,
    readonly yaml: YamlFile,
    readonly problems: Problems,
  ) {}

  /** A single value (table_type, relay): every play giving it must give the same. */
  one<T>(what: string, given: readonly Owned<T>[], equal: (a: T, b: T) => boolean): Owned<T> | undefined {
    const [first, ...rest] = given;
    for (const other of rest)
      if (first && !equal(first.value, other.value)) this.#conflict(what, first, other);
    return first;
  }

  /** Keyed values (parameters, table entries): the union, the same key never with two values. */
  many<T>(what: string, given: readonly Owned<T>[], ignoreCase: boolean, equal: (a: T, b: T) => boolean) {
    const merged = new Map<string, Owned<T>>();
    for (const item of given) {
      const key = ignoreCase ? foldKey(item.key) : item.key;
      const first = merged.get(key);
      if (!first) merged.set(key, item);
      else if (!equal(first.value, item.value))
        this.#conflict(`${what} ${JSON.stringify(item.key)}`, first, item);
    }
    return merged;
  }

  #conflict(what: string, first: Owned<unknown>, second: Owned<unknown>): void {
    const at = this.yaml.locate(first.origin.path);
    const there = `${at.file}:${at.line}:${at.column} (${formatPath(first.origin.path)})`;
    const plays =
      first.origin.play === second.origin.play
        ? `${describePlay(second.origin.play)} gives`
        : `${describePlay(second.origin.play)} and ${describePlay(first.origin.play)} give`;
    const fields = differences(first.value, second.value);
    const detail =
      fields.length > 0
        ? `they differ in ${fields.join(", ")}; the other is at ${there}`
        : `${show(second.value)} here, ${show(first.value)} at ${there}`;
    this.problems.add(this.yaml, second.origin.path, `${plays} ${what} different values: ${detail}`, {
      host: this.host,
    });
  }
}

function values<T>(merged: Map<string, Owned<T>>): Record<string, T> {
  return Object.fromEntries([...merged.values()].map((o) => [o.key, o.value]));
}

function show(value: unknown): string {
  return value === null ? "null (remove)" : JSON.stringify(value);
}

/** Field names in which two relay or sender drafts differ; [] for plain values. */
function differences(a: unknown, b: unknown): string[] {
  if (!isRecord(a) || !isRecord(b)) return [];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((key) => !sameValue(a[key], b[key]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (isSlot(a) || isSlot(b)) return isSlot(a) && isSlot(b) && sameSecret(secretOf(a), secretOf(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A password `check` could not resolve cannot be compared with another: it is taken to agree (a conflict
 * over it is apply's to find), as check does not compare it with the host's either.
 */
function sameSecret(a: Secret, b: Secret): boolean {
  return a.unresolved !== undefined || b.unresolved !== undefined || a.equals(b);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSlot(value: unknown): value is SecretSlot {
  return isRecord(value) && "ref" in value && "origin" in value;
}

function secretOf(slot: SecretSlot): Secret {
  if (!slot.secret) throw new Error("internal error: secret merged before it was resolved");
  return slot.secret;
}

function toRelay(relay: RelayDraft): RelaySpec {
  const { password, ...rest } = relay;
  return { ...rest, ...(password && { password: secretOf(password) }) };
}

function toSender(sender: SenderDraft): SenderSpec {
  const relay: NextHop = sender.relay;
  return {
    relay,
    ...(sender.username !== undefined && { username: sender.username }),
    ...(sender.password && { password: secretOf(sender.password) }),
  };
}
