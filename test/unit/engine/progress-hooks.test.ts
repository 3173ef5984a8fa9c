import { expect } from "chai";
import { runHost, type Connect, type HostJob, type HostStep } from "../../../src/engine/host-run.js";
import type { HostOutcome } from "../../../src/engine/outcome.js";
import { runAll } from "../../../src/engine/run-all.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { Secret } from "../../../src/secrets/secret.js";
import { DEFAULT_SESSION_OPTIONS } from "../../../src/transport/ssh.js";
import { ReplayingHost, type Reply } from "./replay-session.js";
import { applyOutput, factsOutput, FRESH_HOST, record, syncedFiles } from "./recorded-output.js";

/**
 * What the CLI's progress and Ctrl-C handling rely on: each host's steps as they happen, each outcome the
 * moment it is known (completion order), no host started once the run is stopped, and those reported
 * as skipped; and a check without a password naming the credential it could not verify.
 */

const state: PostfixState = { tableType: "auto", main: { myorigin: "home.example" } };
const synced = syncedFiles(state);
const SYNCED_HOST = factsOutput(synced.files, synced.postconfN);
const options = { ...DEFAULT_SESSION_OPTIONS, lockWaitSeconds: 5 };
const gather = (stdout: string): Reply => ({ what: "gathering facts", stdout });

function job(name: string, jobState: PostfixState = state): HostJob {
  return {
    host: {
      name,
      groups: ["all"],
      connection: { address: `${name}.lan`, port: 22, user: "root", become: false },
      vars: {},
    },
    state: jobState,
  };
}

/** Per host its own recorded replies, and a delay before it connects (to make hosts finish out of order). */
function fleet(hosts: Record<string, { replies: Reply[]; delayMs?: number }>) {
  const replaying = new Map(Object.entries(hosts).map(([name, h]) => [name, new ReplayingHost(h.replies)]));
  const connect: Connect = async (name, spec, sessionOptions) => {
    await new Promise((resolve) => setTimeout(resolve, hosts[name]?.delayMs ?? 0));
    return replaying.get(name)!.connect(name, spec, sessionOptions);
  };
  return { connect, replaying };
}

describe("progress hooks of a run", () => {
  it("runHost reports each step as it starts it", async () => {
    const steps: string[] = [];
    const onStep = (host: string, step: HostStep) => steps.push(`${host}: ${step}`);
    const host = new ReplayingHost([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "connection lost" },
      {
        what: "reading the host again",
        stdout: `${record("run_result", Buffer.from(applyOutput([])).toString("base64"))}\n${SYNCED_HOST}`,
      },
    ]);
    const outcome = await runHost(job("nas"), "apply", { ...options, onStep }, host.connect);
    expect(outcome.status).to.equal("changed");
    expect(steps).to.deep.equal([
      "nas: connecting",
      "nas: reading facts",
      "nas: applying",
      "nas: connecting",
      "nas: reading the host again",
    ]);
  });

  it("runAll gives each outcome the moment it is known, and the results in inventory order", async () => {
    const { connect } = fleet({
      slow: { replies: [gather(SYNCED_HOST)], delayMs: 60 },
      fast: { replies: [gather(FRESH_HOST)] },
      middle: { replies: [gather(SYNCED_HOST)], delayMs: 25 },
    });
    const done: string[] = [];
    const outcomes = await runAll(
      [job("slow"), job("fast"), job("middle")],
      "check",
      { ...options, forks: 3, onDone: (o: HostOutcome) => done.push(`${o.name} ${o.status}`) },
      connect,
    );
    expect(done).to.deep.equal(["fast drift", "middle in-sync", "slow in-sync"]);
    expect(outcomes.map((o) => o.name)).to.deep.equal(["slow", "fast", "middle"]);
  });

  it("once stopped, runAll starts no more hosts: those in flight finish, the rest are skipped", async () => {
    const { connect, replaying } = fleet({
      first: { replies: [gather(SYNCED_HOST)] },
      second: { replies: [gather(SYNCED_HOST)] },
      third: { replies: [gather(SYNCED_HOST)] },
    });
    const stop = new AbortController();
    const done: string[] = [];
    const outcomes = await runAll(
      [job("first"), job("second"), job("third")],
      "check",
      {
        ...options,
        forks: 1,
        stop: stop.signal,
        // Ctrl-C while the first host runs.
        onStep: (host, step) => host === "first" && step === "reading facts" && stop.abort(),
        onDone: (o) => done.push(`${o.name} ${o.status}`),
      },
      connect,
    );
    expect(done).to.deep.equal(["first in-sync", "second skipped", "third skipped"]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(["in-sync", "skipped", "skipped"]);
    expect(outcomes[1]).to.deep.include({ changes: [], steps: [], warnings: [], address: "second.lan" });
    expect(replaying.get("second")!.log, "never contacted").to.deep.equal([]);
    expect(replaying.get("third")!.log, "never contacted").to.deep.equal([]);
  });

  it("check without a password: in sync, with a warning naming the credential and why, never a value", async () => {
    const password = "the-Real-Password";
    const relay = (secret: Secret): PostfixState => ({
      ...state,
      relay: { host: "mail.isp.example", port: "submission", mx: false, username: "me", password: secret },
    });
    const applied = syncedFiles(relay(new Secret(password, "env ISP_PASSWORD")));
    const host = new ReplayingHost([gather(factsOutput(applied.files, applied.postconfN))]);
    const missing = Secret.unresolvedFrom("env ISP_PASSWORD", "environment variable ISP_PASSWORD is not set");
    const outcome = await runHost(job("nas", relay(missing)), "check", options, host.connect);
    expect(outcome.status).to.equal("in-sync");
    expect(outcome.warnings).to.deep.equal([
      "password for [mail.isp.example]:submission in /etc/postfix/sasl_passwd not verified: " +
        "environment variable ISP_PASSWORD is not set",
    ]);
    expect(JSON.stringify(outcome)).to.not.include(password);
  });
});
