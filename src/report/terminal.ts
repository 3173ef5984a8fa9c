import { mapStrings } from "../map-strings.js";

/**
 * Text from a host (postconf -n values, file contents in diffs, error and warning lines) is not ours: a
 * host, or anyone who can write a file on it, could put terminal escape sequences in it (clear the
 * screen, move the cursor to overwrite a FAILED line, write the clipboard with OSC 52) and they would
 * reach the terminal or the cron mail of whoever runs provision. Every report is built from outcomes
 * passed through `terminalSafe` first; JSON goes through `jsonText`.
 */

/**
 * C0 controls except tab and line feed (tab is harmless, line feed is a line break where one is meant:
 * renderers indent continuation lines so they cannot pass for a line of their own), DEL, C1 controls
 * (U+009B is CSI to some terminals), and the bidirectional embeddings, overrides and isolates that can
 * make text display in an order other than the one it has.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The first character `escapeControls` would escape, if any. */
export function firstUnsafeCharacter(text: string): string | undefined {
  return new RegExp(UNSAFE.source).exec(text)?.[0];
}

/** Every unsafe character as a visible escape: ESC -> `\x1b`, U+202E -> `\u202e`. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/** A copy of an outcome (or anything) with every string in it escaped. */
export function terminalSafe<T>(value: T): T {
  return mapStrings(value, escapeControls);
}

/**
 * JSON for stdout: JSON.stringify escapes C0 but not DEL, C1, the bidi controls nor U+2028/U+2029; they
 * become \u escapes here (they can only occur inside strings, so the parsed document is unchanged).
 */
export function jsonText(document: unknown): string {
  return (
    JSON.stringify(document, null, 2).replace(
      /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
      (char) => `\\u${hex(char.charCodeAt(0), 4)}`,
    ) + "\n"
  );
}

/** Continuation lines of a multi-line message, indented under its first line. */
export function indentContinuation(text: string, indent: string): string {
  return text.replace(/\n/g, `\n${indent}`);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}
