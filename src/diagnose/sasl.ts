/**
 * What the Postfix SMTP client's SASL layer (Cyrus SASL) can do on a host: which plugin brings which
 * mechanism, which security options each mechanism satisfies, and which package installs the plugins.
 * Plain data and pure functions; the diagnoses (diagnose.ts) decide what to say with it.
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

/** Whether Cyrus would use `mechanism` under `options` (unknown options are Postfix's to refuse). */
export function allowedBy(mechanism: string, options: readonly string[]): boolean {
  const satisfied = SATISFIES[mechanism] ?? [];
  return options.every((option) => !Object.hasOwn(SECURITY_OPTIONS, option) || satisfied.includes(option));
}

const SECURITY_OPTIONS = Object.fromEntries(
  ["noplaintext", "noactive", "nodictionary", "noanonymous", "mutual_auth", "forward_secrecy"].map((o) => [
    o,
    true,
  ]),
);

/**
 * The package that brings the plugins for `mechanisms`, as the host's distribution names it (from
 * /etc/os-release ID and ID_LIKE); a hint naming both families where the distribution is not known.
 */
export function pluginPackage(
  distro: { id: string; like: string[] } | undefined,
  mechanisms: string[],
): string {
  const family = new Set([distro?.id ?? "", ...(distro?.like ?? [])]);
  const has = (...ids: string[]) => ids.some((id) => family.has(id));
  if (has("debian", "ubuntu")) return "libsasl2-modules";
  const plainOnly = mechanisms.every((m) => COMMON_MECHANISMS.includes(m));
  if (has("suse", "opensuse") && plainOnly) return "cyrus-sasl-plain";
  if (has("fedora", "rhel", "centos")) {
    const packages = new Set(
      mechanisms.map((m) =>
        m.startsWith("SCRAM")
          ? "cyrus-sasl-scram"
          : m.endsWith("MD5")
            ? "cyrus-sasl-md5"
            : "cyrus-sasl-plain",
      ),
    );
    return [...packages].sort().join(" and ");
  }
  return "the Cyrus SASL plugin package of this distribution (Debian/Ubuntu: libsasl2-modules; Fedora/RHEL: cyrus-sasl-plain)";
}
