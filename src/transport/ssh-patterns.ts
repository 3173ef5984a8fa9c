import { createHash } from "node:crypto";

/** OpenSSH's pattern matching and `%` token expansion, as ssh_config(5) describes them. Pure. */

/** `*` and `?` wildcards only (no brackets), like OpenSSH's match_pattern(); case-sensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "s").test(text);
}

/**
 * A comma-separated pattern list (`Match host a,b,!c`): false when a negated pattern matches, true when
 * another one does. `lower` lower-cases the patterns (hosts are matched case-insensitively there).
 */
export function matchPatternList(text: string, list: string, lower: boolean): boolean {
  let matched = false;
  for (const raw of list.split(",")) {
    const pattern = lower ? raw.toLowerCase() : raw;
    const negated = pattern.startsWith("!");
    if (globMatch(negated ? pattern.slice(1) : pattern, text)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The values `%` tokens stand for when a path of a host's connection is expanded. */
export interface TokenValues {
  /** %d: the local user's home directory. */
  home: string;
  /** %u: the local user name. */
  localUser: string;
  /** %i: the local user id. */
  uid: number;
  /** %l: the local host name (%L: its first component). */
  localHost: string;
  /** %h: the remote host name (after HostName). */
  hostname: string;
  /** %n: the host name as given (before HostName). */
  originalHost: string;
  /** %p */
  port: number;
  /** %r */
  user: string;
  /** %k: HostKeyAlias, else the original host name. */
  hostKeyAlias?: string;
  env: Record<string, string | undefined>;
}

/**
 * Expands `%x` tokens (and `${VAR}` environment references) in IdentityFile, IdentityAgent and
 * UserKnownHostsFile values; `what` names the setting in errors.
 */
export function expandTokens(value: string, values: TokenValues, what: string): string {
  const table: Record<string, () => string> = {
    "%": () => "%",
    C: () =>
      createHash("sha1")
        .update(`${values.localHost}${values.hostname}${values.port}${values.user}`)
        .digest("hex"),
    d: () => values.home,
    h: () => values.hostname,
    i: () => String(values.uid),
    k: () => values.hostKeyAlias ?? values.originalHost,
    L: () => values.localHost.split(".")[0] ?? values.localHost,
    l: () => values.localHost,
    n: () => values.originalHost,
    p: () => String(values.port),
    r: () => values.user,
    u: () => values.localUser,
  };
  const withTokens = value.replace(/%(.?)/gs, (_, token: string) => {
    const expand = table[token];
    if (!expand) {
      throw new Error(`${what} "${value}": unknown token %${token}`);
    }
    return expand();
  });
  return withTokens.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const found = values.env[name];
    if (found === undefined) throw new Error(`${what} "${value}": environment variable ${name} is not set`);
    return found;
  });
}

/** HostName's `%h` (the host as given) and `%%`; undefined for any other token. */
export function expandHostName(value: string, host: string): string | undefined {
  let bad = false;
  const out = value.replace(/%(.?)/gs, (_, t: string) => {
    if (t === "h") return host;
    if (t === "%") return "%";
    bad = true;
    return "";
  });
  return bad ? undefined : out;
}

/** `~` and `~/...` to the home directory, as ssh does for paths in its configuration. */
export function expandTilde(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return `${home}/${path.slice(2)}`;
  return path;
}
