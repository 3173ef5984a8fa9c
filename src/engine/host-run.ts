import type { InventoryHost } from "../inventory/host.js";
import type { PostfixState } from "../postfix/state.js";
import { deriveConfig, type DesiredConfig } from "../postfix/derive.js";
import { ALL_INDEX_SUFFIXES } from "../postfix/tabletypes.js";
import { randomBytes } from "node:crypto";
import { factsScript, type FactRequest, type LockOptions } from "../facts/script.js";
import { parseFacts } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { HostError, UnreachableError } from "../errors.js";
import { openSession, type RemoteSession, type SessionOptions } from "../transport/ssh.js";
import { applyScript, rollbackScript, type ApplyOptions } from "./apply-script.js";
import { makePlan, MAIN_CF, type Plan } from "./plan.js";
import { parameterMismatches } from "./verify.js";
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

async function gatherFacts(
  session: RemoteSession,
  host: string,
  request: FactRequest,
  lock: LockOptions,
): Promise<HostFacts> {
  const result = await session.runScript(factsScript(request, lock), "gathering facts");
  if (result.code !== 0) {
    throw new HostError(host, `gathering facts failed (exit ${result.code}): ${firstLine(result.stderr)}`);
  }
  return parseFacts(host, result.stdout);
}

interface ApplyContext {
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
async function applyPlan(
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
async function confirmAfterLostConnection(
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

/** Files to read: main.cf, every managed table source, and every index file it could have. */
export function factRequest(state: PostfixState | undefined): FactRequest {
  const names = state ? tableNames(state) : [];
  const sources = names.map((name) => `/etc/postfix/${name}`);
  return {
    contents: [MAIN_CF, ...sources],
    stats: sources.flatMap((source) => ALL_INDEX_SUFFIXES.map((suffix) => source + suffix)),
  };
}

/** The tables a state may manage; reading one more than needed is harmless, one fewer is not. */
function tableNames(state: PostfixState): string[] {
  const names: string[] = [];
  if (state.generic) names.push("generic");
  if (state.canonical) names.push("canonical");
  if (state.virtual) names.push("virtual");
  if (state.relay || state.senders) names.push("sasl_passwd");
  if (state.senders) names.push("sender_relay");
  names.push(...Object.keys(state.tables ?? {}));
  return names;
}

function hostInfo(name: string, facts: HostFacts) {
  return {
    name,
    version: facts.version,
    defaultDatabaseType: facts.defaultDatabaseType,
    supportedTypes: facts.supportedTypes,
  };
}

function summary(facts: HostFacts): HostOutcome["facts"] {
  return {
    version: facts.version,
    defaultDatabaseType: facts.defaultDatabaseType,
    supportedTypes: facts.supportedTypes,
    running: facts.running,
    postconfN: facts.postconfN,
  };
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
