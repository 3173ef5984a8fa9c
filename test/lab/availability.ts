// Can a lab run on this machine? Asked up front (synchronously) so that suites can skip loudly, or fail
// under CI, before starting anything.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cgroupUnavailableReason } from "./cgroups.js";
import { PREFIX } from "./network.js";
import { commandExists } from "./system.js";

/**
 * Why a lab (with systemd hosts, when `systemd` is true) cannot run on this machine, or null when it can.
 * Synchronous, so suites can decide up front.
 */
export function labUnavailableReason(systemd = false): string | null {
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
  return systemd ? systemdUnavailableReason() : null;
}

function systemdUnavailableReason(): string | null {
  for (const [cmd, pkg] of [
    ["systemd-nspawn", "systemd-container"],
    ["mmdebstrap", "mmdebstrap"],
  ] as const) {
    if (!commandExists(cmd)) return `systemd lab hosts need '${cmd}' (apt-get install ${pkg})`;
  }
  if (!readFileSync("/proc/filesystems", "utf8").includes("\toverlay\n"))
    return "systemd lab hosts need overlayfs (modprobe overlay)";
  return cgroupUnavailableReason();
}

function errorText(err: unknown): string {
  const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr || (err instanceof Error ? err.message : String(err));
}
