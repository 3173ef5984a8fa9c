/**
 * What the Postfix SMTP client's SASL layer (Cyrus SASL) can do on a host: which plugin brings which
 * mechanism, which security options each mechanism satisfies, how the mechanism filter matches, and
 * which package installs the plugins. Plain data and pure functions; the diagnoses (diagnose.ts) and
 * `verify` (verify/mechanisms.ts) decide what to say with it.
 */

/** Plugin file name (libNAME.so) -> the mechanisms it implements. libsasldb and the like implement none. */
const PLUGIN_MECHANISMS: Readonly<Record<string, readonly string[]>> = {
  plain: ["PLAIN"],
  login: ["LOGIN"],
  anonymous: ["ANONYMOUS"],
  crammd5: ["CRAM-MD5"],
  digestmd5: ["DIGEST-MD5"],
  scram: ["SCRAM-SHA-1", "SCRAM-SHA-256"],
  ntlm: ["NTLM"],
  gssapiv2: ["GSSAPI"],
  otp: ["OTP"],
};

/**
 * The security options (smtp_sasl_security_options) each mechanism satisfies, after the security flags
 * its Cyrus plugin declares. A mechanism is usable when it satisfies every option asked for: so
 * `noplaintext` rules out PLAIN and LOGIN, even inside TLS.
 */
const SATISFIES: Readonly<Record<string, readonly string[]>> = {
  PLAIN: ["noanonymous"],
  LOGIN: ["noanonymous"],
  ANONYMOUS: ["noplaintext"],
  "CRAM-MD5": ["noplaintext", "noanonymous"],
  "DIGEST-MD5": ["noplaintext", "noanonymous", "mutual_auth"],
  "SCRAM-SHA-1": ["noplaintext", "noactive", "noanonymous", "mutual_auth"],
  "SCRAM-SHA-256": ["noplaintext", "noactive", "noanonymous", "mutual_auth"],
  NTLM: ["noplaintext", "noanonymous"],
  GSSAPI: ["noplaintext", "noactive", "noanonymous", "mutual_auth", "nodictionary"],
  OTP: ["noplaintext", "noanonymous", "forward_secrecy"],
};

export const KNOWN_MECHANISMS = Object.keys(SATISFIES);

/** What providers offer to a login over TLS, nearly always and often alone. */
export const COMMON_MECHANISMS = ["PLAIN", "LOGIN"];

/** The mechanisms the host's plugins implement. */
export function installedMechanisms(plugins: readonly string[]): string[] {
  return plugins.flatMap((plugin) => PLUGIN_MECHANISMS[plugin] ?? []);
}

/** The plugin (libNAME.so) that implements `mechanism`; undefined for a mechanism not known here. */
export function mechanismPlugin(mechanism: string): string | undefined {
  return Object.keys(PLUGIN_MECHANISMS).find((plugin) => PLUGIN_MECHANISMS[plugin]!.includes(mechanism));
}

/** The security options `mechanism` satisfies (none for a mechanism not known here). */
export function securityProperties(mechanism: string): readonly string[] {
  return SATISFIES[mechanism] ?? [];
}

/** The options of `options` that rule `mechanism` out (unknown options are Postfix's to refuse). */
export function unmetOptions(mechanism: string, options: readonly string[]): string[] {
  return knownSecurityOptions(options).filter((option) => !securityProperties(mechanism).includes(option));
}

/** Whether Cyrus would use `mechanism` under `options`. */
export function allowedBy(mechanism: string, options: readonly string[]): boolean {
  return unmetOptions(mechanism, options).length === 0;
}

const SECURITY_OPTIONS = [
  "noplaintext",
  "noactive",
  "nodictionary",
  "noanonymous",
  "mutual_auth",
  "forward_secrecy",
];

/** The option names Cyrus knows, lower case; the others are left for Postfix to complain about. */
export function knownSecurityOptions(options: readonly string[]): string[] {
  return options.map((o) => o.toLowerCase()).filter((o) => SECURITY_OPTIONS.includes(o));
}

/**
 * smtp_sasl_mechanism_filter as Postfix matches a string list: the first pattern that matches decides,
 * `!name` excludes; no pattern matching = excluded; an empty filter allows everything.
 */
export function filterAllows(filter: readonly string[], mechanism: string): boolean {
  if (filter.length === 0) return true;
  for (const pattern of filter) {
    const negated = pattern.startsWith("!");
    if (pattern.replace(/^!/, "").toUpperCase() === mechanism.toUpperCase()) return !negated;
  }
  return false;
}

/**
 * The packages that bring the plugins for `mechanisms`, as the host's distribution names them (from
 * /etc/os-release ID and ID_LIKE): Debian and Ubuntu put every common plugin in one package, Fedora and
 * RHEL split them by mechanism. Undefined where the distribution is not known.
 */
export function distributionPackages(
  distro: { id: string; like: string[] } | undefined,
  mechanisms: readonly string[],
): string[] | undefined {
  const family = new Set([distro?.id ?? "", ...(distro?.like ?? [])]);
  const has = (...ids: string[]) => ids.some((id) => family.has(id));
  if (has("debian", "ubuntu")) return ["libsasl2-modules"];
  const plainOnly = mechanisms.every((m) => COMMON_MECHANISMS.includes(m));
  if (has("suse", "opensuse") && plainOnly) return ["cyrus-sasl-plain"];
  if (has("fedora", "rhel", "centos")) {
    const packages = new Set(
      mechanisms.map((m) => RPM_PACKAGES.find(([test]) => test(m))?.[1] ?? "cyrus-sasl"),
    );
    return [...packages].sort();
  }
  return undefined;
}

/** Fedora/RHEL's plugin packages, by mechanism. */
const RPM_PACKAGES: [(mechanism: string) => boolean, string][] = [
  [(m) => m.startsWith("SCRAM"), "cyrus-sasl-scram"],
  [(m) => m.endsWith("MD5"), "cyrus-sasl-md5"],
  [(m) => m === "PLAIN" || m === "LOGIN", "cyrus-sasl-plain"],
  [(m) => m === "NTLM", "cyrus-sasl-ntlm"],
  [(m) => m === "GSSAPI", "cyrus-sasl-gssapi"],
];

/** The package(s) to install, for a message; a hint naming both families where the distribution is not known. */
export function pluginPackage(
  distro: { id: string; like: string[] } | undefined,
  mechanisms: readonly string[],
): string {
  return (
    distributionPackages(distro, mechanisms)?.join(" and ") ??
    "the Cyrus SASL plugin package of this distribution (Debian/Ubuntu: libsasl2-modules; Fedora/RHEL: cyrus-sasl-plain)"
  );
}
