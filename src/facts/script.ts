import { shellQuote } from "../transport/shell.js";

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
    `emit hostname "$(hostname)"`,
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

/** The whole facts script. Wrapped in { } so the shell reads all of it before running any of it. */
export function factsScript(request: FactRequest): string {
  return `{\n${SCRIPT_PRELUDE}\n${FACT_FUNCTIONS}\n${factCommands(request)}\n}\n`;
}

export const SCRIPT_PRELUDE = `export LC_ALL=C
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH`;
