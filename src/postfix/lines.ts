import { startsWithSpace, trimPostfix } from "./rules.js";

/**
 * How Postfix reads main.cf and lookup table sources (readllines() in its sources): a line ends at LF
 * only (a bare CR or U+2028 does not end one); a blank line or one whose first non-blank character is
 * "#" is skipped; a line starting with whitespace continues the logical line before it, and skipped
 * lines in between do not end that logical line.
 */

export interface SourceLine {
  /** The line as in the file, with its terminator. */
  raw: string;
  /** Without the terminator. */
  body: string;
  /** "\n", "\r\n" (kept, so a CRLF file stays CRLF) or "" at the end of the file. */
  eol: string;
  kind: "skipped" | "start" | "continuation";
}

export function readLines(text: string): SourceLine[] {
  const raws = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return raws.map((raw) => {
    const eol = raw.endsWith("\r\n") ? "\r\n" : raw.endsWith("\n") ? "\n" : "";
    const body = raw.slice(0, raw.length - eol.length);
    const content = trimPostfix(body);
    const kind =
      content === "" || content.startsWith("#")
        ? "skipped"
        : startsWithSpace(body)
          ? "continuation"
          : "start";
    return { raw, body, eol, kind };
  });
}
