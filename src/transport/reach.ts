import { homedir, hostname, userInfo } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ConnectionSpec } from "../inventory/host.js";
import { parseAnsibleSshArgs } from "./ansible-ssh-args.js";
import type { ConfigLine } from "./ssh-config-parse.js";
import { configFiles, fileSource } from "./ssh-config-files.js";
import { resolveTarget, type HostKeyChecking, type SshTarget, type TargetEnvironment } from "./ssh-target.js";

/**
 * How an inventory host is reached: its connection variables act as `ssh -o` options (inventory over
 * ssh configuration over defaults, as with Ansible's ssh connection), with the command line's
 * --host-key-checking and --connect-timeout above them, then ~/.ssh/config and /etc/ssh/ssh_config (or
 * --ssh-config / ssh_config). Errors name the file and line to fix; nothing is contacted.
 */

export interface ReachFlags {
  /** --ssh-config FILE. */
  sshConfig?: string;
  hostKeyChecking?: HostKeyChecking;
  connectTimeoutSeconds?: number;
}

export interface Reached {
  target: SshTarget;
  /** Connection settings given but not used (Ansible ssh arguments about ssh's own process). */
  warnings: string[];
}

export function machineEnvironment(files: TargetEnvironment["files"]): TargetEnvironment {
  const user = userInfo();
  return {
    files,
    source: fileSource,
    home: homedir(),
    localUser: user.username,
    uid: user.uid,
    localHost: hostname(),
    env: process.env,
  };
}

export function reachHost(
  name: string,
  spec: ConnectionSpec,
  flags: ReachFlags,
  base: Omit<TargetEnvironment, "files"> = machineEnvironment([]),
  /** FILE:LINE of each connection variable the inventory gives (InventoryHost.origins). */
  origins: Record<string, string> = {},
): Reached {
  const lines: ConfigLine[] = [];
  const warnings: string[] = [];
  const add = (keyword: string, value: string | undefined, origin: string | undefined) => {
    if (value === undefined || origin === undefined) return;
    const at = origin.lastIndexOf(":");
    const [file, line] = at > 0 ? [origin.slice(0, at), Number(origin.slice(at + 1))] : [origin, 0];
    lines.push({ keyword, args: [value], file, line });
  };
  add(
    "stricthostkeychecking",
    flags.hostKeyChecking && (flags.hostKeyChecking === "strict" ? "yes" : "accept-new"),
    "command line",
  );
  add("connecttimeout", flags.connectTimeoutSeconds?.toString(), "command line");
  add("user", spec.user, origins.user);
  add("port", String(spec.port), origins.port);
  add("identityfile", spec.keyFile, origins.keyFile);
  add("userknownhostsfile", spec.knownHostsFile, origins.knownHostsFile);
  add(
    "stricthostkeychecking",
    spec.hostKeyChecking && (spec.hostKeyChecking === "strict" ? "yes" : "accept-new"),
    origins.hostKeyChecking,
  );
  add("proxyjump", spec.jump, origins.jump);
  for (const args of spec.sshArgs ?? []) {
    const parsed = parseAnsibleSshArgs(args.text, args.variable, args.origin);
    lines.push(...parsed.lines);
    warnings.push(...parsed.warnings);
  }
  const explicit = flags.sshConfig ?? configPath(spec.sshConfig, origins.sshConfig);
  const environment = { ...base, files: configFiles(base.home, explicit) };
  const target = resolveTarget(
    { name, host: spec.address, commandLine: lines, ...(origins.address && { hostOrigin: origins.address }) },
    environment,
  );
  return { target, warnings: [...warnings, ...target.warnings] };
}

/** The inventory's ssh_config, relative to the directory of the file that sets it. */
function configPath(path: string | undefined, origin: string | undefined): string | undefined {
  if (path === undefined || isAbsolute(path) || origin === undefined) return path;
  return resolve(dirname(origin.replace(/:\d+$/, "")), path);
}
