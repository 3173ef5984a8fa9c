import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { recordsOf, Sandbox, SHELLS } from "./sandbox.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const base64 = (text: string) => Buffer.from(text).toString("base64");

for (const shell of SHELLS) {
  describe(`remote shell under ${shell.name}: apply steps`, function () {
    this.timeout(10_000); // a shell and some 30 programs per test: slow on a busy machine
    let host: Sandbox;
    beforeEach(() => (host = new Sandbox()));
    afterEach(() => host.remove());

    /** Nothing of the run's work directory is left in /etc/postfix. */
    const noWorkDirLeft = () =>
      expect(readdirSync(host.postfixDir).filter((n) => n.startsWith(".provision-run."))).to.deep.equal([]);

    it("expect_file goes on when the file is as read (content, or absent)", () => {
      const main = host.file("main.cf", "relayhost =\n");
      const run = host.run(shell, [
        "start_work",
        `expect_file '${main}' ${sha256("relayhost =\n")}`,
        `expect_file '${host.file("generic")}' absent`,
        "echo reached",
        "finish",
      ]);
      expect(run.stdout).to.include("reached\n");
      expect(run.records).to.deep.equal([]);
      noWorkDirLeft();
    });

    for (const [what, prepare, expected] of [
      ["a changed file", () => host.file("main.cf", "edited by hand\n"), sha256("relayhost =\n")],
      ["a file that appeared", () => host.file("generic", "x y\n"), "absent"],
      ["a file that went away", () => host.file("generic"), sha256("x y\n")],
    ] as const) {
      it(`expect_file stops on ${what}: a changed record, nothing touched, no rollback`, () => {
        const path = prepare();
        const run = host.run(shell, [
          "start_work",
          `expect_file '${path}' ${expected}`,
          "echo not-reached",
          "finish",
        ]);
        expect(recordsOf(run, "changed")).to.deep.equal([{ kind: "changed", path }]);
        expect(recordsOf(run, "error")[0]?.message).to.match(
          /changed after it was read .* nothing was changed/,
        );
        expect(run.stdout).to.not.include("not-reached");
        expect(recordsOf(run, "rolledback")).to.deep.equal([]);
        expect(host.calls("postfix")).to.deep.equal(["postfix status"]); // start_work's look only
        noWorkDirLeft();
      });
    }

    it("stage + install: the new content in place, root-owned with its mode, a wrote record", () => {
      const target = host.file("sasl_passwd", "old\n", 0o644);
      const run = host.run(shell, [
        "start_work",
        `stage 0 600 '${base64("[mail.isp.example] user:pass\n")}'`,
        `install 0 '${target}'`,
        "finish",
      ]);
      expect(host.read(target)).to.equal("[mail.isp.example] user:pass\n");
      expect(statSync(target).mode & 0o777).to.equal(0o600);
      expect(host.calls("chown"))
        .to.have.length(1)
        .and.to.match(/^chown root:root .*\/stage\.0$/);
      expect(recordsOf(run, "wrote")).to.deep.equal([{ kind: "wrote", path: target }]);
      noWorkDirLeft();
    });

    it("fix sets owner and mode and says so; remove removes", () => {
      const index = host.file("generic.db", "index", 0o644);
      const stale = host.file("generic.lmdb", "index");
      const run = host.run(shell, ["start_work", `fix '${index}' 600`, `remove '${stale}'`, "finish"]);
      expect(statSync(index).mode & 0o777).to.equal(0o600);
      expect(host.calls("chown")).to.deep.equal([`chown root:root ${index}`]);
      expect(existsSync(stale)).to.equal(false);
      expect(run.records).to.deep.equal([
        { kind: "fixed", path: index },
        { kind: "removed", path: stale },
      ]);
    });

    /** Stage `text` as main.cf and have Postfix check it; "reached" is printed when the run goes on. */
    const validate = (text: string, settings: Record<string, string> = {}) =>
      host.run(
        shell,
        ["start_work", `stage 0 644 '${base64(text)}'`, "validate_main 0", "echo reached", "finish"],
        settings,
      );

    it("validate_main passes Postfix's warnings on, naming the real main.cf, not the staged copy", () => {
      host.says("postconf", "postconf: warning: CONF/main.cf: unused parameter: smtpd_bogus=1\n");
      const run = validate("relayhost = x\nsmtpd_bogus = 1\n");
      expect(recordsOf(run, "warning").map((r) => r.message)).to.deep.equal([
        `new main.cf: ${host.postfixDir}/main.cf: unused parameter: smtpd_bogus=1`,
      ]);
      expect(run.stdout).to.include("reached");
      expect(host.calls("postconf")[0]).to.match(/^postconf -c .*\/\.provision-run\.[^/]+\/conf -n$/);
    });

    it("validate_main refuses a parameter the playbook sets that Postfix does not know (a typo)", () => {
      host.says("postconf", "postconf: warning: CONF/main.cf: unused parameter: relyhost=x\n");
      const run = validate("relyhost = x\n", { OWNED: " relyhost " });
      expect(recordsOf(run, "error")[0]?.message).to.equal(
        "Postfix does not know the parameter relyhost (postconf: unused parameter); check its spelling. Nothing was changed",
      );
      expect(run.stdout).to.not.include("reached");
    });

    it("validate_main stops when Postfix rejects the new main.cf, with Postfix's message", () => {
      host.fail("postconf", "postconf: fatal: CONF/main.cf, line 1: missing '=' after attribute name");
      const run = validate("nonsense\n");
      expect(run.stdout).to.not.include("reached");
      expect(recordsOf(run, "error")[0]?.message).to.match(
        /^Postfix rejects the new main.cf \(nothing was changed\): postconf: fatal: .* missing '='/,
      );
    });

    it("pmap builds the index aside and renames it into place, root 0600, passing postmap's output on as a warning", () => {
      host.says("postmap", "postmap: warning: generic, line 3: duplicate entry\nsecond line\n");
      const source = host.file("generic", "@a.example b@isp.example\n", 0o600);
      // An index a local user could read (0644): the new one must never be readable, not even in place.
      const index = host.file("generic.db", "old index\n", 0o644);
      const map = `hash:${source}`;
      const run = host.run(shell, ["start_work", `pmap '${map}' '${index}'`, "finish"]);
      expect(host.calls("postmap")[0]).to.match(/^postmap hash:.*\/\.provision-run\.[^/]+\/index\/generic$/);
      expect(existsSync(index)).to.equal(true);
      expect(host.read(index), "a new file, not the old one rewritten").to.equal("");
      expect(statSync(index).mode & 0o777).to.equal(0o600);
      expect(run.records).to.deep.equal([
        {
          kind: "warning",
          message: `postmap ${map}: postmap: warning: generic, line 3: duplicate entry second line`,
        },
        { kind: "postmap", map },
      ]);
    });

    it("pmap failing while installing: an error naming the table and what postmap said, then a rollback", () => {
      host.fail("postmap", "postmap: fatal: open /etc/postfix/generic: bad format");
      const source = host.file("generic", "@a.example b@isp.example\n", 0o600);
      const run = host.run(shell, [
        "start_work",
        "begin_backup",
        "end_backup",
        "STATE=installing",
        `pmap 'hash:${source}' '${source}.db'`,
        "echo not-reached",
      ]);
      expect(recordsOf(run, "error")[0]?.message).to.equal(
        `postmap hash:${source} failed: postmap: fatal: open /etc/postfix/generic: bad format`,
      );
      expect(recordsOf(run, "rolledback")).to.have.length(1);
      expect(run.stdout).to.not.include("not-reached");
    });

    it("postfix_check: warnings passed on, once each, but not the unused-parameter ones", () => {
      host.says(
        "postfix",
        "postfix: warning: A\npostfix: warning: x: unused parameter: y=1\npostfix: warning: A\n",
      );
      const run = host.run(shell, ["postfix_check"]);
      expect(run.records).to.deep.equal([{ kind: "warning", message: "postfix check: postfix: warning: A" }]);
    });

    it("postfix_check failing while installing: an error with what it said, then a rollback", () => {
      host.fail("postfix-check", "postfix/postfix-script: fatal: bad permissions on /etc/postfix");
      const failed = host.run(shell, [
        "start_work",
        "begin_backup",
        "end_backup",
        "STATE=installing",
        "postfix_check",
      ]);
      expect(recordsOf(failed, "error")[0]?.message).to.equal(
        "postfix check failed: postfix/postfix-script: fatal: bad permissions on /etc/postfix",
      );
      expect(recordsOf(failed, "rolledback")).to.have.length(1);
    });

    it("pause_point sleeps only at the step it is asked to, with a marker file meanwhile", () => {
      const run = host.run(
        shell,
        ["pause_point before-lock", "pause_point after-postmap", 'ls "$PAUSE_MARK"-* 2>&1'],
        {
          PAUSE_STEP: "after-postmap",
          PAUSE_SECONDS: 4,
        },
      );
      expect(host.calls("sleep")).to.deep.equal(["sleep 4"]);
      expect(run.stdout).to.match(/No such file/); // removed again afterwards
    });
  });
}
