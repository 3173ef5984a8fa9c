// The floor of `npm run bench`: what the same reads and writes cost with nothing but OpenSSH. One `ssh`
// process per host running one command, all hosts at once: the least any tool that talks to each host
// over SSH can spend. `check`'s floor reads what check reads (main.cf, the tables, their indexes'
// metadata, postconf -n, the service); `apply`'s floor writes what the apply wrote (every table,
// the main.cf parameters it set), runs postmap on each table and reloads Postfix.
import { spawn } from "node:child_process";
import type { Lab } from "../test/lab/lab.js";

export interface FloorScripts {
  check: string;
  apply: string;
}

/** One `ssh` as root to the host running `sh -s` with `script` on stdin (no secret on a command line). */
function sshScript(lab: Lab, address: string, script: string): Promise<void> {
  const args = [
    ...["-F", "/dev/null", "-i", lab.sshKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
    ...["-o", `UserKnownHostsFile=${lab.knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
    ...["-o", "LogLevel=ERROR", `root@${address}`, "sh -s"],
  ];
  return new Promise((done, fail) => {
    const child = spawn("ssh", args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", fail);
    child.on("close", (code) =>
      code === 0 ? done() : fail(new Error(`floor ssh to ${address} exited ${code}: ${stderr.trim()}`)),
    );
    child.stdin.end(script);
  });
}

/** Wall-clock seconds for the script on every host at once. */
export async function timeFloor(lab: Lab, hosts: string[], script: string): Promise<number> {
  const addresses = hosts.map((name) => lab.hosts.find((h) => h.name === name)!.address);
  const started = process.hrtime.bigint();
  await Promise.all(addresses.map((address) => sshScript(lab, address, script)));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * The floor's two scripts, from one host before and after provision's apply: the tables main.cf
 * names under /etc/postfix with their content, and the parameters whose value the apply changed.
 */
export async function floorScripts(lab: Lab, host: string, freshPostconf: string): Promise<FloorScripts> {
  const read = async (command: string) => {
    const r = await lab.run(host, command);
    if (r.code !== 0) throw new Error(`${host}: ${command}: ${r.stderr}`);
    return r.stdout;
  };
  const applied = await read("postconf -n");
  const fresh = new Set(freshPostconf.split("\n"));
  const parameters = applied.split("\n").filter((line) => line.includes(" = ") && !fresh.has(line));
  const tables = new Map<string, string>();
  for (const m of applied.matchAll(/\b(hash|btree|lmdb|cdb):(\/etc\/postfix\/[\w.-]+)/g))
    tables.set(m[2]!, m[1]!);
  if (tables.size === 0 || parameters.length === 0)
    throw new Error(`the apply on ${host} left no tables or parameters to write: ${applied}`);

  const indexes = [...tables.keys()].map((t) => `${t}.*`).join(" ");
  const check = [
    `cat /etc/postfix/main.cf ${[...tables.keys()].join(" ")} >/dev/null`,
    `stat -c '%n %a %U %G %Y %s' /etc/postfix/main.cf ${[...tables.keys()].join(" ")} ${indexes}`,
    "postconf -n >/dev/null",
    "postfix status",
  ].join("\n");

  const writes: string[] = ["set -e", "umask 077"];
  for (const path of tables.keys()) {
    const content = await read(`cat ${path}`);
    writes.push(`cat > ${path}.floor <<'FLOOR_EOF'\n${content}FLOOR_EOF`, `mv ${path}.floor ${path}`);
  }
  writes.push(`postconf -e ${parameters.map(quote).join(" ")}`);
  for (const [path, type] of tables) writes.push(`postmap ${type}:${path}`);
  writes.push("postfix reload 2>/dev/null");
  return { check, apply: writes.join("\n") };
}
