import type { DesiredConfig } from "../postfix/derive.js";
import type { FactRequest, LockOptions } from "../facts/script.js";
import { factsFromRecords } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { UnreachableError } from "../errors.js";
import { findRecord, parseRecords, type RemoteRecord } from "../remote/records.js";
import type { RemoteSession } from "../transport/ssh.js";
import { applyScript, rollbackScript, type Pause } from "./apply-script.js";
import { gatherFacts, firstLine } from "./gather.js";
import type { Plan } from "./plan.js";
import { remainingDifferences } from "./verify.js";
import type { AppliedStep } from "./outcome.js";

/** Applying a plan on a host and proving the result (the protocol is in apply-script.ts). */

export interface ApplyContext {
  plan: Plan;
  config: DesiredConfig;
  facts: HostFacts;
  request: FactRequest;
  lock: LockOptions;
  pause?: Pause;
}

/** What an apply did. `host-changed`: the host changed since it was read; nothing was touched. */
export type ApplyResult = {
  steps: AppliedStep[];
  warnings: string[];
  /** The backup set of an apply that completed (the files it replaced). */
  backup?: string;
  /** The facts read back after the apply, when it got that far. */
  factsAfter?: HostFacts;
} & (
  | { status: "applied"; factsAfter: HostFacts }
  | { status: "host-changed" }
  | { status: "failed"; error: string }
);

/**
 * Carry out the plan (see apply-script.ts), then confirm from the re-read facts and `postconf -n` that
 * the host now matches; if it does not, restore the run's backup in one more round trip. What the
 * script reports comes back as the result; what the connection throws is thrown (UnreachableError:
 * the apply goes on on the host by itself), and so is a HostError for facts it cannot read back.
 */
export async function applyPlan(
  session: RemoteSession,
  host: string,
  ctx: ApplyContext,
): Promise<ApplyResult> {
  const { plan, config, facts, request, lock, pause } = ctx;
  const expected = new Map(
    plan.writes.map((w) => [
      w.path,
      facts.files.get(w.path)?.exists ? (facts.files.get(w.path)?.sha256 ?? null) : null,
    ]),
  );
  const ownedParameters = Object.keys(config.main).filter((name) => config.main[name] !== null);
  const script = applyScript(plan, request, { ...lock, expected, ownedParameters, pause });
  const result = await session.runScript(script, "applying changes").catch((error: unknown) => {
    if (!(error instanceof UnreachableError)) throw error;
    throw new UnreachableError(
      host,
      `${error.message}. The apply goes on on the host by itself (it finishes, or rolls back on failure); ` +
        "run provision check to see the result",
    );
  });
  const records = parseRecords(result.stdout);
  const done = { steps: appliedSteps(records), warnings: warnings(records) };
  const locked = findRecord(records, "locked");
  if (locked) {
    const error = `another provision run holds the host's run lock (${locked.holder}); try again later`;
    return { ...done, status: "failed", error };
  }
  if (findRecord(records, "changed")) return { ...done, status: "host-changed" };
  const error = findRecord(records, "error");
  if (error) {
    const rolledBack = findRecord(records, "rolledback");
    const restored = rolledBack
      ? `; rolled back to the previous configuration (backup ${rolledBack.backup})`
      : "";
    return { ...done, status: "failed", error: `${error.message}${restored}` };
  }
  const backup = findRecord(records, "backup")?.backup;
  if (result.code !== 0 || !backup) {
    const error = `applying changes failed (exit ${result.code}): ${firstLine(result.stderr)}`;
    return { ...done, status: "failed", error };
  }

  const factsAfter = factsFromRecords(host, records);
  const problems = remainingDifferences(config, factsAfter);
  if (problems.length === 0) return { ...done, backup, factsAfter, status: "applied" };
  const rollbackRun = await session.runScript(rollbackScript(backup, plan.service, lock), "rolling back");
  const rollback = parseRecords(rollbackRun.stdout);
  const rolledBack = findRecord(rollback, "rolledback");
  const restored = rolledBack
    ? `rolled back to the previous configuration (backup ${rolledBack.backup})`
    : `ROLLBACK FAILED: ${findRecord(rollback, "error")?.message ?? firstLine(rollbackRun.stderr)}`;
  return {
    steps: [...done.steps, ...appliedSteps(rollback)],
    warnings: [...done.warnings, ...warnings(rollback)],
    backup,
    factsAfter,
    status: "failed",
    error: `the host does not match the playbook after apply (${problems.join("; ")}); ${restored}`,
  };
}

/**
 * After the connection died during an apply: read the facts again (this waits for the detached apply
 * script to release the lock) and report the apply done only if the host now matches the playbook.
 */
export async function confirmAfterLostConnection(
  session: RemoteSession,
  host: string,
  ctx: ApplyContext,
): Promise<ApplyResult> {
  const factsAfter = await gatherFacts(session, host, ctx.request, ctx.lock);
  const problems = remainingDifferences(ctx.config, factsAfter);
  if (problems.length > 0) {
    const error =
      `the connection was lost during the apply; connected again, the host does not match the playbook ` +
      `(${problems.join("; ")}): the apply failed and was rolled back, or did not run. Run apply again`;
    return { steps: [], warnings: [], factsAfter, status: "failed", error };
  }
  const warning = "the connection was lost during the apply; connected again: the host matches the playbook";
  return { steps: [], warnings: [warning], factsAfter, status: "applied" };
}

function appliedSteps(records: RemoteRecord[]): AppliedStep[] {
  return records.flatMap((r): AppliedStep[] =>
    r.kind === "wrote" ||
    r.kind === "fixed" ||
    r.kind === "removed" ||
    r.kind === "postmap" ||
    r.kind === "service"
      ? [r]
      : [],
  );
}

function warnings(records: RemoteRecord[]): string[] {
  return records.flatMap((r) => (r.kind === "warning" ? [r.message] : []));
}
