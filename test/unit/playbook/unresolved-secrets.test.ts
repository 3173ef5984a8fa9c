import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadInventory } from "../../../src/inventory/index.js";
import { parsePlaybook, resolveDesired } from "../../../src/playbook/index.js";
import { createSecretResolver } from "../../../src/secrets/resolve.js";

/**
 * `check` goes on without a password it cannot get (resolveDesired's allowUnresolved): a Secret without a
 * value takes its place. Only a password that cannot be had counts; one that is there but unusable is
 * an error for check too, and apply (no allowUnresolved) stops on both.
 */

const home = loadInventory(fileURLToPath(new URL("../../fixtures/inventory/home.yaml", import.meta.url)), {
  user: "me",
  home: "/home/me",
});

const playbook = (password: string) =>
  parsePlaybook(
    `- hosts: nas
  postfix:
    relay: { host: mail.isp.example, port: submission, username: me, password: ${password} }
    senders:
      me@example.com:
        relay: { host: mail.example.com }
        username: me
        password: { env: SET_PASSWORD }
`,
    join(dir, "site.yaml"),
  );

let dir: string;

describe("passwords check goes on without", () => {
  before(() => (dir = mkdtempSync(join(tmpdir(), "provision-unresolved-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const resolver = () =>
    createSecretResolver({ env: { SET_PASSWORD: "the-set-password" }, cwd: dir, home: dir });

  const cases: [string, string, string][] = [
    [
      "an environment variable not set",
      "{ env: UNSET_PASSWORD }",
      "environment variable UNSET_PASSWORD is not set",
    ],
    [
      "a file that does not exist",
      "{ file: missing.pass }",
      "cannot read password file {DIR}/missing.pass: no such file",
    ],
    ["a command that fails", '{ command: "exit 4" }', 'command "exit 4" failed (exit code 4)'],
  ];
  for (const [what, ref, reason] of cases) {
    it(`${what}: check gets a password without a value, with the reason; apply stops`, async () => {
      const { states } = await resolveDesired(playbook(ref), home, ["nas"], resolver(), {
        allowUnresolved: true,
      });
      const state = states.get("nas")!;
      const missing = state.relay!.password!;
      expect(missing.unresolved).to.equal(reason.replace("{DIR}", dir));
      expect(() => missing.reveal()).to.throw();
      expect(state.senders!["me@example.com"]!.password!.reveal(), "the others are resolved").to.equal(
        "the-set-password",
      );

      let error = "";
      await resolveDesired(playbook(ref), home, ["nas"], resolver()).catch((e: Error) => (error = e.message));
      expect(error).to.include(`site.yaml:3:`).and.include(reason.replace("{DIR}", dir));
    });
  }

  it("a password that is there but unusable stops check too", async () => {
    writeFileSync(join(dir, "empty.pass"), "\n");
    let error = "";
    await resolveDesired(playbook("{ file: empty.pass }"), home, ["nas"], resolver(), {
      allowUnresolved: true,
    }).catch((e: Error) => (error = e.message));
    expect(error).to.include("is empty");
  });

  it("two plays naming the relay with different passwords do not conflict when one cannot be had", async () => {
    const text = `- hosts: nas
  postfix:
    relay: { host: mail.isp.example, username: me, password: { env: UNSET_PASSWORD } }
- hosts: nas
  postfix:
    relay: { host: mail.isp.example, username: me, password: { env: SET_PASSWORD } }
`;
    const { states } = await resolveDesired(
      parsePlaybook(text, join(dir, "two.yaml")),
      home,
      ["nas"],
      resolver(),
      {
        allowUnresolved: true,
      },
    );
    expect(states.get("nas")!.relay!.password!.unresolved).to.equal(
      "environment variable UNSET_PASSWORD is not set",
    );
  });
});
