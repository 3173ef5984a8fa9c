// A systemd lab host: a Debian release booted with systemd as PID 1 in systemd-nspawn, in the lab
// network namespace of its name, with its release's own sshd (ssh.service) and "Local only" Postfix
// (postfix.service, or postfix@-.service on 11 and 12). Its root is an overlay: the cached tree of
// rootfs.ts below, the host's own changes above, so that a reset is a fresh upper layer and a boot.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { guestCgroups, isHybrid, removeCgroups } from "./cgroups.js";
import { CLEAN_ENV, exec, must, shq, waitFor, waitForExit, type ExecResult } from "./exec.js";
import type { HostContext } from "./host.js";
import {
  etcHosts,
  knownHostsLine,
  mustRun,
  renameInMainCf,
  waitForSsh,
  waitForSshClosed,
  type HostRuntime,
  type StopMode,
} from "./runtime.js";
import {
  createHostNetwork,
  innerPid,
  killNamespace,
  namespacePids,
  netnsName,
  setHostLink,
} from "./network.js";
import type { Rootfs } from "./rootfs.js";
import { SUDO_USER } from "./system.js";

export interface GuestContext extends Omit<HostContext, "pristine"> {
  rootfs: Rootfs;
}

/** Postfix's syslog facility is "mail" (2); the guests keep the release's logging, i.e. the journal. */
const MAIL_LOG = "journalctl --no-pager -q -o short SYSLOG_FACILITY=2";

export class SystemdGuest implements HostRuntime {
  /** systemd-nspawn, our child (the launcher shell execs it). */
  private nspawn: ChildProcess | undefined;
  /** The guest's systemd (PID 1 inside), as this machine sees it. */
  private leader = 0;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly address: string,
    private readonly ctx: GuestContext,
  ) {}

  get kind(): string {
    return `Debian ${this.ctx.rootfs.release} (systemd)`;
  }

  private get dir(): string {
    return join(this.ctx.labDir, "hosts", this.name);
  }

  async create(): Promise<void> {
    await createHostNetwork(this.name, this.index, this.address);
    await this.writeSeed();
    await this.boot();
  }

  knownHostsLine(): Promise<string> {
    return knownHostsLine(this.address, join(this.dir, "seed", "ssh_host_ed25519_key.pub"));
  }

  async mailLog(): Promise<string> {
    return (await this.run(MAIL_LOG, 10_000)).stdout;
  }

  /**
   * As root in the guest's namespaces, from the guest's own cgroup (outside its systemd's view, like
   * `nsenter` on a real machine), so that anything it starts by hand still belongs to the guest.
   */
  async run(command: string, timeoutMs = 120_000): Promise<ExecResult> {
    if (this.leader === 0) throw new Error(`lab host ${this.name} is not running`);
    const intoCgroups = guestCgroups(this.name)
      .map((c) => `echo $$ > ${shq(join(c, "cgroup.procs"))}`)
      .join("; ");
    const seconds = String(Math.ceil(timeoutMs / 1000));
    const enter = `${intoCgroups}; exec nsenter -t ${this.leader} -m -u -i -n -p -- timeout -k 2 ${seconds} sh -c "$0"`;
    return exec("sh", ["-c", enter, command], { timeoutMs: timeoutMs + 5_000 });
  }

  async stop(mode: StopMode): Promise<void> {
    if (mode === "unplug") {
      await setHostLink(this.index, false);
      return;
    }
    // The listener and every session, so that open connections break too, like a crashed daemon.
    await mustRun(
      this,
      "systemctl stop ssh.service; for p in sshd sshd-session sshd-auth; do pkill -9 -x $p || true; done",
    );
    await waitForSshClosed(this.name, this.address);
  }

  async start(): Promise<void> {
    await setHostLink(this.index, true);
    await mustRun(this, "systemctl start ssh.service");
    await waitForSsh(this.name, this.address);
  }

  async reset(): Promise<void> {
    await this.kill();
    await setHostLink(this.index, true);
    await this.boot();
  }

  async kill(): Promise<void> {
    // The guest's systemd goes first, which ends its whole PID namespace; nspawn then exits by itself.
    await killNamespace(netnsName(this.name));
    if (this.nspawn && !(await waitForExit(this.nspawn))) {
      this.nspawn.kill("SIGKILL");
      await waitForExit(this.nspawn);
    }
    this.nspawn = undefined;
    this.leader = 0;
    await removeCgroups(guestCgroups(this.name));
  }

  /** Files this host has of its own, copied over the fresh overlay at every boot. */
  private async writeSeed(): Promise<void> {
    const seed = join(this.dir, "seed");
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(seed, { recursive: true, mode: 0o700 });
    const { tree, installHostname } = this.ctx.rootfs;
    const file = (name: string, text: string, mode = 0o644) =>
      writeFile(join(seed, name), text).then(() => chmod(join(seed, name), mode));
    await file("hostname", `${this.name}\n`);
    await file("hosts", etcHosts(this.name, this.address, this.ctx.sharedHostsLines));
    // No resolver: lab hosts must never try to reach a real DNS server; names come from /etc/hosts.
    await file("resolv.conf", "# provision lab: no DNS; names are in /etc/hosts\n");
    // An installed machine has an ID of its own; without one systemd would treat each boot as the first.
    const id = (await must("sh", ["-c", "od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'"])).trim();
    await file("machine-id", `${id}\n`, 0o444);
    await file("authorized_keys", `${this.ctx.authorizedKey}\n`, 0o600);
    const mainCf = join(tree, "etc", "postfix", "main.cf");
    const text = await readFile(mainCf, "utf8");
    await file("main.cf", renameInMainCf(text, installHostname, this.name));
    // The install-time mtime: Postfix waits on a main.cf younger than a second (see host.ts).
    const installed = await stat(mainCf);
    await utimes(join(seed, "main.cf"), installed.atime, installed.mtime);
    await must("ssh-keygen", [
      ...["-q", "-t", "ed25519", "-N", "", "-C", `root@${this.name}`],
      ...["-f", join(seed, "ssh_host_ed25519_key")],
    ]);
  }

  /** The launcher: own cgroups, the overlay in a private mount namespace, this host's files, nspawn. */
  private bootScript(): string {
    const q = (p: string) => shq(join(this.dir, p));
    const { tree, deployUid, deployGid } = this.ctx.rootfs;
    for (const p of [tree, this.dir])
      if (/[,:\s]/.test(p)) throw new Error(`overlay paths must not contain , : or blanks: ${p}`);
    const deploy = `-o ${deployUid} -g ${deployGid}`;
    return [
      ...guestCgroups(this.name).map(
        (c) => `mkdir -p ${shq(c)} && echo $$ > ${shq(join(c, "cgroup.procs"))}`,
      ),
      `mount -t overlay overlay -o lowerdir=${tree},upperdir=${this.dir}/upper,workdir=${this.dir}/work ${q("root")}`,
      `cd ${q("seed")}`,
      `M=${q("root")}`,
      `cp -p hostname hosts resolv.conf machine-id "$M/etc/"`,
      `[ ! -e "$M/etc/mailname" ] || echo ${shq(this.name)} > "$M/etc/mailname"`,
      `cp -p main.cf "$M/etc/postfix/main.cf"`,
      `cp -p ssh_host_ed25519_key ssh_host_ed25519_key.pub "$M/etc/ssh/"`,
      `install -d -m 0700 "$M/root/.ssh" && install -m 0600 authorized_keys "$M/root/.ssh/"`,
      `install -d -m 0700 ${deploy} "$M/home/${SUDO_USER}/.ssh"`,
      `install -m 0600 ${deploy} authorized_keys "$M/home/${SUDO_USER}/.ssh/"`,
      [
        "exec systemd-nspawn --boot --quiet",
        `--directory="$M" --machine=${shq(this.name)} --hostname=${shq(this.name)}`,
        "--register=no --keep-unit --link-journal=no --resolv-conf=off --timezone=off",
        `--network-namespace-path=/run/netns/${netnsName(this.name)} --console=read-only`,
      ].join(" "),
    ].join("\n");
  }

  private async boot(): Promise<void> {
    await rm(join(this.dir, "upper"), { recursive: true, force: true });
    await rm(join(this.dir, "work"), { recursive: true, force: true });
    for (const d of ["upper", "work", "root"]) await mkdir(join(this.dir, d), { recursive: true });
    const consolePath = join(this.dir, "console.log");
    const fd = openSync(consolePath, "w");
    const env = { ...CLEAN_ENV, ...(isHybrid() ? { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" } : {}) };
    const args = ["-m", "--propagation", "private", "sh", "-euc", this.bootScript()];
    const child = spawn("unshare", args, { detached: true, stdio: ["ignore", fd, fd], env });
    closeSync(fd);
    child.on("error", () => undefined);
    child.unref();
    this.nspawn = child;
    const failed = async (what: string) => {
      const log = (await readFile(consolePath, "utf8").catch(() => "")).trim().split("\n").slice(-20);
      return new Error(`lab host ${this.name} (${this.kind}): ${what}\n${log.join("\n")}`);
    };
    this.leader = await waitFor(
      `systemd of lab host ${this.name}`,
      async () => {
        if (child.exitCode !== null) throw await failed(`systemd-nspawn exited ${child.exitCode}`);
        for (const pid of await namespacePids(netnsName(this.name))) {
          if ((await innerPid(pid)) !== 1) continue;
          if ((await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim() === "systemd") return pid;
        }
        return undefined;
      },
      20_000,
    );
    await waitForSsh(this.name, this.address, 60_000);
    // Ready means what a test expects of a machine that has booted: every unit up, Postfix running.
    const state = await this.run("systemctl is-system-running --wait", 90_000);
    const postfix = await this.run("postfix status", 10_000);
    if (state.stdout.trim() !== "running" || postfix.code !== 0) {
      const units = await this.run("systemctl --failed --no-legend --plain; postfix status", 10_000);
      throw await failed(`not ready: system ${state.stdout.trim()}; ${units.stdout}${units.stderr}`);
    }
  }
}
