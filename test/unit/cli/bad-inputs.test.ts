import { expect } from "chai";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../../src/cli/main.js";
import { closeListener, listen, type Listener } from "./listener.js";

/**
 * The bad-input corpus (test/fixtures/bad, see its README.md): every case must be rejected with exit 1,
 * a message naming file:line:column, the dotted path and what was expected, and no host contacted.
 * "No host contacted" is proven, not assumed: every corpus host points at a TCP listener of this test,
 * which must see no connection, while the valid control case does reach it.
 */

const BAD = fileURLToPath(new URL("../../fixtures/bad/", import.meta.url));
const CONTROL = fileURLToPath(new URL("../../fixtures/good/control/", import.meta.url));

/** Environment the corpus's `{ env: ... }` passwords come from. */
const ENV: Record<string, string> = {
  PROVISION_TEST_PASSWORD: "PROVISION-ENV-SECRET",
  PROVISION_TEST_NEWLINE_PASSWORD: "PROVISION-NL-1\nPROVISION-NL-2",
};

/** Every secret value the corpus can produce (environment, password files, command output, literals). */
const SECRETS = [
  "PROVISION-ENV-SECRET",
  "PROVISION-NL-1",
  "PROVISION-NL-2",
  "PROVISION-FILE-SECRET-1",
  "PROVISION-FILE-SECRET-2",
  "PROVISION-COMMAND-STDOUT-SECRET",
  "PROVISION-LITERAL-SECRET",
];

const NOTHING_CHANGED = "Nothing was changed on any host.";

interface Outcome {
  code: number;
  out: string;
  err: string;
  /** Connections the listener saw during this run. */
  connections: number;
}

const cases = readdirSync(BAD)
  .filter((name) => statSync(join(BAD, name)).isDirectory())
  .sort();

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "");
}

describe("bad inputs are rejected before any host is contacted (test/fixtures/bad)", function () {
  this.timeout(20_000);
  let listener: Listener;
  let work: string;
  const savedEnv: Record<string, string | undefined> = {};

  before(async () => {
    listener = await listen();
    work = mkdtempSync(join(tmpdir(), "provision-bad-inputs-"));
    for (const [name, value] of Object.entries(ENV)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
  });

  after(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(work, { recursive: true, force: true });
    await closeListener(listener);
  });

  /** Copies a case to a fresh directory, points its hosts at the listener; returns that directory. */
  function prepare(source: string, name: string, command: string): string {
    const dir = join(work, `${name}-${command}`);
    cpSync(source, dir, { recursive: true });
    const inventory = join(dir, "inventory.yaml");
    writeFileSync(inventory, readFileSync(inventory, "utf8").replaceAll("@PORT@", String(listener.port)));
    return dir;
  }

  /** Runs the CLI in process; paths in the output are shown relative to the case directory. */
  async function runCase(dir: string, command: "apply" | "check"): Promise<Outcome> {
    let out = "";
    let err = "";
    const before = listener.connections;
    const argv = [
      command,
      join(dir, "playbook.yaml"),
      "-i",
      join(dir, "inventory.yaml"),
      "--connect-timeout",
      "5",
      ...lines(join(dir, "args.txt")),
    ];
    const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t), color: false });
    const relative = (text: string) => text.replaceAll(`${dir}/`, "");
    return { code, out: relative(out), err: relative(err), connections: listener.connections - before };
  }

  it(`has at least 35 cases, each naming where the mistake is`, () => {
    expect(cases.length).to.be.at.least(35);
    for (const name of cases) {
      const expected = lines(join(BAD, name, "expected.txt"));
      expect(expected, `${name}/expected.txt`).to.have.length.above(0);
      const where = expected[0] ?? "";
      const commandLine = where.startsWith("--");
      expect(
        commandLine || /^(inventory|playbook)\.yaml:\d+:\d+:/.test(where),
        `${name}: the first line of expected.txt must be file:line:column: (or a command-line option)`,
      ).to.equal(true);
      expect(existsSync(join(BAD, name, "inventory.yaml")), `${name}/inventory.yaml`).to.equal(true);
      expect(existsSync(join(BAD, name, "playbook.yaml")), `${name}/playbook.yaml`).to.equal(true);
    }
  });

  for (const name of cases) {
    // commands.txt: the commands that reject the case, when not both (check goes on without a
    // password it cannot get: test/unit/cli/check-without-secrets.test.ts).
    const commands = lines(join(BAD, name, "commands.txt"));
    for (const command of ["apply", "check"] as const) {
      if (commands.length > 0 && !commands.includes(command)) continue;
      it(`${command} rejects ${name}`, async () => {
        const expected = lines(join(BAD, name, "expected.txt"));
        const result = await runCase(prepare(join(BAD, name), name, command), command);
        const shown = `stderr:\n${result.err}\nstdout:\n${result.out}`;

        expect(result.connections, `a host was contacted\n${shown}`).to.equal(0);
        expect(result.code, shown).to.equal(1);
        expect(result.out, "nothing on stdout (no host report)").to.equal("");
        expect(result.err).to.match(/^error: /);
        for (const substring of expected) expect(result.err, shown).to.include(substring);
        expect(result.err).to.include(NOTHING_CHANGED);
        for (const secret of SECRETS) {
          expect(result.err + result.out, `secret ${secret} printed`).to.not.include(secret);
        }
      });
    }
  }

  // Positive control: without it, "no connection" could pass because nothing ever connects.
  let controlConnections = 0;
  for (const command of ["apply", "check"] as const) {
    it(`control: ${command} with valid input does reach the listener (then reports the host unreachable)`, async () => {
      const result = await runCase(prepare(CONTROL, "control", command), command);
      controlConnections += result.connections;
      const shown = `stderr:\n${result.err}\nstdout:\n${result.out}`;
      expect(result.connections, shown).to.be.at.least(1);
      expect(result.code, shown).to.equal(3);
      expect(result.out, shown).to.match(/\bnas\b.*unreachable/i);
      expect(result.err, shown).to.not.include(NOTHING_CHANGED);
      for (const secret of SECRETS) {
        expect(result.err + result.out, `secret ${secret} printed`).to.not.include(secret);
      }
    });
  }

  it("the listener saw no connection but the control case's", () => {
    // Per-case counts are checked above; this also catches a connection made after its run returned.
    expect(controlConnections).to.be.at.least(2);
    expect(listener.connections).to.equal(controlConnections);
  });
});
