import { expect } from "chai";
import { runHost, type HostJob, type RunMode } from "../../../src/engine/host-run.js";
import { MAIN_CF } from "../../../src/engine/plan.js";
import { DEFAULT_SESSION_OPTIONS } from "../../../src/transport/ssh.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { textReport } from "../../../src/report/text.js";
import { jsonDocument } from "../../../src/report/json.js";
import { ReplayingHost, type Reply } from "./replay-session.js";
import { applyOutput, factsOutput, FRESH_HOST, record, syncedFiles } from "./recorded-output.js";

/** One host end to end against recorded remote output: every branch of engine/host-run.ts. */

const state: PostfixState = {
  tableType: "auto",
  main: { myorigin: "home.example" },
  generic: { "@linux.home.example": "me@isp.example" },
};
const job: HostJob = {
  host: {
    name: "nas",
    groups: ["all"],
    connection: { address: "192.0.2.10", port: 22, user: "root", become: false },
    vars: {},
  },
  state,
};
const GENERIC = "/etc/postfix/generic";
const BACKUP = "/var/backups/provision/20261127T225000-1a2b3c";

const synced = syncedFiles(state);
const SYNCED_HOST = factsOutput(synced.files, synced.postconfN);
const gather = (stdout: string): Reply => ({ what: "gathering facts", stdout });
const apply = (stdout: string): Reply => ({ what: "applying changes", stdout });
/** The follow-up after a lost apply: the facts, and what the run printed if it kept it on the host. */
const followUp = (stdout: string, runOutput?: string): Reply => ({
  what: "reading the host again",
  stdout:
    (runOutput === undefined ? "" : `${record("run_result", Buffer.from(runOutput).toString("base64"))}\n`) +
    stdout,
});
/** A complete apply of `state` on the fresh host, as its script reports it. */
const APPLIED = applyOutput(
  [
    record("wrote", GENERIC),
    record("postmap", `hash:${GENERIC}`),
    record("fixed", `${GENERIC}.db`),
    record("wrote", MAIN_CF),
    record("service", "reload"),
    record("backup", BACKUP),
  ],
  SYNCED_HOST,
);
/** A hand edit of main.cf between the read and the apply. */
const HAND_EDITED = applyOutput([
  record("changed", MAIN_CF),
  record(
    "error",
    `${MAIN_CF} changed after it was read (another provision run or a hand edit); nothing was changed, run again`,
  ),
]);

/** The recorded fresh host is Debian's "Local only" install, which the diagnoses warn about. */
const LOCAL_ONLY = /Debian's "Local only" setup/;
const withoutLocalOnly = (warnings: string[]) => warnings.filter((w) => !LOCAL_ONLY.test(w));

async function run(replies: Reply[], mode: RunMode = "apply") {
  const host = new ReplayingHost(replies);
  const options = { ...DEFAULT_SESSION_OPTIONS, lockWaitSeconds: 5 };
  const outcome = await runHost(job, mode, options, host.connect);
  expect(host.unused, "every recorded reply was used").to.deep.equal([]);
  return { outcome, host };
}

describe("one host end to end (recorded remote output)", () => {
  it("a host that matches is in sync after one command", async () => {
    const { outcome } = await run([gather(SYNCED_HOST)]);
    expect(outcome).to.deep.include({ status: "in-sync", changes: [], steps: [] });
    expect(outcome.stats).to.include({ connections: 1, commands: 1 });
  });

  it("diagnoses before any write: the Local only transports of a host with no relay are a warning", async () => {
    const { outcome } = await run([gather(FRESH_HOST)], "dry-run");
    expect(outcome.status).to.equal("drift");
    expect(outcome.warnings.filter((w) => LOCAL_ONLY.test(w))).to.have.length(1);
    expect(outcome.warnings[0]).to.include("default_transport = error and relay_transport = error");
  });

  it("a diagnosis error (a parameter Postfix does not know) fails the host before anything is written", async () => {
    const typo = record("unknown_parameter", "myorigin");
    const { outcome, host } = await run([gather(`${FRESH_HOST}${typo}\n`)], "apply");
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.match(/Postfix does not know the parameter myorigin \(main: myorigin;/);
    expect(outcome.steps).to.deep.equal([]);
    expect(host.log.filter((what) => what === "applying changes")).to.deep.equal([]);
  });

  it("check reports drift and changes nothing", async () => {
    const { outcome, host } = await run([gather(FRESH_HOST)], "check");
    expect(outcome.status).to.equal("drift");
    expect(outcome.changes.map((c) => `${c.what} ${c.path}`)).to.deep.equal([
      `missing ${GENERIC}`,
      `parameter ${MAIN_CF}`,
    ]);
    expect(host.log).to.deep.equal(["connect", "gathering facts"]);
  });

  it("apply: what the script did, its backup and the facts it read back", async () => {
    const { outcome, host } = await run([gather(FRESH_HOST), apply(APPLIED)]);
    expect(outcome.status).to.equal("changed");
    expect(outcome.steps).to.deep.equal([
      { kind: "wrote", path: GENERIC },
      { kind: "postmap", map: `hash:${GENERIC}` },
      { kind: "fixed", path: `${GENERIC}.db` },
      { kind: "wrote", path: MAIN_CF },
      { kind: "service", action: "reload" },
    ]);
    expect(outcome.backup).to.equal(BACKUP);
    expect(outcome.facts?.postconfN).to.include("myorigin = home.example");
    expect(outcome.stats).to.include({ connections: 1, commands: 2 });
    expect(host.scripts[1]).to.match(/^expect_file '\/etc\/postfix\/generic' absent$/m);
    const text = textReport("apply", [outcome], { diff: false, color: false });
    expect(text).to.include(`  previous files saved in ${BACKUP}`);
    expect(
      (jsonDocument("apply", [outcome], 0) as { hosts: { steps: string[] }[] }).hosts[0]?.steps,
    ).to.deep.equal([
      `wrote ${GENERIC}`,
      `postmap hash:${GENERIC}`,
      `fixed ${GENERIC}.db`,
      `wrote ${MAIN_CF}`,
      "reload postfix",
      `backup ${BACKUP}`,
    ]);
  });

  it("a hand edit between read and apply: reads and plans again, then applies", async () => {
    const { outcome, host } = await run([
      gather(FRESH_HOST),
      apply(HAND_EDITED),
      gather(FRESH_HOST),
      apply(APPLIED),
    ]);
    expect(outcome.status).to.equal("changed");
    expect(outcome.error).to.equal(undefined);
    expect(host.log).to.deep.equal([
      "connect",
      "gathering facts",
      "applying changes",
      "gathering facts",
      "applying changes",
    ]);
  });

  it("a host edited again on the second try: gives up, nothing changed", async () => {
    const { outcome } = await run([
      gather(FRESH_HOST),
      apply(HAND_EDITED),
      gather(FRESH_HOST),
      apply(HAND_EDITED),
    ]);
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.equal("the host keeps changing while provision reads it; nothing was changed");
    expect(outcome.steps).to.deep.equal([]);
    expect(outcome.stats).to.include({ connections: 1, commands: 4 });
  });

  it("connection lost during the apply, host matches when reconnected: changed, with a warning", async () => {
    const { outcome, host } = await run([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "connection lost" },
      followUp(SYNCED_HOST),
    ]);
    expect(outcome.status).to.equal("changed");
    expect(withoutLocalOnly(outcome.warnings)).to.deep.equal([
      "the connection was lost during the apply; connected again: the host matches the playbook",
    ]);
    expect(host.log).to.deep.equal([
      "connect",
      "gathering facts",
      "applying changes",
      "connect",
      "reading the host again",
    ]);
    expect(outcome.stats).to.include({ connections: 2, commands: 3 });
  });

  it("connection lost during the apply, host still differs when reconnected: failed", async () => {
    const { outcome } = await run([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "connection lost" },
      followUp(FRESH_HOST),
    ]);
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.match(
      /^the connection was lost during the apply; connected again, the host does not match the playbook \(.*\/etc\/postfix\/generic.*\): the apply did not run \(a run still waiting for the lock is stopped\) or was rolled back\. Run apply again$/,
    );
  });

  it("connection lost while the apply waited for the lock: the run stopped on the host, and the report says so", async () => {
    const { outcome } = await run([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "connection lost" },
      followUp(FRESH_HOST, applyOutput([record("cancelled", "the client lost its connection")])),
    ]);
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.equal(
      "the connection was lost during the apply while the apply waited for the host's run lock; it stopped " +
        "on the host without changing anything. Run apply again",
    );
  });

  it("connection lost, and the run failed and rolled back on its own: its reason is reported", async () => {
    const { outcome } = await run([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "connection lost" },
      followUp(
        FRESH_HOST,
        applyOutput([
          record("wrote", GENERIC),
          record("error", "postfix check failed: fatal: bad permissions"),
          record("rolledback", BACKUP),
        ]),
      ),
    ]);
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.equal(
      "the connection was lost during the apply; connected again: the apply failed on the host: postfix " +
        `check failed: fatal: bad permissions; rolled back to the previous configuration (backup ${BACKUP})`,
    );
    expect(outcome.steps).to.deep.equal([{ kind: "wrote", path: GENERIC }]);
  });

  it("connection lost during the apply and the host cannot be reached again: unreachable, the apply goes on", async () => {
    const { outcome } = await run([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "connection lost" },
      { connect: "refused" },
    ]);
    expect(outcome.status).to.equal("unreachable");
    expect(outcome.error).to.equal(
      "connection to root@192.0.2.10:22 lost during applying changes. The apply goes on on the host by itself " +
        "(it finishes, or rolls back on failure); run provision check to see the result",
    );
    expect(outcome.stats).to.include({ connections: 1, commands: 2 });
  });

  it("an apply that times out is followed up like a lost connection: the report says how it ended", async () => {
    const { outcome, host } = await run([
      gather(FRESH_HOST),
      { what: "applying changes", fails: "timeout" },
      followUp(SYNCED_HOST),
    ]);
    expect(outcome.status).to.equal("changed");
    expect(withoutLocalOnly(outcome.warnings)).to.deep.equal([
      "applying changes timed out after 1 s; connected again: the host matches the playbook",
    ]);
    expect(host.log.slice(-2)).to.deep.equal(["connect", "reading the host again"]);
  });

  it("a facts read that times out fails the host", async () => {
    const { outcome } = await run([{ what: "gathering facts", fails: "timeout" }], "check");
    expect(outcome).to.deep.include({ status: "failed", error: "gathering facts timed out after 1 s" });
  });

  it("a host another run holds locked: failed, naming the holder", async () => {
    const holder = "provision apply (run 9f8e7d, pid 4242) since 2026-11-27 22:50:01";
    const read = await run([gather(record("locked", holder))], "check");
    expect(read.outcome.status).to.equal("failed");
    expect(read.outcome.error).to.equal(
      `another provision run holds the host's run lock (${holder}); waited for it in vain, try again later or raise --lock-timeout`,
    );
    const write = await run([gather(FRESH_HOST), apply(record("locked", holder))]);
    expect(write.outcome.error).to.equal(
      `another provision run holds the host's run lock (${holder}); try again later`,
    );
  });

  it("a failure while installing: failed, rolled back, with what was done and said before", async () => {
    const failed = applyOutput([
      record("warning", "postmap hash:/etc/postfix/generic: duplicate entry"),
      record("wrote", GENERIC),
      record("error", "postfix check failed: fatal: bad permissions"),
      record("rolledback", BACKUP),
    ]);
    const { outcome } = await run([gather(FRESH_HOST), apply(failed)]);
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.equal(
      `postfix check failed: fatal: bad permissions; rolled back to the previous configuration (backup ${BACKUP})`,
    );
    expect(outcome.steps).to.deep.equal([{ kind: "wrote", path: GENERIC }]);
    expect(withoutLocalOnly(outcome.warnings)).to.deep.equal([
      "postmap hash:/etc/postfix/generic: duplicate entry",
    ]);
    expect(outcome.backup).to.equal(undefined);
  });

  it("final verification fails (Postfix reads main.cf differently): the run's backup is restored", async () => {
    const misread = factsOutput(
      synced.files,
      synced.postconfN.replace("myorigin = home.example", "myorigin = $myhostname"),
    );
    const { outcome, host } = await run([
      gather(FRESH_HOST),
      apply(APPLIED.replace(SYNCED_HOST, misread)),
      { what: "rolling back", stdout: record("rolledback", BACKUP) },
    ]);
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.equal(
      `the host does not match the playbook after apply (myorigin is "$myhostname", expected "home.example"); ` +
        `rolled back to the previous configuration (backup ${BACKUP})`,
    );
    expect(host.scripts[2]).to.match(new RegExp(`^rollback_run '${BACKUP}' reload$`, "m"));
    expect(outcome.backup).to.equal(BACKUP);
    expect(outcome.stats).to.include({ connections: 1, commands: 3 });
  });

  it("final verification fails and another run changed the host since: not rolled back, and said so", async () => {
    const misread = factsOutput(synced.files, synced.postconfN.replace("myorigin = home.example", ""));
    const { outcome } = await run([
      gather(FRESH_HOST),
      apply(APPLIED.replace(SYNCED_HOST, misread)),
      {
        what: "rolling back",
        stdout: record("error", "another run changed the host after this one; not rolling back over it"),
      },
    ]);
    expect(outcome.error).to.match(
      /\(myorigin is not set, expected "home.example"\); ROLLBACK FAILED: another run changed the host after this one; not rolling back over it$/,
    );
  });
});
