import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import {
  fingerprint,
  removeKeyCommand,
  knownHostsLine,
  parseKnownHosts,
  recordedKeyTypes,
  verifyHostKey,
  type HostKeyVerdict,
  type KnownHostEntry,
} from "./known-hosts.js";
import type { HostKeyChecking } from "./ssh-target.js";

/**
 * Host key verification of one SSH hop (the target or a jump host), as ssh does it: every
 * UserKnownHostsFile and GlobalKnownHostsFile is consulted, HostKeyAlias replaces the host name. As in
 * OpenSSH's check_key_in_hostkeys(), the entries of all files count as one list: the key recorded in any
 * file is trusted (so a global file of RSA keys does not make a user file's ed25519 key "changed"); a
 * key @revoked in any file is refused; a host with other keys recorded and this one nowhere is
 * "changed" and refused, whatever the checking. An unknown host is recorded with accept-new, in the
 * first UserKnownHostsFile only (hashed with HashKnownHosts yes); global files are never written.
 */

export interface HostKeyPolicy {
  /** "host:port" or, with HostKeyAlias, the alias: what the messages name. */
  hostname: string;
  port: number;
  alias?: string;
  /** UserKnownHostsFile: read, and the first one recorded into. */
  files: string[];
  /** GlobalKnownHostsFile: only read. */
  globalFiles: string[];
  checking: HostKeyChecking;
  /** HashKnownHosts: record the host name hashed. */
  hash: boolean;
  /** Prefix of every refusal ("jump host bastion (10.0.0.1:22): "); empty for the target. */
  label: string;
  /** -v: says when a key is recorded. */
  log?: (line: string) => void;
}

export interface HostKeyCheck {
  verify(key: Buffer): boolean;
  /** Why verify() said no, once it has. */
  refusal(): string | undefined;
  /** Host key algorithms to ask for: those recorded for the host, so that verification can succeed. */
  algorithms(): string[] | undefined;
}

export function hostKeyCheck(policy: HostKeyPolicy): HostKeyCheck {
  const [lookupHost, lookupPort] =
    policy.alias !== undefined ? [policy.alias, 22] : [policy.hostname, policy.port];
  const consulted = [...policy.files, ...policy.globalFiles];
  const files = consulted.map((file) => ({
    file,
    entries: existsSync(file) ? parseKnownHosts(readFileSync(file, "utf8")) : ([] as KnownHostEntry[]),
  }));
  let refusal: string | undefined;
  return {
    verify(key) {
      const verdicts = files.map(({ file, entries }) => ({
        file,
        verdict: verifyHostKey(entries, lookupHost, lookupPort, key),
      }));
      const revoked = verdicts.find((v) => v.verdict.status === "revoked");
      if (!revoked && verdicts.some((v) => v.verdict.status === "known")) return true;
      const bad = revoked ?? verdicts.find((v) => v.verdict.status === "changed");
      const first = policy.files[0];
      if (!bad && policy.checking === "accept-new" && first !== undefined) {
        mkdirSync(dirname(first), { recursive: true, mode: 0o700 });
        appendFileSync(first, knownHostsLine(lookupHost, lookupPort, key, policy.hash) + "\n", {
          mode: 0o600,
        });
        policy.log?.(`recorded host key ${fingerprint(key)} in ${first}${policy.hash ? " (hashed)" : ""}`);
        return true;
      }
      const { file, verdict } = bad ?? {
        file: first ?? "known_hosts",
        verdict: { status: "unknown", knownTypes: [] } as HostKeyVerdict,
      };
      refusal = policy.label + refusalText(verdict, policy, lookupHost, lookupPort, key, file, consulted);
      return false;
    },
    refusal: () => refusal,
    algorithms() {
      const recorded = [
        ...new Set(files.flatMap(({ entries }) => recordedKeyTypes(entries, lookupHost, lookupPort))),
      ];
      return recorded.length > 0
        ? recorded.flatMap((t) => (t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t]))
        : undefined;
    },
  };
}

function refusalText(
  verdict: HostKeyVerdict,
  policy: HostKeyPolicy,
  host: string,
  port: number,
  key: Buffer,
  file: string,
  files: string[],
): string {
  const where =
    policy.alias !== undefined
      ? `${policy.hostname}:${policy.port} (HostKeyAlias ${policy.alias})`
      : `${host}:${port}`;
  switch (verdict.status) {
    case "revoked":
      return `host key of ${where} (${fingerprint(key)}) is marked @revoked in ${file}:${verdict.line}; refusing to connect`;
    case "changed":
      return (
        `HOST KEY OF ${where} HAS CHANGED: it now presents ${fingerprint(key)}, which does not match ` +
        `${file}:${"line" in verdict ? verdict.line : 0}. Someone may be intercepting the connection, or the host was reinstalled. ` +
        `If you are sure, remove the old entry (${removeKeyCommand(host, port, file, join(homedir(), ".ssh", "known_hosts"))}) and try again`
      );
    default:
      return (
        `host ${where} is not in ${files.join(" or ") || "any known_hosts file"}; its key is ${fingerprint(key)}. Verify it, then add this line ` +
        `to ${file}:\n  ${knownHostsLine(host, port, key)}\nor run once with --host-key-checking accept-new`
      );
  }
}
