import { expect } from "chai";
import { join } from "node:path";
import {
  labPlaybook,
  modeOwner,
  onHost,
  PASSWORDS,
  provision,
  useLab,
  writeInventory,
  type CliResult,
} from "./support.js";
import { base64Cores, filesHolding, sampleProcesses } from "./secret-probes.js";

/**
 * Secret hygiene on a real host, through the real CLI: the relay passwords never appear in anything the
 * CLI prints (text, diffs, --json, errors, on success and on failure), never on a process command line
 * or in a process environment on the host while an apply runs, and every file on the host holding one
 * is readable by root only.
 */
describe("secrets stay secret", function () {
  this.timeout(300_000);
  const { lab, work } = useLab(["nas"]);
  let inventory: string;
  let playbook: string;
  /** A password the host's sasl_passwd holds after a hand edit; the CLI does not know it as a secret. */
  const DRIFTED = "old-Isp-Pa55 drifted";
  const passwords = Object.values(PASSWORDS);
  const run = (...args: string[]) => provision([...args, playbook, "-i", inventory], work);

  const expectClean = (result: CliResult, also: string[] = []) => {
    const text = result.stdout + result.stderr;
    for (const secret of [...passwords, ...also]) {
      expect(text, `output shows "${secret}"`).to.not.include(secret);
      for (const core of base64Cores(secret))
        expect(text, `output shows base64 of "${secret}"`).to.not.include(core);
    }
  };

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), ["nas"]);
    playbook = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });

  it("apply --dry-run (text and --json) on a fresh host masks every password", async () => {
    const text = await run("apply", "--dry-run");
    expect(text.code, text.stdout + text.stderr).to.equal(0);
    expect(text.stdout).to.include("+[mail.isp.example]:submission username:********");
    expect(text.stdout).to.include("+user1@example.com username2:********");
    expectClean(text);
    const json = await run("apply", "--dry-run", "--json");
    expect(json.code).to.equal(0);
    JSON.parse(json.stdout);
    expectClean(json);
  });

  it("apply: no password on any command line or in any environment on the host while it runs", async () => {
    const { result, samples } = await sampleProcesses(lab(), "nas", () => run("apply", "--diff"));
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/nas \(.*\): changed/);
    expectClean(result);
    // The sampling overlapped the apply: the tool's remote shell and Postfix's tools were seen.
    expect(samples.length, "samples").to.be.greaterThan(5);
    expect(
      samples.some((s) => /^\/bin\/sh -s$/m.test(s)),
      "saw the remote /bin/sh -s",
    ).to.equal(true);
    for (const sample of samples) {
      for (const secret of passwords) {
        expect(sample, `a process on the host shows "${secret}"`).to.not.include(secret);
        for (const core of base64Cores(secret))
          expect(sample, `a process on the host shows base64 of "${secret}"`).to.not.include(core);
      }
    }
  });

  it("every file on the host holding a password is root-only; sasl_passwd.db is root 0600", async () => {
    const found = await filesHolding(lab(), "nas", passwords);
    expect(found.map((f) => f.path)).to.include.members([
      "/etc/postfix/sasl_passwd",
      "/etc/postfix/sasl_passwd.db",
    ]);
    for (const f of found) expect(f.exposed, `${f.path} is readable by others: ${f.why}`).to.equal(false);
    expect(await modeOwner(lab(), "nas", "/etc/postfix/sasl_passwd.db")).to.equal("600 root:root");
    expect(await modeOwner(lab(), "nas", "/etc/postfix/sasl_passwd")).to.equal("600 root:root");
  });

  it("check, check --json and a second apply (--json) in sync show no password", async () => {
    const check = await run("check");
    expect(check.code, check.stdout + check.stderr).to.equal(0);
    expectClean(check);
    const checkJson = await run("check", "--json");
    expect(checkJson.code).to.equal(0);
    expectClean(checkJson);
    const again = await run("apply", "--json");
    expect(again.code).to.equal(0);
    expectClean(again);
  });

  it("a password drifted on the host: the diff shows the line masked, neither old nor new password", async () => {
    await onHost(
      lab(),
      "nas",
      `sed -i 's/^\\(\\[mail\\.isp\\.example\\]:submission username:\\).*$/\\1${DRIFTED}/' /etc/postfix/sasl_passwd
       grep -qF '${DRIFTED}' /etc/postfix/sasl_passwd`,
    );
    const dry = await run("apply", "--dry-run");
    expect(dry.code, dry.stdout + dry.stderr).to.equal(0);
    expect(dry.stdout).to.include("-[mail.isp.example]:submission username:******** (differs)");
    expect(dry.stdout).to.include("+[mail.isp.example]:submission username:********");
    expectClean(dry, [DRIFTED]);
    const check = await run("check");
    expect(check.code, check.stdout + check.stderr).to.equal(2);
    expect(check.stdout).to.include("/etc/postfix/sasl_passwd");
    expectClean(check, [DRIFTED]);
    const checkJson = await run("check", "--json");
    expect(checkJson.code).to.equal(2);
    expectClean(checkJson, [DRIFTED]);
  });

  it("a failing apply (read-only /etc/postfix) shows no password, then apply repairs", async () => {
    await onHost(lab(), "nas", "mount -o remount,bind,ro /etc/postfix");
    try {
      const failed = await run("apply", "--diff");
      expect(failed.code, failed.stdout + failed.stderr).to.equal(1);
      expect(failed.stdout).to.match(/nas \(.*\): FAILED/);
      expectClean(failed, [DRIFTED]);
      const failedJson = await run("apply", "--json");
      expect(failedJson.code).to.equal(1);
      expect(JSON.parse(failedJson.stdout)).to.have.nested.property("hosts[0].status", "failed");
      expectClean(failedJson, [DRIFTED]);
    } finally {
      await onHost(lab(), "nas", "mount -o remount,bind,rw /etc/postfix");
    }
    const repair = await run("apply", "--diff");
    expect(repair.code, repair.stdout + repair.stderr).to.equal(0);
    expectClean(repair, [DRIFTED]);
    expect(await onHost(lab(), "nas", "ls -a /etc/postfix")).to.not.include(".provision.");
    // Whatever kept the old password (a backup, say) must be root-only too.
    const found = await filesHolding(lab(), "nas", [...passwords, DRIFTED]);
    for (const f of found) expect(f.exposed, `${f.path} is readable by others: ${f.why}`).to.equal(false);
  });

  it("a bad password is refused before any host is contacted, without showing it", async () => {
    const padded = `${PASSWORDS.EXAMPLE_COM_PASSWORD} `;
    const result = await provision(["apply", playbook, "-i", inventory], work, {
      ...PASSWORDS,
      EXAMPLE_COM_PASSWORD: padded,
    });
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stderr).to.include("whitespace");
    expectClean(result);
  });

  it("an unreachable host: apply, dry run, check and --json show no password", async () => {
    await lab().stopHost("nas");
    try {
      for (const args of [
        ["apply"],
        ["apply", "--dry-run"],
        ["check"],
        ["check", "--json"],
        ["apply", "--json"],
      ]) {
        const result = await run(...args);
        expect(result.code, `${args.join(" ")}: ${result.stdout}${result.stderr}`).to.equal(3);
        expectClean(result);
      }
    } finally {
      await lab().startHost("nas");
    }
  });

  it("become under sudo I/O logging: the README's sudoers rule keeps passwords out of the I/O log", async () => {
    const l = lab();
    const become = writeInventory(l, join(work, "become.yaml"), ["nas"], { become: true });
    const apply = (password: string) =>
      provision(["apply", playbook, "-i", become], work, { ...PASSWORDS, ISP_PASSWORD: password });
    const logged = async (secrets: string[]) =>
      (await filesHolding(l, "nas", [...secrets, ...secrets.flatMap(base64Cores)]))
        .map((f) => f.path)
        .filter((path) => path.startsWith("/var/log/sudo-io/"));
    // An administrator's audit setting, in a private copy of /etc/sudoers.d bound over the real one in
    // nas's own mount namespace (the real directory belongs to the machine running the lab).
    await onHost(
      l,
      "nas",
      `d=/run/provision-test-sudoers.d
       rm -rf "$d" /var/log/sudo-io && mkdir "$d" && cp -a /etc/sudoers.d/. "$d"/
       printf '%s\\n' 'Defaults log_input, log_output, !compress_io' > "$d/zz-audit"
       chmod 0440 "$d/zz-audit" && visudo -cqf "$d/zz-audit"
       mount --bind "$d" /etc/sudoers.d`,
    );
    try {
      const first = "rotated-Isp-Pa55 one";
      const unruled = await apply(first);
      expect(unruled.code, unruled.stdout + unruled.stderr).to.equal(0);
      expect(await logged([first]), "without the rule sudo records the password").to.not.deep.equal([]);

      // README, "become and sudo I/O logging".
      await onHost(
        l,
        "nas",
        `f=/etc/sudoers.d/zz-provision
         printf '%s\\n' '${l.sudoUser} ALL=(root) NOPASSWD: NOLOG_INPUT: NOLOG_OUTPUT: /bin/sh -s' > "$f"
         chmod 0440 "$f" && visudo -cqf "$f" && rm -rf /var/log/sudo-io`,
      );
      const second = "rotated-Isp-Pa55 two";
      const ruled = await apply(second);
      expect(ruled.code, ruled.stdout + ruled.stderr).to.equal(0);
      expect(ruled.stdout).to.match(/nas \(.*\): changed/);
      const check = await provision(["check", playbook, "-i", become], work, {
        ...PASSWORDS,
        ISP_PASSWORD: second,
      });
      expect(check.code, check.stdout + check.stderr).to.equal(0);
      expect(await logged([first, second, ...passwords])).to.deep.equal([]);
    } finally {
      await onHost(l, "nas", "umount /etc/sudoers.d; rm -rf /run/provision-test-sudoers.d /var/log/sudo-io");
    }
  });
});
