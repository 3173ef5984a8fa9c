import type { ConfigLine } from "./ssh-config-parse.js";
import { resolveSshConfig, type ConfigFile, type ConfigSource, type Setting } from "./ssh-config.js";
import { expandHostName, expandTilde, expandTokens, type TokenValues } from "./ssh-patterns.js";
import {
  agentPath,
  hostKeyChecking,
  knownHostsPaths,
  parseHop,
  parsePort,
  refusedChecking,
  yesNo,
} from "./ssh-values.js";

/**
 * How one host is reached, with where each value came from: the command line, the inventory (both
 * given to the configuration as `ssh -o` lines, so they win as with Ansible's ssh connection), the
 * OpenSSH client configuration, or the default. Pure; see ssh-config.ts for the rules of the files.
 */

export type HostKeyChecking = "strict" | "accept-new";

export interface Sourced<T> {
  value: T;
  /** "default", "command line", or FILE:LINE of an inventory or ssh configuration. */
  origin: string;
}

export interface SshTarget {
  /** The inventory host, or the hop as written in ProxyJump. */
  name: string;
  /** The host as given to ssh (ansible_host, else the inventory name): what `Host` patterns match. */
  originalHost: string;
  hostname: Sourced<string>;
  port: Sourced<number>;
  user: Sourced<string>;
  /** Expanded paths, in the order ssh tries them; `defaults` when none was configured. */
  identityFiles: Sourced<string[]> & { defaults: boolean };
  identitiesOnly: Sourced<boolean>;
  /** Agent socket; undefined = no agent. */
  identityAgent: Sourced<string | undefined>;
  /** Hosts connected through, first hop first, each resolved like a target of its own. */
  jumps: SshTarget[];
  /** The ProxyJump value the chain came from, for display. */
  jumpSpec: Sourced<string>;
  knownHostsFiles: Sourced<string[]>;
  /** GlobalKnownHostsFile: read as well, never written. */
  globalKnownHostsFiles: Sourced<string[]>;
  /** HashKnownHosts: a recorded host key's name is written hashed. */
  hashKnownHosts: Sourced<boolean>;
  hostKeyChecking: Sourced<HostKeyChecking>;
  /** The name looked up in known_hosts instead of the host name (HostKeyAlias). */
  hostKeyAlias?: Sourced<string>;
  connectTimeoutMs: Sourced<number>;
  keepaliveIntervalMs: Sourced<number>;
  keepaliveCountMax: Sourced<number>;
  /** Match criteria not evaluated and the like. */
  warnings: string[];
  /** The ssh configuration files that were read. */
  configFiles: string[];
}

export interface TargetRequest {
  name: string;
  /** ansible_host / address, else the inventory name. */
  host: string;
  /** Where `host` was set (the inventory's address variable); default: the inventory name. */
  hostOrigin?: string;
  /** Settings acting as `ssh -o` options, highest precedence first (command line, then inventory). */
  commandLine: ConfigLine[];
}

export interface TargetEnvironment {
  files: ConfigFile[];
  source: ConfigSource;
  home: string;
  localUser: string;
  uid: number;
  localHost: string;
  env: Record<string, string | undefined>;
}

/** Default connect timeout and keepalive (ssh's are "none" and off; a lost host must not hang a run). */
export const DEFAULT_CONNECT_TIMEOUT_S = 15;
const DEFAULT_KEEPALIVE_S = 5;
/** ssh's identity files when none is configured (OpenSSH 9), in ~/.ssh. */
export const DEFAULT_IDENTITY_FILES = [
  "id_rsa",
  "id_ecdsa",
  "id_ecdsa_sk",
  "id_ed25519",
  "id_ed25519_sk",
  "id_xmss",
  "id_dsa",
];
/** ssh's GlobalKnownHostsFile when none is configured. */
export const DEFAULT_GLOBAL_KNOWN_HOSTS = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];
const MAX_HOPS = 8;

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

export function resolveTarget(
  request: TargetRequest,
  environment: TargetEnvironment,
  /** Hosts whose first jump led here, to stop a jump host that jumps through itself. */
  chain: readonly string[] = [],
): SshTarget {
  const { settings, identityFiles, warnings, filesRead } = resolveSshConfig(
    request.host,
    request.commandLine,
    environment.files,
    environment.source,
    environment,
  );
  const get = (keyword: string): Setting | undefined => settings.get(keyword);
  const sourced = <T>(keyword: string, parse: (arg: string, s: Setting) => T, fallback: T): Sourced<T> => {
    const setting = get(keyword);
    return setting
      ? { value: parse(setting.args[0]!, setting), origin: setting.origin }
      : { value: fallback, origin: "default" };
  };
  const fail = (setting: Setting, message: string): never => {
    throw new TargetError(`${setting.origin}: ${message}`);
  };

  const proxyCommand = get("proxycommand");
  const proxyJump = get("proxyjump");
  if (
    proxyCommand &&
    proxyCommand.args[0]?.toLowerCase() !== "none" &&
    !(proxyJump && proxyJump.seq < proxyCommand.seq)
  ) {
    fail(
      proxyCommand,
      `ProxyCommand is not supported by provision (it keeps one SSH connection per host); use ProxyJump instead (or ssh_jump in the inventory)`,
    );
  }

  const hostname = sourced(
    "hostname",
    (arg, s) => expandHostName(arg, request.host) ?? fail(s, `HostName "${arg}": only %h and %% may be used`),
    request.host,
  );
  hostname.value = hostname.value.toLowerCase();
  if (hostname.origin === "default" && request.hostOrigin) hostname.origin = request.hostOrigin;
  const port = sourced(
    "port",
    (arg, s) => parsePort(arg) ?? fail(s, `Port "${arg}" is not a port number`),
    22,
  );
  const user = sourced("user", (arg) => arg, environment.localUser);
  const alias = get("hostkeyalias");
  const tokens: TokenValues = {
    home: environment.home,
    localUser: environment.localUser,
    uid: environment.uid,
    localHost: environment.localHost,
    hostname: hostname.value,
    originalHost: request.host,
    port: port.value,
    user: user.value,
    ...(alias && { hostKeyAlias: alias.args[0]!.toLowerCase() }),
    env: environment.env,
  };
  const path = (arg: string, s: Setting, what: string) => {
    try {
      return expandTokens(expandTilde(arg, environment.home), tokens, what);
    } catch (error) {
      return fail(s, (error as Error).message);
    }
  };

  const files = identityFiles.map((s) => path(s.args[0]!, s, "IdentityFile"));
  const identities: SshTarget["identityFiles"] =
    identityFiles.length > 0
      ? { value: files, origin: [...new Set(identityFiles.map((s) => s.origin))].join(", "), defaults: false }
      : {
          value: DEFAULT_IDENTITY_FILES.map((f) => `${environment.home}/.ssh/${f}`),
          origin: "default",
          defaults: true,
        };

  const agentSetting = get("identityagent");
  const identityAgent: Sourced<string | undefined> = agentSetting
    ? {
        value: agentPath(agentSetting, (a) => path(a, agentSetting, "IdentityAgent"), environment.env),
        origin: agentSetting.origin,
      }
    : {
        value: environment.env.SSH_AUTH_SOCK || undefined,
        origin: environment.env.SSH_AUTH_SOCK ? "SSH_AUTH_SOCK" : "default",
      };

  /** UserKnownHostsFile, GlobalKnownHostsFile; ssh expands only `~` in the latter (no %-tokens, ${VAR}). */
  const hostFiles = (name: string, defaults: string[], tokens: boolean): Sourced<string[]> => {
    const s = get(name.toLowerCase());
    if (!s) return { value: defaults, origin: "default" };
    const expand = (a: string) => (tokens ? path(a, s, name) : expandTilde(a, environment.home));
    const files = knownHostsPaths(s.args, expand) ?? fail(s, `${name} "none" must appear alone`);
    return { value: files, origin: s.origin };
  };

  const jumpSpec = sourced("proxyjump", (arg) => arg, "none");
  const hops = jumpSpec.value.toLowerCase() === "none" ? [] : jumpSpec.value.split(",");
  if (hops.length > 0 && chain.length + hops.length > MAX_HOPS)
    fail(proxyJump!, `ProxyJump chain longer than ${MAX_HOPS} hops`);
  const jumps: SshTarget[] = [];
  hops.forEach((hop, index) => {
    const parsed = parseHop(hop) ?? fail(proxyJump!, `ProxyJump "${hop}" is not [user@]host[:port]`);
    const commandLine: ConfigLine[] = [];
    const line = (keyword: string, arg: string) => ({
      keyword,
      args: [arg],
      file: proxyJump!.origin,
      line: 0,
    });
    if (parsed.user) commandLine.push(line("user", parsed.user));
    if (parsed.port) commandLine.push(line("port", String(parsed.port)));
    // Like `ssh -J a,b`: b is reached through a, and only the first hop's own ProxyJump applies.
    if (index > 0) commandLine.push(line("proxyjump", "none"));
    const path = [...chain, request.host];
    if (index === 0 && path.includes(parsed.host))
      fail(
        proxyJump!,
        `ProxyJump loops: ${[...path, parsed.host].join(" -> ")} (exclude the jump host from the Host pattern)`,
      );
    const target = resolveTarget({ name: hop, host: parsed.host, commandLine }, environment, path);
    if (index === 0) jumps.push(...target.jumps);
    jumps.push({ ...target, jumps: [] });
    warnings.push(...target.warnings.filter((w) => !warnings.includes(w)));
  });

  const seconds = (keyword: string, fallback: number, allowNone: boolean): Sourced<number> =>
    sourced(
      keyword,
      (arg, s) => {
        if (allowNone && arg.toLowerCase() === "none") return fallback;
        const n = /^\d+$/.test(arg) ? Number(arg) : NaN;
        return Number.isNaN(n) ? fail(s, `${keyword} "${arg}" is not a number of seconds`) : n;
      },
      fallback,
    );
  const timeout = seconds("connecttimeout", DEFAULT_CONNECT_TIMEOUT_S, true);
  const interval = seconds("serveraliveinterval", DEFAULT_KEEPALIVE_S, false);
  const countMax = seconds("serveralivecountmax", 3, false);

  return {
    name: request.name,
    originalHost: request.host,
    hostname,
    port,
    user,
    identityFiles: identities,
    identitiesOnly: sourced(
      "identitiesonly",
      (arg, s) => yesNo(arg) ?? fail(s, `IdentitiesOnly "${arg}": expected yes or no`),
      false,
    ),
    identityAgent,
    jumps,
    jumpSpec,
    knownHostsFiles: hostFiles(
      "UserKnownHostsFile",
      [`${environment.home}/.ssh/known_hosts`, `${environment.home}/.ssh/known_hosts2`],
      true,
    ),
    globalKnownHostsFiles: hostFiles("GlobalKnownHostsFile", DEFAULT_GLOBAL_KNOWN_HOSTS, false),
    hashKnownHosts: sourced(
      "hashknownhosts",
      (arg, s) => yesNo(arg) ?? fail(s, `HashKnownHosts "${arg}": expected yes or no`),
      false,
    ),
    hostKeyChecking: sourced(
      "stricthostkeychecking",
      (arg, s) => hostKeyChecking(arg) ?? fail(s, refusedChecking(arg)),
      "strict",
    ),
    ...(alias && { hostKeyAlias: { value: alias.args[0]!.toLowerCase(), origin: alias.origin } }),
    connectTimeoutMs: { ...timeout, value: (timeout.value || DEFAULT_CONNECT_TIMEOUT_S) * 1000 },
    // ServerAliveInterval 0 (ssh's "off") keeps our keepalive: a vanished host must end the run.
    keepaliveIntervalMs: { ...interval, value: (interval.value || DEFAULT_KEEPALIVE_S) * 1000 },
    keepaliveCountMax: { ...countMax, value: countMax.value || 3 },
    warnings,
    configFiles: filesRead,
  };
}
