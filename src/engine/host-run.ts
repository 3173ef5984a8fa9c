import type { InventoryHost } from "../inventory/host.js";
import { randomBytes } from "node:crypto";
import type { PostfixState } from "../postfix/state.js";
import { deriveConfig } from "../postfix/derive.js";
import type { HostFacts } from "../facts/types.js";
import { HostError, UnreachableError } from "../errors.js";
import { openSession, type RemoteSession, type SessionOptions } from "../transport/ssh.js";
import type { ApplyOptions } from "./apply-script.js";
import { applyPlan, confirmAfterLostConnection } from "./apply.js";
import { factRequest, gatherFacts, summary } from "./gather.js";
import { makePlan, MAIN_CF } from "./plan.js";
import type { HostOutcome } from "./outcome.js";

/**
 * One host, start to end: connect once, read facts in one command, plan, and (apply only) carry out
 * the plan and re-read facts in a second command. A failure ends in a "failed"/"unreachable" outcome,
 * never in an exception, so one host never stops the others.
 */

export type RunMode = "apply" | "dry-run" | "check" | "facts";

export interface HostJob {
  host: InventoryHost;
  /** Desired state; undefined for `facts`. */
  state?: PostfixState;
  warnings?: string[];
}

/** What a run needs beyond the SSH session settings. */
export interface RunOptions extends SessionOptions {
  /** Seconds to wait for another run's lock on the host. */
  lockWaitSeconds: number;
  /** Fault-injection hook for the end-to-end tests (PROVISION_TEST_PAUSE=STEP:SECONDS). */
  pause?: ApplyOptions["pause"];
}

export async function runHost(job: HostJob, mode: RunMode, options: RunOptions): Promise<HostOutcome> {
  const started = Date.now();
  const outcome: HostOutcome = {
    name: job.host.name,
    address: job.host.connection.address,
    status: "in-sync",
    changes: [],
    steps: [],
    warnings: [...(job.warnings ?? [])],
    stats: { connections: 0, commands: 0, durationMs: 0 },
  };
  const lock = { runId: randomBytes(6).toString("hex"), waitSeconds: options.lockWaitSeconds };
  let session: RemoteSession | undefined;
  let commandsBefore = 0; // commands of a session lost on the way
  try {
    // A remote script may first wait up to lockWaitSeconds for another run's lock.
    const commandTimeoutMs = options.commandTimeoutMs + options.lockWaitSeconds * 1000;
    const connect = () => openSession(job.host.name, job.host.connection, { ...options, commandTimeoutMs });
    session = await connect();
    outcome.stats.connections = 1;
    const request = factRequest(job.state);
    // Another run may change the host between our read and our write; the apply script notices and
    // stops before touching anything. Then read and plan once more.
    for (let attempt = 1; ; attempt++) {
      const facts = await gatherFacts(session, job.host.name, request, lock);
      outcome.facts = summary(facts);
      for (const warning of facts.warnings)
        if (!outcome.warnings.includes(warning)) outcome.warnings.push(warning);
      if (mode === "facts" || !job.state) return outcome;

      const config = deriveConfig(job.state, hostInfo(job.host.name, facts));
      const plan = makePlan(config, facts);
      outcome.plan = plan;
      outcome.changes = plan.changes;
      if (plan.changes.length === 0) return outcome;
      if (mode !== "apply") {
        outcome.status = "drift";
        return outcome;
      }
      if (plan.writes.some((w) => w.path === MAIN_CF) && facts.files.get(MAIN_CF)?.utf8 === false) {
        throw new HostError(
          job.host.name,
          `${MAIN_CF} is not valid UTF-8; rewriting it would damage those bytes. Convert it (iconv) and run again`,
        );
      }
      const context = { plan, config, facts, request, lock, options, outcome };
      const applied = await applyPlan(session, job.host.name, context).catch(async (error: unknown) => {
        if (!(error instanceof UnreachableError)) throw error;
        // The apply goes on without us (apply-script.ts); connect again and see how it ended.
        commandsBefore += session?.commandCount ?? 0;
        session?.close();
        const fresh = await connect().catch(() => Promise.reject(error));
        session = fresh;
        outcome.stats.connections += 1;
        await confirmAfterLostConnection(fresh, job.host.name, context);
        return "done" as const;
      });
      if (applied === "host-changed" && attempt < 2) continue;
      if (applied === "host-changed") {
        throw new HostError(
          job.host.name,
          "the host keeps changing while provision reads it; nothing was changed",
        );
      }
      outcome.status = "changed";
      return outcome;
    }
  } catch (error) {
    outcome.status = error instanceof UnreachableError ? "unreachable" : "failed";
    outcome.error = error instanceof Error ? error.message : String(error);
  } finally {
    outcome.stats.commands = commandsBefore + (session?.commandCount ?? 0);
    session?.close();
    outcome.stats.durationMs = Date.now() - started;
  }
  return outcome;
}

function hostInfo(name: string, facts: HostFacts) {
  return {
    name,
    version: facts.version,
    defaultDatabaseType: facts.defaultDatabaseType,
    supportedTypes: facts.supportedTypes,
  };
}
