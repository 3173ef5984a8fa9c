import type { InventoryHost } from "../inventory/host.js";
import { randomBytes } from "node:crypto";
import type { PostfixState } from "../postfix/state.js";
import { deriveConfig } from "../postfix/derive.js";
import { factsSummary, type HostFacts } from "../facts/types.js";
import { HostError, UnreachableError } from "../errors.js";
import { openSession, type RemoteSession, type SessionOptions } from "../transport/ssh.js";
import type { Pause } from "./apply-script.js";
import { applyPlan, confirmAfterLostConnection, type ApplyResult } from "./apply.js";
import { factRequest, gatherFacts } from "./gather.js";
import { makePlan, MAIN_CF, type Plan } from "./plan.js";
import type { HostOutcome, HostStatus } from "./outcome.js";

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
  pause?: Pause;
}

/** How a session is opened; the unit tests pass a replaying fake. */
export type Connect = typeof openSession;

export async function runHost(
  job: HostJob,
  mode: RunMode,
  options: RunOptions,
  connect: Connect = openSession,
): Promise<HostOutcome> {
  const started = Date.now();
  const name = job.host.name;
  // A remote script may first wait up to lockWaitSeconds for another run's lock.
  const commandTimeoutMs = options.commandTimeoutMs + options.lockWaitSeconds * 1000;
  const link = new HostLink(() => connect(name, job.host.connection, { ...options, commandTimeoutMs }));
  const lock = { runId: randomBytes(6).toString("hex"), waitSeconds: options.lockWaitSeconds };
  let warnings = job.warnings ?? [];
  let facts: HostFacts | undefined;
  let plan: Plan | undefined;
  let applied: ApplyResult | undefined;
  let verdict: { status: HostStatus; error?: string } = { status: "in-sync" };
  try {
    const request = factRequest(job.state);
    // Another run may change the host between our read and our write; the apply script notices and
    // stops before touching anything. Then read and plan once more.
    for (let attempt = 1; ; attempt++) {
      facts = await gatherFacts(await link.session(), name, request, lock);
      warnings = withNew(warnings, facts.warnings);
      if (mode === "facts" || !job.state) break;

      const config = deriveConfig(job.state, { name, ...facts });
      plan = makePlan(config, facts);
      if (plan.changes.length === 0) break;
      if (mode !== "apply") {
        verdict = { status: "drift" };
        break;
      }
      if (plan.writes.some((w) => w.path === MAIN_CF) && facts.files.get(MAIN_CF)?.utf8 === false) {
        throw new HostError(
          name,
          `${MAIN_CF} is not valid UTF-8; rewriting it would damage those bytes. Convert it (iconv) and run again`,
        );
      }
      const context = { plan, config, facts, request, lock, pause: options.pause };
      applied = await applyPlan(await link.session(), name, context).catch(async (error: unknown) => {
        if (!(error instanceof UnreachableError)) throw error;
        // The apply goes on without us (apply-script.ts); connect again and see how it ended.
        const fresh = await link.reconnect().catch(() => Promise.reject(error));
        return confirmAfterLostConnection(fresh, name, context);
      });
      if (applied.status === "host-changed") {
        if (attempt < 2) continue;
        throw new HostError(name, "the host keeps changing while provision reads it; nothing was changed");
      }
      verdict =
        applied.status === "applied" ? { status: "changed" } : { status: "failed", error: applied.error };
      break;
    }
  } catch (error) {
    const status = error instanceof UnreachableError ? "unreachable" : "failed";
    verdict = { status, error: error instanceof Error ? error.message : String(error) };
  } finally {
    link.close();
  }

  // The one place a HostOutcome is made.
  const factsAfter = applied?.factsAfter ?? facts;
  return {
    name,
    address: job.host.connection.address,
    status: verdict.status,
    changes: plan?.changes ?? [],
    ...(plan ? { plan } : {}),
    steps: applied?.steps ?? [],
    ...(applied?.backup ? { backup: applied.backup } : {}),
    warnings: [...warnings, ...(applied?.warnings ?? [])],
    ...(verdict.error !== undefined ? { error: verdict.error } : {}),
    ...(factsAfter ? { facts: factsSummary(factsAfter) } : {}),
    stats: { connections: link.connections, commands: link.commands, durationMs: Date.now() - started },
  };
}

/** The host's SSH session, and a new one after a lost connection; counts both for the benchmark. */
class HostLink {
  connections = 0;
  private commandsOfLostSessions = 0;
  private current?: RemoteSession;

  constructor(private readonly open: () => Promise<RemoteSession>) {}

  async session(): Promise<RemoteSession> {
    if (!this.current) {
      this.current = await this.open();
      this.connections += 1;
    }
    return this.current;
  }

  async reconnect(): Promise<RemoteSession> {
    this.close();
    this.commandsOfLostSessions += this.current?.commandCount ?? 0;
    this.current = undefined;
    return this.session();
  }

  get commands(): number {
    return this.commandsOfLostSessions + (this.current?.commandCount ?? 0);
  }

  close(): void {
    this.current?.close();
  }
}

/** `list` plus those of `more` it does not hold yet. */
function withNew(list: string[], more: string[]): string[] {
  const result = [...list];
  for (const item of more) if (!result.includes(item)) result.push(item);
  return result;
}
