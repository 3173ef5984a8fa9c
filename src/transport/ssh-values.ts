import type { Setting } from "./ssh-config.js";
import type { HostKeyChecking } from "./ssh-target.js";

/** Values of ssh_config(5) keywords, read as ssh reads them. Pure. */

export function parsePort(arg: string): number | undefined {
  const n = /^\d+$/.test(arg) ? Number(arg) : NaN;
  return n >= 1 && n <= 65535 ? n : undefined;
}

export function yesNo(arg: string): boolean | undefined {
  const v = arg.toLowerCase();
  return v === "yes" || v === "true" ? true : v === "no" || v === "false" ? false : undefined;
}

export function hostKeyChecking(arg: string): HostKeyChecking | undefined {
  const v = arg.toLowerCase();
  if (v === "yes" || v === "true" || v === "ask") return "strict";
  if (v === "accept-new") return "accept-new";
  return undefined;
}

export function refusedChecking(arg: string): string {
  return ["no", "off", "false"].includes(arg.toLowerCase())
    ? `StrictHostKeyChecking ${arg} is refused: provision always checks host keys (use accept-new to record unknown hosts)`
    : `StrictHostKeyChecking "${arg}": expected yes, ask or accept-new`;
}

/** UserKnownHostsFile / GlobalKnownHostsFile: `none` is no file; undefined when `none` is not alone. */
export function knownHostsPaths(args: string[], expand: (arg: string) => string): string[] | undefined {
  if (!args.some((a) => a.toLowerCase() === "none")) return args.map(expand);
  return args.length === 1 ? [] : undefined;
}

export function agentPath(
  setting: Setting,
  expand: (arg: string) => string,
  env: Record<string, string | undefined>,
): string | undefined {
  const arg = setting.args[0]!;
  if (arg.toLowerCase() === "none") return undefined;
  if (arg === "SSH_AUTH_SOCK") return env.SSH_AUTH_SOCK || undefined;
  if (arg.startsWith("$")) return env[arg.slice(1)] || undefined;
  return expand(arg);
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, IPv6 in brackets. */
export function parseHop(hop: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^(?:ssh:\/\/)?(?:([^@/]+)@)?(\[[^\]]+\]|[^:@/[\]\s]+)(?::(\d+))?\/?$/.exec(hop.trim());
  if (!m) return undefined;
  const port = m[3] !== undefined ? parsePort(m[3]) : undefined;
  if (m[3] !== undefined && port === undefined) return undefined;
  return { ...(m[1] && { user: m[1] }), host: m[2]!.replace(/^\[|\]$/g, ""), ...(port && { port }) };
}
