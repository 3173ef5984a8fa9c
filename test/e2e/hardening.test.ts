import { expect } from "chai";
import { join } from "node:path";
import {
  brokenPlaybook,
  labPlaybook,
  modeOwner,
  onHost,
  PASSWORDS,
  postconf,
  provision,
  useLab,
  writeInventory,
  type CliResult,
} from "./support.js";

/**
 * Regression tests for defects an adversarial review proved on lab hosts: each one failed before its
 * fix. They are about what the host ends up with and what the user is told, under hostile or unlucky
 * conditions (links, a clock behind, local users holding files open, lost connections, a full disk).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Runs a command as the unprivileged user `nobody` on the host. */
const asNobody = (command: string) =>
  `setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '${command.replace(/'/g, "'\\''")}'`;
/** No provision script left on the host: no work directory, nobody waiting for or holding the lock. */
const SCRIPTS_DONE =
  "! ls -d /etc/postfix/.provision-run.* >/dev/null 2>&1 && ! pgrep -f '^/bin/sh -s' >/dev/null && ! pgrep -f '^sh -s' >/dev/null";

describe("hardening: links, backups, index modes, the run lock, orphaned runs, a full disk", function () {
  this.timeout(900_000);
  const HOST = "hard";
  const { lab, work } = useLab([HOST]);
  let inventory: string;
  let site: string;

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), [HOST]);
    site = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });
  beforeEach(async function () {
    this.timeout(60_000);
    await lab().resetHost(HOST);
    await onHost(lab(), HOST, "rm -rf /var/backups/provision");
  });

  const run = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    provision([...args, "-i", inventory], work, { ...PASSWORDS, ...env });
  const apply = (playbook = site, env: Record<string, string> = {}, ...extra: string[]) =>
    run(["apply", playbook, ...extra], env);
  const check = (playbook = site) => run(["check", playbook]);
  async function waitOnHost(test: string, ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if ((await lab().run(HOST, test)).code === 0) return;
      await sleep(100);
    }
    throw new Error(`"${test}" did not become true within ${ms} ms`);
  }
  /** A playbook that changes main.cf compared to site.yaml, so an apply on an in-sync host has work. */
  const variant = (name: string, value: string) =>
    labPlaybook(
      join(work, `${name}.yaml`),
      "site.yaml",
      `
- name: ${name}
  hosts: home
  postfix:
    main:
      delay_warning_time: ${value}
`,
    );

  describe("a symlinked main.cf or table", function () {
    for (const [what, path] of [
      ["main.cf", "/etc/postfix/main.cf"],
      ["generic table", "/etc/postfix/generic"],
    ] as const) {
      it(`${what}: check and apply refuse the host with a clear error, and the link and its target stay as they are`, async () => {
        const l = lab();
        expect((await apply()).code).to.equal(0);
        await onHost(l, HOST, `mv ${path} /var/tmp/real-target && ln -s /var/tmp/real-target ${path}`);
        const before = await onHost(
          l,
          HOST,
          `sha256sum /var/tmp/real-target; stat -c '%a %U' /var/tmp/real-target`,
        );

        for (const result of [await check(), await apply(variant("linked", "5h"))]) {
          expect(result.code, result.stdout).to.equal(1);
          expect(result.stdout).to.include(`${path} is a symbolic link`);
          expect(result.stdout).to.not.match(/rolled back/);
        }
        expect(await onHost(l, HOST, `readlink ${path}`)).to.equal("/var/tmp/real-target\n");
        expect(
          await onHost(l, HOST, `sha256sum /var/tmp/real-target; stat -c '%a %U' /var/tmp/real-target`),
        ).to.equal(before);
      });
    }
  });

  describe("backup sets", function () {
    it("a clock behind (backup names from the future) never prunes the run's own backup set", async () => {
      const l = lab();
      expect((await apply()).code).to.equal(0);
      // Five older sets whose names sort after anything the host's clock says now.
      await onHost(
        l,
        HOST,
        `for i in 1 2 3 4 5; do mkdir -p -m 0700 /var/backups/provision/2099010\${i}T000000-future$i; done`,
      );
      const result = await apply(variant("later", "6h"));
      expect(result.code, result.stdout).to.equal(0);
      const backup = /saved in (\/var\/backups\/provision\/\S+)/.exec(result.stdout)?.[1];
      expect(backup, result.stdout).to.be.a("string");
      expect(await onHost(l, HOST, `cat ${backup}/manifest`)).to.include("/etc/postfix/main.cf");
      expect(Number(await onHost(l, HOST, "ls /var/backups/provision | grep -c -- '-'"))).to.equal(5);
    });

    it("a rollback whose backup set is gone says ROLLBACK INCOMPLETE instead of claiming success", async () => {
      const l = lab();
      expect((await apply()).code).to.equal(0);
      const broken = brokenPlaybook(join(work, "broken.yaml"));
      const applying = apply(broken, { PROVISION_TEST_PAUSE: "after-upload:3" });
      await waitOnHost("ls /run/provision.paused-after-upload");
      await onHost(l, HOST, "rm -rf /var/backups/provision/*/");
      const result = await applying;
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout, result.stdout).to.include("ROLLBACK INCOMPLETE");
      expect(result.stdout).to.not.include("rolled back to the previous configuration");
    });
  });

  it("a rotated password never sits in an index readable by others, even by a reader holding it open", async () => {
    const l = lab();
    expect((await apply()).code).to.equal(0);
    await onHost(l, HOST, "chmod 0644 /etc/postfix/sasl_passwd.db");
    const rotated = "rotated-Pa55:new#one";

    // The dry run already reports the loose mode next to the content change.
    const dry = await run(["apply", site, "--dry-run", "--json"], { ISP_PASSWORD: rotated });
    const changes = JSON.parse(dry.stdout).hosts[0].changes as { path: string; what: string }[];
    expect(changes).to.deep.include({
      path: "/etc/postfix/sasl_passwd.db",
      what: "mode",
      detail: "mode 0644, should be 0600",
    });

    // A local user opens the world-readable index before the apply and reads it afterwards.
    const reader = l.run(
      HOST,
      asNobody(
        "exec 3</etc/postfix/sasl_passwd.db; : > /tmp/reader-ready; " +
          "while [ ! -e /tmp/reader-go ]; do sleep 0.1; done; cat <&3 > /tmp/reader-got",
      ),
      60_000,
    );
    await waitOnHost("test -e /tmp/reader-ready");
    const result = await apply(site, { ISP_PASSWORD: rotated });
    expect(result.code, result.stdout).to.equal(0);
    await onHost(l, HOST, "touch /tmp/reader-go");
    expect((await reader).code).to.equal(0);
    const got = await onHost(l, HOST, "cat /tmp/reader-got");
    expect(got.length).to.be.greaterThan(0);
    expect(got).to.not.include(rotated);
    expect(await modeOwner(l, HOST, "/etc/postfix/sasl_passwd.db")).to.equal("600 root:root");
    expect(
      await onHost(l, HOST, "postmap -q '[mail.isp.example]:submission' hash:/etc/postfix/sasl_passwd"),
    ).to.equal(`username:${rotated}\n`);
  });

  describe("the run lock", function () {
    it("a local user cannot take the run lock and block check or apply", async () => {
      const l = lab();
      expect((await apply()).code).to.equal(0);
      // Whatever lock file exists, an unprivileged user tries to hold it exclusively.
      const holders = l.run(
        HOST,
        asNobody(
          "for f in /run/provision.lock /run/provision/lock; do flock -n -x $f sleep 8 & done 2>/dev/null; wait",
        ),
        30_000,
      );
      await sleep(500);
      const result = await run(["check", site, "--lock-timeout", "2"]);
      expect(result.code, result.stdout).to.equal(0);
      const applied = await run(["apply", variant("unblocked", "7h"), "--lock-timeout", "2"]);
      expect(applied.code, applied.stdout).to.equal(0);
      await holders;
    });

    it("a run that waits in vain names the process that really holds the lock", async () => {
      const l = lab();
      expect((await apply()).code).to.equal(0);
      const holder = l.run(HOST, "flock -x /run/provision/lock sleep 6", 30_000);
      await sleep(500);
      const result = await run(["check", site, "--lock-timeout", "1"]);
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.match(/run lock .*flock -x \/run\/provision\/lock sleep 6/);
      expect(result.stdout).to.not.include("a read-only run");
      await holder;
    });
  });

  describe("orphaned runs: the report matches what the host ends up with", function () {
    it("connection lost while the apply waits for the run lock: the orphaned script does not apply later", async () => {
      const l = lab();
      expect((await apply()).code).to.equal(0);
      // A shared holder (as a check would be): reads pass, the apply waits for its exclusive lock.
      const holder = l.run(HOST, "flock -s /run/provision/lock sleep 8", 30_000);
      await sleep(300);
      const applying = apply(variant("orphan", "9h"), {}, "--lock-timeout", "30");
      await sleep(2500);
      await onHost(l, HOST, "pkill -f '^sshd: root@notty' || pkill -f 'sshd-session: root@notty' || true");
      const result = await applying;
      await holder;
      await waitOnHost(SCRIPTS_DONE, 60_000);
      await sleep(1500);
      const applied = (await postconf(l, HOST, "delay_warning_time")) === "9h";
      if (result.code === 0) {
        expect(result.stdout).to.match(/hard \(.*\): changed/);
        expect(applied, result.stdout).to.equal(true);
      } else {
        expect(result.stdout, result.stdout).to.match(/did not run|without changing anything/);
        expect(applied, `reported as not applied, but the host changed: ${result.stdout}`).to.equal(false);
      }
    });

    it("a command that times out is followed up: the report says what the host ended up as", async () => {
      const l = lab();
      expect((await apply()).code).to.equal(0);
      const result = await apply(
        variant("slow", "11h"),
        { PROVISION_TEST_PAUSE: "before-reload:6" },
        "--command-timeout",
        "2",
        "--lock-timeout",
        "1",
      );
      await waitOnHost(SCRIPTS_DONE, 60_000);
      expect(result.stdout).to.match(/timed out/);
      expect(result.code, result.stdout).to.equal(0);
      expect(result.stdout).to.match(/hard \(.*\): changed/);
      expect(await postconf(l, HOST, "delay_warning_time")).to.equal("11h");
    });
  });

  it("/etc/postfix full: the reason is reported, nothing is changed and no backup set is left behind", async () => {
    const l = lab();
    expect((await apply()).code).to.equal(0);
    const sets = async () =>
      (await onHost(l, HOST, "ls /var/backups/provision | grep -c -- '-' || true")).trim();
    const setsBefore = await sets();
    const mainBefore = await onHost(l, HOST, "sha256sum /etc/postfix/main.cf");
    // A small file system over /etc/postfix, as full as it gets.
    await onHost(
      l,
      HOST,
      `cp -a /etc/postfix /var/tmp/pf-copy && mount -t tmpfs -o size=1m tmpfs /etc/postfix &&
       cp -a /var/tmp/pf-copy/. /etc/postfix/ && (dd if=/dev/zero of=/etc/postfix/filler bs=4k 2>/dev/null || true)`,
    );
    try {
      const result = await apply(variant("full", "13h"));
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.match(/No space left on device|is full/);
      expect(result.stdout).to.not.match(/failed \(exit \d+\): *$/m);
      expect(await onHost(l, HOST, "sha256sum /etc/postfix/main.cf")).to.equal(mainBefore);
      expect(await sets()).to.equal(setsBefore);
    } finally {
      await onHost(l, HOST, "umount /etc/postfix");
    }
  });
});
