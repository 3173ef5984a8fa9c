// A cgroup of its own for every systemd guest. Without registration systemd-nspawn puts the guest
// under its own cgroup's `payload`, which two guests must not share; and a guest's whole process tree
// stays findable (and killable) through its cgroup after a crashed run.
import { existsSync } from "node:fs";
import { readdir, readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { sleep } from "./exec.js";
import { PREFIX } from "./network.js";

const CGROUP_FS = "/sys/fs/cgroup";

/**
 * The hierarchies a guest's processes must be placed in: on a "hybrid" machine (cgroup v1 controllers,
 * cgroup2 at unified/) the named systemd v1 hierarchy and the cgroup2 one; on a pure cgroup2 machine
 * just the root.
 */
export function cgroupRoots(): string[] {
  if (existsSync(join(CGROUP_FS, "cgroup.controllers"))) return [CGROUP_FS];
  return [join(CGROUP_FS, "systemd"), join(CGROUP_FS, "unified")];
}

/** Whether nspawn must be told to give the guest the cgroup2 hierarchy on a hybrid machine. */
export function isHybrid(): boolean {
  return cgroupRoots().length > 1;
}

/** Why guests cannot get cgroups of their own here, or null. */
export function cgroupUnavailableReason(): string | null {
  const missing = cgroupRoots().filter((r) => !existsSync(join(r, "cgroup.procs")));
  return missing.length > 0 ? `no cgroup hierarchy mounted at ${missing.join(", ")}` : null;
}

/** The guest's cgroup in each hierarchy, e.g. /sys/fs/cgroup/unified/plab/NAME. */
export function guestCgroups(name: string): string[] {
  return cgroupRoots().map((r) => join(r, PREFIX, name));
}

async function procsUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  pids.push(...text.split("\n").filter(Boolean).map(Number));
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) pids.push(...(await procsUnder(join(dir, entry.name))));
  }
  return pids;
}

/** Every directory below `dir`, deepest first (cgroups are removed bottom-up). */
async function treeDeepestFirst(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) out.push(...(await treeDeepestFirst(join(dir, entry.name))));
  }
  out.push(dir);
  return out;
}

/** Kills whatever still runs in the cgroup trees and removes them; bounded. */
export async function removeCgroups(dirs: string[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const present = dirs.filter((d) => existsSync(d));
    if (present.length === 0) return;
    for (const dir of present) {
      for (const pid of await procsUnder(dir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      // A cgroup is busy until its last task has exited, which follows SIGKILL shortly.
      for (const d of await treeDeepestFirst(dir)) await rmdir(d).catch(() => undefined);
    }
    await sleep(100);
  }
  throw new Error(`cgroups still busy after 5 s: ${dirs.filter((d) => existsSync(d)).join(", ")}`);
}

/** Every guest cgroup any lab left behind, and their PREFIX parents. */
export async function removeAllGuestCgroups(): Promise<void> {
  await removeCgroups(cgroupRoots().map((r) => join(r, PREFIX)));
}

export function guestCgroupLeftovers(): string[] {
  return cgroupRoots()
    .map((r) => join(r, PREFIX))
    .filter((p) => existsSync(p))
    .map((p) => `cgroup ${p}`);
}
