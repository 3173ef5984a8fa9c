import type { HostOutcome } from "../engine/outcome.js";
import { indentContinuation } from "./terminal.js";

/** `provision facts`: what Postfix on each host is, in the words of postconf. Takes a terminal-safe outcome. */
export function factsReport(outcome: HostOutcome): string {
  if (!outcome.facts)
    return `${outcome.name} (${outcome.address}): ${outcome.status}: ${indentContinuation(outcome.error ?? "", "  ")}`;
  const f = outcome.facts;
  const postconf = f.postconfN
    .trimEnd()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
  return [
    `${outcome.name} (${outcome.address})`,
    `  postfix version:       ${f.version}${f.running ? " (running)" : " (not running)"}`,
    `  default table type:    ${f.defaultDatabaseType}`,
    `  supported table types: ${f.supportedTypes.join(" ")}`,
    `  postconf -n:`,
    postconf,
  ].join("\n");
}
