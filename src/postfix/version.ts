import { HostError } from "../errors.js";
import type { PostfixHostInfo } from "./host-info.js";

/**
 * "3.7.11" -> [3, 7, 11]. Only the leading dotted numbers count, so snapshot and distribution suffixes
 * ("3.8-20230101", "3.7.11-0+deb12u1") are tolerated. Throws when there is no leading number at all.
 */
export function parseVersion(s: string): number[] {
  const match = /^\s*(\d+(?:\.\d+)*)/.exec(s);
  if (!match?.[1]) throw new Error(`cannot parse Postfix version ${JSON.stringify(s)}`);
  return match[1].split(".").map(Number);
}

/** True when `version` >= `min`; missing components count as 0 ("3.0" == "3.0.0"). */
export function versionAtLeast(version: string, min: string): boolean {
  const have = parseVersion(version);
  const want = parseVersion(min);
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export interface FeatureGate {
  /** What the user declared that needs the feature, in playbook and Postfix terms. */
  feature: string;
  /** First Postfix version that has it. */
  since: string;
}

/** Postfix features the playbook can ask for that older Postfix versions lack (see POSTFIX.md). */
export const FEATURE_GATES = {
  genericMaps: { feature: "smtp_generic_maps (generic:)", since: "2.2" },
  senderDependent: {
    feature: "sender-dependent authentication and relay maps (senders:)",
    since: "2.3",
  },
  tlsWrapperMode: { feature: "smtp_tls_wrappermode (a relay on port 465)", since: "3.0" },
} as const satisfies Record<string, FeatureGate>;

/** Throws a HostError naming the host, its version, the feature and `instead` (what to do). */
export function requireFeature(host: PostfixHostInfo, gate: FeatureGate, instead: string): void {
  let ok: boolean;
  try {
    ok = versionAtLeast(host.version, gate.since);
  } catch {
    throw new HostError(
      host.name,
      `host ${host.name}: cannot tell whether its Postfix supports ${gate.feature}: ` +
        `mail_version is ${JSON.stringify(host.version)}`,
    );
  }
  if (!ok) {
    throw new HostError(
      host.name,
      `host ${host.name} runs Postfix ${host.version}, but ${gate.feature} needs Postfix >= ${gate.since}; ` +
        instead,
    );
  }
}
