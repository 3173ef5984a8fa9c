import type { DesiredConfig } from "../postfix/derive.js";
import { followUpScript, type FactRequest, type LockOptions } from "../facts/script.js";
import { factsFromRecords } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { UnreachableError } from "../errors.js";
import { findRecord, parseRecords, type RemoteRecord } from "../remote/records.js";
import type { RemoteSession } from "../transport/ssh.js";
import { applyScript, rollbackScript, type Pause } from "./apply-script.js";
import { firstLine } from "./gather.js";
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
  const error = failureOf(records);
  if (error) return { ...done, status: "failed", error };
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
 * After the connection died or the command timed out during an apply: the script goes on on the host
 * by itself. Read the host again with the follow-up script (facts/script.ts): it cancels the run if it
 * still waits for the run lock, waits for it if it runs, and passes on its result if it kept one. The
 * report then says what the host ended up with. `lost` says what happened, e.g. "the connection was
 * lost during the apply".
 */
export async function followUp(
  session: RemoteSession,
  host: string,
  ctx: ApplyContext,
  lost: string,
  waitSeconds: number,
): Promise<ApplyResult> {
  const lock = { ...ctx.lock, waitSeconds };
  const result = await session.runScript(followUpScript(ctx.request, lock), "reading the host again");
  const records = parseRecords(result.stdout);
  const locked = findRecord(records, "locked");
  if (locked) {
    const error =
      `${lost}; connected again, but the host's run lock is still held (${locked.holder}): ` +
      "the apply may still be running there. Run provision check later to see the result";
    return { steps: [], warnings: [], status: "failed", error };
  }
  const factsAfter = factsFromRecords(host, records);
  const run = parseRecords(findRecord(records, "run_result")?.output ?? "");
  const done = { steps: appliedSteps(run), warnings: warnings(run), factsAfter };
  if (findRecord(run, "cancelled")) {
    const error = `${lost} while the apply waited for the host's run lock; it stopped on the host without changing anything. Run apply again`;
    return { ...done, status: "failed", error };
  }
  const failure = failureOf(run);
  if (failure) {
    const error = `${lost}; connected again: the apply failed on the host: ${failure}`;
    return { ...done, status: "failed", error };
  }
  const problems = remainingDifferences(ctx.config, factsAfter);
  if (problems.length > 0) {
    const error =
      `${lost}; connected again, the host does not match the playbook (${problems.join("; ")}): ` +
      "the apply did not run (a run still waiting for the lock is stopped) or was rolled back. Run apply again";
    return { ...done, status: "failed", error };
  }
  const backup = findRecord(run, "backup")?.backup;
  const warning = `${lost}; connected again: the host matches the playbook`;
  return { ...done, ...(backup ? { backup } : {}), warnings: [...done.warnings, warning], status: "applied" };
}

/**
 * Why a run failed: its first error; then what a rollback said (restored from which backup, or its own
 * error, e.g. ROLLBACK INCOMPLETE). Undefined when the run reported no error.
 */
function failureOf(records: RemoteRecord[]): string | undefined {
  const [first, ...later] = records.flatMap((r) => (r.kind === "error" ? [r.message] : []));
  if (first === undefined) return undefined;
  const rolledBack = findRecord(records, "rolledback");
  const restored = rolledBack
    ? [`rolled back to the previous configuration (backup ${rolledBack.backup})`]
    : [];
  return [first, ...later, ...restored].join("; ");
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
