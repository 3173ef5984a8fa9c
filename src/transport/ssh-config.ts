import { isAbsolute, join } from "node:path";
import { parseSshConfig, SshConfigError, type ConfigLine } from "./ssh-config-parse.js";
import { expandTilde, globMatch, matchPatternList } from "./ssh-patterns.js";

/**
 * Which settings of an OpenSSH client configuration apply to one host, as `ssh -G HOST` computes them:
 * lines given on the command line first (for us: the inventory's connection variables, Ansible's
 * `ssh -o` arguments), then each file top to bottom; the first value obtained for a keyword wins,
 * except IdentityFile, which accumulates. `Host` and `Match` start blocks; `Include` reads more files.
 * Pure: files are read through `ConfigSource`. test/unit/transport/ssh-config.test.ts checks the result
 * against the real `ssh -G` on a corpus of configurations.
 */

export interface ConfigSource {
  /** A file's text, or undefined when it does not exist. */
  read(path: string): string | undefined;
  /** Paths matching a glob pattern (`*`, `?` in any component), sorted; nothing for no match. */
  glob(pattern: string): string[];
}

export interface ConfigFile {
  path: string;
  /** The user's file (or --ssh-config): a relative Include is relative to ~/.ssh, else to /etc/ssh. */
  user: boolean;
}

export interface ResolveContext {
  home: string;
  localUser: string;
}

/** One obtained value and where it came from ("~/.ssh/config:12", "inventories/hosts.yaml:4"). */
export interface Setting {
  args: string[];
  origin: string;
  /** When it was obtained, counting every applied line (ProxyJump vs ProxyCommand: the first wins). */
  seq: number;
}

export interface SshConfigResult {
  /** Lower-case keyword -> the first value obtained. */
  settings: Map<string, Setting>;
  /** Every IdentityFile, in order, duplicates removed. */
  identityFiles: Setting[];
  /** Match criteria that were not evaluated, and similar. */
  warnings: string[];
  /** Every configuration file read, includes too, in order. */
  filesRead: string[];
}

const MAX_INCLUDE_DEPTH = 16;

/** Match criteria that are evaluated; the others make a warning and the block is not applied. */
const EVALUATED = new Set(["all", "host", "originalhost", "user"]);
const CRITERIA_WITH_ARGUMENT = new Set([
  "host",
  "originalhost",
  "user",
  "localuser",
  "exec",
  "localnetwork",
  "tagged",
]);

export function resolveSshConfig(
  host: string,
  commandLine: readonly ConfigLine[],
  files: readonly ConfigFile[],
  source: ConfigSource,
  context: ResolveContext,
): SshConfigResult {
  const result: SshConfigResult = { settings: new Map(), identityFiles: [], warnings: [], filesRead: [] };
  const origin = (line: ConfigLine) => (line.line > 0 ? `${line.file}:${line.line}` : line.file);
  let seq = 0;

  const apply = (line: ConfigLine) => {
    seq += 1;
    if (line.keyword === "identityfile") {
      if (!result.identityFiles.some((s) => s.args[0] === line.args[0]))
        result.identityFiles.push({ args: line.args, origin: origin(line), seq });
    } else if (!result.settings.has(line.keyword)) {
      result.settings.set(line.keyword, { args: line.args, origin: origin(line), seq });
    }
  };

  /** Host for `Match host`: HostName so far (with %h), else the host as given. */
  const currentHost = () => {
    const hostName = result.settings.get("hostname")?.args[0];
    return (
      hostName ? hostName.replace(/%([h%])/g, (_, t: string) => (t === "h" ? host : "%")) : host
    ).toLowerCase();
  };

  const matchCriteria = (line: ConfigLine): boolean => {
    const args = [...line.args];
    let matched = true;
    while (args.length > 0) {
      const word = args.shift()!;
      const negated = word.startsWith("!");
      const criterion = (negated ? word.slice(1) : word).toLowerCase();
      const value = CRITERIA_WITH_ARGUMENT.has(criterion) ? args.shift() : undefined;
      if (CRITERIA_WITH_ARGUMENT.has(criterion) && value === undefined)
        throw new SshConfigError(line.file, line.line, `Match ${criterion} needs an argument`);
      if (!EVALUATED.has(criterion)) {
        result.warnings.push(
          `${origin(line)}: Match ${criterion} is not evaluated by provision; the settings of this ` +
            `Match block are not applied`,
        );
        return false;
      }
      let hit: boolean;
      if (criterion === "all") hit = true;
      else if (criterion === "host") hit = matchPatternList(currentHost(), value!, true);
      else if (criterion === "originalhost") hit = matchPatternList(host.toLowerCase(), value!, true);
      else hit = matchPatternList(result.settings.get("user")?.args[0] ?? context.localUser, value!, false);
      if (hit === negated) matched = false;
    }
    return matched;
  };

  const hostMatches = (patterns: string[]): boolean => {
    let matched = false;
    for (const pattern of patterns) {
      const negated = pattern.startsWith("!");
      if (globMatch(negated ? pattern.slice(1) : pattern, host)) {
        if (negated) return false;
        matched = true;
      }
    }
    return matched;
  };

  const readFile = (file: ConfigFile, depth: number) => {
    const text = source.read(file.path);
    if (text === undefined) return;
    result.filesRead.push(file.path);
    let active = true;
    for (const line of parseSshConfig(text, file.path)) {
      if (line.keyword === "host") {
        active = hostMatches(line.args);
      } else if (line.keyword === "match") {
        active = matchCriteria(line);
      } else if (line.keyword === "include") {
        if (!active) continue;
        if (depth >= MAX_INCLUDE_DEPTH)
          throw new SshConfigError(
            line.file,
            line.line,
            `Include nested more than ${MAX_INCLUDE_DEPTH} deep`,
          );
        for (const pattern of line.args) {
          const base = file.user ? join(context.home, ".ssh") : "/etc/ssh";
          const expanded = expandTilde(pattern, context.home);
          const absolute = isAbsolute(expanded) ? expanded : join(base, expanded);
          // An included file's Host/Match lines do not change what is active after the Include.
          for (const path of source.glob(absolute)) readFile({ path, user: file.user }, depth + 1);
        }
      } else if (active) {
        apply(line);
      }
    }
  };

  for (const line of commandLine) apply(line);
  for (const file of files) readFile(file, 0);
  return result;
}
