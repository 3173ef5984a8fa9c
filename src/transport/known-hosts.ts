import { createHash, createHmac, randomBytes } from "node:crypto";
import { shellQuote } from "./shell.js";

/**
 * OpenSSH known_hosts matching (pure). Supports plain and hashed (`|1|salt|hash`) host patterns,
 * `[host]:port` entries, wildcards and negation, and the `@revoked` marker. `@cert-authority` lines are
 * ignored: we do not verify host certificates.
 */

export interface KnownHostEntry {
  marker?: "revoked" | "cert-authority";
  /** Comma-separated patterns, or a hashed entry. */
  hosts: { hashed: { salt: Buffer; hash: Buffer } } | { patterns: string[] };
  keyType: string;
  key: Buffer;
  line: number;
}

export type HostKeyVerdict =
  | { status: "known"; line: number }
  | { status: "unknown"; knownTypes: string[] }
  | { status: "changed"; line: number; knownTypes: string[] }
  | { status: "revoked"; line: number };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === "" || fields[0]?.startsWith("#")) return;
    let marker: KnownHostEntry["marker"];
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields[0] === "@revoked" ? "revoked" : "cert-authority";
      fields.shift();
    }
    const [hostField, keyType, keyB64] = fields;
    if (!hostField || !keyType || !keyB64) return;
    const hosts = parseHostField(hostField);
    if (!hosts) return;
    entries.push({ marker, hosts, keyType, key: Buffer.from(keyB64, "base64"), line: index + 1 });
  });
  return entries;
}

function parseHostField(field: string): KnownHostEntry["hosts"] | undefined {
  if (!field.startsWith("|1|")) return { patterns: field.split(",") };
  const [, , salt, hash] = field.split("|");
  if (!salt || !hash) return undefined;
  return { hashed: { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") } };
}

/** The name OpenSSH records a host under: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(text);
}

function entryMatches(entry: KnownHostEntry, token: string): boolean {
  if ("hashed" in entry.hosts) {
    const { salt, hash } = entry.hosts.hashed;
    return hostHash(salt, token).equals(hash);
  }
  let matched = false;
  for (const pattern of entry.hosts.patterns) {
    const negated = pattern.startsWith("!");
    if (globMatch(negated ? pattern.slice(1) : pattern, token)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Decide whether `key` (the server's raw public key blob) is the one recorded for host:port. */
export function verifyHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const token = hostToken(host, port);
  const relevant = entries.filter((e) => e.marker !== "cert-authority" && entryMatches(e, token));
  const revoked = entries.find((e) => e.marker === "revoked" && e.key.equals(key));
  if (revoked) return { status: "revoked", line: revoked.line };
  const known = relevant.filter((e) => e.marker === undefined);
  const match = known.find((e) => e.key.equals(key));
  if (match) return { status: "known", line: match.line };
  const knownTypes = [...new Set(known.map((e) => e.keyType))];
  // Any recorded key that does not match means "changed": we restrict the server to recorded key
  // types, so a mismatch is never just "a key type we had not seen yet".
  const first = known[0];
  if (first) return { status: "changed", line: first.line, knownTypes };
  return { status: "unknown", knownTypes };
}

/** Key types recorded for host:port, to tell the server which host key algorithms we can verify. */
export function recordedKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const token = hostToken(host, port);
  return [
    ...new Set(entries.filter((e) => e.marker === undefined && entryMatches(e, token)).map((e) => e.keyType)),
  ];
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return "";
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString("latin1");
}

/** `SHA256:...` as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/**
 * The known_hosts line that would accept this key for host:port. `hashed` writes the name as ssh does
 * with `HashKnownHosts yes`: `|1|SALT|HMAC-SHA1(SALT, name)`, a fresh 20-byte salt per line, the name
 * lower-cased first as ssh does before hashing.
 */
export function knownHostsLine(host: string, port: number, key: Buffer, hashed = false): string {
  const token = hostToken(host, port).toLowerCase();
  const salt = hashed ? randomBytes(20) : undefined;
  const name = salt ? `|1|${salt.toString("base64")}|${hostHash(salt, token).toString("base64")}` : token;
  return `${name} ${keyTypeOf(key)} ${key.toString("base64")}`;
}

/** A hashed known_hosts name: HMAC-SHA1 of the host token, keyed with the entry's salt. */
function hostHash(salt: Buffer, token: string): Buffer {
  return createHmac("sha1", salt).update(token).digest();
}

/**
 * The command that removes the recorded keys of host:port, as the user would type it: with `-f FILE`
 * when the keys are not in ssh-keygen's own default file, and the `[host]:port` name for other ports.
 */
export function removeKeyCommand(host: string, port: number, file: string, defaultFile: string): string {
  const fileOption = file === defaultFile ? "" : ` -f ${shellWord(file)}`;
  return `ssh-keygen${fileOption} -R ${shellWord(hostToken(host, port))}`;
}

/** Quoted for sh only where needed (`[host]:port` holds glob characters), so the usual case reads plainly. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,~-]+$/.test(text) && !text.startsWith("~") ? text : shellQuote(text);
}
