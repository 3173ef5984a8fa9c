// The unit-level part of `npm run bench`: one host with a `generic:` of 100,000 entries, timed through
// what every command does before it writes anything: load (parse, validate, template, merge) and plan
// (derive, render, compare), against a fresh host and against one already in sync. No lab needed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makePlan, MAIN_CF } from "../src/engine/plan.js";
import { parseFacts } from "../src/facts/parse.js";
import type { HostFacts } from "../src/facts/types.js";
import { parseInventory } from "../src/inventory/index.js";
import { parsePlaybook, resolveDesired } from "../src/playbook/index.js";
import { deriveConfig } from "../src/postfix/derive.js";
import { REPO } from "../test/lab/workspace.js";

const ENTRIES = 100_000;

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(2);
}

/** The recorded facts of a fresh Debian "Local only" Postfix. */
function freshHost(): HostFacts {
  const recorded = readFileSync(join(REPO, "test", "fixtures", "facts", "debian-local-only.txt"), "utf8");
  return { ...parseFacts("h1", recorded), running: true };
}

/** The host after the plan's writes: every written file in place, root 0600/0644, indexes newer. */
function afterWrites(facts: HostFacts, writes: ReturnType<typeof makePlan>["writes"]): HostFacts {
  const files = new Map(facts.files);
  for (const write of writes) {
    const content = write.content.reveal();
    files.set(write.path, {
      path: write.path,
      exists: true,
      mode: write.mode,
      owner: "root",
      group: "root",
      mtime: 1,
      content,
    });
    files.set(`${write.path}.db`, {
      path: `${write.path}.db`,
      exists: true,
      mode: 0o600,
      owner: "root",
      group: "root",
      mtime: 2,
    });
  }
  return { ...facts, files };
}

/** Markdown table rows: load, plan on a fresh host, plan on a host in sync. */
export async function benchLargeTable(entries = ENTRIES): Promise<string[]> {
  const lines = ["- hosts: all", "  postfix:", "    generic:"];
  for (let i = 0; i < entries; i++) lines.push(`      user${i}@localdomain.local: account${i}@isp.example`);
  const text = `${lines.join("\n")}\n`;
  const inventory = parseInventory("all:\n  hosts:\n    h1: {}\n", "hosts.yaml", {
    user: "me",
    home: "/home/me",
  });
  const noSecrets = { resolve: () => Promise.reject(new Error("the benchmark playbook has no secrets")) };

  let started = performance.now();
  const { states } = await resolveDesired(parsePlaybook(text, "bench.yaml"), inventory, ["h1"], noSecrets);
  const load = seconds(started);

  const fresh = freshHost();
  started = performance.now();
  const state = states.get("h1");
  if (!state) throw new Error("the benchmark play selects no host");
  const config = deriveConfig(state, { name: "h1", ...fresh });
  const plan = makePlan(config, fresh);
  const planFresh = seconds(started);
  if (!plan.writes.some((w) => w.path === "/etc/postfix/generic"))
    throw new Error("the plan writes no generic");

  const synced = afterWrites(fresh, plan.writes);
  started = performance.now();
  const again = makePlan(deriveConfig(state, { name: "h1", ...synced }), synced);
  const planSynced = seconds(started);
  if (again.changes.length > 0 || !synced.files.get(MAIN_CF)?.content?.includes("smtp_generic_maps")) {
    throw new Error(`a host in sync still has changes: ${JSON.stringify(again.changes)}`);
  }

  const row = (what: string, time: string) => `| ${what.padEnd(42)} | ${time.padStart(8)} |`;
  return [
    row(`generic: with ${entries.toLocaleString("en")} entries, one host`, "time (s)"),
    "|--------------------------------------------|---------:|",
    row("load (parse, validate, template, merge)", load),
    row("plan, fresh host (derive, render, compare)", planFresh),
    row("plan, host in sync", planSynced),
  ];
}
