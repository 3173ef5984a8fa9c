import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import {
  labPlaybook,
  PASSWORDS,
  postconf,
  provision,
  REPO,
  useLab,
  writeInventory,
  type CliResult,
} from "./support.js";

/**
 * Ctrl-C during an apply, sent to the real CLI as a terminal sends it. The first SIGINT starts no more
 * hosts, lets the one in flight finish and reports every host; the second exits at once, and the host in
 * flight finishes on its own. The apply is held at its reload by the test hook PROVISION_TEST_PAUSE,
 * which marks the host with /run/provision.paused-before-reload while it sleeps.
 */

const HOSTS = ["int1", "int2", "int3"];
const PAUSED = "ls /run/provision.paused-before-reload";
const ISP_RELAY = "[mail.isp.example]:submission";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Ctrl-C during an apply", function () {
  this.timeout(600_000);
  const { lab, work } = useLab(HOSTS);
  let inventory: string;
  let site: string;

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), HOSTS);
    site = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });

  /** The real CLI as support.ts provision() runs it, but kept at hand to signal it. */
  function start(args: string[], env: Record<string, string> = PASSWORDS) {
    const child = spawn(process.execPath, [join(REPO, "bin", "provision.js"), ...args], {
      cwd: work,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(work, "home"), NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const result = new Promise<CliResult & { exitedAt: number }>((done) =>
      child.on("close", (code, signal) =>
        done({ code: code ?? (signal ? -1 : 1), stdout, stderr, exitedAt: Date.now() }),
      ),
    );
    return { child, result };
  }

  /** Until `host` sleeps in its apply at the reload; bounded. */
  async function pausedOn(host: string, child: ChildProcess): Promise<void> {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error("the CLI ended before the host paused");
      if ((await lab().run(host, PAUSED)).code === 0) return;
      await sleep(100);
    }
    throw new Error(`${host} did not pause within 60 s`);
  }

  const check = (host: string) => provision(["check", site, "-i", inventory, "--limit", host], work);

  it("the first Ctrl-C: the host in flight finishes and is reported changed, the others not started; exit 130", async () => {
    const { child, result } = start(["apply", site, "-i", inventory, "--forks", "1"], {
      ...PASSWORDS,
      PROVISION_TEST_PAUSE: "before-reload:4",
    });
    await pausedOn("int1", child);
    child.kill("SIGINT");
    const run = await result;
    const shown = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

    expect(run.code, shown).to.equal(130);
    expect(run.stderr, shown).to.include("Interrupted: no more hosts are started");
    expect(run.stderr, shown).to.include("int1");
    expect(run.stdout, shown).to.match(/^int1 \(.*\): changed$/m);
    expect(run.stdout, shown).to.match(/^int2 \(.*\): not started \(interrupted\)$/m);
    expect(run.stdout, shown).to.match(/^int3 \(.*\): not started \(interrupted\)$/m);
    expect(run.stdout, shown).to.match(
      /RECAP\n {2}int1 +changed .*\n {2}int2 +skipped .*\n {2}int3 +skipped /,
    );

    // What the report says is what the hosts are.
    expect(await postconf(lab(), "int1", "relayhost")).to.equal(ISP_RELAY);
    expect((await check("int1")).code).to.equal(0);
    for (const host of ["int2", "int3"]) {
      expect(await postconf(lab(), host, "relayhost"), host).to.equal("");
      const drift = await check(host);
      expect(drift.code, `${host}: ${drift.stdout}`).to.equal(2);
    }
  });

  it("a second Ctrl-C exits at once, saying the host in flight finishes on its own; and it does", async () => {
    const { child, result } = start(["apply", site, "-i", inventory, "--limit", "int2"], {
      ...PASSWORDS,
      PROVISION_TEST_PAUSE: "before-reload:4",
    });
    await pausedOn("int2", child);
    child.kill("SIGINT");
    await sleep(300);
    child.kill("SIGINT");
    const run = await result;
    const shown = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

    expect(run.code, shown).to.equal(130);
    expect(run.stderr, shown).to.match(/Interrupted again: exiting now\./);
    expect(run.stderr, shown).to.match(/finish or roll back on their own .*: int2\./);
    // At once: the apply still sleeps on the host when the CLI is gone.
    expect((await lab().run("int2", PAUSED)).code, "the host was still paused when the CLI exited").to.equal(
      0,
    );

    const until = Date.now() + 60_000;
    let last = await check("int2");
    while (last.code !== 0 && Date.now() < until) {
      await sleep(1000);
      last = await check("int2");
    }
    expect(last.code, `the apply did not finish on the host by itself: ${last.stdout}`).to.equal(0);
    expect(await postconf(lab(), "int2", "relayhost")).to.equal(ISP_RELAY);
  });
});
