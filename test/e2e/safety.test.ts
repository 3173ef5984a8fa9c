import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  brokenPlaybook,
  hostSnapshot,
  labPlaybook,
  modeOwner,
  onHost,
  PASSWORDS,
  postconf,
  provision,
  sendMail,
  labTargets,
  useLab,
  writeInventory,
  type CliResult,
} from "./support.js";

/** Where the connection is cut: after the tables are in place, after postmap, before the reload. */
const CUT_STEPS = ["after-upload", "after-postmap", "before-reload"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `test` on the host until it succeeds; bounded. */
async function waitOnHost(
  lab: ReturnType<ReturnType<typeof useLab>["lab"]>,
  host: string,
  test: string,
  ms = 30_000,
) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await lab.run(host, test)).code === 0) return;
    await sleep(100);
  }
  throw new Error(`${host}: "${test}" did not become true within ${ms} ms`);
}

/**
 * Trust: a bad configuration never goes live, a lost connection never leaves a half-written setup,
 * and two runs never interleave.
 */
for (const target of labTargets()) {
  describe(`safe apply on ${target.title}: validation, rollback, lost connections, concurrent runs`, function () {
    this.timeout(900_000);
    const { lab, work } = useLab(["safe", "cut", "busy"], target);
    let inventory: string;
    let site: string;

    before(function () {
      inventory = writeInventory(lab(), join(work, "hosts.yaml"), ["safe", "cut", "busy"]);
      site = labPlaybook(join(work, "site.yaml"), "site.yaml");
    });

    const apply = (playbook: string, host: string, env: Record<string, string> = {}): Promise<CliResult> =>
      provision(["apply", playbook, "-i", inventory, "--limit", host], work, { ...PASSWORDS, ...env });
    const paused = (step: string, seconds: number) => ({
      ...PASSWORDS,
      PROVISION_TEST_PAUSE: `${step}:${seconds}`,
    });

    it("a configuration Postfix refuses is rolled back, and the host still relays mail with its old setup", async () => {
      const l = lab();
      expect((await apply(site, "safe")).code).to.equal(0);
      const before = await hostSnapshot(l, "safe");
      // A listen address that is not on the host: master cannot start, so the restart fails.
      const broken = brokenPlaybook(join(work, "broken.yaml"));
      const result = await apply(broken, "safe");
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.match(/safe \(.*\): FAILED/);
      expect(result.stdout).to.include("rolled back to the previous configuration");
      // The reason, although Postfix 3.7 prints it only to a terminal or syslog (none in the lab).
      expect(result.stdout).to.include("no local interface found for 198.18.255.254");

      expect(await postconf(l, "safe", "inet_interfaces")).to.equal("loopback-only");
      expect(await onHost(l, "safe", "postfix status >/dev/null 2>&1 && echo running")).to.equal("running\n");
      const after = await hostSnapshot(l, "safe");
      const contents = (snapshot: string) =>
        snapshot
          .split("\n")
          .filter((line) => line.startsWith("./"))
          .map((line) => line.split(" ").slice(0, 3).join(" "));
      expect(contents(after)).to.deep.equal(contents(before));

      await sendMail(l, "safe", "his@localdomain.local", "friend@elsewhere.example", "after-rollback");
      const mail = await l.waitForMessage((m) => m.data.includes("Subject: after-rollback"));
      expect([mail.authUser, mail.mailFrom]).to.deep.equal(["username", "hisaccount@hisisp.example"]);

      // The failed run's backup is kept, readable by root only.
      expect(await modeOwner(l, "safe", "/var/backups/provision")).to.equal("700 root:root");
      expect(Number(await onHost(l, "safe", "ls /var/backups/provision | grep -c -- '-'"))).to.be.at.least(2);
      expect((await provision(["check", site, "-i", inventory, "--limit", "safe"], work)).code).to.equal(0);
    });

    it("a parameter Postfix does not know (a typo) is refused before anything is written", async () => {
      const before = await hostSnapshot(lab(), "safe");
      const typo = labPlaybook(
        join(work, "typo.yaml"),
        "site.yaml",
        `
- name: a misspelt parameter
  hosts: home
  postfix:
    main:
      smtp_tls_securty_level: encrypt
`,
      );
      const result = await apply(typo, "safe");
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.include("Postfix does not know the parameter smtp_tls_securty_level");
      expect(await hostSnapshot(lab(), "safe")).to.equal(before);
    });

    it("a table type the host lacks (cdb: postfix-cdb is not installed) is refused before anything is written", async () => {
      const l = lab();
      const before = await hostSnapshot(l, "safe");
      const cdb = join(work, "cdb.yaml");
      writeFileSync(
        cdb,
        `- hosts: home\n  postfix:\n    table_type: cdb\n    generic:\n      "@localdomain.local": me@isp.example\n`,
      );
      const result = await apply(cdb, "safe");
      expect(result.code).to.equal(1);
      expect(result.stdout).to.match(/cdb/);
      expect(result.stdout).to.match(/postconf -m/);
      expect(await hostSnapshot(l, "safe")).to.equal(before);
    });

    it("a second apply waits for the run lock, then finds the first one's work done", async () => {
      const l = lab();
      const first = provision(
        ["apply", site, "-i", inventory, "--limit", "busy"],
        work,
        paused("after-postmap", 3),
      );
      await waitOnHost(l, "busy", "ls /run/provision.paused-after-postmap");
      const started = Date.now();
      const second = await provision(["apply", site, "-i", inventory, "--limit", "busy", "--json"], work);
      const waited = Date.now() - started;
      const firstResult = await first;
      expect(firstResult.code, firstResult.stdout + firstResult.stderr).to.equal(0);
      expect(firstResult.stdout).to.match(/busy \(.*\): changed/);
      expect(second.code, second.stdout + second.stderr).to.equal(0);
      expect(JSON.parse(second.stdout).hosts[0].status).to.equal("in-sync");
      expect(waited).to.be.greaterThan(1000);
    });

    it("a run that cannot get the lock in time is refused with a clear message", async () => {
      const l = lab();
      await onHost(l, "busy", "postconf -X myorigin");
      const first = provision(
        ["apply", site, "-i", inventory, "--limit", "busy"],
        work,
        paused("before-reload", 10),
      );
      await waitOnHost(l, "busy", "ls /run/provision.paused-before-reload");
      // The check must connect and ask while the apply is paused: room for a slow, busy machine.
      const second = await provision(
        ["check", site, "-i", inventory, "--limit", "busy", "--lock-timeout", "1"],
        work,
      );
      expect(second.code).to.equal(1);
      expect(second.stdout).to.match(
        /another provision run holds the host's run lock \(provision apply \(run [0-9a-f]+/,
      );
      expect((await first).code).to.equal(0);
      expect((await provision(["check", site, "-i", inventory, "--limit", "busy"], work)).code).to.equal(0);
    });

    it("a hand edit between reading and writing is noticed: nothing is overwritten blindly, the run reads again", async () => {
      const l = lab();
      await onHost(l, "busy", "postconf -X myorigin");
      const applying = provision(
        ["apply", site, "-i", inventory, "--limit", "busy", "--json"],
        work,
        paused("before-lock", 3),
      );
      await waitOnHost(l, "busy", "ls /run/provision.paused-before-lock");
      // The run has read the host and planned; now someone edits main.cf by hand.
      await onHost(l, "busy", "postconf -e 'delay_warning_time = 7h'");
      const result = await applying;
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      const [host] = JSON.parse(result.stdout).hosts;
      expect(host.status).to.equal("changed");
      // facts, apply (stopped: main.cf changed since it was read), facts again, apply
      expect(host.stats.commands).to.equal(4);
      // The hand edit was read the second time, so it is kept (the playbook does not own it).
      expect(await postconf(l, "busy", "delay_warning_time")).to.equal("7h");
      expect(await postconf(l, "busy", "myorigin")).to.equal("$mydomain");
      await onHost(l, "busy", "postconf -X delay_warning_time");
    });

    // 20 runs on the namespace host; on each systemd release 3, each cut point once (about 20 s a run on
    // a busy CI machine, and CI runs three releases): the cut points are the same code on every release,
    // what differs is how that release's Postfix and sshd take the cut.
    const cutRuns = target.release ? CUT_STEPS.length : 20;
    const cutTitle = target.release ? `${cutRuns} runs, each cut point once` : `${cutRuns} runs`;
    it(`a connection cut at any step never leaves a half-written setup (${cutTitle})`, async () => {
      const l = lab();
      // Two desired states to alternate between, so every run changes tables, indexes and main.cf.
      const variant = (n: number) =>
        labPlaybook(
          join(work, `variant-${n}.yaml`),
          "site.yaml",
          `
- name: variant ${n}
  hosts: home
  postfix:
    main:
      delay_warning_time: ${n + 1}h
    tables:
      transport:
        parameter: transport_maps
        entries:
          variant${n}.example: "smtp:[mail.isp.example]:submission"
`,
        );
      const variants = [variant(0), variant(1)];
      expect((await apply(variants[0]!, "cut")).code).to.equal(0);

      for (let run = 1; run <= cutRuns; run++) {
        const target = variants[run % 2]!;
        const previous = variants[(run + 1) % 2]!;
        const step = CUT_STEPS[run % CUT_STEPS.length]!;
        const applying = apply(target, "cut", paused(step, 2));
        await waitOnHost(l, "cut", `ls /run/provision.paused-${step}`);
        // Cut the SSH connection: kill the sshd process serving this session.
        // Anchored: the shell running this command has the pattern in its own command line.
        await onHost(
          l,
          "cut",
          "pkill -f '^sshd: root@notty' || pkill -f '^sshd-session: root@notty' || true",
        );
        const result = await applying;
        // The client saw its connection die, connected again and found the apply finished on its own.
        expect(result.code, `run ${run} (${step}): ${result.stdout}`).to.equal(0);
        expect(result.stdout).to.include("the connection was lost during the apply; connected again");
        // The script goes on without its client; wait for it to finish (its lock and work dir vanish).
        await waitOnHost(
          l,
          "cut",
          "! ls -d /etc/postfix/.provision-run.* >/dev/null 2>&1 && flock -n /run/provision/lock true",
        );

        const isTarget =
          (await provision(["check", target, "-i", inventory, "--limit", "cut"], work)).code === 0;
        const isPrevious =
          (await provision(["check", previous, "-i", inventory, "--limit", "cut"], work)).code === 0;
        expect(
          isTarget || isPrevious,
          `run ${run} (${step}): host matches neither the old nor the new state`,
        ).to.equal(true);
        expect(
          await onHost(l, "cut", "postfix status >/dev/null 2>&1 && echo running"),
          `run ${run}`,
        ).to.equal("running\n");
        const converge = await apply(target, "cut");
        expect(converge.code, `run ${run}: ${converge.stdout}`).to.equal(0);
        expect((await provision(["check", target, "-i", inventory, "--limit", "cut"], work)).code).to.equal(
          0,
        );
      }
    });
  });
}
