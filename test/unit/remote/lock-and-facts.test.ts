import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { recordsOf, Sandbox, SHELLS } from "./sandbox.js";

for (const shell of SHELLS) {
  describe(`remote shell under ${shell.name}: run lock and facts`, function () {
    this.timeout(10_000); // a shell and some 30 programs per test: slow on a busy machine
    let host: Sandbox;
    beforeEach(() => (host = new Sandbox()));
    afterEach(() => host.remove());

    // Another run holds the lock through fd 8 of the same shell: flock(1) locks belong to the open
    // file, so fd 9 of lock_host conflicts with it as another process's would.
    const heldBy = (mode: "-s" | "-x", note = "") => [
      `exec 8>>"$LOCK_FILE"`,
      `flock ${mode} 8`,
      ...(note ? [`printf '%s\\n' '${note}' > "$LOCK_FILE"`] : []),
    ];

    it("shares the lock with another reader, and a writer waiting for a reader gives up naming it", () => {
      const run = host.run(shell, [
        ...heldBy("-s"),
        "lock_host -s 3 read && echo shared-taken",
        "lock_host -x 3 apply || echo gave-up",
      ]);
      expect(run.stdout).to.include("shared-taken\n");
      expect(run.stdout).to.include("gave-up\n");
      expect(recordsOf(run, "locked")).to.deep.equal([
        { kind: "locked", holder: "a provision check or dry run reading the host" },
      ]);
      expect(host.calls("sleep"), "waited one second at a time, 3 in all").to.deep.equal([
        "sleep 1",
        "sleep 1",
        "sleep 1",
      ]);
    });

    it("keeps the lock in a directory only root may enter, and names a live holder by its command line", () => {
      const run = host.run(shell, [
        "run_dir",
        `flock -x "$LOCK_FILE" /bin/sleep 3 & holder=$!`,
        'until [ -n "$(cat /proc/locks)" ] && grep -q FLOCK /proc/locks; do /bin/sleep 0.05; done; /bin/sleep 0.2',
        "lock_host -s 0 read || echo gave-up",
        `kill "$holder"`,
      ]);
      expect(statSync(host.runDir).mode & 0o777).to.equal(0o700);
      expect(run.stdout).to.include("gave-up\n");
      expect(recordsOf(run, "locked")[0]?.holder).to.match(/^pid \d+: flock -x .*\/lock \/bin\/sleep 3 ?$/);
    });

    it("a reader waiting for an apply gives up with a locked record naming the apply", () => {
      const note = "provision apply (run 1a2b3c, pid 4242) since 2026-11-27 22:50:01";
      const run = host.run(shell, [...heldBy("-x", note), "lock_host -s 1 read || echo gave-up"]);
      expect(recordsOf(run, "locked")).to.deep.equal([{ kind: "locked", holder: `${note} ` }]);
      expect(run.stdout).to.include("gave-up\n");
    });

    it("an apply holding the lock writes who it is into the lock file and empties it when done", () => {
      const run = host.run(shell, [
        "lock_host -x 0 apply",
        `cat "$LOCK_FILE"`,
        "unlock_note",
        `echo "after: $(cat "$LOCK_FILE")"`,
      ]);
      expect(run.stdout).to.match(
        /^provision apply \(run run1, pid \d+\) since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m,
      );
      expect(run.stdout).to.include("after: \n");
      expect(run.records).to.deep.equal([]);
    });

    it("runs unlocked, with a warning, where flock(1) is not installed", () => {
      const run = host.run(shell, ["lock_host -x 5 apply && echo went-on"], {
        PATH: join(host.root, "empty"),
      });
      expect(run.stdout).to.include("went-on\n");
      expect(recordsOf(run, "warning").map((r) => r.message)).to.deep.equal([
        "flock(1) is not installed on this host: running without the run lock",
      ]);
    });

    it("file_fact: metadata and exact bytes of a file, metadata only, or missing", () => {
      const bytes = Buffer.from("# Ge\xe4ndert\tx\n", "latin1");
      const path = host.file("main.cf");
      writeFileSync(path, bytes);
      const run = host.run(shell, [
        `file_fact '${path}' content`,
        `file_fact '${path}' stat`,
        `file_fact '${host.file("generic")}' content`,
      ]);
      const [content, stat, missing] = recordsOf(run, "file");
      const info = statSync(path);
      expect(content?.content?.equals(bytes)).to.equal(true);
      expect(content?.stat).to.include({ mode: 0o644 });
      expect(content?.stat?.mtime).to.be.closeTo(info.mtimeMs / 1000, 0.001);
      expect(stat).to.deep.equal({ kind: "file", path, stat: content?.stat });
      expect(missing).to.deep.equal({ kind: "file", path: host.file("generic") });
    });

    it("postfix_facts: version, table types, running, postconf -n", () => {
      host.running(false);
      const run = host.run(shell, ["postfix_facts"]);
      expect(run.records).to.deep.equal([
        { kind: "version", version: "3.7.11" },
        { kind: "default_type", type: "hash" },
        { kind: "types", types: ["btree", "hash", "texthash"] },
        { kind: "running", running: false },
        { kind: "postconf_n", text: "relayhost = [mail.isp.example]\n" },
      ]);
    });

    it("postfix_facts: says what Postfix says when it cannot read main.cf, and ends the script", () => {
      host.fail(
        "postconf",
        "postconf: warning: x\npostconf: fatal: /etc/postfix/main.cf, line 2: missing '='",
      );
      const run = host.run(shell, ["postfix_facts", "echo not-reached"]);
      expect(run.records).to.deep.equal([
        { kind: "postconf_error", message: "postconf: fatal: /etc/postfix/main.cf, line 2: missing '=' " },
      ]);
      expect(run.stdout).to.not.include("not-reached");
    });

    it("unknown_parameters: the names postconf -h warns about, and only those", () => {
      host.says(
        "postconf",
        "postconf: warning: smtp_helo_timout: unknown parameter\n" +
          "postconf: warning: /etc/postfix/main.cf: unused parameter: foo=bar\n" +
          "postconf: warning: myorign: unknown parameter\n",
      );
      const run = host.run(shell, ["unknown_parameters smtp_helo_timout myorigin myorign"]);
      expect(host.calls("postconf")).to.deep.equal(["postconf -h -- smtp_helo_timout myorigin myorign"]);
      expect(run.records).to.deep.equal([
        { kind: "unknown_parameter", name: "smtp_helo_timout" },
        { kind: "unknown_parameter", name: "myorign" },
      ]);
    });

    it("sasl_facts: the plugin list (possibly empty) and the distribution, one record each", () => {
      const run = host.run(shell, ["sasl_facts"]);
      // The directories are the machine's own: compare with what is really there.
      const dirs = ["/usr/lib/sasl2", "/usr/lib64/sasl2", "/usr/local/lib/sasl2"].concat(
        readdirSync("/usr/lib").map((d) => `/usr/lib/${d}/sasl2`),
      );
      const files = dirs
        .filter((d) => existsSync(d))
        .flatMap((d) => readdirSync(d).filter((f) => /^lib.*\.so/.test(f)));
      const [plugins, ...more] = recordsOf(run, "sasl_plugins");
      expect(more).to.deep.equal([]);
      expect([...(plugins?.files ?? [])].sort()).to.deep.equal(files.sort());
      const id = /^ID=(.*)$/m.exec(
        existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "",
      );
      expect(recordsOf(run, "distro").map((r) => r.id)).to.deep.equal(
        id ? [id[1]?.replace(/["']/g, "")] : [],
      );
    });

    it("postfix_facts: a host without postconf is reported as such", () => {
      const run = host.run(shell, ["postfix_facts"], { PATH: join(host.root, "empty") });
      expect(run.records).to.deep.equal([{ kind: "no-postfix" }]);
    });
  });
}
