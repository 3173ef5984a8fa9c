import type { DesiredConfig } from "../postfix/derive.js";
import type { HostFacts } from "../facts/types.js";
import { makePlan } from "./plan.js";

/**
 * What still differs between a host and its desired configuration after an apply: anything left to
 * plan, and any owned parameter that Postfix itself (`postconf -n`) reads differently. Empty = in sync.
 */
export function remainingDifferences(config: DesiredConfig, facts: HostFacts): string[] {
  return [
    ...makePlan(config, facts).changes.map((c) => `${c.path}: ${c.detail}`),
    ...parameterMismatches(config.main, facts.postconfN),
  ];
}

/**
 * `postconf -n` must show every owned parameter with its desired value (and not show removed ones).
 * This catches a main.cf that reads differently to Postfix than to us. Pure: compares desired values
 * with the recorded `postconf -n` output.
 */
export function parameterMismatches(desired: Record<string, string | null>, postconfN: string): string[] {
  const actual = new Map<string, string>();
  for (const line of postconfN.split("\n")) {
    const match = /^([^=\s]+)\s*=\s?(.*)$/.exec(line);
    if (match?.[1] !== undefined) actual.set(match[1], normalise(match[2] ?? ""));
  }
  const mismatches: string[] = [];
  for (const [name, value] of Object.entries(desired)) {
    const seen = actual.get(name);
    if (value === null) {
      if (seen !== undefined) mismatches.push(`${name} is still set (${seen})`);
    } else if (seen !== normalise(value)) {
      mismatches.push(
        `${name} is ${seen === undefined ? "not set" : `"${seen}"`}, expected "${normalise(value)}"`,
      );
    }
  }
  return mismatches;
}

function normalise(value: string): string {
  return value.trim().replace(/\s+/g, " ");
}
