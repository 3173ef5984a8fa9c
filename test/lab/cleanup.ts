// What a lab leaves on the machine, and how it is found and removed again: the machine-wide lock, the
// files in the lab dir, the hosts' namespaces, cgroups and processes (also those of a crashed run).
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { guestCgroupLeftovers, removeAllGuestCgroups } from "./cgroups.js";
import { INIT_NAME } from "./host.js";
import { destroyNetwork, LAB_SLOT, leftovers, PREFIX } from "./network.js";

/** Machine-wide: namespaces and the bridge are global, so only one lab may run at a time. */
const LOCK_FILE = `/run/provision-lab${LAB_SLOT === 0 ? "" : `-${LAB_SLOT}`}.lock`;

/** Every lab host's processes, network and cgroups, whichever lab made them. */
export async function destroyHosts(): Promise<void> {
  // Namespaces first: killing a guest's systemd (PID 1 in its netns) ends the whole guest.
  await destroyNetwork();
  await removeAllGuestCgroups();
}

/** Files the lab writes into its dir; the dir itself goes only if nothing else was put there. */
export async function removeLabFiles(dir: string): Promise<void> {
  assertNothingMountedUnder(dir);
  for (const f of [
    "hosts",
    "id_ed25519",
    "id_ed25519.pub",
    "known_hosts",
    "relay-key.pem",
    "relay-cert.pem",
  ]) {
    await rm(join(dir, f), { recursive: true, force: true });
  }
  if (existsSync(dir) && (await readdir(dir)).length === 0) await rmdir(dir);
}

/**
 * Host bind mounts live only in the hosts' private mount namespaces. If one ever showed up in ours,
 * deleting the lab dir would recurse into the real /etc/postfix or /root, so refuse instead.
 */
function assertNothingMountedUnder(dir: string): void {
  const mountPoints = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "");
  const inside = mountPoints.filter((m) => m === dir || m.startsWith(`${dir}/`));
  if (inside.length > 0)
    throw new Error(`refusing to delete ${dir}: mounted inside it: ${inside.join(", ")}`);
}

export async function acquireLock(dir: string): Promise<void> {
  try {
    const owner = JSON.parse(await readFile(LOCK_FILE, "utf8")) as { pid: number; dir: string };
    if (owner.pid !== process.pid && processAlive(owner.pid)) {
      throw new Error(
        `another lab is running (pid ${owner.pid}, dir ${owner.dir}); stop it, or run ` +
          "`npx tsx test/lab/cli.ts down` to tear it down",
      );
    }
  } catch (err) {
    if (!(err instanceof SyntaxError) && (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await writeFile(LOCK_FILE, JSON.stringify({ pid: process.pid, dir }));
}

/** For `down` after a crash: the lock of a lab that is gone. */
export async function removeLock(): Promise<void> {
  await rm(LOCK_FILE, { force: true });
}

export async function releaseLock(): Promise<void> {
  const owner = await readFile(LOCK_FILE, "utf8").catch(() => "");
  if (owner.includes(`"pid":${process.pid},`)) await rm(LOCK_FILE, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A recycled PID is not our lab: only a node process can own it.
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("node");
  } catch {
    return false;
  }
}

/** For diagnostics and tests: lab namespaces, links or host init processes still around. */
export async function labLeftovers(): Promise<string[]> {
  const inits: string[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.startsWith(INIT_NAME)) inits.push(`process ${entry} (${INIT_NAME})`);
    if (cmdline.startsWith("systemd-nspawn") && cmdline.includes(`/run/netns/${PREFIX}-`))
      inits.push(`process ${entry} (systemd-nspawn)`);
  }
  return [...(await leftovers()), ...guestCgroupLeftovers(), ...inits];
}
