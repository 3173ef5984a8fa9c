import { InputError } from "../errors.js";
import { MASK, maskText, revealText, type SecretText } from "../secrets/secret.js";

/** One line of a lookup table source: `key value`. The value may hold secrets (sasl_passwd). */
export interface TableEntry {
  key: string;
  value: SecretText;
}

export const TABLE_HEADER = "# Managed by provision: edits here are overwritten on the next apply.";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Compares by Unicode code point, so the order does not depend on locale or UTF-16 details. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Throws InputError for an entry postmap would misread: whitespace in a key splits it, a newline injects
 * another entry, a leading "#" makes a comment, surrounding whitespace in a value is trimmed away, and of
 * two keys equal but for case (postmap lowercases keys) only the first counts. Messages name the key and
 * never show the value, which may be a password.
 */
export function validateEntries(entries: readonly TableEntry[], table?: string): void {
  const where = table === undefined ? "table" : `table ${table}`;
  const seen = new Map<string, string>();
  for (const { key, value } of entries) {
    const fail = (problem: string) => {
      throw new InputError(`${where}, key ${JSON.stringify(key)}: ${problem}`);
    };
    if (key === "") throw new InputError(`${where}: a key is empty`);
    if (CONTROL.test(key)) fail("the key contains a newline or another control character");
    if (/\s/.test(key)) fail("the key contains whitespace, which would end it early");
    if (key.startsWith("#")) fail('the key starts with "#", which would make the line a comment');
    const revealed = revealText(value);
    if (revealed === "") fail("the value is empty");
    if (CONTROL.test(revealed)) fail("the value contains a newline or another control character");
    if (revealed.trim() !== revealed) fail("the value has leading or trailing whitespace");
    const folded = key.toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined) {
      fail(`it equals key ${JSON.stringify(other)} except for case; postmap lowercases keys, keep one`);
    }
    seen.set(folded, key);
  }
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
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.key.toLowerCase(), b.key.toLowerCase()));
  const render = (show: (value: SecretText) => string) =>
    [TABLE_HEADER, ...sorted.map(({ key, value }) => `${key} ${show(value)}`)].join("\n") + "\n";
  return { text: render(revealText), display: render(maskText) };
}

/** `user:pass` as Postfix reads it: split at the FIRST colon, so the password may contain colons. */
function splitCredentials(value: string): { user: string; pass: string } | undefined {
  const colon = value.indexOf(":");
  return colon < 0 ? undefined : { user: value.slice(0, colon), pass: value.slice(colon + 1) };
}

/**
 * The current content of a secret table on the host, made safe to show: usernames stay visible, passwords
 * become MASK, with " (differs)" when the host's password is not the desired one for that key. Lines read
 * as Postfix does: a line starting with whitespace continues the entry (comments and blank lines in between
 * do not end it); continuation lines are masked whole, as they may hold part of a password.
 */
export function maskTableText(remoteText: string, desired: readonly TableEntry[]): string {
  const want = new Map(desired.map((e) => [e.key.toLowerCase(), revealText(e.value)]));
  const lines = remoteText.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  // The start line of the current entry waits in `pending` until its continuation lines are known.
  let pending: { index: number; head: string; key: string; value: string; eol: string } | undefined;
  const flush = () => {
    if (!pending) return;
    const value = pending.value.trim();
    const desiredValue = want.get(pending.key.toLowerCase());
    let shown: string;
    const have = splitCredentials(value);
    if (have) {
      const wanted = desiredValue === undefined ? undefined : splitCredentials(desiredValue);
      shown = `${have.user}:${MASK}${wanted?.pass === have.pass ? "" : " (differs)"}`;
    } else {
      shown = value === "" ? "" : `${MASK}${desiredValue === value ? "" : " (differs)"}`;
    }
    out[pending.index] = pending.head + shown + pending.eol;
    pending = undefined;
  };
  lines.forEach((raw, index) => {
    const eol = /\r?\n$/.exec(raw)?.[0] ?? "";
    const body = raw.slice(0, raw.length - eol.length);
    if (/^\s*(#|$)/.test(body)) {
      out[index] = raw;
    } else if (/^\s/.test(body)) {
      out[index] = `${/^\s*/.exec(body)?.[0] ?? ""}${MASK}${eol}`;
      if (pending) pending.value += body;
    } else {
      flush();
      // Key, then the whitespace after it kept as written; the rest is the (secret) value.
      const match = /^(\S+)(\s*)(.*)$/.exec(body);
      const key = match?.[1] ?? body;
      pending = { index, head: key + (match?.[2] ?? ""), key, value: match?.[3] ?? "", eol };
    }
  });
  flush();
  return out.join("");
}
