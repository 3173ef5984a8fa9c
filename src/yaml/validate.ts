import * as z from "zod";
import { controlCharacterProblem } from "../characters.js";
import { InputError, InputErrors } from "../errors.js";
import { closest } from "./did-you-mean.js";
import { formatPath, type YamlFile } from "./yaml-file.js";

/**
 * A map with a fixed set of keys: anything else is an error with a "did you mean" hint, so a typo
 * (`realy:`) is never silently ignored.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      return issue.keys.map((key) => unknownKey(key, known)).join("; ");
    },
  });
}

/** A custom message for a schema (a union, say) that still says "required" when the key is missing. */
export function expecting(message: string) {
  return (issue: { input?: unknown }): string => (issue.input === undefined ? "required" : message);
}

function unknownKey(key: string, known: readonly string[]): string {
  const hint = closest(key, known);
  return `unknown key ${JSON.stringify(key)}` + (hint ? `, did you mean ${JSON.stringify(hint)}?` : "");
}

/**
 * Checks the whole file for characters that would break the line-oriented files written from it
 * (main.cf, lookup tables), then validates it against `schema`. Throws every problem found at once.
 */
export function validateYaml<S extends z.ZodType>(yaml: YamlFile, schema: S): z.output<S> {
  const errors = controlCharacterErrors(yaml);
  const result = schema.safeParse(yaml.data, { error: describeIssue });
  if (result.success && errors.length === 0) return result.data;
  if (!result.success) {
    const issues = withoutExplainedMissingKeys(result.error.issues);
    errors.push(...issues.map((issue) => issueToError(yaml, issue)));
  }
  throw new InputErrors(errors);
}

/**
 * `hots: x` gives two issues: the unknown key "hots" (did you mean "host"?) and the missing "host".
 * The first says it all; drop a "required" whose key is the suggestion for an unknown key beside it.
 */
function withoutExplainedMissingKeys(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const where = (path: readonly PropertyKey[], key: string) => JSON.stringify([...path.map(String), key]);
  const suggested = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    for (const [, hint] of issue.message.matchAll(/did you mean "([^"]+)"/g)) {
      if (hint !== undefined) suggested.add(where(issue.path, hint));
    }
  }
  return issues.filter((issue) => {
    const key = issue.path.at(-1);
    return !(
      issue.message === "required" &&
      key !== undefined &&
      suggested.has(where(issue.path.slice(0, -1), String(key)))
    );
  });
}

const ONE_LINE = "; write it on one line, without control characters";

function controlCharacterErrors(yaml: YamlFile): InputError[] {
  const errors: InputError[] = [];
  for (const { path, text, isKey } of yaml.strings()) {
    const problem = controlCharacterProblem(text);
    if (problem)
      errors.push(yaml.error(path, `${isKey ? "key" : "value"} ${problem}${ONE_LINE}`, { atKey: isKey }));
  }
  return errors;
}

function issueToError(yaml: YamlFile, issue: z.core.$ZodIssue): InputError {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    // One message for all unknown keys of a map, positioned at the first of them.
    const first = issue.keys[0] ?? "";
    if (issue.keys.length === 1) return yaml.error([...path, first], issue.message, { atKey: true });
    return new InputError(issue.message, {
      location: yaml.locateKey([...path, first]),
      path: formatPath(path),
    });
  }
  return yaml.error(path, issue.message);
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "a map",
  record: "a map",
  array: "a list",
  null: "null",
};

/** Messages in the user's terms: "expected a string, got a list". */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_type") return undefined;
  if (issue.input === undefined) return "required";
  const expected = `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
  // `mx: yes` is the text "yes" in YAML 1.2. Quoting a known word is safe (it is no password).
  if (issue.expected === "boolean" && typeof issue.input === "string" && BOOLEAN_WORDS.test(issue.input)) {
    return (
      `${expected}, got the text ${JSON.stringify(issue.input)}: YAML 1.2 reads yes/no/on/off (and ` +
      `anything quoted) as text; write true or false without quotes`
    );
  }
  return `${expected}, got ${describeValue(issue.input)}`;
}

const BOOLEAN_WORDS = /^(y|n|yes|no|on|off|true|false)$/i;

export function describeValue(value: unknown): string {
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return "a string";
  if (typeof value === "boolean") return `${String(value)} (a boolean)`;
  return `a ${typeof value}`;
}
