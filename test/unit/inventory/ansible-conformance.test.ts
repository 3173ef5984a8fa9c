import { expect } from "chai";
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
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
import { loadInventory, type Inventory } from "../../../src/inventory/index.js";

/**
 * Conformance with Ansible: every inventory of the corpus test/fixtures/inventories (see its
 * README.md) is read by `ansible-inventory --list` and by provision, which must agree on the hosts,
 * the members of every group and every variable of every host.
 *
 * Normalised, and only this: provision's host variables lose `inventory_hostname`, a magic variable
 * that `ansible-inventory --list` leaves out of its output (with its other internal ones, which
 * provision does not set).
 */

const CORPUS = fileURLToPath(new URL("../../fixtures/inventories/", import.meta.url));
const cases = readdirSync(CORPUS)
  .filter((name) => statSync(join(CORPUS, name)).isDirectory())
  .sort();

/** What both tools must agree on. */
interface View {
  hosts: string[];
  /** group -> every host in it, directly or through its children, sorted */
  groups: Record<string, string[]>;
  /** host -> its variables */
  vars: Record<string, Record<string, unknown>>;
}

interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleList["_meta"];
}

function ansibleView(list: AnsibleList): View {
  const { _meta: meta, ...groups } = list;
  const entry = (name: string) => (groups[name] ?? {}) as { hosts?: string[]; children?: string[] };
  // Groups without hosts or children are left out of --list except as some group's child.
  const names = new Set([
    ...Object.keys(groups),
    ...Object.values(groups).flatMap((g) => ("children" in g ? (g.children ?? []) : [])),
  ]);
  const members = (name: string): string[] => [
    ...(entry(name).hosts ?? []),
    ...(entry(name).children ?? []).flatMap(members),
  ];
  const view: View["groups"] = {};
  for (const name of names) view[name] = [...new Set(members(name))].sort();
  const hosts = view.all ?? [];
  return { hosts, groups: view, vars: Object.fromEntries(hosts.map((h) => [h, meta.hostvars[h] ?? {}])) };
}

function provisionView(inventory: Inventory): View {
  return {
    hosts: inventory.hosts.map((h) => h.name).sort(),
    groups: Object.fromEntries([...inventory.groups].map(([name, hosts]) => [name, [...hosts].sort()])),
    vars: Object.fromEntries(
      inventory.hosts.map((h) => {
        const vars = { ...h.vars };
        delete vars.inventory_hostname;
        return [h.name, vars];
      }),
    ),
  };
}

interface Case {
  dir: string;
  /** The -i values, as written in the case's `sources` file. */
  sources: string[];
  playbookDir: string;
}

function caseOf(name: string, emptyDir: string): Case {
  const dir = join(CORPUS, name);
  const sources = readFileSync(join(dir, "sources"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const playbook = join(dir, "playbook");
  return { dir, sources, playbookDir: existsSync(playbook) ? playbook : emptyDir };
}

/** `ansible-inventory --list` in the case's directory, isolated from any Ansible configuration. */
function ansibleInventory(item: Case, scratch: string): Promise<View> {
  const args = [...item.sources.flatMap((s) => ["-i", s]), "--list", "--playbook-dir", item.playbookDir];
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: scratch,
    ANSIBLE_CONFIG: join(scratch, "ansible.cfg"),
    ANSIBLE_LOCAL_TEMP: join(scratch, "tmp"),
    // A source Ansible cannot parse must fail the case, not silently drop out of it.
    ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: "true",
    ANSIBLE_NOCOLOR: "1",
  };
  return new Promise((resolve, reject) => {
    execFile(
      "ansible-inventory",
      args,
      { cwd: item.dir, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`ansible-inventory ${args.join(" ")}: ${error.message}\n${stderr}`));
        else resolve(ansibleView(JSON.parse(stdout) as AnsibleList));
      },
    );
  });
}

function ansibleMissing(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("ansible-inventory", ["--version"], (error) =>
      resolve(error ? `ansible-inventory cannot run (${error.message.split("\n")[0]})` : undefined),
    );
  });
}

/** Runs `work` on every item, a few at a time (each ansible-inventory takes about a second). */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

describe("inventories read as ansible-inventory --list reads them (test/fixtures/inventories)", function () {
  const scratch = mkdtempSync(join(tmpdir(), "provision-ansible-"));
  const empty = join(scratch, "no-playbook");
  const expected = new Map<string, View | Error>();

  before(async function () {
    this.timeout(300_000);
    const missing = await ansibleMissing();
    if (missing) {
      if (process.env.CI === "true")
        throw new Error(`the Ansible conformance test cannot run under CI: ${missing}`);
      console.error(`\n  *** SKIPPING THE ANSIBLE CONFORMANCE TEST: ${missing}; install ansible-core ***\n`);
      this.skip();
    }
    mkdirSync(empty);
    mkdirSync(join(scratch, "tmp"));
    writeFileSync(join(scratch, "ansible.cfg"), "");
    await eachLimited(cases, 4, async (name) => {
      const result = await ansibleInventory(caseOf(name, empty), scratch).catch((error: Error) => error);
      expected.set(name, result);
    });
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("has a corpus of at least 15 inventories", () => {
    expect(cases.length).to.be.at.least(15);
  });

  for (const name of cases) {
    it(name, () => {
      const ansible = expected.get(name);
      if (ansible instanceof Error) throw ansible;
      const item = caseOf(name, empty);
      const sources = item.sources.map((s) => (s.includes(",") ? s : join(item.dir, s)));
      const inventory = loadInventory(sources, {
        user: "me",
        home: "/home/me",
        ...(item.playbookDir !== empty && { playbookDir: item.playbookDir }),
      });
      const ours = provisionView(inventory);
      expect(ours.hosts, "hosts").to.deep.equal(ansible?.hosts);
      expect(ours.groups, "groups").to.deep.equal(ansible?.groups);
      expect(ours.vars, "variables").to.deep.equal(ansible?.vars);
    });
  }
});
