import type { HostFacts } from "../facts/types.js";
import { RELAY_PARAMS } from "../postfix/derive-relay.js";
import {
  addressKeyProblem,
  isAddress,
  normaliseValue,
  SASL_SECURITY_DEFAULT,
  sameList,
  tableKeyProblem,
  tableNameProblem,
  tableValueProblem,
} from "../postfix/rules.js";
import type { ExtraTableSpec, NextHop, PostfixState, SenderSpec } from "../postfix/state.js";
import { Secret } from "../secrets/secret.js";
import { parsePostconfN, tableEntries, tableRefs, type HostEntry, type TableRef } from "./host-config.js";

/**
 * `provision import`: a hand-made Postfix setup -> the playbook state that reproduces it. Pure. Tables
 * with the SOHO guide's names and shapes become generic:, canonical:, virtual:, relay: and senders:;
 * other key/value tables in /etc/postfix become tables:; everything else main.cf sets stays a main: value,
 * except the distribution's stock values (STOCK). Passwords are never part of the document: each becomes
 * an { env: NAME } reference; the state carries the host's own value only to compare (compare.ts).
 */

/**
 * What Debian's installer writes into main.cf (postconf -n of a fresh "Local only" or "Internet Site"
 * install of Debian 11, 12 or 13; a list where releases differ): values that need no owner, left out of
 * the playbook. myhostname, mydestination, inet_interfaces and the "Local only" transports are choices
 * about this host and stay, and so do Debian 13's mynetworks_style and myorigin, which a Debian 12
 * admin sets by choice.
 */
const STOCK: Readonly<Record<string, string | string[] | true>> = {
  alias_database: "hash:/etc/aliases",
  alias_maps: "hash:/etc/aliases",
  append_dot_mydomain: "no",
  biff: "no",
  cyrus_sasl_config_path: "/etc/postfix/sasl",
  compatibility_level: true, // whatever the installed release writes
  inet_protocols: "all",
  mailbox_command: "",
  mailbox_size_limit: "0",
  mynetworks: "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128",
  myorigin: "/etc/mailname",
  readme_directory: "no",
  recipient_delimiter: "+",
  relayhost: "",
  smtpd_banner: ["$myhostname ESMTP $mail_name (Debian/GNU)", "$myhostname ESMTP $mail_name (Debian)"],
  smtpd_relay_restrictions: "permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
  smtpd_tls_cert_file: "/etc/ssl/certs/ssl-cert-snakeoil.pem",
  smtpd_tls_key_file: "/etc/ssl/private/ssl-cert-snakeoil.key",
  smtpd_tls_security_level: "may",
  smtp_tls_CApath: "/etc/ssl/certs",
  smtp_tls_security_level: "may",
  smtp_tls_session_cache_database: "btree:${data_directory}/smtp_scache",
};

const MAPS = {
  generic: "smtp_generic_maps",
  canonical: "canonical_maps",
  virtual: "virtual_alias_maps",
} as const;

export interface PasswordRef {
  env: string;
  /** Whose password, for the list on stderr: `username for [mail.isp.example]:submission`. */
  what: string;
  /** The host's password itself, in the state; only compared, never printed. */
  secret: Secret;
}

export interface Recognised {
  state: PostfixState;
  passwords: PasswordRef[];
  /** What stays unmanaged and why, one line each. */
  notes: string[];
}

export function recognise(facts: HostFacts): Recognised {
  const params = parsePostconfN(facts.postconfN);
  const refs = tableRefs(params);
  const notes: string[] = [];
  const passwords: PasswordRef[] = [];
  const owned = new Set<string>();
  const entriesOf = (ref: TableRef): HostEntry[] | undefined => {
    const file = facts.files.get(ref.path);
    if (file?.exists && file.content !== undefined) return tableEntries(file.content);
    notes.push(`${ref.parameter} refers to ${ref.path}, which could not be read: left as a main: value`);
    return undefined;
  };
  const state: PostfixState = { tableType: "auto", main: {} };
  // Built-in tables share the play's table_type: the first one found sets it.
  let playType: string | undefined;
  const fitsPlay = (type: string) => (playType ??= type) === type;
  const tables: Record<string, ExtraTableSpec> = {};

  const relay = recogniseRelay(params, refs, entriesOf, fitsPlay, passwords, notes);
  if (relay) {
    if (relay.relay) state.relay = relay.relay;
    if (relay.senders) state.senders = relay.senders;
    for (const name of RELAY_PARAMS) owned.add(name);
  }

  for (const [option, parameter] of Object.entries(MAPS) as [keyof typeof MAPS, string][]) {
    const ref = refs.find((r) => r.parameter === parameter);
    const entries = ref && entriesOf(ref);
    if (!ref || !entries) continue;
    if (ref.name === option && fitsPlay(ref.type) && entries.every((e) => addressEntry(option, e))) {
      state[option] = Object.fromEntries(entries.map((e) => [e.key, e.value]));
      owned.add(parameter);
    }
  }
  for (const ref of refs) {
    if (owned.has(ref.parameter) || (relay && RELAY_PARAMS.some((p) => p === ref.parameter))) continue;
    // A table of passwords is never printed: only relay:/senders: can carry it, as { env: NAME }.
    if (/passw/i.test(ref.parameter) || /passw/i.test(ref.name)) {
      notes.push(`${ref.path} (${ref.parameter}) holds passwords and is left as it is`);
      continue;
    }
    const entries = entriesOf(ref);
    if (!entries) continue;
    const problem = tableNameProblem(ref.name) ?? entries.map(plainEntryProblem).find((p) => p);
    if (problem !== undefined) {
      notes.push(`${ref.path} (${ref.parameter}) is left as it is: ${problem}`);
      continue;
    }
    tables[ref.name] = { type: ref.type, parameter: ref.parameter, entries: entriesMap(entries) };
    owned.add(ref.parameter);
  }
  if (Object.keys(tables).length > 0) state.tables = tables;
  if (playType !== undefined && playType !== facts.defaultDatabaseType) state.tableType = playType;
  for (const spec of Object.values(tables))
    if (spec.type === (playType ?? facts.defaultDatabaseType)) delete spec.type;

  for (const [name, value] of params) {
    if (owned.has(name)) continue;
    const stock = STOCK[name];
    const stockValues = stock === undefined || stock === true ? [] : [stock].flat();
    if (stock === true || stockValues.some((v) => normaliseValue(v) === normaliseValue(value))) continue;
    state.main[name] = value;
  }
  // Options of their own for TLS sessions (e.g. plaintext allowed only there) stay a main: value; the
  // same list as smtp_sasl_security_options is what the relay: options give anyway.
  const tlsOptions = params.get("smtp_sasl_tls_security_options");
  const options = params.get("smtp_sasl_security_options") ?? SASL_SECURITY_DEFAULT;
  if (relay && tlsOptions !== undefined && !sameList(tlsOptions, options))
    state.main.smtp_sasl_tls_security_options = tlsOptions;
  return { state, passwords, notes };
}

function entriesMap(entries: HostEntry[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => [e.key, e.value]));
}

/** Why an entry cannot be written by provision as it is (a key or value postmap would misread). */
function plainEntryProblem({ key, value }: HostEntry): string | undefined {
  const problem = tableKeyProblem(key) ?? tableValueProblem(value);
  return problem && `an entry provision would not write as it is (${problem})`;
}

/** The shapes generic:, canonical: and virtual: take (as the playbook loader checks them). */
function addressEntry(option: keyof typeof MAPS, entry: HostEntry): boolean {
  if (plainEntryProblem(entry) !== undefined || addressKeyProblem(entry.key, "key") !== undefined)
    return false;
  return option === "virtual" || addressKeyProblem(entry.value, "value") === undefined;
}

/** `[host]:port`, `[host]`, `host:port` (MX lookup), as relayhost and sender_relay write a next-hop. */
export function parseNextHop(text: string): NextHop | undefined {
  const match = /^(\[([^\]\s]+)\]|([^[\]:\s]+))(?::([A-Za-z0-9-]+))?$/.exec(text);
  if (!match) return undefined;
  const [, , bracketed, bare, port] = match;
  const host = bracketed ?? bare ?? "";
  return {
    host,
    mx: bracketed === undefined,
    ...(port !== undefined && { port: /^\d+$/.test(port) ? Number(port) : port }),
  };
}

/** An environment variable name for a password: MAIL_ISP_EXAMPLE_PASSWORD. */
export function envName(of: string, taken: readonly PasswordRef[]): string {
  const base = `${of
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")}_PASSWORD`;
  let name = base;
  for (let n = 2; taken.some((p) => p.env === name); n++) name = `${base}_${n}`;
  return name;
}

interface RelayPart {
  relay?: PostfixState["relay"];
  senders?: Record<string, SenderSpec>;
}

/**
 * relay: and senders: from relayhost, sasl_passwd and sender_relay, when every entry of those tables has
 * a place in them (the tool owns them whole: an entry without one would be lost); otherwise undefined,
 * and the relay parameters stay main: values with their tables unmanaged.
 */
function recogniseRelay(
  params: Map<string, string>,
  refs: TableRef[],
  entriesOf: (ref: TableRef) => HostEntry[] | undefined,
  fitsPlay: (type: string) => boolean,
  passwords: PasswordRef[],
  notes: string[],
): RelayPart | undefined {
  const relayhost = params.get("relayhost") ?? "";
  const passwordRef = refs.find((r) => r.parameter === "smtp_sasl_password_maps");
  const senderRef = refs.find((r) => r.parameter === "sender_dependent_relayhost_maps");
  const leave = (why: string) => {
    notes.push(`the relay settings stay main: values and their tables are left as they are: ${why}`);
    return undefined;
  };
  if (relayhost === "" && !senderRef) return undefined;
  if (params.has("smtp_sasl_password_maps") && passwordRef?.name !== "sasl_passwd")
    return leave(
      `smtp_sasl_password_maps is not one table /etc/postfix/sasl_passwd (provision's name for it)`,
    );
  if (params.has("sender_dependent_relayhost_maps") && senderRef?.name !== "sender_relay")
    return leave(`sender_dependent_relayhost_maps is not one table /etc/postfix/sender_relay`);
  const hop = relayhost === "" ? undefined : parseNextHop(relayhost);
  if (relayhost !== "" && !hop) return leave(`relayhost ${relayhost} is not one next-hop`);

  const logins = new Map<string, { username: string; password: string }>();
  if (passwordRef) {
    if (!fitsPlay(passwordRef.type)) return leave("sasl_passwd's type differs from the other tables'");
    const entries = entriesOf(passwordRef);
    if (!entries) return undefined;
    for (const { key, value } of entries) {
      const colon = value.indexOf(":");
      if (colon <= 0) return leave(`an entry of ${passwordRef.path} is not username:password`);
      logins.set(key.toLowerCase(), { username: value.slice(0, colon), password: value.slice(colon + 1) });
    }
  }
  const used = new Set<string>();
  const login = (key: string, whose: string) => {
    const found = logins.get(key.toLowerCase());
    if (!found) return {};
    used.add(key.toLowerCase());
    const env = envName(whose, passwords);
    const secret = new Secret(found.password, `the host's sasl_passwd (${env})`);
    passwords.push({ env, what: `${found.username} for ${key}`, secret });
    return { username: found.username, password: secret };
  };

  let senders: Record<string, SenderSpec> | undefined;
  if (senderRef) {
    if (!fitsPlay(senderRef.type)) return leave("sender_relay's type differs from the other tables'");
    const entries = entriesOf(senderRef);
    if (!entries) return undefined;
    senders = {};
    for (const { key, value } of entries) {
      const senderHop = parseNextHop(value);
      if (!isAddress(key) || !senderHop)
        return leave(`the entry ${key} of ${senderRef.path} is not sender -> next-hop`);
      senders[key] = { relay: senderHop, ...login(key, key) };
    }
  }
  const relay = hop && { ...hop, ...login(relayhost, hop.host), ...relayOptions(params) };
  const unplaced = [...logins.keys()].filter((key) => !used.has(key));
  if (unplaced.length > 0)
    return leave(`sasl_passwd has credentials for ${unplaced.join(", ")}, neither relayhost nor a sender`);
  return { ...(relay && { relay }), ...(senders && { senders }) };
}

/** tls, mechanisms and security_options as the host has them (unset = Postfix's default, kept so). */
function relayOptions(params: Map<string, string>): Partial<NonNullable<PostfixState["relay"]>> {
  const list = (value: string) => value.split(/[\s,]+/).filter((w) => w !== "");
  const tls = params.get("smtp_tls_security_level");
  const mechanisms = params.get("smtp_sasl_mechanism_filter");
  const authenticates = params.get("smtp_sasl_auth_enable") === "yes";
  const options = params.get("smtp_sasl_security_options") ?? SASL_SECURITY_DEFAULT;
  return {
    ...(tls !== undefined && tls !== "" && { tls }),
    ...(mechanisms !== undefined && mechanisms !== "" && { mechanisms: list(mechanisms) }),
    ...(authenticates && list(options).join(", ") !== "noanonymous" && { securityOptions: list(options) }),
  };
}
