import { InputError } from "../errors.js";
import { readLines, type SourceLine } from "./lines.js";
import {
  normaliseValue,
  parameterNameProblem,
  parameterValueProblem,
  splitAtSpace,
  trimPostfix,
} from "./rules.js";

/*
 * main.cf is EDITED, never replaced: the distribution and the admin own every line the playbook does not
 * name. The reader follows Postfix 3.x readllines() (lines.ts): a line starting with whitespace continues
 * the previous logical line, and blank or comment lines in between do NOT end it (Postfix skips them and
 * keeps collecting). So an indented line after a comment is attributed to the parameter above it; when that
 * parameter is replaced or removed, its continuation lines go too and the comments stay. Continuation
 * lines before any parameter are ignored by Postfix (with a warning); they are kept as they are.
 */

/** Throws InputError unless `name` can be written as a main.cf parameter name. */
export function validateParamName(name: string): void {
  const problem = parameterNameProblem(name);
  if (problem !== undefined) throw new InputError(problem);
}

/** Throws InputError when `value` cannot be written on one main.cf line as Postfix would read it. */
export function validateParamValue(name: string, value: string): void {
  const problem = parameterValueProblem(value);
  if (problem !== undefined) throw new InputError(`main.cf parameter ${name}: ${problem}`);
}

/** One logical line: a start line plus its continuation lines. `name` is undefined without "=". */
interface LogicalLine {
  name?: string;
  /** Indexes into the source lines: the start line first. */
  lines: number[];
  /** Normalised value (see normaliseValue). */
  value: string;
}

/** Postfix's split_nameval(): the name ends at whitespace or "=", and "=" must come next. */
function splitNameValue(body: string): { name: string; value: string } | undefined {
  const eq = body.indexOf("=");
  if (eq < 0) return undefined;
  const name = trimPostfix(body.slice(0, eq));
  if (name === "" || splitAtSpace(name).gap !== "") return undefined;
  return { name, value: body.slice(eq + 1) };
}

function parse(lines: readonly SourceLine[]): LogicalLine[] {
  const logical: (Omit<LogicalLine, "value"> & { pieces: string[] })[] = [];
  lines.forEach(({ body, kind }, index) => {
    if (kind === "skipped") return;
    const current = logical.at(-1);
    if (kind === "continuation") {
      current?.lines.push(index);
      current?.pieces.push(body);
      return;
    }
    const pair = splitNameValue(body);
    logical.push({ name: pair?.name, lines: [index], pieces: pair ? [pair.value] : [] });
  });
  return logical.map(({ name, lines, pieces }) => ({ name, lines, value: normaliseValue(pieces.join(" ")) }));
}

/** Effective parameter values: the last definition wins, continuation lines joined, whitespace normalised. */
export function mainCfValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of parse(readLines(text))) {
    if (line.name !== undefined) values.set(line.name, line.value);
  }
  return values;
}

function formatParam(name: string, value: string): string {
  const trimmed = trimPostfix(value);
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
  const lines = readLines(text);
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
      if (found.length === 1 && found[0]?.value === normaliseValue(value)) continue;
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
