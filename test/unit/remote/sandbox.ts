import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseRecords, type RemoteRecord } from "../../../src/remote/records.js";
import { LIBRARIES, remoteScript, type Library } from "../../../src/remote/script.js";

/**
 * A throw-away host for the unit tests of the remote shell (src/remote/*.sh): a temp directory standing
 * for /etc/postfix, the backup root and the lock file, and stub programs first on PATH that record
 * their calls, play a tiny Postfix (running or not, postmap makes an index) and fail when told to.
 * Scripts are assembled by the real wrapper (remoteScript) and run by a real dash or busybox sh.
 */

export interface Shell {
  name: string;
  argv: string[];
}

export const SHELLS: Shell[] = [
  { name: "dash", argv: ["dash", "-s"] },
  { name: "busybox sh", argv: ["busybox", "sh", "-s"] },
];

if (spawnSync("busybox", ["true"]).error) {
  throw new Error("busybox is not installed: the remote shell is tested under it (apt-get install busybox)");
}

/** Programs the stub stands in for. chown: the tests need not run as root. sleep: no waiting. */
const STUBBED = ["postconf", "postmap", "postfix", "systemctl", "chown", "sleep"];

const STUB = (dir: string) => `#!/bin/sh
name=\${0##*/}
printf '%s\\n' "$name $*" >> '${dir}/calls'
for told in "$name-$1" "$name"; do
  if [ -f '${dir}/fail/'"$told" ]; then cat '${dir}/fail/'"$told" >&2; exit 1; fi
done
if [ -f '${dir}/says/'"$name" ]; then sed "s|CONF|$2|" '${dir}/says/'"$name" >&2; fi
running='${dir}/running'
case "$name $1" in
  "postfix status") [ -f "$running" ] ;;
  "postfix start") if [ -f "$running" ]; then echo "postfix: fatal: the Postfix mail system is already running" >&2; exit 1; fi; : > "$running" ;;
  "postfix stop") rm -f "$running" ;;
  "postfix reload") if [ ! -f "$running" ]; then echo "postfix: fatal: the Postfix mail system is not running" >&2; exit 1; fi ;;
  "systemctl start" | "systemctl restart") : > "$running" ;;
  "postmap "*) : > "\${1#*:}.db" ;;
  "postconf -h") case $2 in mail_version) echo 3.7.11 ;; default_database_type) echo hash ;; esac ;;
  "postconf -m") printf 'btree\\nhash\\ntexthash\\n' ;;
  "postconf -n") printf 'relayhost = [mail.isp.example]\\n' ;;
esac
`;

export interface ShellRun {
  code: number | null;
  stdout: string;
  stderr: string;
  records: RemoteRecord[];
}

export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), "provision-shell-"));
  readonly postfixDir = join(this.root, "etc/postfix");
  readonly backupRoot = join(this.root, "backups");
  readonly runDir = join(this.root, "run/provision");
  readonly lockFile = join(this.runDir, "lock");
  readonly systemdDir = join(this.root, "run/systemd/system");
  private readonly stubs = join(this.root, "stubs");

  constructor() {
    for (const dir of [
      this.postfixDir,
      dirname(this.lockFile),
      join(this.stubs, "bin"),
      join(this.stubs, "fail"),
      join(this.stubs, "says"),
    ])
      mkdirSync(dir, { recursive: true });
    for (const name of STUBBED) {
      writeFileSync(join(this.stubs, "bin", name), STUB(this.stubs), { mode: 0o755 });
    }
    this.running(true);
  }

  /** The variables that point the libraries at this sandbox instead of the host's real places. */
  settings(): Record<string, string> {
    return {
      PATH: `${join(this.stubs, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin`,
      RUN_DIR: this.runDir,
      LOCK_FILE: this.lockFile,
      MAIL_LOG: join(this.root, "mail.log"),
      POSTFIX_DIR: this.postfixDir,
      PAUSE_MARK: join(this.root, "run/provision.paused"),
      BACKUP_ROOT: this.backupRoot,
      SYSTEMD_DIR: this.systemdDir,
      POSTFIX_INIT: join(this.root, "no-init-script"),
      RUN_ID: "run1",
    };
  }

  /** Run `body` after the prelude and libraries, as a remote script would. */
  run(shell: Shell, body: string[], settings: Record<string, string | number> = {}): ShellRun {
    const script = remoteScript({
      libraries: [...LIBRARIES] as Library[],
      settings: { ...this.settings(), ...settings },
      body,
    });
    const result = spawnSync(shell.argv[0]!, shell.argv.slice(1), {
      input: script,
      encoding: "utf8",
      timeout: 10_000,
    });
    return {
      code: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      records: parseRecords(result.stdout),
    };
  }

  /** A file under /etc/postfix of this sandbox; returns its full path. */
  file(name: string, content?: string, mode = 0o644): string {
    const path = join(this.postfixDir, name);
    if (content !== undefined) {
      writeFileSync(path, content);
      chmodSync(path, mode);
    }
    return path;
  }

  read(path: string): string | undefined {
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  }

  /** Make a stub fail with `message` on stderr: `postfix` for every call, `postfix-check` for one. */
  fail(program: string, message: string): void {
    writeFileSync(join(this.stubs, "fail", program), `${message}\n`);
  }

  /** Make a stub print `text` on stderr and succeed; CONF stands for its second argument (postconf -c CONF). */
  says(program: string, text: string): void {
    writeFileSync(join(this.stubs, "says", program), text);
  }

  /** A stub of another program: records its calls like the others, then runs `body` (sh). */
  program(name: string, body: string): void {
    const script = `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${this.stubs}/calls'\n${body}\n`;
    writeFileSync(join(this.stubs, "bin", name), script, { mode: 0o755 });
  }

  running(yes: boolean): void {
    if (yes) writeFileSync(join(this.stubs, "running"), "");
    else rmSync(join(this.stubs, "running"), { force: true });
  }

  isRunning(): boolean {
    return existsSync(join(this.stubs, "running"));
  }

  /** Calls of the stubbed programs, e.g. "postmap hash:/.../generic", optionally of one program. */
  calls(program?: string): string[] {
    const calls = (this.read(join(this.stubs, "calls")) ?? "").split("\n").filter((l) => l !== "");
    return program ? calls.filter((c) => c.startsWith(`${program} `)) : calls;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Records of one kind, as the engine reads them. */
export function recordsOf<K extends RemoteRecord["kind"]>(
  run: ShellRun,
  kind: K,
): Extract<RemoteRecord, { kind: K }>[] {
  return run.records.filter((r): r is Extract<RemoteRecord, { kind: K }> => r.kind === kind);
}
