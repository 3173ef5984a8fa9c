import { InputError } from "../errors.js";
import { isTooShort } from "../secrets/redact.js";
import { MASK, maskText, revealText, Secret, type SecretText } from "../secrets/secret.js";
import { readLines } from "./lines.js";
import {
  foldKey,
  passwordProblem,
  sameKeyProblem,
  splitAtSpace,
  tableKeyProblem,
  tableValueProblem,
  trimPostfix,
} from "./rules.js";

/** One line of a lookup table source: `key value`. The value may hold secrets (sasl_passwd). */
export interface TableEntry {
  key: string;
  value: SecretText;
}

export const TABLE_HEADER = "# Managed by provision: edits here are overwritten on the next apply.";

/**
 * Compares by Unicode code point, so the order does not depend on locale or UTF-16 details: UTF-16 code
 * units order the same way except that surrogates (code points above U+FFFF) must come after U+E000..U+FFFF.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The first entry postmap would misread, with the key it belongs to; never shows a value. */
export function entryProblem(
  entries: readonly TableEntry[],
): { key: string; onKey: boolean; message: string } | undefined {
  const seen = new Map<string, string>();
  for (const { key, value } of entries) {
    const keyProblem = tableKeyProblem(key);
    if (keyProblem !== undefined) return { key, onKey: true, message: keyProblem };
    const valueProblem = tableValueProblem(checkableText(value));
    if (valueProblem !== undefined) return { key, onKey: false, message: valueProblem };
    const folded = foldKey(key);
    const earlier = seen.get(folded);
    if (earlier !== undefined) return { key, onKey: true, message: sameKeyProblem(key, earlier) };
    seen.set(folded, key);
  }
  return undefined;
}

/** The value as text to check; a password check could not resolve has no value and stands as a word. */
function checkableText(value: SecretText): string {
  return value
    .map((part) =>
      typeof part === "string" ? part : part.unresolved !== undefined ? "unresolved" : part.reveal(),
    )
    .join("");
}

/** The passwords of `entries` that `check` could not resolve (Secret.unresolved), with their keys. */
export function unresolvedPasswords(entries: readonly TableEntry[]): { key: string; secret: Secret }[] {
  return entries.flatMap(({ key, value }) =>
    value.flatMap((part) =>
      typeof part !== "string" && part.unresolved !== undefined ? [{ key, secret: part }] : [],
    ),
  );
}

/**
 * For `check` without a password (Secret.unresolved): the entries with each such password replaced by the
 * host's current one for the same key, where the host's value has the same text before it (the username)
 * and the rest could be a password; otherwise by one the host does not have. Rendering these and comparing
 * the result with the host's file then compares everything but those passwords, byte for byte, as apply
 * would. The result holds the host's passwords: plan.ts compares it and never shows or writes it.
 */
export function withHostPasswords(entries: readonly TableEntry[], remoteText: string): TableEntry[] {
  const host = hostValues(remoteText);
  return entries.map(({ key, value }) => {
    const last = value[value.length - 1];
    if (!(last instanceof Secret) || last.unresolved === undefined) return { key, value };
    const head = value.slice(0, -1);
    if (head.some((part) => typeof part !== "string"))
      throw new Error("internal error: two secrets in a value");
    const prefix = head.join("");
    const current = host.get(foldKey(key));
    const rest = current?.startsWith(prefix) ? current.slice(prefix.length) : undefined;
    const couldBe =
      rest !== undefined &&
      passwordProblem(rest) === undefined &&
      !isTooShort(rest) &&
      tableValueProblem(prefix + rest) === undefined;
    return { key, value: [prefix, new Secret(couldBe ? rest : "not-the-host-s-value", "the host's table")] };
  });
}

/** The value of each key of a table source (folded key -> value), as Postfix reads it: the first wins. */
function hostValues(text: string): Map<string, string> {
  return new Map(readTableEntries(text).map(({ key, value }) => [foldKey(key), value]));
}

/**
 * A table source's entries as Postfix reads them (lines.ts): continuation lines joined to their entry,
 * values trimmed, and of keys equal but for case only the first.
 */
export function readTableEntries(text: string): { key: string; value: string }[] {
  const entries: { key: string; value: string }[] = [];
  const seen = new Set<string>();
  let current: { key: string; value: string } | undefined;
  const flush = () => {
    if (current && !seen.has(foldKey(current.key))) {
      seen.add(foldKey(current.key));
      entries.push({ key: current.key, value: trimPostfix(current.value) });
    }
    current = undefined;
  };
  for (const { body, kind } of readLines(text)) {
    if (kind === "continuation" && current) current.value += body;
    else if (kind === "start") {
      flush();
      const { head, rest } = splitAtSpace(body);
      current = { key: head, value: rest };
    }
  }
  flush();
  return entries;
}

/**
 * Throws InputError for an entry postmap would misread (see rules.ts): whitespace in a key splits it, a
 * line break injects another entry, a leading "#" makes a comment, whitespace around a value is stripped,
 * and of two keys equal but for case only the first counts.
 */
function validateEntries(entries: readonly TableEntry[], table?: string): void {
  const problem = entryProblem(entries);
  if (problem === undefined) return;
  const where = table === undefined ? "table" : `table ${table}`;
  const key = problem.onKey ? "" : `, key ${JSON.stringify(problem.key)}`;
  throw new InputError(`${where}${key}: ${problem.message}`);
}

/**
 * The source file of a table: a header, then `key value` lines sorted by lowercased key, so the same
 * entries always give the same bytes. `text` reveals secrets (it is written to the host); `display` masks
 * them (it is shown to users).
 */
export function renderTable(
  entries: readonly TableEntry[],
  table?: string,
): { text: string; display: string } {
  validateEntries(entries, table);
  const sorted = entries
    .map((entry) => ({ entry, folded: foldKey(entry.key) }))
    .sort((a, b) => compareCodePoints(a.folded, b.folded))
    .map(({ entry }) => entry);
  const render = (show: (value: SecretText) => string) =>
    [TABLE_HEADER, ...sorted.map(({ key, value }) => `${key} ${show(value)}`)].join("\n") + "\n";
  return { text: render(revealText), display: render(maskText) };
}

/** `user:pass` as Postfix reads it: split at the FIRST colon, so the password may contain colons. */
function splitCredentials(value: string): { user: string; pass: string } | undefined {
  const colon = value.indexOf(":");
  return colon < 0 ? undefined : { user: value.slice(0, colon), pass: value.slice(colon + 1) };
}

/** A host's key is shown only when it is one the playbook declares or plain printable ASCII. */
const PLAIN_KEY = /^[!-~]+$/;

/**
 * The current content of a secret table on the host, made safe to show: usernames stay visible, passwords
 * become MASK, with " (differs)" when the host's password is not the desired one for that key. Read as
 * Postfix reads it (lines.ts), whatever the line ends: a bare CR or a U+2028 ends no line, so everything
 * after the key up to the next LF is one value, masked. Continuation lines are masked whole (they may
 * hold part of a password); so is a line with no value or with a key that is neither declared nor
 * plain ASCII (a password may have been typed where the separator belongs).
 */
export function maskTableText(remoteText: string, desired: readonly TableEntry[]): string {
  const want = new Map(desired.map((e) => [foldKey(e.key), revealText(e.value)]));
  const out: string[] = [];
  // The start line of the current entry waits in `pending` until its continuation lines are known.
  let pending: { index: number; head: string; key: string; value: string; eol: string } | undefined;
  const flush = () => {
    if (!pending) return;
    const value = trimPostfix(pending.value);
    const desiredValue = want.get(foldKey(pending.key));
    let shown: string;
    const have = splitCredentials(value);
    if (have) {
      const wanted = desiredValue === undefined ? undefined : splitCredentials(desiredValue);
      shown = `${have.user}:${MASK}${wanted?.pass === have.pass ? "" : " (differs)"}`;
    } else {
      shown = `${MASK}${desiredValue === value ? "" : " (differs)"}`;
    }
    out[pending.index] = pending.head + shown + pending.eol;
    pending = undefined;
  };
  readLines(remoteText).forEach(({ raw, body, eol, kind }, index) => {
    if (kind === "skipped") {
      out[index] = raw;
    } else if (kind === "continuation") {
      out[index] = `${splitAtSpace(body).gap}${MASK}${eol}`;
      if (pending) pending.value += body;
    } else {
      flush();
      // The key, then the whitespace after it as written; the rest is the (secret) value.
      const { head: key, gap, rest } = splitAtSpace(body);
      if (trimPostfix(rest) !== "" && (PLAIN_KEY.test(key) || want.has(foldKey(key)))) {
        pending = { index, head: key + gap, key, value: rest, eol };
      } else {
        out[index] = MASK + eol;
      }
    }
  });
  flush();
  return out.join("");
}
