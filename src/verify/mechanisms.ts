/**
 * Which SASL mechanism the host's own Postfix (its Cyrus SASL client) would use with a relay, or why it
 * has none: "No worthy mechs found" in the mail log. Pure: the relay's offer, the playbook's filter and
 * security options, and the plugins found on the host go in; a mechanism or a precise reason comes out.
 */

/** Postfix's smtp_sasl_security_options for Cyrus (the properties a mechanism must have). */
const SECURITY_OPTIONS = ["noplaintext", "noactive", "nodictionary", "noanonymous", "mutual_auth"];

interface Mechanism {
  /** Plugin file stem in the sasl2 directory: lib<plugin>.so. */
  plugin: string;
  /** Which security options the mechanism satisfies (Cyrus' security_flags of the plugin). */
  satisfies: string[];
}

/** Cyrus SASL client mechanisms (plugins/*.c, security_flags). */
const MECHANISMS: Record<string, Mechanism> = {
  PLAIN: { plugin: "plain", satisfies: ["noanonymous"] },
  LOGIN: { plugin: "login", satisfies: ["noanonymous"] },
  "CRAM-MD5": { plugin: "crammd5", satisfies: ["noplaintext", "noanonymous"] },
  "DIGEST-MD5": { plugin: "digestmd5", satisfies: ["noplaintext", "noanonymous", "mutual_auth"] },
  "SCRAM-SHA-1": { plugin: "scram", satisfies: ["noplaintext", "noanonymous", "noactive", "mutual_auth"] },
  "SCRAM-SHA-256": { plugin: "scram", satisfies: ["noplaintext", "noanonymous", "noactive", "mutual_auth"] },
  NTLM: { plugin: "ntlm", satisfies: ["noplaintext", "noanonymous"] },
  ANONYMOUS: { plugin: "anonymous", satisfies: ["noplaintext"] },
};

/** Mechanisms the probe itself can speak (smtp-client.ts). */
export const SPOKEN = ["PLAIN", "LOGIN", "CRAM-MD5"];

export interface MechanismInput {
  /** The relay's EHLO AUTH line, upper case. */
  offered: string[];
  /** smtp_sasl_mechanism_filter as a list; empty = no filter. */
  filter: string[];
  /** smtp_sasl_security_options (the TLS variant is the same: the playbook sets both alike). */
  securityOptions: string[];
  /** Plugin stems found on the host ("plain", "login", ...). */
  plugins: string[];
  /** Where the plugins were looked for, for the message. */
  pluginDirs: string[];
  /** Package(s) that would provide a missing plugin on this host's distribution. */
  packageFor: (plugin: string) => string;
  host: string;
}

export type MechanismChoice =
  | {
      ok: true;
      mechanism: string;
      /** Postfix would use another one the probe cannot speak. */ note?: string;
    }
  | { ok: false; why: string };

/**
 * Postfix first applies the filter (nothing left: "offered no supported AUTH mechanisms"), then Cyrus
 * keeps the offered mechanisms it has a plugin for that satisfy every security option, and takes the
 * strongest (the first offered among equals).
 */
export function chooseMechanism(input: MechanismInput): MechanismChoice {
  const offered = input.offered.map((m) => m.toUpperCase());
  if (offered.length === 0) {
    return { ok: false, why: "the relay offers no AUTH at all (Postfix would send without logging in)" };
  }
  const filtered = offered.filter((m) => filterAllows(input.filter, m));
  if (filtered.length === 0) {
    return {
      ok: false,
      why:
        `the mechanism filter (mechanisms: ${input.filter.join(", ")}) matches none of the mechanisms ` +
        `the relay offers (${offered.join(", ")}); Postfix logs "offered no supported AUTH mechanisms"`,
    };
  }
  const known = filtered.filter((m) => MECHANISMS[m] !== undefined);
  const refused = (m: string) => input.securityOptions.filter((o) => !MECHANISMS[m]!.satisfies.includes(o));
  const allowed = known.filter((m) => refused(m).length === 0);
  const withPlugin = known.filter((m) => input.plugins.includes(MECHANISMS[m]!.plugin));
  const usable = allowed.filter((m) => withPlugin.includes(m));
  if (usable.length > 0) return choose(usable);

  const reasons: string[] = [];
  if (withPlugin.length === 0 && known.length > 0) {
    const plugins = [...new Set(known.map((m) => MECHANISMS[m]!.plugin))];
    const packages = [...new Set(plugins.map(input.packageFor))];
    reasons.push(
      `the SASL plugin package ${packages.join(" or ")} is not installed on ${input.host} ` +
        `(no ${plugins.map((p) => `lib${p}.so`).join(" or ")} in ${input.pluginDirs.join(", ") || "any sasl2 directory"}); ` +
        `Postfix logs "No worthy mechs found"`,
    );
  }
  if (allowed.length === 0 && known.length > 0) {
    const options = [...new Set(known.flatMap(refused))];
    reasons.push(
      `the security options (${input.securityOptions.join(", ")}) refuse every mechanism the relay offers ` +
        `(${known.join(", ")}: ${options.join(", ")} rules them out); Postfix logs "No worthy mechs found". ` +
        `security_options: [noanonymous] allows PLAIN and LOGIN, which travel inside TLS`,
    );
  }
  if (reasons.length === 0) {
    reasons.push(
      `Postfix's SASL client knows none of the mechanisms the relay offers (${filtered.join(", ")})`,
    );
  }
  return { ok: false, why: reasons.join("; and ") };
}

/** Cyrus' pick: a later mechanism wins only if it has every security property of the best so far and more. */
function choose(usable: string[]): MechanismChoice {
  let best = usable[0]!;
  for (const m of usable.slice(1)) {
    const have = MECHANISMS[best]!.satisfies;
    const more = MECHANISMS[m]!.satisfies;
    if (have.every((p) => more.includes(p)) && more.length > have.length) best = m;
  }
  if (SPOKEN.includes(best)) return { ok: true, mechanism: best };
  const fallback = usable.find((m) => SPOKEN.includes(m));
  const note = `Postfix would use ${best}, which verify cannot speak`;
  return fallback
    ? { ok: true, mechanism: fallback, note: `${note}; probed with ${fallback}` }
    : { ok: false, why: `${note} (it speaks ${SPOKEN.join(", ")}); AUTH is not proven` };
}

/**
 * smtp_sasl_mechanism_filter as Postfix matches a string list: the first pattern that matches decides,
 * `!name` excludes; no pattern matching = excluded; an empty filter allows everything.
 */
export function filterAllows(filter: string[], mechanism: string): boolean {
  if (filter.length === 0) return true;
  for (const pattern of filter) {
    const negated = pattern.startsWith("!");
    if (pattern.replace(/^!/, "").toUpperCase() === mechanism.toUpperCase()) return !negated;
  }
  return false;
}

/** Unknown option names are left for Postfix to complain about; only known ones constrain. */
export function knownSecurityOptions(options: string[]): string[] {
  return options.map((o) => o.toLowerCase()).filter((o) => SECURITY_OPTIONS.includes(o));
}

/**
 * The package that provides a Cyrus plugin, by the host's /etc/os-release ID and ID_LIKE. Debian and
 * Ubuntu put every common plugin in libsasl2-modules; Fedora/RHEL split them by mechanism.
 */
export function pluginPackage(distribution: string[], plugin: string): string {
  if (distribution.some((d) => d === "debian" || d === "ubuntu")) return "libsasl2-modules";
  if (distribution.some((d) => ["fedora", "rhel", "centos"].includes(d))) {
    const rpm: Record<string, string> = {
      plain: "cyrus-sasl-plain",
      login: "cyrus-sasl-plain",
      crammd5: "cyrus-sasl-md5",
      digestmd5: "cyrus-sasl-md5",
      scram: "cyrus-sasl-scram",
      ntlm: "cyrus-sasl-ntlm",
    };
    return rpm[plugin] ?? "cyrus-sasl";
  }
  return `(the package providing the Cyrus SASL ${plugin} plugin)`;
}
