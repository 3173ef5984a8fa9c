import { factsFromRecords } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { mainCfValues } from "../postfix/maincf.js";
import { parseRecords } from "../remote/records.js";
import { remoteScript } from "../remote/script.js";
import { shellQuote } from "../transport/shell.js";

/**
 * What the probe needs to know from the host itself, read in one remote command (src/remote/verify.sh):
 * its Postfix, SASL plugins and distribution as the facts script reads them (facts.sh), then how it
 * names itself (myorigin, EHLO), its SASL client, each relay name as the host resolves it (getent: the
 * host's resolver, /etc/hosts included), and, when a path asks for certificate checks, the CA
 * certificates the host trusts.
 */

export interface VerifyHostFacts extends Pick<
  HostFacts,
  "version" | "defaultDatabaseType" | "supportedTypes" | "distro"
> {
  /** Plugin names: libplain.so -> "plain" (HostFacts.saslPlugins). */
  saslPlugins: string[];
  /** The SASL plugin directories that exist, for the message when a plugin is missing. */
  saslPluginDirs: string[];
  /** myorigin, expanded; read from the file when it names one (Debian: /etc/mailname). */
  myorigin: string;
  /** postconf -A: the SASL client implementations ("cyrus"). */
  saslClients: string[];
  defaultTransport: string;
  /** relayhost as the host's main.cf sets it (`postconf -n`; "" when unset). */
  relayhost: string;
  /** smtp_helo_name, expanded: what Postfix says in EHLO. */
  helo: string;
  /** name -> first address the host resolves it to; a name missing here does not resolve. */
  addresses: Map<string, string>;
  /** The host has getent; without it (a minimal system) the host's sshd resolves names itself. */
  getent: boolean;
  /** PEM of the CA certificates Postfix on the host would trust; undefined if not asked for or none. */
  caCertificates?: string;
}

/**
 * Sent on stdin as root; `names` are relay host names (validated DNS names or IPv4, quoted anyway).
 * `main` is the playbook's main.cf: its myorigin, mydomain and myhostname count even before an apply,
 * so the sender probed is the one the playbook makes.
 */
export function hostFactsScript(
  names: string[],
  wantCa: boolean,
  main: Record<string, string | null>,
): string {
  const overrides = ["myorigin", "mydomain", "myhostname"]
    .filter((name) => typeof main[name] === "string")
    .map((name) => shellQuote(`${name}=${main[name]}`));
  return remoteScript({
    libraries: ["facts", "verify"],
    settings: {},
    body: [
      "postfix_facts",
      "sasl_facts",
      ["sender_identity", ...overrides].join(" "),
      ["resolve_names", ...names.map(shellQuote)].join(" "),
      ...(wantCa ? ["trusted_cas"] : []),
    ],
  });
}

/** The script's records; a host without a working Postfix is an error, as for every other command. */
export function parseHostFacts(host: string, stdout: string): VerifyHostFacts {
  const records = parseRecords(stdout);
  const base = factsFromRecords(host, records);
  const facts: VerifyHostFacts = {
    version: base.version,
    defaultDatabaseType: base.defaultDatabaseType,
    supportedTypes: base.supportedTypes,
    saslPlugins: base.saslPlugins ?? [],
    ...(base.distro && { distro: base.distro }),
    saslPluginDirs: [],
    myorigin: "",
    saslClients: [],
    defaultTransport: "",
    relayhost: mainCfValues(base.postconfN).get("relayhost") ?? "",
    helo: "",
    addresses: new Map(),
    getent: false,
  };
  for (const record of records) {
    if (record.kind === "sasl_plugin_dir") facts.saslPluginDirs.push(record.dir);
    else if (record.kind === "myorigin") facts.myorigin = record.value;
    else if (record.kind === "helo") facts.helo = record.value;
    else if (record.kind === "default_transport") facts.defaultTransport = record.value;
    else if (record.kind === "sasl_clients") facts.saslClients = record.clients;
    else if (record.kind === "getent") facts.getent = true;
    else if (record.kind === "address" && record.address !== "")
      facts.addresses.set(record.name, record.address);
    else if (record.kind === "ca" && record.pem !== "") facts.caCertificates = record.pem;
  }
  return facts;
}
