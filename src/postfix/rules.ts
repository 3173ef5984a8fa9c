import { codePoint, controlCharacterProblem } from "../characters.js";
import type { PostfixState } from "./state.js";

/*
 * What Postfix accepts, each rule written down once. The playbook loader calls these early, to report
 * every mistake at its line; deriveConfig calls them again, as the domain's own guarantee; the engine
 * asks managedTables which files to read. A rule returns what is wrong (a message), or undefined.
 */

// ---- Characters -----------------------------------------------------------------------------------

/*
 * Postfix reads its files byte by byte with C's isspace() in the C locale: whitespace is space, tab, CR,
 * LF, VT and FF, and a line ends at LF only. JavaScript's \s (and `.`, which stops at U+2028) disagree:
 * a no-break space is whitespace to \s but part of a word to Postfix. So nothing here uses \s or `.`.
 */
const SPACE = " \\t\\n\\v\\f\\r";
const SPACES = new RegExp(`[${SPACE}]+`, "g");
const HAS_SPACE = new RegExp(`[${SPACE}]`);
const EDGE_SPACE = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");
/** The first whitespace character (as Postfix sees it) and the run that follows it. */
const FIRST_SPACE_RUN = new RegExp(`[${SPACE}]+`);

/** True when `text` starts with whitespace as Postfix sees it (ISSPACE in its sources). */
export function startsWithSpace(text: string): boolean {
  return HAS_SPACE.test(text.charAt(0));
}

/**
 * `text` cut at its first run of whitespace: Postfix's "key value" and "name = value" split. `gap` is
 * the run itself ("" and rest "" when there is none).
 */
export function splitAtSpace(text: string): { head: string; gap: string; rest: string } {
  const match = FIRST_SPACE_RUN.exec(text);
  if (!match) return { head: text, gap: "", rest: "" };
  return { head: text.slice(0, match.index), gap: match[0], rest: text.slice(match.index + match[0].length) };
}

/** `value` without the leading and trailing whitespace Postfix strips. */
export function trimPostfix(value: string): string {
  return value.replace(EDGE_SPACE, "");
}

/** The form two values are compared in: Postfix splits lists at whitespace, so runs of it are one space. */
export function normaliseValue(value: string): string {
  return trimPostfix(value).replace(SPACES, " ");
}

/**
 * Characters that look like a space or a line break to whoever reads the playbook, but that Postfix
 * reads as part of a word: `a,<NBSP>b` names "<NBSP>b", and a U+2028 "line" is one line.
 */
const LOOKALIKES: Readonly<Record<string, string>> = {
  "\u00a0": "no-break space",
  "\u1680": "Ogham space",
  "\u200b": "zero-width space",
  "\u2028": "line separator",
  "\u2029": "paragraph separator",
  "\u202f": "narrow no-break space",
  "\u205f": "math space",
  "\u2060": "word joiner",
  "\u3000": "ideographic space",
  "\ufeff": "zero-width no-break space",
};
const LOOKALIKE = /[\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]/;

/** A control character, or a Unicode space or line separator Postfix would not read as one. */
export function textProblem(text: string): string | undefined {
  const control = controlCharacterProblem(text);
  if (control !== undefined) return control;
  const char = LOOKALIKE.exec(text)?.[0];
  if (char === undefined) return undefined;
  const name = LOOKALIKES[char] ?? "a Unicode space";
  return (
    `contains ${codePoint(char)} (${name}), which Postfix reads as part of the text, not as a space or ` +
    `line break; use a plain space`
  );
}

/** A list such as "plain, login": Postfix separates list items with commas and whitespace. */
export function listItems(text: string): string[] {
  return text.split(/[ \t\r\n,]+/).filter((item) => item !== "");
}

/** Two list values that say the same: "a,b" and "a, b". */
export function sameList(a: string, b: string): boolean {
  return listItems(a).join() === listItems(b).join();
}

/** Postfix's compiled-in smtp_sasl_security_options (Debian's main.cf does not set it). */
export const SASL_SECURITY_DEFAULT = "noplaintext, noanonymous";

// ---- main.cf --------------------------------------------------------------------------------------

/*
 * Postfix's parameter names are letters, digits and "_" (a `$name` reference ends at any other
 * character). Service-specific overrides are plain names too (`smtp_tls_security_level`);
 * master.cf's `service/type` names and "." or "-" belong to no main.cf parameter.
 */
const PARAMETER_NAME = /^[A-Za-z0-9_]+$/;

export function parameterNameProblem(name: string): string | undefined {
  return PARAMETER_NAME.test(name)
    ? undefined
    : `invalid main.cf parameter name ${JSON.stringify(name)}: use letters, digits and "_"`;
}

/** A main.cf value is one line; leading and trailing whitespace is fine (Postfix strips it). */
export function parameterValueProblem(value: string): string | undefined {
  const problem = textProblem(value);
  return (
    problem && `the value ${problem}; a parameter value is one line (Postfix joins indented lines itself)`
  );
}

// ---- Lookup tables --------------------------------------------------------------------------------

export const POSTFIX_DIR = "/etc/postfix";

/** Tables the `postfix:` options own, under the SOHO guide's names; `option` is the playbook key. */
export const BUILT_IN_TABLES = {
  generic: { parameter: "smtp_generic_maps", option: "generic" },
  canonical: { parameter: "canonical_maps", option: "canonical" },
  virtual: { parameter: "virtual_alias_maps", option: "virtual" },
  sasl_passwd: { parameter: "smtp_sasl_password_maps", option: "relay / senders" },
  sender_relay: { parameter: "sender_dependent_relayhost_maps", option: "senders" },
} as const;
export type BuiltInTable = keyof typeof BUILT_IN_TABLES;

/**
 * The tables (names in POSTFIX_DIR) a state owns: those it writes and those it must remove, such as
 * sasl_passwd once `relay:`/`senders:` carry no credentials.
 */
export function managedTables(state: PostfixState): string[] {
  const senders = Object.keys(state.senders ?? {}).length > 0;
  const names: string[] = [];
  if (state.generic) names.push("generic");
  if (state.canonical) names.push("canonical");
  if (state.virtual) names.push("virtual");
  if (state.relay || senders) names.push("sasl_passwd");
  if (senders) names.push("sender_relay");
  return [...names, ...Object.keys(state.tables ?? {})];
}

// A plain file name: no dots, so it can never be main.cf, master.cf or an index file (NAME.db).
const TABLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** Postfix's own files in POSTFIX_DIR that the rule above lets through. */
const POSTFIX_FILES = ["postfix-files", "postfix-script", "post-install"];

/** The name of a `tables:` entry. */
export function tableNameProblem(name: string): string | undefined {
  if (Object.hasOwn(BUILT_IN_TABLES, name)) {
    const { option } = BUILT_IN_TABLES[name as BuiltInTable];
    return `"${name}" is managed by postfix.${option}; choose another table name`;
  }
  if (!TABLE_NAME.test(name)) return `invalid table name: use letters, digits, "_", "-"`;
  if (POSTFIX_FILES.includes(name)) {
    return `table name "${name}" would overwrite a Postfix file in ${POSTFIX_DIR}; choose another name`;
  }
  return undefined;
}

/** A key: one word (whitespace would end it early) that does not make the line a comment. */
export function tableKeyProblem(key: string): string | undefined {
  const shown = `key ${JSON.stringify(key)}`;
  if (key === "") return "the key is empty";
  const problem = textProblem(key);
  if (problem !== undefined) return `${shown} ${problem}`;
  if (HAS_SPACE.test(key))
    return `${shown} contains whitespace, which would end the key early in the table file`;
  if (key.startsWith("#")) return `${shown} starts with "#", which would make the line a comment`;
  return undefined;
}

/** A value. Never quoted: it may be a password. */
export function tableValueProblem(value: string): string | undefined {
  if (trimPostfix(value) === "") return "the value is empty";
  const problem = textProblem(value);
  if (problem !== undefined) return `the value ${problem}`;
  if (trimPostfix(value) !== value)
    return "the value has leading or trailing whitespace, which Postfix strips";
  return undefined;
}

/** postmap lowercases keys: two keys with the same folded form are one key. */
export function foldKey(key: string): string {
  return key.toLowerCase();
}

export function sameKeyProblem(key: string, earlier: string): string {
  return `key ${JSON.stringify(key)} is the same as ${JSON.stringify(earlier)} (Postfix lowercases table keys)`;
}

// ---- Addresses ------------------------------------------------------------------------------------

const DNS_LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
/** A DNS name: labels of letters, digits, "_" and inner "-", separated by single dots. */
export const DNS_NAME = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
/** An address literal: [192.0.2.1] or [IPv6:2001:db8::1]. */
const ADDRESS_LITERAL = /^\[(?:\d{1,3}(?:\.\d{1,3}){3}|[Ii][Pp][Vv]6:[0-9A-Fa-f:.]+)\]$/;
/** A local part: anything Postfix keeps as one word; quoted local parts are not supported. */
const LOCAL_PART = new RegExp(`^[^${SPACE}@"]*$`);

export const ADDRESS_FORMS =
  'expected user@domain, @domain or a bare user name, with a domain such as "example.com" ' +
  '(no "..", no empty labels) or an address literal such as [192.0.2.1]';

/** True for user@domain and @domain. */
export function isAddress(text: string): boolean {
  const at = text.indexOf("@");
  if (at < 0) return false;
  const domain = text.slice(at + 1);
  return LOCAL_PART.test(text.slice(0, at)) && (DNS_NAME.test(domain) || ADDRESS_LITERAL.test(domain));
}

/**
 * A key of generic:, canonical: or virtual: (or a generic:/canonical: value): with an "@" it must be an
 * address; without one it is a local user name, which Postfix matches in the local domains.
 */
export function addressKeyProblem(text: string, what: "key" | "value"): string | undefined {
  if (!text.includes("@") || isAddress(text)) return undefined;
  return `${what} ${JSON.stringify(text)} is not a valid address: ${ADDRESS_FORMS}`;
}

/**
 * A bare generic:/canonical: key with a dot is almost certainly a domain written without its "@":
 * Postfix would read `localdomain.local` as a user of that name and never match the domain.
 */
export function bareDomainKeyWarning(key: string): string | undefined {
  if (key.includes("@") || !key.includes(".")) return undefined;
  return (
    `key ${JSON.stringify(key)} has no "@", so Postfix reads it as a local user name, not a domain; ` +
    `for every address of the domain write "@${key}"`
  );
}

/** A senders: key: sender_dependent_relayhost_maps and sasl_passwd look senders up by address only. */
export function senderProblem(sender: string): string | undefined {
  return isAddress(sender)
    ? undefined
    : `sender ${JSON.stringify(sender)} must be an address user@domain or a domain @domain`;
}

// ---- Credentials (sasl_passwd: `username:password`, split at the first colon) -------------------------

export function credentialPairProblem(given: { username?: unknown; password?: unknown }): string | undefined {
  if ((given.username === undefined) === (given.password === undefined)) return undefined;
  const missing = given.username === undefined ? "username" : "password";
  return `${missing} is missing: give both username and password, or neither`;
}

export function usernameProblem(username: string): string | undefined {
  if (username === "") return "the username is empty";
  if (username.includes(":")) return 'a username may not contain ":" (sasl_passwd splits at the first colon)';
  const problem = textProblem(username);
  if (problem !== undefined) return `the username ${problem}`;
  if (trimPostfix(username) !== username) return "the username has leading or trailing whitespace";
  return undefined;
}

/** The problem with a password, worded to follow "the password (from SOURCE)"; never quotes it. */
export function passwordProblem(password: string): string | undefined {
  if (password === "") return "is empty";
  const problem = controlCharacterProblem(password);
  if (problem !== undefined) return problem;
  if (trimPostfix(password) !== password) {
    return "has leading or trailing whitespace, which Postfix would strip";
  }
  return undefined;
}
