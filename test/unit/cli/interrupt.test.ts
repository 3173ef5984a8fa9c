import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { watchInterrupts, type Interrupts } from "../../../src/cli/interrupt.js";
import { run } from "../../../src/cli/main.js";
import type { HostStep } from "../../../src/engine/host-run.js";
import { closeListener, listen, type Listener } from "./listener.js";

/** Ctrl-C (cli/interrupt.ts): the first lets the hosts in flight finish, the second exits at once. */

/** Interrupts the test sends itself: `press()` is one Ctrl-C; `exits` records exit codes asked for. */
class FakeInterrupts implements Interrupts {
  handler?: () => void;
  exits: number[] = [];
  subscribe(handler: () => void) {
    this.handler = handler;
    return () => (this.handler = undefined);
  }
  exit(code: number) {
    this.exits.push(code);
  }
  press() {
    if (!this.handler) throw new Error("nobody listens for Ctrl-C");
    this.handler();
  }
}

describe("Ctrl-C", () => {
  it("first: start no more hosts and say which are awaited; second: exit 130 at once, saying what goes on", () => {
    const interrupts = new FakeInterrupts();
    const notices: string[] = [];
    const inFlight = new Map<string, HostStep>([
      ["nas", "applying"],
      ["pi", "reading facts"],
    ]);
    const watch = watchInterrupts("apply", interrupts, { inFlight, notice: (t) => notices.push(t) });
    expect(watch.signal.aborted).to.equal(false);

    interrupts.press();
    expect(watch.signal.aborted).to.equal(true);
    expect(interrupts.exits).to.deep.equal([]);
    expect(notices[0])
      .to.include("no more hosts are started")
      .and.include("nas, pi")
      .and.include("Ctrl-C again");

    interrupts.press();
    expect(interrupts.exits).to.deep.equal([130]);
    expect(notices[1]).to.match(/finish or roll back on their own .*: nas\./);
    expect(notices[1]).to.include("Nothing was changed on the hosts still being read: pi.");

    watch.dispose();
    expect(interrupts.handler).to.equal(undefined);
  });

  it("a check or dry run being read has nothing to roll back, and says so", () => {
    const interrupts = new FakeInterrupts();
    const notices: string[] = [];
    const inFlight = new Map<string, HostStep>([["nas", "reading facts"]]);
    watchInterrupts("check", interrupts, { inFlight, notice: (t) => notices.push(t) });
    interrupts.press();
    interrupts.press();
    expect(notices[1]).to.not.include("roll back");
    expect(notices[1]).to.include("Nothing was changed on the hosts still being read: nas.");
  });

  describe("the CLI", function () {
    this.timeout(20_000);
    const CONTROL = fileURLToPath(new URL("../../fixtures/good/control/", import.meta.url));
    let listener: Listener;
    let work: string;
    let inventory: string;
    const playbook = join(CONTROL, "playbook.yaml");

    before(async () => {
      process.env.PROVISION_TEST_PASSWORD = "PROVISION-ENV-SECRET";
      // The hosts answer only when the test says so: Ctrl-C comes while the first one is in flight.
      listener = await listen({ hold: true });
      work = mkdtempSync(join(tmpdir(), "provision-interrupt-"));
      inventory = join(work, "inventory.yaml");
      const hosts = ["one", "two", "three"].map(
        (name) => `${name}: { address: 127.0.0.1, ssh_port: ${listener.port} }`,
      );
      writeFileSync(
        inventory,
        `all:\n  vars:\n    ssh_user: root\n  children:\n    home:\n      hosts:\n${hosts.map((h) => `        ${h}`).join("\n")}\n`,
      );
    });
    after(async () => {
      delete process.env.PROVISION_TEST_PASSWORD;
      rmSync(work, { recursive: true, force: true });
      await closeListener(listener);
    });

    async function interrupted(args: string[]) {
      const interrupts = new FakeInterrupts();
      listener.onConnection = () => {
        interrupts.press();
        listener.release();
      };
      let out = "";
      let err = "";
      const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), color: false, interrupts };
      const code = await run(
        [...args, playbook, "-i", inventory, "--forks", "1", "--connect-timeout", "10"],
        io,
      );
      listener.onConnection = undefined;
      return { code, out, err, interrupts };
    }

    it("reports the host in flight, the hosts never started as not started, and exits 130", async () => {
      const before = listener.connections;
      const { code, out, err, interrupts } = await interrupted(["apply"]);
      expect(code, `${out}\n${err}`).to.equal(130);
      expect(listener.connections - before, "only the first host was contacted").to.equal(1);
      expect(out).to.match(/^one \(127\.0\.0\.1\): UNREACHABLE/);
      expect(out).to.include("two (127.0.0.1): not started (interrupted)");
      expect(out).to.include("three (127.0.0.1): not started (interrupted)");
      expect(out).to.match(
        /RECAP\n {2}one {4}unreachable {2}changes=0\n {2}two {4}skipped {6}changes=0\n {2}three {2}skipped /,
      );
      expect(err).to.include("Interrupted: no more hosts are started");
      expect(interrupts.exits).to.deep.equal([]);
      expect(interrupts.handler, "no longer listening once the run is over").to.equal(undefined);
    });

    it("--json gives the hosts never started the status skipped", async () => {
      const { code, out } = await interrupted(["check", "--json"]);
      expect(code).to.equal(130);
      const document = JSON.parse(out) as { exitCode: number; hosts: { name: string; status: string }[] };
      expect(document.exitCode).to.equal(130);
      expect(document.hosts.map((h) => `${h.name} ${h.status}`)).to.deep.equal([
        "one unreachable",
        "two skipped",
        "three skipped",
      ]);
    });

    it("check --prom-file: the hosts not started are not up", async () => {
      const prom = join(work, "check.prom");
      const { code } = await interrupted(["check", "--prom-file", prom]);
      expect(code).to.equal(130);
      const metrics = readFileSync(prom, "utf8");
      expect(metrics).to.match(/^provision_up\{host="two"\} 0$/m);
      expect(metrics).to.match(/^provision_drift\{host="two"\} 0$/m);
    });
  });
});
