// Real "home hosts" on this machine for end-to-end tests, the demo and the benchmark: each host has its
// own sshd and its own Debian "Local only" Postfix, and SMTP relays that demand AUTH stand in for ISPs.
// Production code never imports this; see LAB.md in the project's shared notes for the recipe it implements.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { must, sleep } from "./exec.js";
import { INIT_NAME, LabHostRuntime, type StopMode } from "./host.js";
import {
  createBridge,
  destroyNetwork,
  hostAddressFor,
  LAB_SLOT,
  leftovers,
  MAX_HOSTS,
  PREFIX,
  relayAddressFor,
} from "./network.js";
import {
  makeCertificate,
  RelayLog,
  startRelays,
  type RelayCommand,
  type RelayMessage,
  type RelaySpec,
  type RunningRelays,
} from "./relays.js";
import { commandExists, prepareSystem, SUDO_USER } from "./system.js";

export type { RelayCommand, RelayMessage, RelaySpec } from "./relays.js";
export type { StopMode } from "./host.js";

export interface LabOptions {
  hosts: string[];
  relays: RelaySpec[];
  /** State dir (keys, per-host files); default <repo>/.lab. */
  dir?: string;
  /** Progress messages (package install, snapshot); default stderr. */
  log?: (msg: string) => void;
}

export interface LabHost {
  name: string;
  address: string;
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

/**
 * Relays for the SOHO_README scenarios (MISSION.md): the ISP on submission and on 465, the two
 * sender-dependent providers, and the translator's foo.bar.com. Demo, benchmark and tests share them.
 */
/**
 * What the relays accept. Not dictionary words (the CLI masks a secret value wherever it stands as a word
 * of its own in its output, so "password" would also mask that word in messages), and with a colon, a
 * `#` and inner spaces, which Postfix allows in the password part of sasl_passwd.
 */
export const LAB_PASSWORDS = {
  isp: "isp-Pa55:with#hash",
  exampleCom: "com pa55 w0rd",
  exampleNet: "net-S3cret",
  fooBar: "piyopiyo",
};

export const SOHO_RELAYS: RelaySpec[] = [
  {
    name: "isp",
    hostname: "mail.isp.example",
    port: 587,
    tls: "starttls",
    users: { username: LAB_PASSWORDS.isp },
  },
  {
    name: "isp-smtps",
    hostname: "smtps.isp.example",
    port: 465,
    tls: "implicit",
    users: { username: LAB_PASSWORDS.isp },
  },
  {
    name: "example-com",
    hostname: "mail.example.com",
    port: 587,
    tls: "starttls",
    users: { username2: LAB_PASSWORDS.exampleCom },
  },
  {
    name: "example-net",
    hostname: "mail.example.net",
    port: 25,
    tls: "starttls",
    users: { username2: LAB_PASSWORDS.exampleNet },
  },
  {
    name: "foo-bar",
    hostname: "foo.bar.com",
    port: 587,
    tls: "starttls",
    users: { hoge: LAB_PASSWORDS.fooBar },
  },
];

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_LAB_DIR = join(REPO_ROOT, ".lab");
/** Machine-wide: namespaces and the bridge are global, so only one lab may run at a time. */
const LOCK_FILE = `/run/provision-lab${LAB_SLOT === 0 ? "" : `-${LAB_SLOT}`}.lock`;
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$/;
/** Hosts booted at once; beyond this the machine's few CPUs only thrash. */
const BOOT_CONCURRENCY = 8;

/** Why a lab cannot run on this machine, or null when it can. Synchronous, so suites can decide up front. */
export function labUnavailableReason(): string | null {
  if (process.platform !== "linux") return `the lab needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "the lab needs root (network, mount and PID namespaces)";
  for (const cmd of ["ip", "unshare", "nsenter", "perl", "mount"]) {
    if (!commandExists(cmd)) return `the lab needs the '${cmd}' command (iproute2, util-linux, perl-base)`;
  }
  if (!commandExists("dpkg-query") || !commandExists("apt-get"))
    return "the lab needs a Debian-based machine (apt)";
  const probe = `${PREFIX}-probe-${process.pid}`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "pipe", timeout: 10_000 });
    execFileSync("ip", ["netns", "del", probe], { stdio: "pipe", timeout: 10_000 });
  } catch (err) {
    return `'ip netns add' does not work here: ${errorText(err)}`;
  }
  try {
    execFileSync(
      "unshare",
      ["-m", "-u", "-p", "--fork", "--mount-proc", "--propagation", "private", "true"],
      { stdio: "pipe", timeout: 10_000 },
    );
  } catch (err) {
    return `'unshare' cannot create mount/UTS/PID namespaces here: ${errorText(err)}`;
  }
  return null;
}

function errorText(err: unknown): string {
  const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr || (err instanceof Error ? err.message : String(err));
}

let current: LabImpl | undefined;

export async function startLab(opts: LabOptions): Promise<Lab> {
  validate(opts);
  const reason = labUnavailableReason();
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
  await destroyNetwork();
  await removeLabFiles(dir);
  await rm(LOCK_FILE, { force: true });
}

function validate(opts: LabOptions): void {
  if (opts.hosts.length === 0) throw new Error("a lab needs at least one host");
  if (opts.hosts.length > MAX_HOSTS) throw new Error(`at most ${MAX_HOSTS} hosts`);
  for (const h of opts.hosts) {
    if (!HOST_NAME.test(h)) throw new Error(`lab host name '${h}' must match ${HOST_NAME}`);
  }
  const dup = (xs: string[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  const dupHost = dup(opts.hosts);
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
  private readonly runtimes = new Map<string, LabHostRuntime>();
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
    return [...this.runtimes.values()].map((h) => ({ name: h.name, address: h.address }));
  }

  async up(): Promise<void> {
    await acquireLock(this.dir);
    this.locked = true;
    // Same names as a crashed earlier run: its namespaces, bridge and files would collide with ours.
    await destroyNetwork();
    await removeLabFiles(this.dir);
    const pristine = await prepareSystem(this.log);
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
      ...this.opts.hosts.map((h, i) => `${hostAddressFor(i)}\t${h}`),
    ];
    const ctx = { labDir: this.dir, pristine, authorizedKey, sharedHostsLines };
    this.opts.hosts.forEach((name, i) =>
      this.runtimes.set(name, new LabHostRuntime(name, i, hostAddressFor(i), ctx)),
    );
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
      const r = await h.run("tail -n 8 /var/log/mail.log 2>/dev/null", 5_000).catch(() => undefined);
      if (r?.stdout.trim())
        logs.push(
          `  --- ${h.name}:/var/log/mail.log`,
          ...r.stdout
            .trimEnd()
            .split("\n")
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
    await destroyNetwork();
    await removeLabFiles(this.dir);
    await releaseLock();
    const left = await leftovers();
    if (left.length > 0) throw new Error(`lab teardown left ${left.join(", ")}`);
  }

  private host(name: string): LabHostRuntime {
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

/** Files the lab writes into its dir; the dir itself goes only if nothing else was put there. */
async function removeLabFiles(dir: string): Promise<void> {
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

async function acquireLock(dir: string): Promise<void> {
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

async function releaseLock(): Promise<void> {
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
  }
  return [...(await leftovers()), ...inits];
}
