import { deriveRelay } from "../postfix/derive-relay.js";
import type { PostfixHostInfo } from "../postfix/host-info.js";
import { formatNextHop, isImplicitTls, resolvePort } from "../postfix/relay.js";
import { listItems } from "../postfix/rules.js";
import type { PostfixState } from "../postfix/state.js";
import type { Secret } from "../secrets/secret.js";
import { knownSecurityOptions } from "../diagnose/sasl.js";

/**
 * The sending paths a playbook declares for one host, each with everything the probe needs. Pure.
 *
 * - `relay`: the default relay (relayhost). Its test sender is root@MYORIGIN, the sender of the mail a
 *   machine sends by itself (cron, logwatch, unattended-upgrades).
 * - `sender`: one per `senders:` entry, through its own relay and login; the sender is the key itself
 *   (a `@domain` key is probed as `postmaster@domain`).
 * - `direct`: no relay: Postfix delivers to each recipient domain's MX itself. Without a recipient
 *   there is no server to probe; the host's transport settings are checked, and `--send-test` proves it.
 */

export type PathKind = "relay" | "sender" | "direct";

export interface VerifyPath {
  kind: PathKind;
  /** The envelope sender as mail is submitted on the host. */
  sender: string;
  /** The sender the relay sees (MAIL FROM): after the playbook's canonical: and then generic: rewriting. */
  mailFrom: string;
  /** Absent for `direct`. */
  relay?: Relay;
  /** `direct` only: where its mail goes once the playbook is applied (directTransport). */
  transport?: Transport;
}

/** The parameters that decide whether mail without a relay: leaves the host, and how. */
export interface Transport {
  /** `error` (Debian's "Local only"): no mail leaves the machine. */
  defaultTransport: string;
  /** Non-empty: Postfix hands every message to this host instead of each recipient domain's MX. */
  relayhost: string;
}

export interface Relay {
  /** As Postfix writes it: `[mail.isp.example]:submission`. */
  nexthop: string;
  host: string;
  port: number;
  /** mx: true: Postfix would look up MX records; the probe connects to the name itself. */
  mx: boolean;
  /** smtp_tls_wrappermode: TLS from the first byte (port 465). */
  implicitTls: boolean;
  /** smtp_tls_security_level. */
  tls: string;
  login?: { username: string; password: Secret };
  /** smtp_sasl_mechanism_filter, as a list (empty: none). */
  mechanisms: string[];
  /** smtp_sasl_security_options (Cyrus options only). */
  securityOptions: string[];
  /** smtp_sasl_tls_security_options, what Postfix applies once TLS is up: main: may set it apart. */
  tlsSecurityOptions: string[];
}

/** `current`: the host's own default_transport and relayhost, as main.cf sets them today. */
export function sendingPaths(
  state: PostfixState,
  host: PostfixHostInfo,
  myorigin: string,
  current: Transport,
): VerifyPath[] {
  const senders = Object.entries(state.senders ?? {});
  const rewrite = (address: string) => rewriteSender(address, state);
  const sender = `root@${myorigin}`;
  const direct: VerifyPath = {
    kind: "direct",
    sender,
    mailFrom: rewrite(sender),
    transport: directTransport(state, current),
  };
  if (!state.relay && senders.length === 0) return [direct];

  // The same derivation as apply: the relay parameters the host gets are the ones probed.
  const { main, implied } = deriveRelay(state.relay, senders, host);
  const securityOptions = main.smtp_sasl_security_options ?? "";
  const tlsOptions = state.main.smtp_sasl_tls_security_options ?? implied.smtp_sasl_tls_security_options;
  const common = {
    implicitTls: main.smtp_tls_wrappermode === "yes",
    tls: main.smtp_tls_security_level ?? "may",
    mechanisms: listItems(main.smtp_sasl_mechanism_filter ?? ""),
    securityOptions: knownSecurityOptions(listItems(securityOptions)),
    tlsSecurityOptions: knownSecurityOptions(listItems(tlsOptions ?? securityOptions)),
  };
  const paths: VerifyPath[] = [];
  if (state.relay) {
    const { username, password } = state.relay;
    paths.push({
      kind: "relay",
      sender,
      mailFrom: rewrite(sender),
      relay: {
        ...relayOf(state.relay),
        ...common,
        ...(username !== undefined && password !== undefined && { login: { username, password } }),
      },
    });
  } else {
    paths.push(direct);
  }
  for (const [key, spec] of senders) {
    const from = key.startsWith("@") ? `postmaster${key}` : key;
    const { username, password } = spec;
    paths.push({
      kind: "sender",
      sender: from,
      mailFrom: rewrite(from),
      relay: {
        ...relayOf(spec.relay),
        ...common,
        ...(username !== undefined && password !== undefined && { login: { username, password } }),
      },
    });
  }
  return paths;
}

/**
 * Where mail without a relay goes once the playbook is applied, as apply leaves the two parameters:
 * main: decides where it sets them (null: Postfix's default, smtp and none); else, once senders: is
 * declared, the tool owns relayhost and removes default_transport (derive.ts); else the playbook owns
 * neither and the host keeps its own (a relayhost set by hand, Debian's default_transport = error).
 */
export function directTransport(
  state: Pick<PostfixState, "main" | "relay" | "senders">,
  current: Transport,
): Transport {
  const owned = state.relay !== undefined || Object.keys(state.senders ?? {}).length > 0;
  const pick = (name: string, own: string, postfixDefault: string) =>
    Object.hasOwn(state.main, name) ? (state.main[name] ?? postfixDefault) : owned ? postfixDefault : own;
  return {
    defaultTransport: pick("default_transport", current.defaultTransport, "smtp"),
    relayhost: pick("relayhost", current.relayhost, ""),
  };
}

function relayOf(hop: { host: string; port?: string | number; mx: boolean }) {
  return {
    nexthop: formatNextHop(hop),
    host: hop.host,
    port: resolvePort(hop.port ?? 25),
    mx: hop.mx,
    implicitTls: isImplicitTls(hop.port),
  };
}

/**
 * canonical_maps (cleanup) and then smtp_generic_maps (the smtp client), as Postfix looks an address up
 * in a table: `user@domain`, then `@domain` (keys lowercased). A bare `user` key, which Postfix matches
 * only in its local domains, is not applied here.
 */
export function rewriteSender(address: string, state: Pick<PostfixState, "canonical" | "generic">): string {
  let result = address;
  for (const table of [state.canonical, state.generic]) {
    if (!table) continue;
    const lower = new Map(Object.entries(table).map(([k, v]) => [k.toLowerCase(), v]));
    const at = result.lastIndexOf("@");
    const domain = at >= 0 ? result.slice(at).toLowerCase() : undefined;
    const found = lower.get(result.toLowerCase()) ?? (domain ? lower.get(domain) : undefined);
    if (found !== undefined) {
      // "@domain" as a value keeps the user part (Postfix: "@domain" replaces only the domain).
      result = found.startsWith("@") && at >= 0 ? result.slice(0, at) + found : found;
    }
  }
  return result;
}
