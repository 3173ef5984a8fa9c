// One lab host: a network namespace (see network.ts) plus private mount, UTS and PID namespaces in which
// per-host copies of the Postfix/SSH state are bind-mounted over the real paths. Its own sshd and its
// own Postfix run inside, so every SSH session sees only that host's files, name and processes.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync } from "node:fs";
import { readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLEAN_ENV, exec, sh, shq, waitFor, waitForExit, type ExecResult } from "./exec.js";
import {
  createHostNetwork,
  innerPid,
  killNamespace,
  namespacePids,
  netnsName,
  PREFIX,
  setHostLink,
} from "./network.js";
import {
  etcHosts,
  knownHostsLine,
  mustRun,
  renameInMainCf,
  SSHD_LAB_SETTINGS,
  waitForSsh,
  waitForSshClosed,
  type HostRuntime,
  type StopMode,
} from "./runtime.js";
import { SUDO_USER, type Pristine } from "./system.js";

/**
 * PID 1 of each host's PID namespace. It must reap: Postfix's master daemonizes, so when it exits it is
 * reparented to this init, and on machines whose real PID 1 does not reap orphans (this one) an init
 * that only sleeps would collect zombies. Perl is Essential in Debian, so it is always there.
 */
/** Per lab slot, so that one lab never mistakes the other's hosts for its own. */
export const INIT_NAME = `${PREFIX}-init`;
const INIT_PROGRAM = `$0 = "${INIT_NAME}"; while (1) { sleep 1 if waitpid(-1, 0) < 0 }`;

const SSHD_START = `/usr/sbin/sshd -E /var/log/sshd.log`;
const SSHD_RUNNING = `[ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null`;

export interface HostContext {
  labDir: string;
  pristine: Pristine;
  /** Public key line that root and the sudo user accept. */
  authorizedKey: string;
  /** /etc/hosts lines shared by every host: relay names and the other lab hosts. */
  sharedHostsLines: string[];
}

export class LabHostRuntime implements HostRuntime {
  readonly kind = "Debian 12 (namespace host)";

  /** The `unshare` process (our child) whose child is the host's PID-namespace init. */
  private anchor: ChildProcess | undefined;
  private initPid = 0;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly address: string,
    private readonly ctx: HostContext,
  ) {}

  get ns(): string {
    return netnsName(this.name);
  }

  get dir(): string {
    return join(this.ctx.labDir, "hosts", this.name);
  }

  async create(): Promise<void> {
    await createHostNetwork(this.name, this.index, this.address);
    await this.writeFiles(false);
    await this.boot();
  }

  knownHostsLine(): Promise<string> {
    return knownHostsLine(this.address, join(this.dir, "ssh", "ssh_host_ed25519_key.pub"));
  }

  async mailLog(): Promise<string> {
    return (await this.run("cat /var/log/mail.log 2>/dev/null || true", 10_000)).stdout;
  }

  /** As root inside the host's namespaces. */
  async run(command: string, timeoutMs = 120_000): Promise<ExecResult> {
    if (this.initPid === 0) throw new Error(`lab host ${this.name} is not running`);
    // `timeout` runs inside the host so that the command itself dies on the deadline, not only nsenter.
    const seconds = String(Math.ceil(timeoutMs / 1000));
    return exec("nsenter", [...this.nsenterArgs(), "timeout", "-k", "2", seconds, "sh", "-c", command], {
      timeoutMs: timeoutMs + 5_000,
    });
  }

  async stop(mode: StopMode): Promise<void> {
    if (mode === "unplug") {
      await setHostLink(this.index, false);
      return;
    }
    // Kill the listener and every session so existing connections break too, like a crashed daemon.
    await mustRun(
      this,
      `
      for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = sshd ] && kill -9 "\${p#/proc/}" 2>/dev/null || true
      done
      rm -f /run/sshd.pid`,
    );
    await waitForSshClosed(this.name, this.address);
  }

  async start(): Promise<void> {
    await setHostLink(this.index, true);
    await mustRun(this, `${SSHD_RUNNING} || ${SSHD_START}`);
    await waitForSsh(this.name, this.address);
  }

  /** Everything killed, all state re-copied, booted again. */
  async reset(): Promise<void> {
    await this.kill();
    await setHostLink(this.index, true);
    await this.writeFiles(true);
    await this.boot();
  }

  async kill(): Promise<void> {
    await killNamespace(this.ns);
    // unshare exits once it has reaped the init; waiting keeps it from lingering as a zombie.
    if (this.anchor) await waitForExit(this.anchor);
    this.anchor = undefined;
    this.initPid = 0;
  }

  private nsenterArgs(): string[] {
    // -p forks, so the command and its children live in the host's PID namespace.
    return ["-t", String(this.initPid), "-m", "-u", "-n", "-p", "--"];
  }

  private async boot(): Promise<void> {
    await this.spawnInit();
    await mustRun(
      this,
      `
      ${this.mountScript()}
      hostname ${shq(this.name)}
      ${SSHD_START}
      # Debian's init script does exactly this: refresh the chroot (it copies /etc/hosts), then start.
      /usr/lib/postfix/configure-instance.sh -
      postfix start 2>/dev/null`,
    );
    await waitForSsh(this.name, this.address);
  }

  /** Starts `ip netns exec NS unshare ... perl` and waits for the init inside to be running. */
  private async spawnInit(): Promise<void> {
    const args = ["netns", "exec", this.ns, "unshare", "-m", "-u", "-p", "--fork", "--kill-child"];
    args.push("--mount-proc", "--propagation", "private", "perl", "-e", INIT_PROGRAM);
    // The init outlives us, so its stderr goes to a file rather than a pipe we would have to drain.
    const logPath = join(this.dir, "init.log");
    const logFd = openSync(logPath, "w");
    const child = spawn("ip", args, { detached: true, stdio: ["ignore", "ignore", logFd], env: CLEAN_ENV });
    closeSync(logFd);
    child.on("error", () => undefined);
    child.unref();
    this.anchor = child;
    this.initPid = await waitFor(
      `the init of lab host ${this.name}`,
      async () => {
        if (child.exitCode !== null) {
          const log = await readFile(logPath, "utf8").catch(() => "");
          throw new Error(`unshare for lab host ${this.name} exited ${child.exitCode}: ${log.trim()}`);
        }
        for (const pid of await namespacePids(this.ns)) {
          if ((await innerPid(pid)) !== 1) continue;
          const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
          if (cmdline.startsWith(INIT_NAME)) return pid;
        }
        return undefined;
      },
      10_000,
      20,
    );
  }

  /**
   * Bind mounts making the host's copies appear at the real paths. /tmp and /run come last: a lab dir
   * under either would otherwise be hidden before its other bind sources were mounted.
   */
  private mountScript(): string {
    const h = (p: string) => shq(join(this.dir, p));
    const lines = [
      `mount --bind ${h("etc-postfix")} /etc/postfix`,
      `mount --bind ${h("spool")} /var/spool/postfix`,
      `mount --bind ${h("lib-postfix")} /var/lib/postfix`,
      `mount --bind ${h("log")} /var/log`,
      `mount --bind ${h("mail")} /var/mail`,
      `mount --bind ${h("ssh")} /etc/ssh`,
      `mount --bind ${h("root")} /root`,
      `mount --bind ${h("home-deploy")} /home/${SUDO_USER}`,
    ];
    for (const f of this.boundEtcFiles()) lines.push(`mount --bind ${h(`files/${f}`)} /etc/${f}`);
    // provision keeps backup sets (with passwords) in /var/backups: each host its own, gone with the lab.
    lines.push(`mount --bind ${h("var-tmp")} /var/tmp`, `mount --bind ${h("backups")} /var/backups`);
    lines.push(`mount --bind ${h("tmp")} /tmp`);
    // A private /run: own sshd.pid and sudo timestamps, and no view of the machine's systemd, so that
    // `service postfix ...` uses the init script inside the host instead of asking the real systemd.
    lines.push(`mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m lab-run /run`);
    lines.push(`mkdir -m 0755 /run/sshd && mkdir -m 1777 /run/lock`);
    return lines.join("\n");
  }

  /** /etc files with a per-host copy. Only regular files can be bind-mounted over (not symlinks). */
  private boundEtcFiles(): string[] {
    const candidates = ["hosts", "hostname", "mailname", "resolv.conf", "aliases", "aliases.db"];
    return candidates.filter((f) => {
      try {
        return lstatSync(`/etc/${f}`).isFile() && existsSync(join(this.dir, "files", f));
      } catch {
        return false;
      }
    });
  }

  /** (Re)creates the host's copies of everything it owns. Called only while none of its processes run. */
  private async writeFiles(keepSsh: boolean): Promise<void> {
    const { pristine, authorizedKey } = this.ctx;
    const newSsh = !keepSsh || !existsSync(join(this.dir, "ssh", "ssh_host_ed25519_key"));
    await sh(`
      mkdir -p ${shq(this.dir)} && cd ${shq(this.dir)}
      rm -rf etc-postfix spool lib-postfix log mail root home-deploy tmp var-tmp backups files init.log ${newSsh ? "ssh" : ""}
      P=${shq(pristine.dir)}
      cp -a "$P/etc-postfix" etc-postfix
      cp -a "$P/spool" spool
      cp -a "$P/lib-postfix" lib-postfix
      mkdir -m 0755 log files
      install -d -m 2775 -o root -g mail mail
      install -d -m 1777 tmp var-tmp
      install -d -m 0755 backups
      for f in aliases aliases.db; do [ ! -e "$P/$f" ] || cp -a "$P/$f" files/$f; done
      key=${shq(authorizedKey)}
      install -d -m 0700 root root/.ssh
      cp -a /etc/skel/. root/
      printf '%s\\n' "$key" > root/.ssh/authorized_keys && chmod 0600 root/.ssh/authorized_keys
      install -d -m 0755 home-deploy && install -d -m 0700 home-deploy/.ssh
      cp -a /etc/skel/. home-deploy/
      printf '%s\\n' "$key" > home-deploy/.ssh/authorized_keys && chmod 0600 home-deploy/.ssh/authorized_keys
      chown -R ${SUDO_USER}:${SUDO_USER} home-deploy
      ${newSsh ? this.sshSetupScript() : ""}
    `);
    await this.writeEtcFiles();
  }

  /** A copy of the machine's /etc/ssh with the host keys replaced by one ed25519 key of this host's own. */
  private sshSetupScript(): string {
    const dropIn = [
      "# provision lab host: listen only on the lab address; keys only",
      `ListenAddress ${this.address}:22`,
      ...SSHD_LAB_SETTINGS,
    ].join("\n");
    return `
      mkdir ssh && cp -a /etc/ssh/. ssh/ && rm -f ssh/ssh_host_*
      ssh-keygen -q -t ed25519 -N '' -C root@${shq(this.name)} -f ssh/ssh_host_ed25519_key
      mkdir -p ssh/sshd_config.d
      printf '%s\\n' ${shq(dropIn)} > ssh/sshd_config.d/00-provision-lab.conf`;
  }

  private async writeEtcFiles(): Promise<void> {
    const files = join(this.dir, "files");
    await writeFile(join(files, "hosts"), etcHosts(this.name, this.address, this.ctx.sharedHostsLines));
    await writeFile(join(files, "hostname"), `${this.name}\n`);
    // Debian writes the system mail name here; a host has its own.
    await writeFile(join(files, "mailname"), `${this.name}\n`);
    // No resolver: lab hosts must never try to reach a real DNS server; names come from /etc/hosts.
    await writeFile(join(files, "resolv.conf"), "# provision lab: no DNS; names are in /etc/hosts\n");
    const mainCf = join(this.dir, "etc-postfix", "main.cf");
    const installed = await stat(mainCf);
    const text = await readFile(mainCf, "utf8");
    await writeFile(mainCf, hostMainCf(text, this.ctx.pristine.installHostname, this.name));
    // Keep the install-time mtime: Postfix rereads a main.cf changed within the last second until it
    // is "stable", which cost every host boot 1.5 s.
    await utimes(mainCf, installed.atime, installed.mtime);
  }
}

/** The namespace host's main.cf: renamed, plus a log file since there is no syslog. */
export function hostMainCf(text: string, installHostname: string, name: string): string {
  const body = renameInMainCf(text, installHostname, name).replace(/\n*$/, "\n");
  return `${body}\n# provision lab: there is no syslog on lab hosts\nmaillog_file = /var/log/mail.log\n`;
}
