import { InputError } from "../errors.js";
import type { SecretText } from "../secrets/secret.js";
import type { PostfixHostInfo } from "./host-info.js";
import { validateParamName, validateParamValue } from "./maincf.js";
import { formatNextHop, isImplicitTls, resolvePort, validateRelayHost } from "./relay.js";
import type { NextHop, PostfixState, RelaySpec, SenderSpec } from "./state.js";
import { validateEntries, type TableEntry } from "./table.js";
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
   * Table sources this state owns but no longer needs: sasl_passwd once `relay:`/`senders:` carry no
   * credentials. They hold old passwords, so they are removed (with their indexes), not left behind.
   */
  retired: string[];
  tables: DesiredTable[];
}

const POSTFIX_DIR = "/etc/postfix";

/** Where in a PostfixState a value is: ["relay", "port"], ["senders", address, "relay"], ["main", name]. */
export type StatePath = readonly string[];

/**
 * A state no host could use. `where` says which value is wrong, so the playbook loader can point at the
 * line that gave it; the message (InputError's) starts with the dotted form, e.g. "postfix.relay.port: ".
 */
export class StateError extends InputError {
  readonly where: StatePath;
  /** The message without the path in front. */
  readonly detail: string;

  constructor(detail: string, where: StatePath) {
    super(detail, { path: dotted(where) });
    this.where = where;
    this.detail = detail;
  }
}

function dotted(where: StatePath): string {
  return ["postfix", ...where].join(".");
}

/** Tables the tool derives itself; `tables:` may not use these names. */
const BUILTIN_TABLES: Partial<Record<string, string>> = {
  generic: "generic:",
  canonical: "canonical:",
  virtual: "virtual:",
  sasl_passwd: "relay:/senders:",
  sender_relay: "senders:",
};
/** Files of Postfix itself that a `tables:` entry must never overwrite. */
const POSTFIX_FILES = [
  "main.cf",
  "master.cf",
  "postfix-files",
  "postfix-script",
  "post-install",
  "makedefs.out",
];
const INDEX_OR_CONFIG = /\.(db|lmdb|cdb|dir|pag|cf)$/;

/**
 * The relay/SASL/TLS-client parameters the tool owns whole once `relay:` or `senders:` is declared:
 * whatever the state does not need is removed, so e.g. leaving port 465 drops smtp_tls_wrappermode.
 * The order is the order they appear in DesiredConfig.main.
 */
const RELAY_PARAMS = [
  "relayhost",
  "smtp_sasl_auth_enable",
  "smtp_sasl_password_maps",
  "smtp_sasl_security_options",
  "smtp_sasl_tls_security_options",
  "smtp_sasl_mechanism_filter",
  "smtp_tls_security_level",
  "smtp_tls_wrappermode",
  "smtp_sender_dependent_authentication",
  "sender_dependent_relayhost_maps",
] as const;

/** Which playbook option sets each relay parameter, for conflict messages. */
const RELAY_OPTION: Record<(typeof RELAY_PARAMS)[number], string> = {
  relayhost: "relay: (host, port, mx)",
  smtp_sasl_auth_enable: "relay:/senders: username and password",
  smtp_sasl_password_maps: "relay:/senders: username and password",
  smtp_sasl_security_options: "relay: security_options",
  smtp_sasl_tls_security_options: "relay: security_options",
  smtp_sasl_mechanism_filter: "relay: mechanisms",
  smtp_tls_security_level: "relay: tls",
  smtp_tls_wrappermode: "relay: port (465 = wrapper mode)",
  smtp_sender_dependent_authentication: "senders:",
  sender_dependent_relayhost_maps: "senders:",
};

/** smtp_tls_security_level values; the mandatory ones are what wrapper mode (port 465) needs. */
const TLS_LEVELS = ["none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"];
const MANDATORY_TLS = ["encrypt", "dane-only", "fingerprint", "verify", "secure"];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** user@domain or @domain, as sender_dependent_relayhost_maps and sasl_passwd look senders up. */
const SENDER = /^[^\s@"]*@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

interface Derived {
  value: string | null;
  /** The playbook option that sets it. */
  option: string;
}

/**
 * The desired Postfix configuration of one host, from its merged playbook state and its facts. Pure: it
 * only validates and computes. Throws InputError for a state no host could use, HostError for one this
 * host cannot (its Postfix version or table types).
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
    atPath(tableOption(name), () => validateEntries(entries, name));
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

  if (state.generic) {
    requireFeature(
      host,
      FEATURE_GATES.genericMaps,
      "use canonical: (canonical_maps), the SOHO guide's solution for Postfix <= 2.1",
    );
    const ref = addTable("generic", "smtp_generic_maps", plainEntries(state.generic));
    derived.set("smtp_generic_maps", { value: ref, option: "generic:" });
  }
  if (state.canonical) {
    const ref = addTable("canonical", "canonical_maps", plainEntries(state.canonical));
    derived.set("canonical_maps", { value: ref, option: "canonical:" });
  }
  if (state.virtual) {
    const ref = addTable("virtual", "virtual_alias_maps", plainEntries(state.virtual));
    derived.set("virtual_alias_maps", { value: ref, option: "virtual:" });
  }

  const senders = Object.entries(state.senders ?? {});
  if (state.relay || senders.length > 0) {
    const relay = deriveRelay(state.relay, senders, host);
    const values: Partial<Record<(typeof RELAY_PARAMS)[number], string | null>> = { ...relay.main };
    if (relay.sasl.length > 0) {
      values.smtp_sasl_password_maps = addTable("sasl_passwd", "smtp_sasl_password_maps", relay.sasl, true);
    }
    if (relay.senderRelay.length > 0) {
      values.sender_dependent_relayhost_maps = addTable(
        "sender_relay",
        "sender_dependent_relayhost_maps",
        relay.senderRelay,
      );
    }
    for (const name of RELAY_PARAMS) {
      derived.set(name, { value: values[name] ?? null, option: RELAY_OPTION[name] });
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
    validateTableName(name);
    const type =
      spec.type === undefined || spec.type === "auto"
        ? tableType()
        : resolveTableType(checkKeyValueType(spec.type, [...at, "type"]), host);
    atPath([...at, "parameter"], () => validateParamName(spec.parameter));
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
  for (const [name, { value }] of derived) main[name] = value;
  for (const [name, value] of Object.entries(state.main)) {
    atPath(["main", name], () => {
      validateParamName(name);
      if (value !== null) validateParamValue(name, value);
    });
    const own = derived.get(name);
    if (own === undefined) {
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
  const ownsSasl = state.relay !== undefined || senders.length > 0;
  const retired =
    ownsSasl && !tables.some((t) => t.name === "sasl_passwd") ? [`${POSTFIX_DIR}/sasl_passwd`] : [];
  return { main, tables, retired };
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

function validateTableName(name: string): void {
  const where = ["tables", name];
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith(".")) {
    throw new StateError(
      `table name ${JSON.stringify(name)} must be a plain file name in ${POSTFIX_DIR} ` +
        `(letters, digits, "_", "-", "."; not starting with ".")`,
      where,
    );
  }
  const option = Object.hasOwn(BUILTIN_TABLES, name) ? BUILTIN_TABLES[name] : undefined;
  if (option !== undefined) {
    throw new StateError(
      `"${name}" is managed through the ${option} option; choose another table name`,
      where,
    );
  }
  if (POSTFIX_FILES.includes(name) || INDEX_OR_CONFIG.test(name)) {
    throw new StateError(
      `table name "${name}" would overwrite a Postfix configuration or index file; choose another name`,
      where,
    );
  }
}

/** Where the entries of a derived table come from, for errors about them. */
function tableOption(name: string): StatePath {
  if (name === "sasl_passwd") return ["relay"];
  if (name === "sender_relay") return ["senders"];
  return Object.hasOwn(BUILTIN_TABLES, name) ? [name] : ["tables", name, "entries"];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function plainEntries(entries: Record<string, string>): TableEntry[] {
  return Object.entries(entries).map(([key, value]) => ({ key, value: [value] }));
}

function sameValue(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return a.replace(/\s+/g, " ").trim() === b.replace(/\s+/g, " ").trim();
}

function show(value: string | null): string {
  return value === null ? "removed" : JSON.stringify(value);
}

interface RelayConfig {
  main: Partial<Record<(typeof RELAY_PARAMS)[number], string>>;
  sasl: TableEntry[];
  senderRelay: TableEntry[];
}

/** relay: and senders: -> the relay parameters (except the two table references) and table entries. */
function deriveRelay(
  relay: RelaySpec | undefined,
  senders: [string, SenderSpec][],
  host: PostfixHostInfo,
): RelayConfig {
  const main: RelayConfig["main"] = {};
  const sasl: TableEntry[] = [];
  const senderRelay: TableEntry[] = [];
  const hops: { path: StatePath; hop: NextHop }[] = [];

  if (relay) {
    const nexthop = nextHopOf(relay, ["relay"]);
    main.relayhost = nexthop;
    hops.push({ path: ["relay"], hop: relay });
    const login = credentials(relay, ["relay"]);
    if (login) sasl.push({ key: nexthop, value: login });
  }

  if (senders.length > 0) {
    requireFeature(
      host,
      FEATURE_GATES.senderDependent,
      "remove senders: and send through one relay: for all senders, or upgrade Postfix",
    );
    main.smtp_sender_dependent_authentication = "yes";
    for (const [sender, spec] of senders) {
      const path = ["senders", sender];
      if (!SENDER.test(sender)) {
        const why = `sender ${JSON.stringify(sender)} must be an address user@domain or a domain @domain`;
        throw new StateError(why, path);
      }
      const nexthop = nextHopOf(spec.relay, [...path, "relay"]);
      hops.push({ path: [...path, "relay"], hop: spec.relay });
      senderRelay.push({ key: sender, value: [nexthop] });
      const login = credentials(spec, path);
      if (login) sasl.push({ key: sender, value: login });
    }
  }

  // One smtp transport has one smtp_tls_wrappermode: it cannot talk to port 465 and STARTTLS ports at once.
  const implicit = hops.filter(({ hop, path }) => atPath([...path, "port"], () => isImplicitTls(hop.port)));
  const [first] = implicit;
  const other = hops.find((h) => !implicit.includes(h));
  if (first && other) {
    throw new StateError(
      `${dotted(first.path)} uses port 465 (TLS wrapper mode) but ${dotted(other.path)} does not; one ` +
        `Postfix smtp transport has one smtp_tls_wrappermode setting, so use the same kind of port for ` +
        `every relay (port 587 / submission with STARTTLS works with almost every provider)`,
      [...first.path, "port"],
    );
  }
  if (implicit.length > 0) {
    requireFeature(host, FEATURE_GATES.tlsWrapperMode, "use port 587 (submission) with STARTTLS instead");
    main.smtp_tls_wrappermode = "yes";
  }

  const authenticates = sasl.length > 0;
  if (authenticates) {
    main.smtp_sasl_auth_enable = "yes";
    const options = atPath(["relay", "security_options"], () =>
      optionList(relay?.securityOptions ?? ["noanonymous"]),
    );
    main.smtp_sasl_security_options = options;
    main.smtp_sasl_tls_security_options = options;
    const mechanisms = atPath(["relay", "mechanisms"], () => optionList(relay?.mechanisms ?? []));
    if (mechanisms !== "") main.smtp_sasl_mechanism_filter = mechanisms;
  } else if (relay?.securityOptions !== undefined || relay?.mechanisms !== undefined) {
    const option = relay.mechanisms !== undefined ? "mechanisms" : "security_options";
    throw new StateError(
      `${option} only applies with a username and password (SASL authentication); ` +
        `add username and password to relay:, or remove ${option}`,
      ["relay", option],
    );
  }

  // A password must not cross the network in clear: encrypt by default when logging in. Without a login,
  // opportunistic TLS (Debian's own default) rather than Postfix's compiled-in none.
  const tls = relay?.tls ?? (authenticates || implicit.length > 0 ? "encrypt" : "may");
  if (!TLS_LEVELS.includes(tls)) {
    throw new StateError(`unknown TLS level ${JSON.stringify(tls)}: use one of ${TLS_LEVELS.join(", ")}`, [
      "relay",
      "tls",
    ]);
  }
  if (implicit.length > 0 && !MANDATORY_TLS.includes(tls)) {
    throw new StateError(
      `port 465 (TLS wrapper mode) needs tls: encrypt or stronger (${MANDATORY_TLS.join(", ")}); ` +
        `with "${tls}" Postfix skips the server and mail is deferred`,
      ["relay", "tls"],
    );
  }
  main.smtp_tls_security_level = tls;
  return { main, sasl, senderRelay };
}

/** The sasl_passwd value `username:password`, or undefined without credentials. */
function credentials(
  spec: { username?: string; password?: SenderSpec["password"] },
  path: StatePath,
): SecretText | undefined {
  const { username, password } = spec;
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined) {
    throw new StateError("a password is given without a username; give both or neither", path);
  }
  if (password === undefined) {
    throw new StateError("a username is given without a password; give both or neither", path);
  }
  const bad = (what: string) => new StateError(what, [...path, "username"]);
  if (username === "") throw bad("the username is empty");
  if (username.includes(":")) throw bad('the username contains ":", which separates it from the password');
  if (CONTROL.test(username)) throw bad("the username contains a newline or another control character");
  if (username.trim() !== username) throw bad("the username has leading or trailing whitespace");
  // Never quote the password itself: only where it came from.
  const from = `the password (from ${password.source})`;
  const revealed = password.reveal();
  const badPassword = (what: string) => new StateError(`${from} ${what}`, [...path, "password"]);
  if (revealed === "") throw badPassword("is empty");
  if (CONTROL.test(revealed)) throw badPassword("contains a newline or another control character");
  if (revealed.trim() !== revealed) {
    throw badPassword("has leading or trailing whitespace, which Postfix would strip");
  }
  return [`${username}:`, password] satisfies SecretText;
}

/** ["plain, login"] or ["plain", "login"] -> "plain, login"; each option a plain word. */
function optionList(options: readonly string[]): string {
  const words = options.flatMap((o) => o.split(/[\s,]+/)).filter((w) => w !== "");
  const bad = words.find((w) => !/^[A-Za-z0-9_-]+$/.test(w));
  if (bad !== undefined) throw new InputError(`${JSON.stringify(bad)} is not a valid option name`);
  return words.join(", ");
}

/** The next-hop string; a bad host is reported at `host`, a bad port at `port`. */
function nextHopOf(hop: NextHop, where: StatePath): string {
  atPath([...where, "host"], () => validateRelayHost(hop.host, hop.mx));
  if (hop.port !== undefined) atPath([...where, "port"], () => resolvePort(hop.port ?? 25));
  return formatNextHop(hop);
}

/** Runs `f`, re-throwing its InputError as a StateError at `where`, so the user sees which option is wrong. */
function atPath<T>(where: StatePath, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError && e.path === undefined) throw new StateError(e.message, where);
    throw e;
  }
}
