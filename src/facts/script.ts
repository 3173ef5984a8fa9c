import { shellQuote } from "../transport/shell.js";
import { LOCK_FUNCTIONS } from "./host-lock.js";

/**
 * The remote half of fact gathering: one POSIX sh script, run in ONE command, that prints every fact
 * the planner needs as tab-separated records (file contents base64-encoded, so any byte survives).
 * facts/parse.ts reads the records back.
 */

export interface FactRequest {
  /** Files whose content and metadata are read (main.cf, table sources). */
  contents: string[];
  /** Files whose metadata only is read (index files). */
  stats: string[];
}

export interface LockOptions {
  /** Identifies this run in the lock file and in backups. */
  runId: string;
  /** How long to wait for another run's lock, in seconds. */
  waitSeconds: number;
}

/** Shell functions shared by the facts script and the apply script (which re-reads facts at its end). */
export const FACT_FUNCTIONS = `
emit() { printf '%s\\t%s\\n' "$1" "$2"; }
file_fact() {
  if [ -e "$1" ]; then
    printf 'file\\t%s\\t%s' "$1" "$(stat -c '%a %U %G %.9Y' -- "$1")"
    if [ "$2" = content ]; then printf '\\t'; base64 -w0 < "$1"; fi
    printf '\\n'
  else
    printf 'file\\t%s\\tmissing\\n' "$1"
  fi
}
`;

export function factCommands(request: FactRequest): string {
  const lines = [
    `if ! command -v postconf >/dev/null 2>&1; then emit no-postfix 1; exit 0; fi`,
    // A main.cf Postfix cannot parse makes every postconf fail: say what Postfix says.
    `if ! out=$(postconf -h mail_version 2>&1); then emit postconf_error "$(printf '%s' "$out" | grep -v ': warning: ' | head -n 3 | tr '\\n' ' ')"; exit 0; fi`,
    `emit version "$(postconf -h mail_version 2>/dev/null)"`,
    `emit default_type "$(postconf -h default_database_type 2>/dev/null)"`,
    `emit types "$(postconf -m 2>/dev/null | tr '\\n' ' ')"`,
    `if postfix status >/dev/null 2>&1; then emit running 1; else emit running 0; fi`,
    `emit postconf_n "$(postconf -n 2>/dev/null | base64 -w0)"`,
    ...request.contents.map((path) => `file_fact ${shellQuote(path)} content`),
    ...request.stats.map((path) => `file_fact ${shellQuote(path)} stat`),
  ];
  return lines.join("\n");
}

/**
 * The whole facts script, under the shared run lock so it never reads a host halfway through another
 * run's apply. Wrapped in { } so the shell reads all of it before running any of it.
 */
export function factsScript(request: FactRequest, lock: LockOptions): string {
  return [
    "{",
    SCRIPT_PRELUDE,
    `RUN_ID=${shellQuote(lock.runId)}`,
    FACT_FUNCTIONS,
    LOCK_FUNCTIONS,
    `lock_host -s ${lock.waitSeconds} read || exit 0`,
    factCommands(request),
    "}",
    "",
  ].join("\n");
}

export const SCRIPT_PRELUDE = `export LC_ALL=C
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH`;
