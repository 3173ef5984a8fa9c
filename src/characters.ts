/**
 * Which characters a value of an input file may hold: the one definition of "control character", used
 * by the YAML reader (every string of every file) and by the Postfix rules (src/postfix/rules.ts).
 */

/** C0 control characters but tab (line breaks, NUL, escape, ...), DEL and the C1 controls (NEL, ...). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** `U+00A0`: how a character is named in messages, so that invisible ones can be found. */
export function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** What is wrong ("contains a line break"), without echoing the text, which may be a literal password. */
export function controlCharacterProblem(text: string): string | undefined {
  const match = CONTROL.exec(text);
  if (!match) return undefined;
  const char = match[0];
  if (char === "\n" || char === "\r" || char === "\u0085") return "contains a line break";
  if (char === "\u0000") return "contains a NUL character";
  return `contains the control character ${codePoint(char)}`;
}
