// The lab network: one bridge in the root namespace carrying the relay addresses, and one network
// namespace per host joined to it by a veth pair. Everything lives in 198.18.0.0/16 (RFC 2544
// benchmarking space, never routed); hosts get no default route, so nothing they do can leave the lab.
import { readFile } from "node:fs/promises";
import { exec, must, sleep, waitFor } from "./exec.js";

/**
 * Two labs can run side by side on one machine (e.g. two checkouts testing at once): slot 0 (default)
 * uses 198.18.0.0/16, slot 1 (PROVISION_LAB_SLOT=1) 198.19.0.0/16; both are inside 198.18.0.0/15.
 */
export const LAB_SLOT = labSlot(process.env.PROVISION_LAB_SLOT);
/**
 * Every kernel object the lab creates carries this prefix, which is how a crashed lab is found again.
 * Neither slot's prefix starts with the other's, so cleaning up one never touches the other.
 */
export const PREFIX = LAB_SLOT === 0 ? "plab" : "plb1";
export const BRIDGE = `${PREFIX}0`;
/** The first two octets of every lab address. */
export const NET = LAB_SLOT === 0 ? "198.18" : "198.19";
export const BRIDGE_ADDRESS = `${NET}.0.1`;
const PREFIX_LEN = 16;
const MAX_RELAYS = 200;
const HOSTS_PER_OCTET = 250;
export const MAX_HOSTS = HOSTS_PER_OCTET * 200;

function labSlot(value: string | undefined): 0 | 1 {
  if (value === undefined || value === "" || value === "0") return 0;
  if (value === "1") return 1;
  throw new Error(`PROVISION_LAB_SLOT must be 0 or 1, not "${value}"`);
}

export function netnsName(host: string): string {
  return `${PREFIX}-${host}`;
}

/** Root-side veth name; index-based because interface names are limited to 15 characters. */
export function vethName(index: number): string {
  return `${PREFIX}v${index}`;
}

export function relayAddressFor(index: number): string {
  if (index >= MAX_RELAYS) throw new Error(`at most ${MAX_RELAYS} relays`);
  return `${NET}.0.${10 + index}`;
}

export function hostAddressFor(index: number): string {
  if (index >= MAX_HOSTS) throw new Error(`at most ${MAX_HOSTS} hosts`);
  return `${NET}.${1 + Math.floor(index / HOSTS_PER_OCTET)}.${1 + (index % HOSTS_PER_OCTET)}`;
}

export async function createBridge(relayAddresses: string[]): Promise<void> {
  await must("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  await must("ip", ["addr", "add", `${BRIDGE_ADDRESS}/${PREFIX_LEN}`, "dev", BRIDGE]);
  // /32: the /16 route already exists, and extra addresses in the same prefix would become "secondary"
  // ones that the kernel deletes together with the primary.
  for (const a of relayAddresses) await must("ip", ["addr", "add", `${a}/32`, "dev", BRIDGE]);
  await must("ip", ["link", "set", BRIDGE, "up"]);
}

/** Creates the host's namespace and plugs it into the bridge as eth0 with its lab address. */
export async function createHostNetwork(host: string, index: number, address: string): Promise<void> {
  const ns = netnsName(host);
  const veth = vethName(index);
  await must("ip", ["netns", "add", ns]);
  await must("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await must("ip", ["link", "set", veth, "master", BRIDGE, "up"]);
  await must("ip", ["-n", ns, "addr", "add", `${address}/${PREFIX_LEN}`, "dev", "eth0"]);
  await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
  // Postfix's "Local only" install listens on loopback-only; a fresh netns has lo down.
  await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
}

/** Cable unplugged (down) or plugged back in: the host keeps running but cannot be reached. */
export async function setHostLink(index: number, up: boolean): Promise<void> {
  await must("ip", ["link", "set", vethName(index), up ? "up" : "down"]);
}

export async function namespacePids(ns: string): Promise<number[]> {
  const r = await exec("ip", ["netns", "pids", ns]);
  if (r.code !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** The innermost PID a process has (its PID inside its own PID namespace), from /proc/PID/status. */
export async function innerPid(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const ids = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
    return ids ? Number(ids[ids.length - 1]) : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Kills every process in a host's network namespace. The PID-namespace init goes first: that kills the
 * whole PID namespace at once and lets its parent (unshare, our child) reap it, so no zombie is left
 * behind on machines whose PID 1 does not reap orphans.
 */
export async function killNamespace(ns: string, timeoutMs = 10_000): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const pids = await namespacePids(ns);
    if (pids.length === 0) return;
    const inits: number[] = [];
    for (const pid of pids) if ((await innerPid(pid)) === 1) inits.push(pid);
    (inits.length > 0 ? inits : pids).forEach(killQuietly);
    await sleep(50);
    pids.forEach(killQuietly);
    try {
      await waitFor(
        `processes in ${ns} to exit`,
        async () => ((await namespacePids(ns)).length === 0 ? true : undefined),
        timeoutMs / 3,
      );
      return;
    } catch {
      // Something was forked between listing and killing; go round again.
    }
  }
  throw new Error(
    `processes in network namespace ${ns} survive SIGKILL: ${(await namespacePids(ns)).join(" ")}`,
  );
}

async function labNamespaces(): Promise<string[]> {
  const r = await exec("ip", ["netns", "list"]);
  return r.stdout
    .split("\n")
    .map((line) => line.split(/\s/)[0] ?? "")
    .filter((name) => name.startsWith(`${PREFIX}-`));
}

async function labLinks(): Promise<string[]> {
  const r = await exec("ip", ["-o", "link", "show"]);
  return r.stdout
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name === BRIDGE || new RegExp(`^${PREFIX}v\\d+$`).test(name));
}

/** Removes every namespace, veth and bridge the lab ever created, whoever created them. */
export async function destroyNetwork(): Promise<void> {
  const namespaces = await labNamespaces();
  await Promise.all(namespaces.map((ns) => killNamespace(ns)));
  for (const ns of namespaces) await exec("ip", ["netns", "del", ns]);
  // Deleting a namespace destroys its veth end and with it the root-side peer, but a crash between
  // "link add" and "set netns" can leave a pair behind in the root namespace.
  for (const link of await labLinks()) await exec("ip", ["link", "del", link]);
}

export async function leftovers(): Promise<string[]> {
  return [...(await labNamespaces()).map((n) => `netns ${n}`), ...(await labLinks()).map((l) => `link ${l}`)];
}
