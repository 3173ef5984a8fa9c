import type { DesiredConfig } from "../postfix/derive.js";
import type { FactRequest, LockOptions } from "../facts/script.js";
import { parseFacts } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { HostError, UnreachableError } from "../errors.js";
import type { RemoteSession } from "../transport/ssh.js";
import { applyScript, rollbackScript } from "./apply-script.js";
import { gatherFacts, firstLine, summary } from "./gather.js";
import type { RunOptions } from "./host-run.js";
import { makePlan, type Plan } from "./plan.js";
import { parameterMismatches } from "./verify.js";
import type { HostOutcome } from "./outcome.js";

/** Applying a plan on a host and proving the result (the protocol is in apply-script.ts). */

export interface ApplyContext {
  plan: Plan;
  config: DesiredConfig;
  facts: HostFacts;
  request: FactRequest;
  lock: LockOptions;
  options: RunOptions;
  outcome: HostOutcome;
}

/**
 * Carry out the plan (see apply-script.ts), then confirm from the re-read facts and `postconf -n` that
 * the host now matches; if it does not, restore the run's backup in one more round trip.
 */
export async function applyPlan(
  session: RemoteSession,
  host: string,
  ctx: ApplyContext,
): Promise<"done" | "host-changed"> {
  const { plan, config, facts, request, lock, options, outcome } = ctx;
  const expected = new Map(
    plan.writes.map((w) => [
      w.path,
      facts.files.get(w.path)?.exists ? (facts.files.get(w.path)?.sha256 ?? null) : null,
    ]),
  );
  const ownedParameters = Object.keys(config.main).filter((name) => config.main[name] !== null);
  const script = applyScript(plan, request, { ...lock, expected, ownedParameters, pause: options.pause });
  const result = await session.runScript(script, "applying changes").catch((error: unknown) => {
    if (!(error instanceof UnreachableError)) throw error;
    throw new UnreachableError(
      host,
      `${error.message}. The apply goes on on the host by itself (it finishes, or rolls back on failure); ` +
        "run provision check to see the result",
    );
  });
  const records = readRecords(result.stdout, outcome);
  if (records.locked !== undefined) {
    throw new HostError(
      host,
      `another provision run holds the host's run lock (${records.locked}); try again later`,
    );
  }
  if (records.changed) return "host-changed";
  if (records.error) {
    const restored = records.rolledBack
      ? `; rolled back to the previous configuration (backup ${records.rolledBack})`
      : "";
    throw new HostError(host, `${records.error}${restored}`);
  }
  if (result.code !== 0 || !records.backup) {
    throw new HostError(host, `applying changes failed (exit ${result.code}): ${firstLine(result.stderr)}`);
  }
  outcome.steps.push(`backup ${records.backup}`);

  const after = parseFacts(host, result.stdout);
  outcome.facts = summary(after);
  const remaining = makePlan(config, after).changes.map((c) => `${c.path}: ${c.detail}`);
  const problems = [...remaining, ...parameterMismatches(config.main, after.postconfN)];
  if (problems.length > 0) {
    const rollback = await session.runScript(
      rollbackScript(records.backup, plan.service, lock),
      "rolling back",
    );
    const back = readRecords(rollback.stdout, outcome);
    const restored = back.rolledBack
      ? `rolled back to the previous configuration (backup ${back.rolledBack})`
      : `ROLLBACK FAILED: ${back.error ?? firstLine(rollback.stderr)}`;
    throw new HostError(
      host,
      `the host does not match the playbook after apply (${problems.join("; ")}); ${restored}`,
    );
  }
  return "done";
}

/**
 * After the connection died during an apply: read the facts again (this waits for the detached apply
 * script to release the lock) and report the host changed only if it now matches the playbook.
 */
export async function confirmAfterLostConnection(
  session: RemoteSession,
  host: string,
  ctx: ApplyContext,
): Promise<void> {
  const after = await gatherFacts(session, host, ctx.request, ctx.lock);
  ctx.outcome.facts = summary(after);
  const problems = [
    ...makePlan(ctx.config, after).changes.map((c) => `${c.path}: ${c.detail}`),
    ...parameterMismatches(ctx.config.main, after.postconfN),
  ];
  if (problems.length > 0) {
    throw new HostError(
      host,
      `the connection was lost during the apply; connected again, the host does not match the playbook ` +
        `(${problems.join("; ")}): the apply failed and was rolled back, or did not run. Run apply again`,
    );
  }
  ctx.outcome.warnings.push(
    "the connection was lost during the apply; connected again: the host matches the playbook",
  );
}

interface ApplyRecords {
  locked?: string;
  changed?: string;
  error?: string;
  rolledBack?: string;
  backup?: string;
}

/** Read the apply script's records; progress goes to the outcome, the verdict is returned. */
function readRecords(stdout: string, outcome: HostOutcome): ApplyRecords {
  const records: ApplyRecords = {};
  for (const line of stdout.split("\n")) {
    const [kind = "", ...rest] = line.split("\t");
    const value = rest.join("\t");
    if (kind === "wrote" || kind === "fixed" || kind === "postmap" || kind === "removed")
      outcome.steps.push(`${kind} ${value}`);
    else if (kind === "service") outcome.steps.push(`${value} postfix`);
    else if (kind === "warning") outcome.warnings.push(value);
    else if (kind === "locked") records.locked = value;
    else if (kind === "changed") records.changed = value;
    else if (kind === "error") records.error ??= value;
    else if (kind === "rolledback") records.rolledBack = value;
    else if (kind === "backup") records.backup = value;
  }
  return records;
}
