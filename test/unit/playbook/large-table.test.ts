import { expect } from "chai";
import { makePlan } from "../../../src/engine/plan.js";
import { parseInventory } from "../../../src/inventory/index.js";
import { parsePlaybook, resolveDesired } from "../../../src/playbook/index.js";
import { deriveConfig } from "../../../src/postfix/derive.js";

/**
 * Loading and planning grow linearly with a table's size. Before, the duplicate-key checks compared each
 * key with every earlier one: 20,000 entries took 16 s and 100,000 eight minutes. 30,000 entries now take
 * about 2 s here; the limit leaves room for a busy machine and fails a quadratic check by far.
 * (`npm run bench` times 100,000.)
 */
describe("a generic: with 30,000 entries", function () {
  this.timeout(120_000);

  it("loads and plans within 15 seconds", async () => {
    const lines = ["- hosts: all", "  postfix:", "    generic:"];
    for (let i = 0; i < 30_000; i++) lines.push(`      user${i}@localdomain.local: account${i}@isp.example`);
    const inventory = parseInventory("all:\n  hosts:\n    h1: {}\n", "hosts.yaml", {
      user: "me",
      home: "/h",
    });
    const noSecrets = { resolve: () => Promise.reject(new Error("no secrets here")) };
    const host = { name: "h1", version: "3.7.11", defaultDatabaseType: "hash", supportedTypes: ["hash"] };

    const started = performance.now();
    const playbook = parsePlaybook(`${lines.join("\n")}\n`, "big.yaml");
    const { states } = await resolveDesired(playbook, inventory, ["h1"], noSecrets);
    const config = deriveConfig(states.get("h1") ?? { tableType: "auto", main: {} }, host);
    const facts = { warnings: [], ...host, running: true, postconfN: "", files: new Map() };
    const plan = makePlan(config, facts);
    const seconds = (performance.now() - started) / 1000;

    expect(config.tables[0]?.entries).to.have.length(30_000);
    expect(plan.writes.map((w) => w.path)).to.include("/etc/postfix/generic");
    expect(seconds, `took ${seconds.toFixed(1)} s`).to.be.below(15);
  });
});
