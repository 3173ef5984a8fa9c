import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseInventory } from "../../../src/inventory/index.js";
import { parsePlaybook, resolveDesired } from "../../../src/playbook/index.js";
import { createSecretResolver } from "../../../src/secrets/resolve.js";

/**
 * `{{ var }}` in `password: { command: ... }` is substituted as data for /bin/sh, never as code: the
 * commands below really run (in a temporary directory, which is also the playbook's directory).
 */
describe("inventory variables in a password command", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "provision-command-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The password the command gives for host nas whose inventory sets `acct` to `value`. */
  async function passwordFor(command: string, value: string): Promise<string> {
    const inventory = parseInventory(
      `all:\n  hosts:\n    nas:\n      acct: ${JSON.stringify(value)}\n`,
      join(dir, "hosts.yaml"),
      { user: "me", home: dir },
    );
    const playbook = parsePlaybook(
      `- hosts: nas\n  postfix:\n    relay: { host: h, username: u, password: { command: ${JSON.stringify(command)} } }\n`,
      join(dir, "site.yaml"),
    );
    const { states } = await resolveDesired(playbook, inventory, ["nas"], createSecretResolver({ cwd: dir }));
    return states.get("nas")?.relay?.password?.reveal() ?? "";
  }

  async function failure(command: string, value: string): Promise<string> {
    try {
      await passwordFor(command, value);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected an error");
  }

  it("does not run shell code an inventory value holds (the value arrives as one argument)", async () => {
    const value = "isp; touch PWNED";
    expect(await passwordFor("printf '%s' {{ acct }}", value)).to.equal(value);
    expect(await passwordFor("echo {{ acct }} >/dev/null; echo resolved-pw", value)).to.equal("resolved-pw");
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(existsSync(join(dir, "PWNED"))).to.equal(false);
  });

  it("keeps every character of the value bare, in '...' and in \"...\", and inside $(...)", async () => {
    const value = `a'b"c $HOME \\ \`touch PWNED\` $(touch PWNED) *; touch PWNED`;
    expect(await passwordFor("printf '%s' {{ acct }}", value)).to.equal(value);
    expect(await passwordFor("printf '%s' 'x-{{ acct }}-y'", value)).to.equal(`x-${value}-y`);
    expect(await passwordFor(`printf '%s' "x-{{ acct }}-y"`, value)).to.equal(`x-${value}-y`);
    expect(await passwordFor(`printf '%s' "$(printf '%s' {{ acct }})"`, value)).to.equal(value);
    expect(await passwordFor(`printf '%s' "$(printf '%s' "{{ acct }}")"`, value)).to.equal(value);
    expect(existsSync(join(dir, "PWNED"))).to.equal(false);
  });

  it("quotes a value that is itself made of variables as a whole", async () => {
    const inventory = parseInventory(
      `all:\n  hosts:\n    nas:\n      user: "me; touch PWNED"\n      acct: "{{ user }}@isp"\n`,
      join(dir, "hosts.yaml"),
      { user: "me", home: dir },
    );
    const playbook = parsePlaybook(
      `- hosts: nas\n  postfix:\n    relay: { host: h, username: u, password: { command: "printf '%s' {{ acct }}" } }\n`,
      join(dir, "site.yaml"),
    );
    const { states } = await resolveDesired(playbook, inventory, ["nas"], createSecretResolver({ cwd: dir }));
    expect(states.get("nas")?.relay?.password?.reveal()).to.equal("me; touch PWNED@isp");
    expect(existsSync(join(dir, "PWNED"))).to.equal(false);
  });

  it("refuses {{ }} where no quoting is reliable, before running anything", async () => {
    const where = `${join(dir, "site.yaml")}:3:57: 0.postfix.relay.password.command: `;
    expect(await failure("echo `printf %s {{ acct }}`", "isp; touch PWNED")).to.equal(
      `${where}{{ }} inside \`backticks\` (use $(...)) in a password command cannot be quoted reliably; ` +
        "use it as a plain argument (pass show {{ account }}) or in quotes (host nas)",
    );
    expect(await failure("echo $(( {{ acct }} ))", "1")).to.include("inside $((arithmetic))");
    expect(await failure("echo \\{{ acct }}", "'; touch PWNED; '")).to.include("right after a backslash");
    expect(existsSync(join(dir, "PWNED"))).to.equal(false);
  });
});
