import type { AppliedStep, HostOutcome } from "../engine/outcome.js";

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
      ...(o.steps.length > 0 || o.backup ? { steps: stepLines(o) } : {}),
      ...(o.warnings.length > 0 ? { warnings: o.warnings } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(command === "facts" && o.facts ? { facts: o.facts } : {}),
      stats: o.stats,
    })),
  };
  return document;
}

/** Steps as lines: "wrote /etc/postfix/generic", "postmap hash:...", "reload postfix", "backup DIR". */
function stepLines(outcome: HostOutcome): string[] {
  const line = (step: AppliedStep) =>
    step.kind === "service"
      ? `${step.action} postfix`
      : `${step.kind} ${step.kind === "postmap" ? step.map : step.path}`;
  return [...outcome.steps.map(line), ...(outcome.backup ? [`backup ${outcome.backup}`] : [])];
}
