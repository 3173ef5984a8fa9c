import { expect } from "chai";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../../src/cli/main.js";
import { closeListener, listen, type Listener } from "./listener.js";

/**
 * A drift check run by a timer has no passwords: it goes on without one it cannot get (and says which
 * credential it could not verify, test/unit/engine), while apply still refuses before contacting any
 * host. Whatever happens, --prom-file is written, so a failing timer never looks healthy. The hosts are
 * a TCP listener of this test (it hangs up: the host is unreachable), which proves who was contacted.
 */

const BAD = fileURLToPath(new URL("../../fixtures/bad/", import.meta.url));
const CONTROL = fileURLToPath(new URL("../../fixtures/good/control/", import.meta.url));
const STDOUT_SECRET = "PROVISION-COMMAND-STDOUT-SECRET";

describe("check without the passwords; --prom-file whatever happens", function () {
  this.timeout(20_000);
  let listener: Listener;
  let work: string;

  before(async () => {
    listener = await listen();
    work = mkdtempSync(join(tmpdir(), "provision-check-secrets-"));
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await closeListener(listener);
  });

  /** A fixture case copied to a fresh directory, its hosts pointed at the listener. */
  function prepare(source: string, name: string): { playbook: string; inventory: string } {
    const dir = join(work, name);
    cpSync(source, dir, { recursive: true });
    const inventory = join(dir, "inventory.yaml");
    writeFileSync(inventory, readFileSync(inventory, "utf8").replaceAll("@PORT@", String(listener.port)));
    return { playbook: join(dir, "playbook.yaml"), inventory };
  }

  async function cli(argv: string[]) {
    let out = "";
    let err = "";
    const before = listener.connections;
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), color: false };
    const code = await run([...argv, "--connect-timeout", "5"], io);
    return { code, out, err, connections: listener.connections - before };
  }

  for (const name of ["secret-env-missing", "secret-file-missing", "secret-command-fails"]) {
    it(`check goes on without the password (${name}) and reaches the host; apply refuses before any`, async () => {
      const { playbook, inventory } = prepare(join(BAD, name), name);
      const check = await cli(["check", playbook, "-i", inventory]);
      const shown = `stderr:\n${check.err}\nstdout:\n${check.out}`;
      expect(check.connections, shown).to.equal(1);
      // The listener hangs up: unreachable is the worst that happened, so exit 3, not 1.
      expect(check.code, shown).to.equal(3);
      expect(check.out, shown).to.match(/^nas: unreachable: /);
      expect(check.err, shown).to.equal("");

      const apply = await cli(["apply", playbook, "-i", inventory]);
      expect(apply.connections).to.equal(0);
      expect(apply.code).to.equal(1);
      expect(apply.err).to.match(/^error: .*playbook\.yaml:8:17: 0\.postfix\.relay\.password: /);
      expect(apply.err).to.include("Nothing was changed on any host.");
      for (const result of [check, apply]) expect(result.out + result.err).to.not.include(STDOUT_SECRET);
    });
  }

  it("a check that cannot start (bad input) replaces the metrics with provision_check_error 1 and provision_up 0", async () => {
    const { playbook, inventory } = prepare(join(BAD, "conflict-relay"), "conflict-relay");
    const prom = join(work, "bad.prom");
    writeFileSync(prom, 'provision_up{host="nas"} 1\nprovision_drift{host="nas"} 0\n');
    const result = await cli(["check", playbook, "-i", inventory, "--prom-file", prom]);
    expect(result.code).to.equal(1);
    expect(result.connections).to.equal(0);
    const metrics = readFileSync(prom, "utf8");
    expect(metrics).to.match(/^provision_check_error 1$/m);
    expect(metrics).to.match(/^provision_up 0$/m);
    expect(metrics, "no per-host series left that could look healthy").to.not.include("host=");
  });

  it("so does a check whose inventory does not exist", async () => {
    const prom = join(work, "missing.prom");
    const result = await cli(["check", "-i", join(work, "no-such-inventory.yaml"), "--prom-file", prom]);
    expect(result.code).to.equal(1);
    expect(readFileSync(prom, "utf8")).to.match(/^provision_check_error 1$/m);
  });

  it("a check that reached its hosts writes provision_check_error 0 and the per-host metrics", async () => {
    const { playbook, inventory } = prepare(CONTROL, "control");
    const prom = join(work, "control.prom");
    process.env.PROVISION_TEST_PASSWORD = "PROVISION-ENV-SECRET";
    try {
      const result = await cli(["check", playbook, "-i", inventory, "--prom-file", prom]);
      expect(result.code).to.equal(3);
    } finally {
      delete process.env.PROVISION_TEST_PASSWORD;
    }
    const metrics = readFileSync(prom, "utf8");
    expect(metrics).to.match(/^provision_check_error 0$/m);
    expect(metrics).to.match(/^provision_up\{host="nas"\} 0$/m);
    expect(metrics).to.not.match(/^provision_up 0$/m);
  });
});
