// Machine-level preparation shared by every lab host: Debian packages, the sudo user, and the pristine
// "Local only" Postfix snapshot that every host (and every resetHost) starts from.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec, must, sh, shq } from "./exec.js";

export const REQUIRED_PACKAGES = [
  "openssh-server",
  "postfix",
  "libsasl2-modules",
  // lmdb tables: the default type on RHEL, openSUSE and Alpine; lets the tests switch types for real
  "postfix-lmdb",
  "sudo",
  "iproute2",
  "openssl",
];
export const SUDO_USER = "deploy";

/**
 * The snapshot lives outside the lab dir because it describes this machine's package install, not one lab:
 * it must survive `down()` and must be taken before anything could have touched /etc/postfix.
 */
const PRISTINE_ROOT = "/var/cache/provision-lab";

export interface Pristine {
  dir: string;
  /** myhostname the Debian postinst wrote into main.cf; each host replaces it with its own name. */
  installHostname: string;
  postfixVersion: string;
}

/** Packages from REQUIRED_PACKAGES that dpkg does not report as installed. */
export async function missingPackages(): Promise<string[]> {
  const r = await exec("dpkg-query", ["-W", "-f=${Package}\t${db:Status-Status}\n", ...REQUIRED_PACKAGES]);
  const installed = new Set(
    r.stdout
      .split("\n")
      .map((line) => line.split("\t"))
      .filter(([, status]) => status === "installed")
      .map(([name]) => name?.replace(/:.*$/, "")),
  );
  return REQUIRED_PACKAGES.filter((p) => !installed.has(p));
}

/** Installs what is missing; returns true when it installed anything (then the snapshot must be fresh). */
async function installPackages(log: (msg: string) => void): Promise<boolean> {
  const missing = await missingPackages();
  if (missing.length === 0) return false;
  log(`installing ${missing.join(" ")} (apt-get)`);
  // Preseeding keeps the install non-interactive and gives exactly Debian's "Local only" main.cf.
  await must("debconf-set-selections", [], {
    input: "postfix postfix/main_mailer_type select Local only\n",
  });
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await must("apt-get", ["update", "-q"], { env, timeoutMs: 600_000 });
  await must("apt-get", ["install", "-y", "-q", ...REQUIRED_PACKAGES], { env, timeoutMs: 900_000 });
  return true;
}

/** A non-root login with passwordless sudo, so tests can exercise `become`. Idempotent. */
async function ensureSudoUser(): Promise<void> {
  await sh(`
    id -u ${SUDO_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${SUDO_USER}
    # Hosts bind-mount their own home over this path, so it must exist even for a user made elsewhere.
    [ "$(getent passwd ${SUDO_USER} | cut -d: -f6)" = /home/${SUDO_USER} ] || usermod -d /home/${SUDO_USER} ${SUDO_USER}
    mkdir -p /home/${SUDO_USER}
    # A "!" (locked) password makes some sshd configurations refuse even key logins; "*" never matches a
    # password but is not locked.
    [ "$(getent shadow ${SUDO_USER} | cut -d: -f2)" = "*" ] || usermod -p '*' ${SUDO_USER}
    # Per process: two labs (slots) may prepare the machine at once. sudo ignores names with a dot.
    f=/etc/sudoers.d/provision-lab-${SUDO_USER}
    printf '%s\\n' '${SUDO_USER} ALL=(ALL:ALL) NOPASSWD: ALL' > "$f.tmp.$$"
    chmod 0440 "$f.tmp.$$"
    visudo -cqf "$f.tmp.$$"
    mv "$f.tmp.$$" "$f"
  `);
}

async function postfixVersion(): Promise<string> {
  return (await must("dpkg-query", ["-W", "-f=${Version}", "postfix"])).trim();
}

/**
 * Copies the real Postfix state into the cache. Only safe right after the package install, or when the
 * real config is still untouched "Local only" (the lab itself never writes the real /etc/postfix).
 */
async function takeSnapshot(version: string, freshInstall: boolean): Promise<void> {
  if (!freshInstall) {
    const check = await exec("postconf", ["-h", "default_transport", "relay_transport", "relayhost"]);
    if (check.code !== 0 || check.stdout.split("\n").slice(0, 3).join(",") !== "error,error,") {
      throw new Error(
        "the lab needs a pristine Debian 'Local only' /etc/postfix to copy, but this machine's Postfix is " +
          `already configured (default_transport, relay_transport, relayhost = ${check.stdout.trim()}). ` +
          `Reinstall it: echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections; ` +
          "apt-get purge -y postfix; then run the lab again.",
      );
    }
  }
  const final = join(PRISTINE_ROOT, "pristine");
  const tmp = `${final}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await sh(`
    cd ${shq(tmp)}
    cp -a /etc/postfix etc-postfix
    cp -a /var/spool/postfix spool
    cp -a /var/lib/postfix lib-postfix
    for f in aliases aliases.db; do [ ! -e /etc/$f ] || cp -a /etc/$f $f; done
    # A queue left over from an earlier real run of this machine's Postfix is not part of a fresh install.
    find spool -mindepth 2 -type f -delete
    rm -f spool/pid/*.pid lib-postfix/master.lock
  `);
  const installHostname = (
    await must("postconf", ["-c", join(tmp, "etc-postfix"), "-h", "myhostname"])
  ).trim();
  await writeFile(join(tmp, "meta.json"), JSON.stringify({ installHostname, postfixVersion: version }));
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
}

async function readPristine(): Promise<Pristine | undefined> {
  const dir = join(PRISTINE_ROOT, "pristine");
  try {
    const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as Omit<Pristine, "dir">;
    return { dir, ...meta };
  } catch {
    return undefined;
  }
}

/** Everything the machine needs before hosts can start. Cheap when already done (a few dpkg-query calls). */
export async function prepareSystem(log: (msg: string) => void): Promise<Pristine> {
  const freshInstall = await installPackages(log);
  await ensureSudoUser();
  const version = await postfixVersion();
  let pristine = await readPristine();
  if (freshInstall || pristine?.postfixVersion !== version) {
    log(`snapshotting pristine Postfix ${version} state into ${PRISTINE_ROOT}`);
    await takeSnapshot(version, freshInstall);
    pristine = await readPristine();
    if (!pristine) throw new Error(`pristine snapshot in ${PRISTINE_ROOT} is unreadable`);
  }
  // Each host bind-mounts its own /etc/mailname, which needs a file to mount over. The snapshot above
  // was taken first, so the placeholder never becomes part of a host's pristine state.
  if (!existsSync("/etc/mailname")) await writeFile("/etc/mailname", "");
  return pristine;
}

/** Synchronous probe for labUnavailableReason(): is a command on PATH? */
export function commandExists(name: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(join(d, name)));
}
