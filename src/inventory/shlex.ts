/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible uses to split an INI host
 * line into the host and its `key=value` variables: '…' and "…" quote, a backslash escapes (inside
 * "…" only `"` and `\`), and `#` starts a comment even in the middle of a word.
 */
export function shlexSplit(line: string): string[] {
  const tokens: string[] = [];
  let token = "";
  let inToken = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] ?? "";
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"') {
        const next = line[++i];
        if (next === undefined) throw new ShlexError("No escaped character");
        token += next === '"' || next === "\\" ? next : `\\${next}`;
      } else token += char;
      continue;
    }
    if (/[ \t\r\n]/.test(char)) {
      if (inToken) tokens.push(token);
      [token, inToken] = ["", false];
    } else if (char === "#") {
      break;
    } else if (char === "\\") {
      const next = line[++i];
      if (next === undefined) throw new ShlexError("No escaped character");
      [token, inToken] = [token + next, true];
    } else if (char === "'" || char === '"') {
      [quote, inToken] = [char, true];
    } else {
      [token, inToken] = [token + char, true];
    }
  }
  if (quote !== undefined) throw new ShlexError("No closing quotation");
  if (inToken) tokens.push(token);
  return tokens;
}

export class ShlexError extends Error {
  override name = "ShlexError";
}
