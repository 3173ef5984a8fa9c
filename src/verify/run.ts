import { randomBytes } from "node:crypto";
import type { HostJob } from "../engine/host-run.js";
import { UnreachableError } from "../errors.js";
import type { PostfixState } from "../postfix/state.js";
import { openSession, type RemoteSession, type SessionOptions } from "../transport/ssh.js";
import { VERIFIED_TLS } from "./classify.js";
import { hostFactsScript, parseHostFacts, type VerifyHostFacts } from "./host-facts.js";
import { sendingPaths, type VerifyPath } from "./paths.js";
import { probePath, type PathResult } from "./probe.js";
import { runSendTest } from "./send-test-run.js";
import type { Fate } from "./send-test.js";

/**
 * `provision verify` for every host: one SSH connection each (hosts in parallel, at most `forks`), one
 * remote command for the host's facts, then each path probed over that connection. A host's failure
 * ends in its report, never in an exception, so one host never stops the others.
 */

export interface VerifyOptions extends SessionOptions {
  forks: number;
  /** RCPT TO of the probes; undefined: each path's rewritten sender. */
  rcpt?: string;
  /** --send-test ADDRESS. */
  sendTest?: string;
  /** How long --send-test waits for the messages' fate. */
  waitSeconds: number;
  /** Per SMTP reply and per connection attempt. */
  smtpTimeoutMs: number;
  onDone?: (host: HostVerification) => void;
}

export type VerifiedPath = PathResult & { sendTest?: Fate };

export interface HostVerification {
  name: string;
  address: string;
  /** ok: every path works; failed: a path (or the host's facts) failed; unreachable: no SSH session. */
  status: "ok" | "failed" | "unreachable";
  paths: VerifiedPath[];
  error?: string;
}

export async function verifyAll(jobs: HostJob[], options: VerifyOptions): Promise<HostVerification[]> {
  const results: HostVerification[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      const result = await verifyHost(jobs[index]!, options);
      results[index] = result;
      options.onDone?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.forks, jobs.length)) }, worker));
  return results;
}

async function verifyHost(job: HostJob, options: VerifyOptions): Promise<HostVerification> {
  const name = job.host.name;
  const report = { name, address: job.host.connection.address, paths: [] as VerifiedPath[] };
  let session: RemoteSession | undefined;
  try {
    session = await openSession(name, job.host.connection, options);
    const state = job.state!;
    const script = hostFactsScript(
      relayNames(state),
      VERIFIED_TLS.includes(state.relay?.tls ?? ""),
      state.main,
    );
    const raw = await session.runScript(script, "read the host's mail setup");
    const facts = parseHostFacts(name, raw.stdout);
    const paths = sendingPaths(state, { name, ...facts }, facts.myorigin || name, facts);
    const forward = session.forward?.bind(session);
    if (!forward) throw new Error("this session cannot open connections from the host");
    for (const path of paths) {
      report.paths.push(await probePath(path, probeContext(name, facts, forward, options)));
    }
    if (options.sendTest) await sendTests(session, paths, report.paths, options);
    const failed = report.paths.some((p) => !p.ok);
    return { ...report, status: failed ? "failed" : "ok" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...report,
      status: error instanceof UnreachableError ? "unreachable" : "failed",
      error: message,
    };
  } finally {
    session?.close();
  }
}

function probeContext(
  hostName: string,
  facts: VerifyHostFacts,
  forward: NonNullable<RemoteSession["forward"]>,
  options: VerifyOptions,
) {
  return {
    hostName,
    facts,
    forward,
    helo: facts.helo || hostName,
    timeoutMs: options.smtpTimeoutMs,
    ...(options.rcpt !== undefined && { rcpt: options.rcpt }),
  };
}

/** One message per path; a path works only if its message was sent. */
async function sendTests(
  session: RemoteSession,
  paths: VerifyPath[],
  results: VerifiedPath[],
  options: VerifyOptions,
): Promise<void> {
  const run = randomBytes(6).toString("hex");
  const messages = paths.map((path, i) => ({
    messageId: `provision-verify.${run}.${i + 1}@provision.invalid`,
    sender: path.sender,
    recipient: options.sendTest!,
    label: path.relay ? `${path.kind} ${path.sender} via ${path.relay.nexthop}` : `direct ${path.sender}`,
  }));
  const fates = await runSendTest(session, messages, options.waitSeconds);
  messages.forEach((message, i) => {
    const fate = fates.get(message.messageId) ?? { status: "waiting" };
    const result = results[i]!;
    result.sendTest = fate;
    if (fate.status !== "sent") result.ok = false;
  });
}

function relayNames(state: PostfixState): string[] {
  const names = [state.relay?.host, ...Object.values(state.senders ?? {}).map((s) => s.relay.host)];
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}
