// `npm run bench`: first the unit-level benchmark of a 100,000-entry table (bench-table.ts, no lab),
// then the wall-clock time of `apply` (fresh hosts, everything to do) and `check` (in sync) on 1, 5, 10
// and 25 lab hosts, with the SSH connections and remote commands each host cost (needs root and the lab).
// `npm run bench -- --unit` runs only the first part.
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { labUnavailableReason, SOHO_RELAYS, startLab } from "../test/lab/lab.js";
import { benchLargeTable } from "./bench-table.js";
import { BIN, labWorkspace } from "./lab-workspace.js";

const SIZES = [1, 5, 10, 25];

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

async function main(): Promise<void> {
  console.log([machine(), "", ...(await benchLargeTable())].join("\n"));
  if (process.argv.includes("--unit")) return;

  const reason = labUnavailableReason();
  if (reason) throw new Error(`the benchmark runs on lab hosts and ${reason}`);
  const names = Array.from({ length: Math.max(...SIZES) }, (_, i) => `h${String(i + 1).padStart(2, "0")}`);
  console.error(`starting ${names.length} lab hosts...`);
  const labStarted = Date.now();
  const lab = await startLab({ hosts: names, relays: SOHO_RELAYS, log: () => undefined });
  console.error(`lab up in ${((Date.now() - labStarted) / 1000).toFixed(1)} s`);
  try {
    const { env, inventory, playbook } = labWorkspace(lab, "bench");

    const rows: string[] = [];
    for (const size of SIZES) {
      const subset = names.slice(0, size);
      await Promise.all(subset.map((name) => lab.resetHost(name)));
      const limit = ["--limit", subset.join(",")];
      const apply = await provision(["apply", playbook, "-i", inventory, ...limit], env);
      if (apply.code !== 0 || apply.hosts.some((h) => h.status !== "changed")) {
        throw new Error(`apply on ${size} hosts did not change every host: ${JSON.stringify(apply.hosts)}`);
      }
      const check = await provision(["check", playbook, "-i", inventory, ...limit], env);
      if (check.code !== 0) throw new Error(`check on ${size} hosts exited ${check.code}`);
      rows.push(
        `| ${String(size).padStart(5)} | ${(apply.ms / 1000).toFixed(2).padStart(9)} | ${perHost(apply.hosts).padEnd(18)} ` +
          `| ${(check.ms / 1000).toFixed(2).padStart(9)} | ${perHost(check.hosts).padEnd(18)} |`,
      );
      console.error(rows[rows.length - 1]);
    }
    console.log(
      [
        "",
        `${machine()}, default --forks 10`,
        "",
        "| hosts | apply (s) | per host           | check (s) | per host           |",
        "|------:|----------:|--------------------|----------:|--------------------|",
        ...rows,
      ].join("\n"),
    );
  } finally {
    await lab.down();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
