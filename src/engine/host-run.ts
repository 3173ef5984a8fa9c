import type { InventoryHost } from "../inventory/host.js";
import { randomBytes } from "node:crypto";
import type { PostfixState } from "../postfix/state.js";
import { diagnose } from "../diagnose/diagnose.js";
import { factsSummary, type HostFacts } from "../facts/types.js";
import { CommandTimeoutError, HostError, UnreachableError } from "../errors.js";
import { openSession, type RemoteSession, type SessionOptions } from "../transport/ssh.js";
import type { Pause } from "./apply-script.js";
import { applyPlan, followUp, type ApplyResult } from "./apply.js";
import { factRequest, gatherFacts } from "./gather.js";
import { configFor, makePlan, MAIN_CF, unverifiedPasswords, type Plan } from "./plan.js";
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

/** What a host is doing, for the live progress line. */
export type HostStep = "connecting" | "reading facts" | "applying" | "reading the host again";

/** What a run needs beyond the SSH session settings. */
export interface RunOptions extends SessionOptions {
  /** Seconds to wait for another run's lock on the host. */
  lockWaitSeconds: number;
  /** Fault-injection hook for the end-to-end tests (PROVISION_TEST_PAUSE=STEP:SECONDS). */
  pause?: Pause;
  /** Called as the host moves on to each step ("reading the host again": after a lost apply). */
  onStep?: (host: string, step: HostStep) => void;
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
  const step = (what: HostStep) => options.onStep?.(name, what);
  const link = new HostLink((extraMs) => {
    step("connecting");
    return connect(name, job.host.connection, { ...options, commandTimeoutMs: commandTimeoutMs + extraMs });
  });
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
      const session = await link.session();
      step("reading facts");
      facts = await gatherFacts(session, name, request, lock);
      warnings = withNew(warnings, facts.warnings);
      if (mode === "facts" || !job.state) break;

      const config = configFor(job.state, name, facts);
      plan = makePlan(config, facts);
      warnings = withNew(warnings, unverifiedPasswords(config));
      // Before any write, in every mode: an error here means no mail could leave (diagnose.ts).
      const found = diagnose(job.state, config, facts);
      warnings = withNew(
        warnings,
        found.filter((d) => d.level === "warning").map((d) => d.message),
      );
      const errors = found.filter((d) => d.level === "error").map((d) => d.message);
      if (errors.length > 0) throw new HostError(name, errors.join("\n"));
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
      step("applying");
      applied = await applyPlan(await link.session(), name, context).catch(async (error: unknown) => {
        const lost =
          error instanceof CommandTimeoutError
            ? error.message
            : error instanceof UnreachableError
              ? "the connection was lost during the apply"
              : undefined;
        if (lost === undefined) throw error;
        // The apply goes on without us (apply-script.ts); connect again and see how it ended, waiting
        // for the run itself as long as one more command may take.
        const patience = options.lockWaitSeconds + Math.max(options.commandTimeoutMs / 1000, 60);
        const fresh = await link.reconnect(patience * 1000).catch(() => Promise.reject(error));
        step("reading the host again");
        return followUp(fresh, name, context, lost, Math.ceil(patience));
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

  /** `extraMs`: more time per command than usual (a follow-up that waits for the run it lost). */
  constructor(private readonly open: (extraMs: number) => Promise<RemoteSession>) {}

  async session(extraMs = 0): Promise<RemoteSession> {
    if (!this.current) {
      this.current = await this.open(extraMs);
      this.connections += 1;
    }
    return this.current;
  }

  async reconnect(extraMs = 0): Promise<RemoteSession> {
    this.close();
    this.commandsOfLostSessions += this.current?.commandCount ?? 0;
    this.current = undefined;
    return this.session(extraMs);
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
