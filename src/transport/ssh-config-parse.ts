/**
 * OpenSSH client configuration lines (ssh_config(5)), tokenised as OpenSSH 9 does: a keyword, an
 * optional `=`, then arguments split on whitespace, with "double" or 'single' quotes grouping and a `#`
 * starting a word ending the line. Pure; reading files and resolving a host is ssh-config.ts.
 */

export interface ConfigLine {
  /** Lower-cased, as keywords are case-insensitive. */
  keyword: string;
  args: string[];
  /** Where it was written: a config file, or the inventory for settings that act as `ssh -o`. */
  file: string;
  line: number;
}

export class SshConfigError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "SshConfigError";
  }
}

export function parseSshConfig(text: string, file: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  text.split("\n").forEach((raw, index) => {
    const parsed = parseLine(raw, file, index + 1);
    if (parsed) lines.push(parsed);
  });
  return lines;
}

/** One `Keyword args` or `Keyword=args` line; undefined for a blank line or a comment. */
export function parseLine(raw: string, file: string, line: number): ConfigLine | undefined {
  const text = raw.replace(/[\s\f]+$/, "");
  const head = /^\s*([^\s=]+)\s*(?:=\s*|\s+|$)/.exec(text);
  if (!head || head[1]!.startsWith("#")) return undefined;
  const keyword = head[1]!.toLowerCase();
  const args = splitArgs(text.slice(head[0].length));
  if (args === undefined) throw new SshConfigError(file, line, `unbalanced quotes in "${text.trim()}"`);
  if (args.length === 0) throw new SshConfigError(file, line, `no argument after keyword "${head[1]}"`);
  return { keyword, args, file, line };
}

/** OpenSSH's argv_split(): whitespace-separated words, quotes group, `\` escapes; undefined if unbalanced. */
export function splitArgs(text: string): string[] | undefined {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === "#") break;
    let word = "";
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote === undefined && /\s/.test(c)) break;
      if (c === "\\" && i + 1 < text.length && /[\\"' ]/.test(text[i + 1]!) && quote !== "'") {
        word += text[++i];
      } else if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
      } else if (c === quote) {
        quote = undefined;
      } else {
        word += c;
      }
    }
    if (quote !== undefined) return undefined;
    args.push(word);
  }
  return args;
}
