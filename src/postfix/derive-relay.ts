import { InputError } from "../errors.js";
import type { SecretText } from "../secrets/secret.js";
import type { PostfixHostInfo } from "./host-info.js";
import { formatNextHop, isImplicitTls, resolvePort, validateRelayHost } from "./relay.js";
import {
  credentialPairProblem,
  listItems,
  passwordProblem,
  senderProblem,
  usernameProblem,
} from "./rules.js";
import { atPath, check, dotted, StateError, type StatePath } from "./state-error.js";
import type { NextHop, RelaySpec, SenderSpec } from "./state.js";
import type { TableEntry } from "./table.js";
import { FEATURE_GATES, requireFeature } from "./version.js";

/**
 * The relay half of deriveConfig: `relay:` and `senders:` -> relayhost, the SASL/TLS client parameters,
 * and the entries of sasl_passwd and sender_relay.
 */

/**
 * The relay/SASL/TLS-client parameters the tool owns whole once `relay:` or `senders:` is declared:
 * whatever the state does not need is removed, so e.g. leaving port 465 drops smtp_tls_wrappermode.
 * The order is the order they appear in DesiredConfig.main.
 */
export const RELAY_PARAMS = [
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
export type RelayParam = (typeof RELAY_PARAMS)[number];

/** Which playbook option sets each relay parameter, for conflict messages. */
export const RELAY_OPTION: Record<RelayParam, string> = {
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

export interface RelayConfig {
  /** The relay parameters, except the two table references (deriveConfig adds those). */
  main: Partial<Record<RelayParam, string>>;
  /** Parameters whose Postfix default already gives the value they need (see DesiredConfig.implied). */
  implied: Partial<Record<RelayParam, string>>;
  sasl: TableEntry[];
  senderRelay: TableEntry[];
}

export function deriveRelay(
  relay: RelaySpec | undefined,
  senders: [string, SenderSpec][],
  host: PostfixHostInfo,
): RelayConfig {
  const main: RelayConfig["main"] = {};
  const implied: RelayConfig["implied"] = {};
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
      check(senderProblem(sender), path, { atKey: true });
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
    // Its default is $smtp_sasl_security_options: a line of its own would only repeat the value (and
    // would add a line to a hand-made setup that provision import adopts).
    implied.smtp_sasl_tls_security_options = options;
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
  return { main, implied, sasl, senderRelay };
}

/** The sasl_passwd value `username:password`, or undefined without credentials. */
function credentials(
  spec: { username?: string; password?: SenderSpec["password"] },
  path: StatePath,
): SecretText | undefined {
  const { username, password } = spec;
  check(credentialPairProblem(spec), path);
  if (username === undefined || password === undefined) return undefined;
  check(usernameProblem(username), [...path, "username"]);
  // A password check could not resolve has no value to check (Secret.unresolved).
  const problem = password.unresolved === undefined ? passwordProblem(password.reveal()) : undefined;
  // Never quote the password itself: only where it came from.
  if (problem !== undefined) {
    throw new StateError(`the password (from ${password.source}) ${problem}`, [...path, "password"]);
  }
  return [`${username}:`, password] satisfies SecretText;
}

/** ["plain, login"] or ["plain", "login"] -> "plain, login"; each option a plain word. */
function optionList(options: readonly string[]): string {
  const words = options.flatMap(listItems);
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
