import { InputError } from "../errors.js";

/*
 * main.cf is EDITED, never replaced: the distribution and the admin own every line the playbook does not
 * name. The reader follows Postfix 3.x readllines(): a line starting with whitespace continues the
 * previous logical line, and blank or comment lines in between do NOT end it (Postfix skips them and keeps
 * collecting). So an indented line after a comment is attributed to the parameter above it; when that
 * parameter is replaced or removed, its continuation lines go too and the comments stay. Continuation
 * lines before any parameter are ignored by Postfix (with a warning); they are kept as they are.
 */

const PARAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
// Tab is allowed: Postfix treats it as whitespace. Every other C0 control and DEL is not.
// eslint-disable-next-line no-control-regex
const BAD_VALUE_CHAR = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Throws InputError unless `name` can be written as a main.cf parameter name. */
export function validateParamName(name: string): void {
  if (!PARAM_NAME.test(name)) {
    throw new InputError(
      `main.cf parameter name ${JSON.stringify(name)} is invalid: use letters, digits, "_", "." and "-"`,
    );
  }
}

/**
 * Throws InputError when `value` cannot be written on one main.cf line: a newline would inject another
 * parameter. Leading and trailing whitespace is accepted: Postfix ignores it, and so does the editor
 * (it writes the value trimmed).
 */
export function validateParamValue(name: string, value: string): void {
  if (BAD_VALUE_CHAR.test(value)) {
    throw new InputError(
      `main.cf parameter ${name}: the value contains a newline or another control character; ` +
        `a parameter value is one line (Postfix joins indented lines itself)`,
    );
  }
}

interface RawLine {
  /** The line as in the file, with its terminator ("\n", "\r\n" or none at EOF). */
  raw: string;
  /** Without the terminator. */
  body: string;
}

/** One logical line: a start line plus its continuation lines. `name` is undefined without "=". */
interface LogicalLine {
  name?: string;
  /** Indexes into the raw lines: the start line first. */
  lines: number[];
  /** Normalised value (see normalise). */
  value: string;
}

function splitLines(text: string): RawLine[] {
  const raws = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return raws.map((raw) => ({ raw, body: raw.replace(/\n$/, "").replace(/\r$/, "") }));
}

/** Whitespace-insensitive form used to compare values: Postfix splits lists on whitespace anyway. */
function normalise(value: string): string {
  return value.replace(/\s+/g, " ").trim();
}

function parse(lines: RawLine[]): LogicalLine[] {
  const logical: (Omit<LogicalLine, "value"> & { pieces: string[] })[] = [];
  lines.forEach(({ body }, index) => {
    if (/^\s*(#|$)/.test(body)) return; // blank or comment: skipped, does not end a logical line
    const current = logical.at(-1);
    if (/^\s/.test(body)) {
      current?.lines.push(index);
      current?.pieces.push(body);
      return;
    }
    // Postfix's split_nameval(): the name ends at whitespace or "=", then "=" must follow.
    const match = /^([^\s=]+)\s*=(.*)$/.exec(body);
    logical.push({ name: match?.[1], lines: [index], pieces: match ? [match[2] ?? ""] : [] });
  });
  return logical.map(({ name, lines, pieces }) => ({ name, lines, value: normalise(pieces.join(" ")) }));
}

/** Effective parameter values: the last definition wins, continuation lines joined, whitespace normalised. */
export function mainCfValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of parse(splitLines(text))) {
    if (line.name !== undefined) values.set(line.name, line.value);
  }
  return values;
}

function formatParam(name: string, value: string): string {
  const trimmed = value.trim();
  return trimmed === "" ? `${name} =` : `${name} = ${trimmed}`;
}

/**
 * Sets or removes (null) parameters in main.cf text, like `postconf -e` / `postconf -X` but touching
 * nothing when a parameter is already right: a single definition with an equal value is left as written.
 * Otherwise the first definition is replaced in place and later duplicates are deleted; new parameters
 * are appended in the given order. Every other line stays byte for byte. `changed` is sorted.
 */
export function editMainCf(
  text: string,
  desired: Record<string, string | null>,
): { text: string; changed: string[] } {
  const lines = splitLines(text);
  const logical = parse(lines);
  const remove = new Set<number>();
  const replace = new Map<number, string>();
  const append: string[] = [];
  const changed: string[] = [];

  for (const [name, value] of Object.entries(desired)) {
    validateParamName(name);
    if (value !== null) validateParamValue(name, value);
    const found = logical.filter((line) => line.name === name);
    if (value === null) {
      if (found.length === 0) continue;
      for (const line of found) line.lines.forEach((i) => remove.add(i));
    } else {
      if (found.length === 1 && found[0]?.value === normalise(value)) continue;
      const [first, ...later] = found;
      if (first === undefined) {
        append.push(formatParam(name, value));
      } else {
        const [start, ...continuation] = first.lines;
        if (start !== undefined) replace.set(start, formatParam(name, value));
        continuation.forEach((i) => remove.add(i));
        for (const line of later) line.lines.forEach((i) => remove.add(i));
      }
    }
    changed.push(name);
  }
  if (changed.length === 0) return { text, changed };

  // New lines use the file's own line ending, so a CRLF file stays consistent.
  const eol = /\r?\n/.exec(text)?.[0] ?? "\n";
  let out = "";
  lines.forEach(({ raw }, index) => {
    if (remove.has(index)) return;
    const replacement = replace.get(index);
    out += replacement === undefined ? raw : replacement + eol;
  });
  if (out !== "" && !out.endsWith("\n")) out += eol;
  for (const line of append) out += line + eol;
  return { text: out, changed: changed.sort() };
}
