import { InputError } from "../errors.js";
import { mapStrings } from "../map-strings.js";
import { MASK, type Secret } from "./secret.js";

/**
 * The last line of defence. Secrets stay out of the output by their type (a Secret renders as the mask);
 * this catches a value that reached a message by some path we did not foresee (a remote error echoing a
 * file, say). It must never damage what it does not hide, so it masks a secret only as a whole token
 * (not "x" inside "exitCode"), and in a JSON document only inside string values, never in keys or
 * structure.
 */

/**
 * Secrets shorter than this are refused before any host is contacted: a short value is too likely to
 * stand as a token of its own in ordinary output, and every mask there would both spoil the output and
 * show where the password occurs.
 */
export const MIN_SECRET_LENGTH = 6;

export function isTooShort(value: string): boolean {
  return [...value].length < MIN_SECRET_LENGTH;
}

export function tooShortMessage(source: string): string {
  return (
    `the password from ${source} is shorter than ${MIN_SECRET_LENGTH} characters; provision refuses it ` +
    `because it could not keep so short a value out of its output reliably`
  );
}

export interface Redactor {
  /** Printed text: every whole-token occurrence of a secret value becomes the mask. */
  text(text: string): string;
  /** A JSON document (before serialisation): the same, in its string values only. */
  json<T>(document: T): T;
}

export const NO_REDACTION: Redactor = { text: (text) => text, json: (document) => document };

/** Throws an InputError naming the source of a secret too short to be masked safely. */
export function createRedactor(secrets: Iterable<Secret>): Redactor {
  const values = new Set<string>();
  for (const secret of secrets) {
    const value = secret.reveal();
    if (isTooShort(value)) throw new InputError(tooShortMessage(secret.source));
    values.add(value);
  }
  if (values.size === 0) return NO_REDACTION;
  // Longest first, so a secret that contains another is masked whole.
  const pattern = new RegExp(
    [...values]
      .sort((a, b) => b.length - a.length)
      .map(tokenPattern)
      .join("|"),
    "gu",
  );
  const text = (input: string) => input.replace(pattern, MASK);
  return { text, json: (document) => mapStrings(document, text) };
}

const WORD = /[\p{L}\p{M}\p{N}_]/u;

/** The value, where it is not glued to a letter, digit or `_` on a side where it has one itself. */
function tokenPattern(value: string): string {
  const chars = [...value];
  const escaped = value.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const before = WORD.test(chars[0] ?? "") ? "(?<![\\p{L}\\p{M}\\p{N}_])" : "";
  const after = WORD.test(chars[chars.length - 1] ?? "") ? "(?![\\p{L}\\p{M}\\p{N}_])" : "";
  return `${before}${escaped}${after}`;
}
