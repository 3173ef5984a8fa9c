// Root filesystems for systemd lab hosts: a Debian release as `mmdebstrap` installs it from the
// archive this machine already uses, with the release's own sshd and "Local only" Postfix. Built once per
// release and recipe, cached, and never written to afterwards: every guest boots it as the lower layer
// of an overlay of its own.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec, must, shq } from "./exec.js";
import { SSHD_LAB_SETTINGS } from "./runtime.js";
import { SUDO_USER } from "./system.js";

export const RELEASES = ["13", "12", "11"] as const;
export type Release = (typeof RELEASES)[number];
const SUITES: Record<Release, string> = { "13": "trixie", "12": "bookworm", "11": "bullseye" };

export function isRelease(value: string): value is Release {
  return (RELEASES as readonly string[]).includes(value);
}

/** What a home machine has, plus sudo for `become` and postfix-lmdb for the table-type tests. */
const GUEST_PACKAGES = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "libpam-systemd",
  "openssh-server",
  "postfix",
  "postfix-lmdb",
  "libsasl2-modules",
  "iproute2",
  "procps",
  "sudo",
];

/** The lab's sshd settings (as on namespace hosts) as a drop-in of the tree. */
const SSHD_DROP_IN = ["# provision lab host: keys only, one host key of its own", ...SSHD_LAB_SETTINGS].join(
  "\n",
);

const CACHE_ROOT = "/var/cache/provision-lab/rootfs";

export interface Rootfs {
  release: Release;
  /** The tree to boot (read-only lower layer). */
  tree: string;
  /** The name the build ran under; Postfix's postinst wrote it into main.cf, each guest replaces it. */
  installHostname: string;
  postfixVersion: string;
  deployUid: number;
  deployGid: number;
}

export interface Mirrors {
  archive: string;
  security?: string;
}

/**
 * The Debian archive (and security archive) this machine's apt uses: read at run time, so the lab
 * works wherever the machine's own package installs work.
 */
export async function aptMirrors(): Promise<Mirrors> {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) {
    for (const f of (await readdir(dir)).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  }
  const uris: string[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (file.endsWith(".sources")) {
      for (const stanza of text.split(/\n\s*\n/)) {
        if (/^Enabled:\s*no/im.test(stanza) || !/^Types:.*\bdeb\b/im.test(stanza)) continue;
        uris.push(...(/^URIs:\s*(.+)$/im.exec(stanza)?.[1]?.trim().split(/\s+/) ?? []));
      }
    } else {
      for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) uris.push(m[1]!);
    }
  }
  const trim = (u: string) => u.replace(/\/+$/, "");
  const archive = uris.map(trim).find((u) => /^https?:\/\/.*\/debian$/.test(u));
  const security = uris.map(trim).find((u) => /^https?:\/\/.*\/debian-security$/.test(u));
  if (!archive)
    throw new Error(
      `no Debian archive (a URI ending in /debian) in this machine's apt sources (${files.join(", ")})`,
    );
  return { archive, ...(security ? { security } : {}) };
}

/** The build recipe, hashed into the cache key: a changed recipe builds a new tree. */
function recipe(release: Release, mirrors: Mirrors) {
  const suite = SUITES[release];
  const hostname = `lab-${suite}`;
  const essentialHook = [
    // Debian's "Local only" answers, and a hosts file so that postinst sees the build's own name.
    `printf '%s\\n' ${shq(`postfix postfix/main_mailer_type select Local only`)} ${shq(`postfix postfix/mailname string ${hostname}`)} | chroot "$1" debconf-set-selections`,
    `printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t%s.localdomain %s\\n' ${hostname} ${hostname} > "$1/etc/hosts"`,
    `echo ${hostname} > "$1/etc/hostname"`,
  ].join("\n");
  const customizeHook = [
    `chroot "$1" useradd --create-home --shell /bin/bash ${SUDO_USER}`,
    // "*" never matches a password but, unlike "!", does not lock key logins either.
    `chroot "$1" usermod -p '*' ${SUDO_USER}`,
    `echo '${SUDO_USER} ALL=(ALL:ALL) NOPASSWD: ALL' > "$1/etc/sudoers.d/provision-lab-${SUDO_USER}"`,
    `chmod 0440 "$1/etc/sudoers.d/provision-lab-${SUDO_USER}"`,
    // Each guest gets host keys, a machine-id and a resolv.conf of its own when it boots.
    `rm -f "$1"/etc/ssh/ssh_host_* "$1/etc/resolv.conf"`,
    `: > "$1/etc/machine-id"`,
    `printf '%s\\n' ${shq(SSHD_DROP_IN)} > "$1/etc/ssh/sshd_config.d/00-provision-lab.conf"`,
  ].join("\n");
  const sources = [`deb ${mirrors.archive} ${suite} main`, `deb ${mirrors.archive} ${suite}-updates main`];
  if (mirrors.security) sources.push(`deb ${mirrors.security} ${suite}-security main`);
  const args = [
    "--variant=important",
    `--include=${GUEST_PACKAGES.join(",")}`,
    `--essential-hook=${essentialHook}`,
    `--customize-hook=${customizeHook}`,
  ];
  return { suite, hostname, args, sources };
}

/** The cached tree for a release, built first when missing (about a minute and 270 MB per release). */
export async function ensureRootfs(release: Release, log: (msg: string) => void): Promise<Rootfs> {
  const mirrors = await aptMirrors();
  const r = recipe(release, mirrors);
  const key = createHash("sha256")
    .update(JSON.stringify({ ...r, packages: GUEST_PACKAGES }))
    .digest("hex")
    .slice(0, 12);
  const final = join(CACHE_ROOT, `${r.suite}-${key}`);
  if (!existsSync(join(final, "meta.json"))) {
    await removeOutdated(r.suite);
    const started = Date.now();
    log(`building the Debian ${release} (${r.suite}) root filesystem with mmdebstrap into ${final}`);
    await build(r, final);
    log(`built Debian ${release} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const meta = JSON.parse(await readFile(join(final, "meta.json"), "utf8")) as Omit<Rootfs, "tree">;
  return { ...meta, tree: join(final, "tree") };
}

async function build(r: ReturnType<typeof recipe>, final: string): Promise<void> {
  const tmp = `${final}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const tree = join(tmp, "tree");
  // A UTS namespace of its own: the postinst scripts see the build's name, not this machine's.
  const result = await exec(
    "unshare",
    [
      "--uts",
      "sh",
      "-c",
      'hostname "$0" && exec mmdebstrap "$@"',
      r.hostname,
      ...r.args,
      r.suite,
      tree,
      ...r.sources,
    ],
    { timeoutMs: 1_200_000 },
  );
  await writeFile(join(tmp, "build.log"), result.stdout + result.stderr);
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-15).join("\n");
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`mmdebstrap for ${r.suite} exited ${result.code}:\n${tail}`);
  }
  const version = await must("chroot", [tree, "dpkg-query", "-W", "-f=${Version}", "postfix"]);
  const passwd = await readFile(join(tree, "etc", "passwd"), "utf8");
  const deploy = passwd
    .split("\n")
    .find((l) => l.startsWith(`${SUDO_USER}:`))
    ?.split(":");
  if (!deploy) throw new Error(`the ${r.suite} tree has no user ${SUDO_USER}`);
  const meta: Omit<Rootfs, "tree"> = {
    release: (Object.keys(SUITES) as Release[]).find((k) => SUITES[k] === r.suite)!,
    installHostname: r.hostname,
    postfixVersion: version.trim(),
    deployUid: Number(deploy[2]),
    deployGid: Number(deploy[3]),
  };
  await writeFile(join(tmp, "meta.json"), JSON.stringify(meta));
  await rename(tmp, final);
}

/** Trees of an older recipe for this suite, and builds abandoned by a process that is gone. */
async function removeOutdated(suite: string): Promise<void> {
  if (!existsSync(CACHE_ROOT)) return;
  for (const entry of await readdir(CACHE_ROOT)) {
    if (!entry.startsWith(`${suite}-`)) continue;
    const pid = /\.tmp-(\d+)$/.exec(entry)?.[1];
    if (pid && existsSync(`/proc/${pid}`)) continue;
    await rm(join(CACHE_ROOT, entry), { recursive: true, force: true });
  }
}
