// `npm run bench`: first the unit-level benchmark of a 100,000-entry table (bench-table.ts, no lab),
// then the wall-clock time of `apply` (fresh hosts, everything to do) and `check` (in sync) on 1, 5, 10
// and 25 lab hosts, with the SSH connections and remote commands each host cost (needs root and the lab).
// Then 1 and 10 hosts of each kind (namespace host, Debian 13, 12 and 11 under systemd), each next to
// its floor: the same reads and writes with plain OpenSSH (bench-floor.ts), and provision's time as a
// ratio to it. `npm run bench -- --unit` runs only the first part; `--kinds namespace,13` picks the kinds
// of host (default: all four).
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import {
  labUnavailableReason,
  RELEASES,
  SOHO_RELAYS,
  startLab,
  type Lab,
  type LabHostSpec,
} from "../test/lab/lab.js";
import { floorScripts, timeFloor } from "./bench-floor.js";
import { benchLargeTable } from "./bench-table.js";
import { BIN, labWorkspace } from "./lab-workspace.js";

const SIZES = [1, 5, 10, 25];
/** Host counts timed on every kind of host (namespace, and Debian 13, 12 and 11 under systemd). */
const RELEASE_SIZES = [1, 10];

interface HostJson {
  name: string;
  status: string;
  stats: { connections: number; commands: number; durationMs: number };
}

function provision(
  args: string[],
  env: Record<string, string>,
): Promise<{ ms: number; hosts: HostJson[]; code: number }> {
  const started = process.hrtime.bigint();
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [BIN, ...args, "--json"],
      { env: { ...process.env, ...env }, maxBuffer: 1 << 26 },
      (error, stdout) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        try {
          done({
            ms,
            hosts: (JSON.parse(stdout) as { hosts: HostJson[] }).hosts,
            code: error ? Number(error.code) : 0,
          });
        } catch {
          fail(new Error(`provision ${args.join(" ")} printed no JSON: ${stdout}`));
        }
      },
    );
  });
}

function perHost(hosts: HostJson[]): string {
  const conns = new Set(hosts.map((h) => h.stats.connections));
  const cmds = new Set(hosts.map((h) => h.stats.commands));
  return `${[...conns].join("/")} conn, ${[...cmds].join("/")} cmds`;
}

function machine(): string {
  return `machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}`;
}

interface Timing {
  apply: Awaited<ReturnType<typeof provision>>;
  check: Awaited<ReturnType<typeof provision>>;
  /** Seconds for the same writes and reads with one plain `ssh` per host. */
  floor: { apply: number; check: number };
}

/** apply on fresh hosts (everything to do), then check (in sync), on the first `size` hosts of the lab. */
async function timeSizes(lab: Lab, sizes: number[]): Promise<Map<number, Timing>> {
  const { env, inventory, playbook } = labWorkspace(lab, "bench");
  const timings = new Map<number, Timing>();
  for (const size of sizes) {
    const subset = lab.hosts.slice(0, size).map((h) => h.name);
    await Promise.all(subset.map((name) => lab.resetHost(name)));
    const fresh = await lab.run(subset[0]!, "postconf -n");
    const limit = ["--limit", subset.join(",")];
    const apply = await provision(["apply", playbook, "-i", inventory, ...limit], env);
    if (apply.code !== 0 || apply.hosts.some((h) => h.status !== "changed")) {
      throw new Error(`apply on ${size} hosts did not change every host: ${JSON.stringify(apply.hosts)}`);
    }
    const check = await provision(["check", playbook, "-i", inventory, ...limit], env);
    if (check.code !== 0) throw new Error(`check on ${size} hosts exited ${check.code}`);
    const scripts = await floorScripts(lab, subset[0]!, fresh.stdout);
    const floor = {
      apply: await timeFloor(lab, subset, scripts.apply),
      check: await timeFloor(lab, subset, scripts.check),
    };
    timings.set(size, { apply, check, floor });
    console.error(`${lab.hosts[0]?.kind}: ${row(size, { apply, check, floor })}`);
  }
  return timings;
}

function row(size: number, { apply, check }: Timing): string {
  return (
    `| ${String(size).padStart(5)} | ${(apply.ms / 1000).toFixed(2).padStart(9)} | ${perHost(apply.hosts).padEnd(18)} ` +
    `| ${(check.ms / 1000).toFixed(2).padStart(9)} | ${perHost(check.hosts).padEnd(18)} |`
  );
}

async function withLab<T>(hosts: LabHostSpec[], fn: (lab: Lab) => Promise<T>): Promise<T> {
  console.error(`starting ${hosts.length} lab hosts...`);
  const labStarted = Date.now();
  const lab = await startLab({ hosts, relays: SOHO_RELAYS, log: (msg) => console.error(msg) });
  console.error(`lab up in ${((Date.now() - labStarted) / 1000).toFixed(1)} s`);
  try {
    return await fn(lab);
  } finally {
    await lab.down();
  }
}

const hostNames = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, "0")}`);

/** The kinds of host to time: `--kinds namespace,13,12,11` (default all). */
function kinds(): string[] {
  const all = ["namespace", ...RELEASES];
  const at = process.argv.indexOf("--kinds");
  if (at < 0) return all;
  const wanted = (process.argv[at + 1] ?? "").split(",").map((k) => k.trim());
  const unknown = wanted.filter((k) => !all.includes(k));
  if (unknown.length > 0 || wanted.length === 0)
    throw new Error(
      `--kinds: unknown ${unknown.join(", ") || "(none given)"}; choose from ${all.join(", ")}`,
    );
  return all.filter((k) => wanted.includes(k));
}

async function main(): Promise<void> {
  const chosen = kinds();
  console.log([machine(), "", ...(await benchLargeTable())].join("\n"));
  if (process.argv.includes("--unit")) return;

  const reason = labUnavailableReason(chosen.some((k) => k !== "namespace"));
  if (reason) throw new Error(`the benchmark runs on lab hosts and ${reason}`);
  const rows: string[] = [];
  for (const kind of chosen) {
    const release = RELEASES.find((r) => r === kind);
    const sizes = release ? RELEASE_SIZES : SIZES;
    const hosts = hostNames(Math.max(...sizes)).map((name) => (release ? { name, release } : name));
    const timings = await withLab(hosts, (lab) => timeSizes(lab, sizes));
    const title = release ? `Debian ${release} (systemd)` : "Debian 12 (namespace host)";
    if (!release)
      console.log(
        [
          "",
          `${machine()}, default --forks 10`,
          "",
          "| hosts | apply (s) | per host           | check (s) | per host           |",
          "|------:|----------:|--------------------|----------:|--------------------|",
          ...SIZES.map((size) => row(size, timings.get(size)!)),
        ].join("\n"),
      );
    for (const size of RELEASE_SIZES) rows.push(floorRow(title, size, timings.get(size)!));
  }
  console.log(
    [
      "",
      "provision against the floor (one plain `ssh` per host running the same reads or writes, all at once):",
      "",
      "| host kind                  | hosts | apply (s) | floor (s) | ratio | check (s) | floor (s) | ratio |",
      "|----------------------------|------:|----------:|----------:|------:|----------:|----------:|------:|",
      ...rows,
    ].join("\n"),
  );
}

function floorRow(title: string, size: number, { apply, check, floor }: Timing): string {
  const s = (seconds: number) => seconds.toFixed(2).padStart(9);
  const ratio = (ms: number, floorSeconds: number) => `${(ms / 1000 / floorSeconds).toFixed(1)}x`.padStart(5);
  return (
    `| ${title.padEnd(26)} | ${String(size).padStart(5)} ` +
    `| ${s(apply.ms / 1000)} | ${s(floor.apply)} | ${ratio(apply.ms, floor.apply)} ` +
    `| ${s(check.ms / 1000)} | ${s(floor.check)} | ${ratio(check.ms, floor.check)} |`
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
