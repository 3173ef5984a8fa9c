import type { HostOutcome } from "../engine/outcome.js";

/**
 * The `--json` document (SPEC.md): one object, per host name/status/changes/error. No secrets. Returned
 * as an object so the last-line redactor works on its string values; print it with terminal.ts jsonText.
 */
export function jsonDocument(command: string, outcomes: readonly HostOutcome[], exitCode: number): object {
  const document = {
    command,
    exitCode,
    hosts: outcomes.map((o) => ({
      name: o.name,
      address: o.address,
      status: o.status,
      changes: o.changes.map((c) => ({
        path: c.path,
        what: c.what,
        ...(c.parameters ? { parameters: c.parameters } : {}),
        detail: c.detail,
      })),
      ...(o.steps.length > 0 ? { steps: o.steps } : {}),
      ...(o.warnings.length > 0 ? { warnings: o.warnings } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(command === "facts" && o.facts ? { facts: o.facts } : {}),
      stats: o.stats,
    })),
  };
  return document;
}
