import type { InventoryHost } from "../inventory/host.js";
import type { PostfixState } from "../postfix/state.js";
import { deriveConfig, type DesiredConfig } from "../postfix/derive.js";
import { ALL_INDEX_SUFFIXES } from "../postfix/tabletypes.js";
import { factsScript, type FactRequest } from "../facts/script.js";
import { parseFacts } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { HostError, UnreachableError } from "../errors.js";
import { openSession, type RemoteSession, type SessionOptions } from "../transport/ssh.js";
import { applyScript } from "./apply-script.js";
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

export async function runHost(job: HostJob, mode: RunMode, options: SessionOptions): Promise<HostOutcome> {
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
  let session: RemoteSession | undefined;
  try {
    session = await openSession(job.host.name, job.host.connection, options);
    outcome.stats.connections = 1;
    const request = factRequest(job.state);
    const facts = await gatherFacts(session, job.host.name, request);
    outcome.facts = summary(facts);
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
    await applyPlan(session, job.host.name, plan, config, request, outcome);
    outcome.status = "changed";
  } catch (error) {
    outcome.status = error instanceof UnreachableError ? "unreachable" : "failed";
    outcome.error = error instanceof Error ? error.message : String(error);
  } finally {
    outcome.stats.commands = session?.commandCount ?? 0;
    session?.close();
    outcome.stats.durationMs = Date.now() - started;
  }
  return outcome;
}

async function gatherFacts(session: RemoteSession, host: string, request: FactRequest): Promise<HostFacts> {
  const result = await session.runScript(factsScript(request), "gathering facts");
  if (result.code !== 0) {
    throw new HostError(host, `gathering facts failed (exit ${result.code}): ${firstLine(result.stderr)}`);
  }
  return parseFacts(host, result.stdout);
}

/** Carry out the plan, then confirm from the re-read facts that the host now matches. */
async function applyPlan(
  session: RemoteSession,
  host: string,
  plan: Plan,
  config: DesiredConfig,
  request: FactRequest,
  outcome: HostOutcome,
): Promise<void> {
  const result = await session.runScript(applyScript(plan, request), "applying changes");
  for (const line of result.stdout.split("\n")) {
    const [kind, ...rest] = line.split("\t");
    const value = rest.join("\t");
    if (kind === "wrote" || kind === "fixed" || kind === "postmap") outcome.steps.push(`${kind} ${value}`);
    else if (kind === "service") outcome.steps.push(`${value} postfix`);
    else if (kind === "warning") outcome.warnings.push(value);
    else if (kind === "error") throw new HostError(host, value);
  }
  if (result.code !== 0) {
    throw new HostError(host, `applying changes failed (exit ${result.code}): ${firstLine(result.stderr)}`);
  }
  const after = parseFacts(host, result.stdout);
  outcome.facts = summary(after);
  const remaining = makePlan(config, after);
  if (remaining.changes.length > 0) {
    const what = remaining.changes.map((c) => `${c.path}: ${c.detail}`).join("; ");
    throw new HostError(host, `host is still not in sync after apply: ${what}`);
  }
  const mismatches = parameterMismatches(config.main, after.postconfN);
  if (mismatches.length > 0) {
    throw new HostError(host, `postconf -n disagrees with the desired main.cf: ${mismatches.join("; ")}`);
  }
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
