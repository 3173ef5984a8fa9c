import type { DesiredConfig } from "../postfix/derive.js";
import type { HostFacts } from "../facts/types.js";
import { mainCfValues } from "../postfix/maincf.js";
import { normaliseValue } from "../postfix/rules.js";
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
 * After an apply, ask Postfix itself: `postconf -n` must show every owned parameter with its desired
 * value (and not show removed ones). This catches a main.cf that reads differently to Postfix than to
 * us. Pure: compares desired values with the recorded `postconf -n` output, read as main.cf syntax
 * (lines end at LF only: a value may hold U+2028).
 */
export function parameterMismatches(desired: Record<string, string | null>, postconfN: string): string[] {
  const actual = mainCfValues(postconfN);
  const mismatches: string[] = [];
  for (const [name, value] of Object.entries(desired)) {
    const seen = actual.get(name);
    if (value === null) {
      if (seen !== undefined) mismatches.push(`${name} is still set (${seen})`);
    } else if (seen !== normaliseValue(value)) {
      mismatches.push(
        `${name} is ${seen === undefined ? "not set" : `"${seen}"`}, expected "${normaliseValue(value)}"`,
      );
    }
  }
  return mismatches;
}
