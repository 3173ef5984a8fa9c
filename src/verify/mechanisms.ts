import {
  distributionPackages,
  filterAllows,
  installedMechanisms,
  mechanismPlugin,
  pluginPackage,
  securityProperties,
  unmetOptions,
} from "../diagnose/sasl.js";

/**
 * Which SASL mechanism the host's own Postfix (its Cyrus SASL client) would use with a relay, or why it
 * has none: "No worthy mechs found" in the mail log. Pure: the relay's offer, the playbook's filter and
 * security options, and the plugins found on the host go in; a mechanism or a precise reason comes out.
 * What Cyrus knows of each mechanism (plugins, security properties, packages) is diagnose/sasl.ts's.
 */

/** Mechanisms the probe itself can speak (smtp-client.ts). */
export const SPOKEN = ["PLAIN", "LOGIN", "CRAM-MD5"];

export interface MechanismInput {
  /** The relay's EHLO AUTH line, upper case. */
  offered: string[];
  /** smtp_sasl_mechanism_filter as a list; empty = no filter. */
  filter: string[];
  /** smtp_sasl_security_options (the TLS variant is the same: the playbook sets both alike). */
  securityOptions: string[];
  /** Plugin names found on the host ("plain", "login", ...). */
  plugins: string[];
  /** Where the plugins were looked for, for the message. */
  pluginDirs: string[];
  /** The host's distribution (/etc/os-release), to name the package of a missing plugin. */
  distro: { id: string; like: string[] } | undefined;
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
  const known = filtered.filter((m) => mechanismPlugin(m) !== undefined);
  const refused = (m: string) => unmetOptions(m, input.securityOptions);
  const allowed = known.filter((m) => refused(m).length === 0);
  const installed = installedMechanisms(input.plugins);
  const withPlugin = known.filter((m) => installed.includes(m));
  const usable = allowed.filter((m) => withPlugin.includes(m));
  if (usable.length > 0) return choose(usable);

  const reasons: string[] = [];
  if (withPlugin.length === 0 && known.length > 0) {
    const plugins = [...new Set(known.map((m) => mechanismPlugin(m)!))];
    const packages = distributionPackages(input.distro, known);
    const missing = packages
      ? `the SASL plugin package ${packages.join(" or ")}`
      : pluginPackage(input.distro, known);
    reasons.push(
      `${missing} is not installed on ${input.host} ` +
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
    const have = securityProperties(best);
    const more = securityProperties(m);
    if (have.every((p) => more.includes(p)) && more.length > have.length) best = m;
  }
  if (SPOKEN.includes(best)) return { ok: true, mechanism: best };
  const fallback = usable.find((m) => SPOKEN.includes(m));
  const note = `Postfix would use ${best}, which verify cannot speak`;
  return fallback
    ? { ok: true, mechanism: fallback, note: `${note}; probed with ${fallback}` }
    : { ok: false, why: `${note} (it speaks ${SPOKEN.join(", ")}); AUTH is not proven` };
}
