import { parseLine, splitArgs, type ConfigLine } from "./ssh-config-parse.js";

/**
 * Ansible's `ansible_ssh_common_args` / `ansible_ssh_extra_args`: extra `ssh` command line arguments.
 * provision runs no ssh, so it takes from them what it can honour and says so about the rest, never
 * dropping anything silently:
 * - `-J HOPS`, `-o ProxyJump=HOPS`, `-o ProxyCommand="ssh -W %h:%p [-q] HOST"` become the jump chain;
 * - `-o Keyword=value` of an ssh_config(5) keyword provision honours is used like a configuration line;
 * - `-p`, `-l`, `-i` are the port, user and identity file;
 * - options about ssh's own process (connection sharing, compression, verbosity, tty, agent
 *   forwarding, address family) have no meaning for one in-process connection: a warning;
 * - anything else is an error.
 */

export const HONOURED_KEYWORDS = new Set([
  "hostname",
  "user",
  "port",
  "identityfile",
  "identitiesonly",
  "identityagent",
  "proxyjump",
  "userknownhostsfile",
  "globalknownhostsfile",
  "hashknownhosts",
  "stricthostkeychecking",
  "hostkeyalias",
  "connecttimeout",
  "serveraliveinterval",
  "serveralivecountmax",
]);

/** ssh's own process settings: meaningless without an ssh process, harmless to leave out. */
const IGNORED_KEYWORDS = new Set([
  "controlmaster",
  "controlpath",
  "controlpersist",
  "compression",
  "forwardagent",
  "loglevel",
  "requesttty",
  "batchmode",
  "kbdinteractiveauthentication",
  "passwordauthentication",
  "preferredauthentications",
  "pubkeyauthentication",
  "gssapiauthentication",
  "addressfamily",
  "tcpkeepalive",
  "forwardx11",
  "visualhostkey",
  "updatehostkeys",
  "checkhostip",
]);
const IGNORED_FLAGS = new Set([
  "-C",
  "-q",
  "-v",
  "-vv",
  "-vvv",
  "-T",
  "-t",
  "-tt",
  "-A",
  "-a",
  "-x",
  "-X",
  "-Y",
  "-4",
  "-6",
  "-n",
  "-N",
]);
const FLAG_KEYWORDS: Record<string, string> = {
  "-J": "proxyjump",
  "-p": "port",
  "-l": "user",
  "-i": "identityfile",
};

export interface AnsibleArgs {
  lines: ConfigLine[];
  warnings: string[];
}

/** Parses one variable's value; `origin` is "FILE:LINE" of the variable, `variable` its name. */
export function parseAnsibleSshArgs(text: string, variable: string, origin: string): AnsibleArgs {
  const fail = (message: string): never => {
    throw new Error(`${origin}: ${variable}: ${message}`);
  };
  const words = splitArgs(text) ?? fail(`unbalanced quotes in "${text}"`);
  const [file, lineText] = [
    origin.slice(0, origin.lastIndexOf(":")),
    origin.slice(origin.lastIndexOf(":") + 1),
  ];
  const line = Number(lineText) || 0;
  const lines: ConfigLine[] = [];
  const warnings: string[] = [];
  const ignore = (what: string) =>
    warnings.push(
      `${origin}: ${variable}: ${what} is ignored (provision keeps one SSH connection of its own per host)`,
    );
  const option = (setting: string) => {
    const parsed = parseLine(setting, file, line) ?? fail(`empty -o option`);
    if (parsed.keyword === "proxycommand") {
      const hop = sshDashW(parsed.args);
      if (!hop)
        fail(`ProxyCommand "${parsed.args.join(" ")}" is not supported; use -J HOST or -o ProxyJump=HOST`);
      lines.push({ ...parsed, keyword: "proxyjump", args: [hop!] });
    } else if (HONOURED_KEYWORDS.has(parsed.keyword)) {
      lines.push(parsed);
    } else if (IGNORED_KEYWORDS.has(parsed.keyword)) {
      ignore(`-o ${setting}`);
    } else {
      fail(`-o ${setting} is not supported by provision`);
    }
  };

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const flag = word.slice(0, 2);
    const attached = word.length > 2 ? word.slice(2) : undefined;
    if (flag === "-o") option(attached ?? words[++i] ?? fail("-o needs an argument"));
    else if (FLAG_KEYWORDS[flag] !== undefined) {
      const value = attached ?? words[++i] ?? fail(`${flag} needs an argument`);
      lines.push({ keyword: FLAG_KEYWORDS[flag]!, args: [value], file, line });
    } else if (IGNORED_FLAGS.has(word)) ignore(word);
    else
      fail(
        `"${word}" is not supported by provision (it understands -J, -o ProxyJump= and ssh_config options)`,
      );
  }
  return { lines, warnings };
}

/** The host of `ssh [-q] -W %h:%p [-q] [user@]HOST`, the classic ProxyCommand form of ProxyJump. */
function sshDashW(args: string[]): string | undefined {
  const words = args.length === 1 ? (splitArgs(args[0]!) ?? []) : args;
  if (words[0] !== "ssh") return undefined;
  const rest = words.slice(1).filter((w) => w !== "-q");
  const w = rest.indexOf("-W");
  if (w < 0 || !/^(%h|\[%h\]):%p$/.test(rest[w + 1] ?? "")) return undefined;
  rest.splice(w, 2);
  const port = rest.indexOf("-p");
  const portValue = port >= 0 ? rest.splice(port, 2)[1] : undefined;
  if (rest.length !== 1 || rest[0]!.startsWith("-")) return undefined;
  return portValue ? `${rest[0]}:${portValue}` : rest[0];
}
