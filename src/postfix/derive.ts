import { deriveRelay, RELAY_OPTION, RELAY_PARAMS, type RelayParam } from "./derive-relay.js";
import type { PostfixHostInfo } from "./host-info.js";
import {
  BUILT_IN_TABLES,
  managedTables,
  normaliseValue,
  parameterNameProblem,
  parameterValueProblem,
  POSTFIX_DIR,
  sameList,
  tableNameProblem,
  type BuiltInTable,
} from "./rules.js";
import { check, StateError, type StatePath } from "./state-error.js";
import type { PostfixState } from "./state.js";
import { entryProblem, type TableEntry } from "./table.js";
import { indexPathsFor, KEY_VALUE_TYPES, needsPostmap, resolveTableType } from "./tabletypes.js";
import { FEATURE_GATES, requireFeature } from "./version.js";

/** A lookup table the tool owns whole: /etc/postfix/NAME, referenced by `parameter`. */
export interface DesiredTable {
  name: string;
  path: string;
  type: string;
  parameter: string;
  entries: TableEntry[];
  /** Holds passwords: shown masked, never in a diff. */
  secret: boolean;
  /** Whether `postmap TYPE:PATH` builds an index for it. */
  postmap: boolean;
  indexPaths: string[];
}

/** Everything one host's Postfix should be: main.cf edits (null = remove) and the tables. */
export interface DesiredConfig {
  main: Record<string, string | null>;
  /**
   * Owned parameters whose Postfix default already yields the value the state needs
   * (smtp_sasl_tls_security_options follows $smtp_sasl_security_options). `main` removes them; a host
   * whose main.cf says exactly this value keeps its line (settleImplied), so both forms are in sync.
   */
  implied: Record<string, string>;
  /**
   * Table sources this state owns but no longer needs: sasl_passwd once `relay:`/`senders:` carry no
   * credentials. They hold old passwords, so they are removed (with their indexes), not left behind.
   */
  retired: string[];
  tables: DesiredTable[];
}

interface Derived {
  value: string | null;
  /** The value the parameter's default gives: main: may set another, the host may say it (DesiredConfig.implied). */
  implied?: string;
  /** The playbook option that sets it. */
  option: string;
}

/**
 * The desired Postfix configuration of one host, from its merged playbook state and its facts. Pure: it
 * only validates and computes. Throws InputError (a StateError where it can say which value is wrong)
 * for a state no host could use, HostError for one this host cannot (its Postfix version or table types).
 */
export function deriveConfig(state: PostfixState, host: PostfixHostInfo): DesiredConfig {
  const derived = new Map<string, Derived>();
  const tables: DesiredTable[] = [];
  let playType: string | undefined;
  // Resolved on first use, so an unsupported table_type only matters when a table needs it.
  const tableType = (): string => (playType ??= resolvePlayType(state.tableType, host));
  const addTable = (
    name: string,
    parameter: string,
    entries: TableEntry[],
    secret = false,
    type = tableType(),
  ) => {
    const problem = entryProblem(entries);
    if (problem)
      throw new StateError(problem.message, entryPath(name, problem.key), { atKey: problem.onKey });
    const path = `${POSTFIX_DIR}/${name}`;
    tables.push({
      name,
      path,
      type,
      parameter,
      entries,
      secret,
      postmap: needsPostmap(type),
      indexPaths: indexPathsFor(type, path),
    });
    return `${type}:${path}`;
  };

  for (const name of ["generic", "canonical", "virtual"] as const) {
    const entries = state[name];
    if (!entries) continue;
    if (name === "generic") {
      requireFeature(
        host,
        FEATURE_GATES.genericMaps,
        "use canonical: (canonical_maps), the SOHO guide's solution for Postfix <= 2.1",
      );
    }
    const { parameter } = BUILT_IN_TABLES[name];
    derived.set(parameter, { value: addTable(name, parameter, plainEntries(entries)), option: `${name}:` });
  }

  const senders = Object.entries(state.senders ?? {});
  if (state.relay || senders.length > 0) {
    const relay = deriveRelay(state.relay, senders, host);
    const values: Partial<Record<RelayParam, string | null>> = { ...relay.main };
    const derivedTable = (name: "sasl_passwd" | "sender_relay", entries: TableEntry[]) => {
      const { parameter } = BUILT_IN_TABLES[name];
      if (entries.length > 0) values[parameter] = addTable(name, parameter, entries, name === "sasl_passwd");
    };
    derivedTable("sasl_passwd", relay.sasl);
    derivedTable("sender_relay", relay.senderRelay);
    for (const name of RELAY_PARAMS) {
      derived.set(name, {
        value: values[name] ?? null,
        option: RELAY_OPTION[name],
        implied: relay.implied[name],
      });
      if (name === "relayhost") {
        // Debian's "Local only" install sets both to `error`: with a relay, mail would never leave.
        for (const transport of ["default_transport", "relay_transport"]) {
          if (!Object.hasOwn(state.main, transport)) {
            derived.set(transport, { value: null, option: "relay:/senders: (set it in main: to keep one)" });
          }
        }
      }
    }
  }

  const byParameter = new Map<string, string>();
  for (const [name, spec] of Object.entries(state.tables ?? {}).sort(([a], [b]) => byName(a, b))) {
    const at = ["tables", name];
    check(tableNameProblem(name), at, { atKey: true });
    const type =
      spec.type === undefined || spec.type === "auto"
        ? tableType()
        : resolveTableType(checkKeyValueType(spec.type, [...at, "type"]), host);
    check(parameterNameProblem(spec.parameter), [...at, "parameter"]);
    const claimed = derived.get(spec.parameter) ?? byParameter.get(spec.parameter);
    if (claimed !== undefined) {
      const by = typeof claimed === "string" ? `tables.${claimed}` : claimed.option;
      throw new StateError(
        `${spec.parameter} is already set by ${by}; a table parameter can come from one place only ` +
          `(merge the entries into one table)`,
        [...at, "parameter"],
      );
    }
    byParameter.set(spec.parameter, name);
    const ref = addTable(name, spec.parameter, plainEntries(spec.entries), false, type);
    derived.set(spec.parameter, { value: ref, option: at.join(".") });
  }

  const main: Record<string, string | null> = {};
  const implied: Record<string, string> = {};
  for (const [name, own] of derived) {
    main[name] = own.value;
    if (own.implied !== undefined) implied[name] = own.implied;
  }
  for (const [name, value] of Object.entries(state.main)) {
    check(parameterNameProblem(name), ["main", name], { atKey: true });
    if (value !== null) check(parameterValueProblem(value), ["main", name]);
    const own = derived.get(name);
    // An implied parameter is the default following another one; main: may set it apart, e.g.
    // smtp_sasl_tls_security_options = noanonymous beside noplaintext for sessions without TLS.
    if (own === undefined || own.implied !== undefined) {
      main[name] = value;
    } else if (!sameValue(own.value, value)) {
      throw new StateError(
        `${name} is controlled by the playbook option ${own.option}, which makes it ${show(own.value)}; ` +
          `remove it from main: (it says ${show(value)}) or change ${own.option}`,
        ["main", name],
      );
    }
  }

  tables.sort((a, b) => byName(a.name, b.name));
  // Owned but not written: sasl_passwd once no relay has credentials.
  const retired = managedTables(state)
    .filter((name) => !tables.some((t) => t.name === name))
    .map((name) => `${POSTFIX_DIR}/${name}`);
  return { main, implied, tables, retired };
}

/**
 * The config for one host's main.cf as it is: an implied parameter the host already sets to exactly
 * the implied value keeps its line; any other value is removed, so the default gives the value. Pure.
 */
export function settleImplied(config: DesiredConfig, current: ReadonlyMap<string, string>): DesiredConfig {
  const main = { ...config.main };
  for (const [name, value] of Object.entries(config.implied)) {
    const have = current.get(name);
    if (main[name] === null && have !== undefined && sameList(have, value)) main[name] = value;
  }
  return { ...config, main };
}

function resolvePlayType(requested: string, host: PostfixHostInfo): string {
  if (requested === "auto") {
    return checkKeyValueType(resolveTableType(requested, host), ["table_type"], host);
  }
  return resolveTableType(checkKeyValueType(requested, ["table_type"]), host);
}

function checkKeyValueType(type: string, where: StatePath, host?: PostfixHostInfo): string {
  if (KEY_VALUE_TYPES.includes(type)) return type;
  const source = host ? `the default_database_type of host ${host.name}, "${type}",` : `type "${type}"`;
  throw new StateError(
    `${source} cannot hold a "key value" table managed by provision; use auto or one of ` +
      KEY_VALUE_TYPES.join(", ") +
      ` (regexp, pcre and cidr tables depend on line order and are not managed)`,
    where,
  );
}

/** Where an entry of a table comes from, for errors about it. */
function entryPath(name: string, key: string): StatePath {
  if (name === "sasl_passwd") return ["relay"];
  if (name === "sender_relay") return ["senders", key];
  return Object.hasOwn(BUILT_IN_TABLES, name)
    ? [name as BuiltInTable, key]
    : ["tables", name, "entries", key];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function plainEntries(entries: Record<string, string>): TableEntry[] {
  return Object.entries(entries).map(([key, value]) => ({ key, value: [value] }));
}

function sameValue(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return normaliseValue(a) === normaliseValue(b);
}

function show(value: string | null): string {
  return value === null ? "removed" : JSON.stringify(value);
}
