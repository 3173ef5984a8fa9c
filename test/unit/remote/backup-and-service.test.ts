import { expect } from "chai";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { recordsOf, Sandbox, SHELLS, type ShellRun } from "./sandbox.js";

const base64 = (text: string) => Buffer.from(text).toString("base64");

for (const shell of SHELLS) {
  describe(`remote shell under ${shell.name}: backups, rollback, service`, function () {
    this.timeout(10_000); // a shell and some 30 programs per test: slow on a busy machine
    let host: Sandbox;
    beforeEach(() => (host = new Sandbox()));
    afterEach(() => host.remove());

    const backupOf = (run: ShellRun) => {
      const [record] = recordsOf(run, "backup");
      expect(record, "a backup record").to.not.equal(undefined);
      return record!.backup;
    };
    /** The start of a run that backs up `paths`. */
    const backingUp = (...paths: string[]) => [
      "start_work",
      "begin_backup",
      ...paths.map((p) => `save '${p}'`),
      "end_backup",
    ];

    it("begin_backup + save: a private backup set with copies and a manifest of saved and absent files", () => {
      const main = host.file("main.cf", "relayhost =\n", 0o640);
      const generic = host.file("generic");
      const run = host.run(shell, [...backingUp(main, generic), "STATE=done", "emit_backup", "finish"]);
      const backup = backupOf(run);
      expect(backup).to.match(new RegExp(`^${host.backupRoot}/00000001-\\d{8}T\\d{6}-run1$`));
      expect(statSync(host.backupRoot).mode & 0o777).to.equal(0o700);
      expect(statSync(backup).mode & 0o777).to.equal(0o700);
      expect(host.read(join(backup, "manifest"))).to.equal(
        `saved\t${main}\nabsent\t${generic}\ncomplete\t\n`,
      );
      expect(host.read(join(backup, "files", main))).to.equal("relayhost =\n");
      expect(statSync(join(backup, "files", main)).mode & 0o777, "copied with its mode").to.equal(0o640);
      expect(host.read(join(host.backupRoot, "last"))).to.equal("run1\n");
    });

    it("a finished run keeps the newest backup sets (BACKUPS_KEPT), ordered by sequence, not by the time in their names", () => {
      // Older sets named by an earlier version (time only), and numbered sets whose times are from
      // the future: a clock behind must not make the run prune its own, newest set.
      const sets = [
        "20260101T000000-a",
        "20260102T000000-b",
        "00000001-20991231T000000-c",
        "00000002-20991231T000001-d",
      ];
      for (const set of sets) mkdirSync(join(host.backupRoot, set, "files"), { recursive: true });
      writeFileSync(join(host.backupRoot, "last"), "d\n");
      const run = host.run(shell, ["start_work", "begin_backup", "STATE=done", "emit_backup", "finish"], {
        BACKUPS_KEPT: 3,
      });
      const own = backupOf(run).slice(host.backupRoot.length + 1);
      expect(own).to.match(/^00000003-/);
      expect(readdirSync(host.backupRoot).sort()).to.deep.equal([
        "00000001-20991231T000000-c",
        "00000002-20991231T000001-d",
        own,
        "last",
      ]);
    });

    it("a run that did not finish prunes nothing, and one that stopped before changing anything leaves no set", () => {
      for (const set of ["20260101T000000-a", "20260102T000000-b"])
        mkdirSync(join(host.backupRoot, set), { recursive: true });
      host.run(shell, ["start_work", "begin_backup", "STATE=installing", "STATE=rolled-back", "finish"], {
        BACKUPS_KEPT: 1,
      });
      expect(readdirSync(host.backupRoot)).to.have.length(3);
      const main = host.file("main.cf", "relayhost =\n");
      host.run(shell, [...backingUp(main), `die "cannot write a staged file"`], { BACKUPS_KEPT: 1 });
      expect(readdirSync(host.backupRoot)).to.have.length(3);
    });

    it("purge_saved removes a retired credentials table and its indexes from every older set, not this run's", () => {
      const sasl = host.file("sasl_passwd", "[mail.isp.example] u:old-secret\n", 0o600);
      for (const set of ["00000001-20260101T000000-a", "00000002-20260102T000000-b"]) {
        mkdirSync(join(host.backupRoot, set, "files", host.postfixDir), { recursive: true });
        writeFileSync(join(host.backupRoot, set, "files", sasl), "old-secret");
        writeFileSync(join(host.backupRoot, set, "files", `${sasl}.db`), "old-secret");
        writeFileSync(join(host.backupRoot, set, "files", host.file("main.cf")), "relayhost =");
      }
      const run = host.run(shell, [
        ...backingUp(sasl),
        "STATE=done",
        `purge_saved '${sasl}'`,
        "emit_backup",
        "finish",
      ]);
      const own = backupOf(run);
      expect(host.read(join(own, "files", sasl)), "this run's own copy stays").to.include("old-secret");
      for (const set of ["00000001-20260101T000000-a", "00000002-20260102T000000-b"]) {
        expect(readdirSync(join(host.backupRoot, set, "files", host.postfixDir))).to.deep.equal(["main.cf"]);
      }
    });

    /** A run that replaced main.cf, created generic, then failed while installing. */
    const failedRun = (extra: string[] = []) => {
      const main = host.file("main.cf", "relayhost =\n", 0o644);
      const generic = host.file("generic");
      const run = host.run(shell, [
        ...backingUp(main, generic),
        `stage 0 644 '${base64("relayhost = [mail.isp.example]\n")}'`,
        `stage 1 600 '${base64("@old.example new@isp.example\n")}'`,
        "STATE=installing",
        `install 1 '${generic}'`,
        `install 0 '${main}'`,
        ...extra,
        `die "postfix check failed: something"`,
      ]);
      return { main, generic, run };
    };

    it("rollback restores the saved files, removes the ones that were absent, reloads, reports rolledback", () => {
      const { main, generic, run } = failedRun();
      expect(host.read(main)).to.equal("relayhost =\n");
      expect(statSync(main).mode & 0o777).to.equal(0o644);
      expect(host.read(generic)).to.equal(undefined);
      expect(recordsOf(run, "error").map((r) => r.message)).to.deep.equal([
        "postfix check failed: something",
      ]);
      const [rolledBack] = recordsOf(run, "rolledback");
      expect(rolledBack?.backup).to.match(new RegExp(`^${host.backupRoot}/\\d{8}-\\d{8}T\\d{6}-run1$`));
      expect(host.calls("postfix")).to.include("postfix reload");
      expect(readdirSync(host.postfixDir).sort(), "no staged or restore leftovers").to.deep.equal([
        "main.cf",
      ]);
    });

    it("a rollback that cannot restore a file says so, naming the file and the backup", () => {
      const { main, run } = failedRun([`rm "$BACKUP/files${host.file("main.cf")}"`]);
      const [error] = recordsOf(run, "error").slice(1);
      expect(error?.message).to.match(
        new RegExp(
          `^ROLLBACK INCOMPLETE, could not restore: ${main} \\(backup in ${host.backupRoot}/[^)]+\\)\\.$`,
        ),
      );
      expect(recordsOf(run, "rolledback")).to.deep.equal([]);
    });

    it("a rollback whose backup set is gone says ROLLBACK INCOMPLETE and restores nothing", () => {
      const { main, run } = failedRun([`rm -rf "$BACKUP"`]);
      expect(recordsOf(run, "error")[1]?.message).to.match(
        /^ROLLBACK INCOMPLETE: the backup set .* is missing/,
      );
      expect(recordsOf(run, "rolledback")).to.deep.equal([]);
      expect(host.read(main), "the new file stays").to.equal("relayhost = [mail.isp.example]\n");
    });

    it("a rollback after which Postfix does not run says so", () => {
      host.fail("postfix-start", "postfix: fatal: cannot start");
      const { run } = failedRun(["PLANNED=restart"]); // the failed run had asked for a restart
      expect(host.calls("postfix")).to.include.members(["postfix stop", "postfix start"]);
      expect(recordsOf(run, "error")[1]?.message).to.match(
        /^files restored from .*, but Postfix is NOT running with the previous configuration either: postfix: fatal: cannot start$/,
      );
    });

    it("rollback_run restores this run's backup set, and refuses when another run changed the host since", () => {
      const main = host.file("main.cf", "relayhost =\n");
      const first = host.run(shell, [
        ...backingUp(main),
        `stage 0 644 '${base64("relayhost = new\n")}'`,
        "STATE=installing",
        `install 0 '${main}'`,
        "STATE=done",
        "emit_backup",
        "finish",
      ]);
      const backup = backupOf(first);
      writeFileSync(join(host.backupRoot, "last"), "run2\n");
      const refused = host.run(shell, ["start_work", `rollback_run '${backup}' reload`]);
      expect(recordsOf(refused, "error")[0]?.message).to.equal(
        "another run changed the host after this one; not rolling back over it",
      );
      expect(host.read(main)).to.equal("relayhost = new\n");

      writeFileSync(join(host.backupRoot, "last"), "run1\n");
      const restored = host.run(shell, ["start_work", `rollback_run '${backup}' reload`]);
      expect(recordsOf(restored, "rolledback")).to.deep.equal([{ kind: "rolledback", backup }]);
      expect(host.read(main)).to.equal("relayhost =\n");
    });

    it("activate reload: postfix reload when it runs, a start when it does not", () => {
      const running = host.run(shell, ["start_work", "activate reload", "finish"]);
      expect(running.records).to.deep.equal([{ kind: "service", action: "reload" }]);
      expect(host.calls("postfix")).to.include("postfix reload");

      host.running(false);
      const stopped = host.run(shell, ["start_work", "activate reload", "finish"]);
      expect(stopped.records).to.deep.equal([{ kind: "service", action: "reload" }]);
      expect(host.calls("postfix")).to.include("postfix start");
      expect(host.isRunning()).to.equal(true);
    });

    it("activate start and restart go through systemd where it runs the host", () => {
      mkdirSync(host.systemdDir, { recursive: true });
      host.running(false);
      host.run(shell, ["start_work", "activate start", "activate restart", "finish"]);
      expect(host.calls("systemctl")).to.deep.equal(["systemctl start postfix", "systemctl restart postfix"]);
      expect(host.isRunning()).to.equal(true);
    });

    it("a failure that says nothing is explained by the error lines the mail log gained since log_mark", () => {
      writeFileSync(join(host.root, "mail.log"), "Nov 30 postfix/master[1]: fatal: an old failure\n");
      const run = host.run(shell, [
        "log_mark",
        `printf '%s\\n' 'Nov 30 postfix/master[2]: fatal: bind 0.0.0.0 port 25: Address in use' >> "$MAIL_LOG"`,
        `printf '%s\\n' 'Nov 30 postfix/qmgr[3]: info: nothing wrong' >> "$MAIL_LOG"`,
        `echo "reason: $(because '')"`,
      ]);
      expect(run.stdout).to.equal("reason: fatal: bind 0.0.0.0 port 25: Address in use\n");
    });

    it("activate none touches nothing", () => {
      const run = host.run(shell, ["start_work", "activate none", "finish"]);
      expect(run.records).to.deep.equal([]);
      expect(host.calls().filter((c) => c !== "postfix status")).to.deep.equal([]);
    });

    it("activate fails when Postfix is not running afterwards, and rolls back", () => {
      host.running(false);
      host.fail("postfix-start", "postfix/postfix-script: fatal: cannot start");
      const run = host.run(shell, [
        "start_work",
        "begin_backup",
        "end_backup",
        "STATE=installing",
        "activate start",
      ]);
      expect(recordsOf(run, "error")[0]?.message).to.equal(
        "starting Postfix failed: postfix/postfix-script: fatal: cannot start",
      );
      expect(recordsOf(run, "error")[1]?.message).to.match(
        /but Postfix is NOT running with the previous configuration either/,
      );
    });

    it("a run whose work directory cannot be made stops before anything", () => {
      rmSync(host.postfixDir, { recursive: true });
      const run = host.run(shell, ["start_work", "echo not-reached"]);
      expect(run.records).to.have.length(1);
      expect(recordsOf(run, "error")[0]?.message).to.match(
        new RegExp(
          `^cannot create a work directory in ${host.postfixDir}: mktemp: .*No such file or directory`,
        ),
      );
      expect(run.stdout).to.not.include("not-reached");
    });
  });
}
