import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LAB_PASSWORDS,
  labUnavailableReason,
  RELEASES,
  SOHO_RELAYS,
  startLab,
  type Lab,
  type RelaySpec,
  type Release,
} from "../lab/lab.js";
import {
  LAB_ENV,
  labHome,
  REPO,
  writeLabInventory,
  writeLabPlaybook,
  type InventoryOptions,
} from "../lab/workspace.js";

export { LAB_PLAY, REPO } from "../lab/workspace.js";

/**
 * Shared by the end-to-end suites: one lab per suite, the real CLI run as a child process (exactly as
 * a user runs it), and helpers that read the truth off the host.
 */

const BIN = join(REPO, "bin", "provision.js");

/** Secrets the playbooks read, as the lab relays accept them; the tests also assert they never leak. */
export const PASSWORDS: Record<string, string> = {
  ...LAB_ENV,
  EXAMPLE_NET_PASSWORD: LAB_PASSWORDS.exampleNet,
};

/** A kind of lab host a suite runs on; `title` goes into the suite's title. */
export interface LabTarget {
  title: string;
  /** A Debian release booted with systemd; none: the namespace host (Debian 12, init script). */
  release?: Release;
}

const ALL_TARGETS: LabTarget[] = [
  { title: "Debian 12 (namespace host)" },
  ...RELEASES.map((release) => ({ title: `Debian ${release} (systemd)`, release })),
];

/**
 * The host kinds the release-sensitive suites run on, each suite body written once: all of them, or
 * those named in PROVISION_LAB_RELEASES (e.g. "namespace,13") to iterate faster on one.
 */
export function labTargets(): LabTarget[] {
  const wanted = process.env.PROVISION_LAB_RELEASES?.split(",").map((s) => s.trim());
  if (!wanted) return ALL_TARGETS;
  const unknown = wanted.filter((w) => w !== "namespace" && !(RELEASES as readonly string[]).includes(w));
  if (unknown.length > 0)
    throw new Error(
      `PROVISION_LAB_RELEASES: unknown ${unknown.join(", ")} (namespace, ${RELEASES.join(", ")})`,
    );
  return ALL_TARGETS.filter((t) => wanted.includes(t.release ?? "namespace"));
}

/**
 * Start a lab for a suite (hosts of the target's kind; default the namespace host), or skip the suite
 * loudly where no lab can run. Under CI a missing lab is a failure, never a skip: CI must prove the
 * end-to-end claims. `relays`: the SOHO relays, or a suite's own (e.g. those plus a relay that misbehaves).
 */
export function useLab(
  hosts: string[],
  target: LabTarget = ALL_TARGETS[0]!,
  relays: RelaySpec[] = SOHO_RELAYS,
): { lab: () => Lab; work: string } {
  let lab: Lab | undefined;
  const work = mkdtempSync(join(tmpdir(), "provision-e2e-"));
  before(async function () {
    this.timeout(600_000);
    const reason = labUnavailableReason(target.release !== undefined);
    if (reason) {
      if (process.env.CI === "true") throw new Error(`end-to-end lab cannot run under CI: ${reason}`);
      console.error(`\n  *** SKIPPING END-TO-END TESTS: ${reason} ***\n`);
      this.skip();
    }
    const release = target.release;
    lab = await startLab({
      hosts: hosts.map((name) => (release ? { name, release } : name)),
      relays,
      log: () => undefined,
    });
    labHome(work);
  });
  after(async function () {
    this.timeout(120_000);
    await lab?.down();
  });
  return {
    lab: () => {
      if (!lab) throw new Error("lab not started");
      return lab;
    },
    work,
  };
}

/** An inventory of the given lab hosts in group `home` (see test/lab/workspace.ts). */
export const writeInventory = (lab: Lab, file: string, hosts: string[], options: InventoryOptions = {}) =>
  writeLabInventory(lab, file, hosts, options);

/** A playbook from the repository's playbooks/ plus the lab play, written to `file`. */
export const labPlaybook = writeLabPlaybook;

/**
 * site.yaml plus a listen address no lab host has (198.18.255.254): Postfix cannot start its master
 * with it, so an apply of this playbook fails at postfix check or the restart and must roll back.
 */
export const brokenPlaybook = (file: string) =>
  writeLabPlaybook(
    file,
    "site.yaml",
    `
- name: listen on an address this host does not have
  hosts: home
  postfix:
    main:
      inet_interfaces: 198.18.255.254
`,
  );

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real CLI (bin/provision.js, built by `npm run build`) as a user would. */
export function provision(
  args: string[],
  work: string,
  env: Record<string, string> = PASSWORDS,
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: work,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(work, "home"), NO_COLOR: "1", ...env },
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Run on a lab host as root (not through the tool) and insist that it worked. */
export async function onHost(lab: Lab, host: string, command: string): Promise<string> {
  const result = await lab.run(host, command);
  if (result.code !== 0) throw new Error(`${host}: ${command} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Everything about /etc/postfix that an unwanted change would touch: content hash, mode, owner, mtime of
 * every file, plus the Postfix master process and its start time (a reload re-reads the config but a
 * restart changes the PID; we record both and the config files' ctime).
 */
export async function hostSnapshot(lab: Lab, host: string): Promise<string> {
  return onHost(
    lab,
    host,
    `cd /etc/postfix && find . -type f | sort | while read -r f; do
       printf '%s %s %s\\n' "$f" "$(sha256sum < "$f" | cut -c1-16)" "$(stat -c '%a %U:%G %.9Y %.9Z' "$f")"
     done
     printf 'master %s\\n' "$(cat /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d ' ')"
     pid=$(cat /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d ' ')
     [ -n "$pid" ] && printf 'master-start %s\\n' "$(ps -o lstart= -p "$pid")"
     true`,
  );
}

/** Postfix's own view: `postconf -h NAME` on the host. */
export async function postconf(lab: Lab, host: string, name: string): Promise<string> {
  return (await onHost(lab, host, `postconf -h ${name}`)).trim();
}

/** `stat -c '%a %U:%G'` of a file on the host. */
export async function modeOwner(lab: Lab, host: string, path: string): Promise<string> {
  return (await onHost(lab, host, `stat -c '%a %U:%G' ${path}`)).trim();
}

/** Inject a message on the host, as cron/logwatch would. */
export async function sendMail(
  lab: Lab,
  host: string,
  from: string,
  to: string,
  subject: string,
): Promise<void> {
  await onHost(
    lab,
    host,
    `printf 'Subject: %s\\n\\nhello from the lab\\n' '${subject}' | /usr/sbin/sendmail -f '${from}' '${to}'`,
  );
}

/** How many times the master logged a reload (reload keeps the PID, so count log lines instead). */
export async function reloadCount(lab: Lab, host: string): Promise<number> {
  return (await lab.mailLog(host)).split("\n").filter((l) => l.includes("reload -- version")).length;
}
