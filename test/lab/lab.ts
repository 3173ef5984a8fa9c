// Real "home hosts" on this machine for end-to-end tests, the demo and the benchmark: each host has its
// own sshd and its own Debian "Local only" Postfix, and SMTP relays that demand AUTH stand in for ISPs.
// Production code never imports this; see LAB.md in the project's shared notes for the recipe it implements.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { must, sleep } from "./exec.js";
import { labUnavailableReason } from "./availability.js";
import { acquireLock, destroyHosts, releaseLock, removeLabFiles, removeLock } from "./cleanup.js";
import { SystemdGuest } from "./guest.js";
import { LabHostRuntime } from "./host.js";
import type { HostRuntime, StopMode } from "./runtime.js";
import { createBridge, hostAddressFor, LAB_SLOT, leftovers, MAX_HOSTS, relayAddressFor } from "./network.js";
import {
  makeCertificate,
  RelayLog,
  startRelays,
  type RelayCommand,
  type RelayMessage,
  type RelaySpec,
  type RunningRelays,
} from "./relays.js";
import { ensureRootfs, type Release, type Rootfs } from "./rootfs.js";
import { prepareSystem, SUDO_USER } from "./system.js";

export type { RelayCommand, RelayMessage, RelaySpec } from "./relays.js";
export { LAB_PASSWORDS, SOHO_RELAYS } from "./soho.js";
export type { StopMode } from "./runtime.js";
export { RELEASES, type Release } from "./rootfs.js";
export { labUnavailableReason } from "./availability.js";
export { labLeftovers } from "./cleanup.js";

/**
 * A host of the lab: a bare name is a namespace host (this machine's Debian 12 Postfix, init script,
 * fastest to start); with a release it is that Debian release booted with systemd (guest.ts).
 */
export type LabHostSpec = string | { name: string; release?: Release };

export interface LabOptions {
  hosts: LabHostSpec[];
  relays: RelaySpec[];
  /** State dir (keys, per-host files); default <repo>/.lab (slot 1: <repo>/.lab-1). */
  dir?: string;
  /** Progress messages (package install, snapshot); default stderr. */
  log?: (msg: string) => void;
}

export interface LabHost {
  name: string;
  address: string;
  /** e.g. "Debian 12 (namespace host)", "Debian 13 (systemd)". */
  kind: string;
}

export interface Lab {
  dir: string;
  hosts: LabHost[];
  /** Private key (ed25519) accepted for root and for the sudo user on every host. */
  sshKey: string;
  /** known_hosts file with every host's key, by address. */
  knownHosts: string;
  /** Non-root user with passwordless sudo on every host. */
  sudoUser: string;
  relayAddress(name: string): string;
  messages(relay?: string): RelayMessage[];
  /** Resolves with the first recorded message (past or future) matching pred; bounded (default 30 s). */
  waitForMessage(pred: (m: RelayMessage) => boolean, timeoutMs?: number): Promise<RelayMessage>;
  authFailures(): { relay: string; username: string }[];
  /** The host's Postfix log so far: /var/log/mail.log on namespace hosts, the journal on systemd hosts. */
  mailLog(host: string): Promise<string>;
  /** Every AUTH, MAIL FROM and RCPT TO the relays accepted, in order (messages() holds those with DATA). */
  relayCommands(): RelayCommand[];
  /** As root inside the host's namespaces, not over SSH. */
  run(
    host: string,
    command: string,
    timeoutMs?: number,
  ): Promise<{ stdout: string; stderr: string; code: number }>;
  /** "refuse" (default): sshd killed, connections refused. "unplug": link down, connections time out. */
  stopHost(host: string, mode?: StopMode): Promise<void>;
  startHost(host: string): Promise<void>;
  /** Back to a fresh Debian "Local only" Postfix with Postfix running; the SSH host key stays. */
  resetHost(host: string): Promise<void>;
  down(): Promise<void>;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Per slot, so that two labs run from one checkout never share host files (slot 1: .lab-1). */
export const DEFAULT_LAB_DIR = join(REPO_ROOT, LAB_SLOT === 0 ? ".lab" : `.lab-${LAB_SLOT}`);
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$/;
/** Hosts booted at once; beyond this the machine's few CPUs only thrash. */
const BOOT_CONCURRENCY = 8;

/** A host spec as name and release (undefined: namespace host). */
function parseSpec(spec: LabHostSpec): { name: string; release?: Release } {
  return typeof spec === "string" ? { name: spec } : spec;
}

let current: LabImpl | undefined;

export async function startLab(opts: LabOptions): Promise<Lab> {
  validate(opts);
  const reason = labUnavailableReason(opts.hosts.some((h) => parseSpec(h).release));
  if (reason) throw new Error(`cannot start the lab: ${reason}`);
  // A suite that forgot down() must not make the next one fail with "already running".
  if (current) await current.down();
  const lab = new LabImpl(opts);
  current = lab;
  try {
    await lab.up();
  } catch (err) {
    await lab.down().catch(() => undefined);
    throw err;
  }
  return lab;
}

/** Tears down whatever lab is on this machine (e.g. left by a crashed run), without needing its Lab object. */
export async function destroyStaleLab(dir = DEFAULT_LAB_DIR): Promise<void> {
  if (current) await current.down();
  await destroyHosts();
  await removeLabFiles(dir);
  await removeLock();
}

function validate(opts: LabOptions): void {
  const names = opts.hosts.map((h) => parseSpec(h).name);
  if (names.length === 0) throw new Error("a lab needs at least one host");
  if (names.length > MAX_HOSTS) throw new Error(`at most ${MAX_HOSTS} hosts`);
  for (const h of names) {
    if (!HOST_NAME.test(h)) throw new Error(`lab host name '${h}' must match ${HOST_NAME}`);
  }
  const dup = (xs: string[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  const dupHost = dup(names);
  if (dupHost) throw new Error(`lab host '${dupHost}' given twice`);
  const dupRelay = dup(opts.relays.map((r) => r.name));
  if (dupRelay) throw new Error(`relay '${dupRelay}' given twice`);
  for (const r of opts.relays) {
    if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535)
      throw new Error(`relay ${r.name}: bad port`);
  }
}

class LabImpl implements Lab {
  readonly dir: string;
  readonly sudoUser = SUDO_USER;
  readonly sshKey: string;
  readonly knownHosts: string;
  private readonly runtimes = new Map<string, HostRuntime>();
  private readonly relayLog = new RelayLog();
  private relays: RunningRelays | undefined;
  private readonly log: (msg: string) => void;
  private isDown = false;
  /** Only a lab that took the lock may tear anything down: otherwise it would destroy another's. */
  private locked = false;

  constructor(private readonly opts: LabOptions) {
    this.dir = resolve(opts.dir ?? DEFAULT_LAB_DIR);
    this.sshKey = join(this.dir, "id_ed25519");
    this.knownHosts = join(this.dir, "known_hosts");
    this.log = opts.log ?? ((msg) => process.stderr.write(`[lab] ${msg}\n`));
  }

  get hosts(): LabHost[] {
    return [...this.runtimes.values()].map((h) => ({ name: h.name, address: h.address, kind: h.kind }));
  }

  async up(): Promise<void> {
    await acquireLock(this.dir);
    this.locked = true;
    // Same names as a crashed earlier run: its namespaces, bridge and files would collide with ours.
    await destroyHosts();
    await removeLabFiles(this.dir);
    const pristine = await prepareSystem(this.log);
    const specs = this.opts.hosts.map(parseSpec);
    const releases = [...new Set(specs.flatMap((s) => (s.release ? [s.release] : [])))];
    const trees = new Map<Release, Rootfs>();
    for (const tree of await Promise.all(releases.map((r) => ensureRootfs(r, this.log))))
      trees.set(tree.release, tree);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "provision-lab", "-f", this.sshKey]);
    const authorizedKey = (await readFile(`${this.sshKey}.pub`, "utf8")).trim();

    const relayAddresses = this.opts.relays.map((_, i) => relayAddressFor(i));
    await createBridge(relayAddresses);
    const tls = await makeCertificate(
      this.dir,
      this.opts.relays.map((r) => r.hostname),
    );
    this.relays = await startRelays(this.opts.relays, relayAddresses, tls, this.relayLog);

    const sharedHostsLines = [
      ...this.opts.relays.map((r, i) => `${relayAddresses[i]}\t${r.hostname}`),
      ...specs.map((h, i) => `${hostAddressFor(i)}\t${h.name}`),
    ];
    const ctx = { labDir: this.dir, pristine, authorizedKey, sharedHostsLines };
    specs.forEach(({ name, release }, i) => {
      const rootfs = release && trees.get(release);
      const host = rootfs
        ? new SystemdGuest(name, i, hostAddressFor(i), { ...ctx, rootfs })
        : new LabHostRuntime(name, i, hostAddressFor(i), ctx);
      this.runtimes.set(name, host);
    });
    await inBatches([...this.runtimes.values()], BOOT_CONCURRENCY, (h) => h.create());

    const lines = await Promise.all([...this.runtimes.values()].map((h) => h.knownHostsLine()));
    await writeFile(this.knownHosts, `${lines.join("\n")}\n`);
  }

  relayAddress(name: string): string {
    const i = this.opts.relays.findIndex((r) => r.name === name);
    if (i < 0) throw new Error(`no relay named '${name}' in this lab`);
    return relayAddressFor(i);
  }

  messages(relay?: string): RelayMessage[] {
    return this.relayLog.messages.filter((m) => relay === undefined || m.relay === relay);
  }

  authFailures(): { relay: string; username: string }[] {
    return [...this.relayLog.authFailures];
  }

  relayCommands(): RelayCommand[] {
    return [...this.relayLog.commands];
  }

  async waitForMessage(pred: (m: RelayMessage) => boolean, timeoutMs = 30_000): Promise<RelayMessage> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; attempt <= Math.ceil(timeoutMs / 100); attempt++) {
      const found = this.relayLog.messages.find(pred);
      if (found) return found;
      if (Date.now() >= deadline) break;
      await sleep(100);
    }
    throw new Error(`no matching relay message within ${timeoutMs} ms\n${await this.deliveryReport()}`);
  }

  /** What the relays got and what the hosts' Postfix said: what one needs to see when a wait fails. */
  private async deliveryReport(): Promise<string> {
    const msgs = this.relayLog.messages.map(
      (m) =>
        `  ${m.relay}: auth=${m.authUser} from=<${m.mailFrom}> to=${m.rcptTo.map((r) => `<${r}>`).join(",")}`,
    );
    const fails = this.relayLog.authFailures.map((f) => `  ${f.relay}: user '${f.username}'`);
    const logs: string[] = [];
    for (const h of [...this.runtimes.values()].slice(0, 10)) {
      const log = await h.mailLog().catch(() => "");
      if (log.trim())
        logs.push(
          `  --- ${h.name} (${h.kind}): mail log`,
          ...log
            .trimEnd()
            .split("\n")
            .slice(-8)
            .map((l) => `  ${l}`),
        );
    }
    return [
      `messages received (${msgs.length}):`,
      ...msgs,
      `auth failures (${fails.length}):`,
      ...fails,
      ...(logs.length ? ["hosts' mail logs (last lines):", ...logs] : []),
    ].join("\n");
  }

  mailLog(host: string): Promise<string> {
    return this.host(host).mailLog();
  }

  run(host: string, command: string, timeoutMs?: number) {
    return this.host(host).run(command, timeoutMs);
  }

  stopHost(host: string, mode: StopMode = "refuse"): Promise<void> {
    return this.host(host).stop(mode);
  }

  startHost(host: string): Promise<void> {
    return this.host(host).start();
  }

  resetHost(host: string): Promise<void> {
    return this.host(host).reset();
  }

  async down(): Promise<void> {
    if (this.isDown) return;
    this.isDown = true;
    if (current === this) current = undefined;
    if (!this.locked) return;
    await this.relays?.close();
    await Promise.all([...this.runtimes.values()].map((h) => h.kill().catch(() => undefined)));
    await destroyHosts();
    await removeLabFiles(this.dir);
    await releaseLock();
    const left = await leftovers();
    if (left.length > 0) throw new Error(`lab teardown left ${left.join(", ")}`);
  }

  private host(name: string): HostRuntime {
    const h = this.runtimes.get(name);
    if (!h)
      throw new Error(`no host named '${name}' in this lab (hosts: ${[...this.runtimes.keys()].join(", ")})`);
    if (this.isDown) throw new Error("the lab is down");
    return h;
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      await fn(item).catch((err: unknown) => errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
