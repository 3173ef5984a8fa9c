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
 * UserKnownHostsFile is consulted, HostKeyAlias replaces the host name, an unknown host is recorded in
 * the first file with accept-new, a changed or revoked key is always refused.
 */

export interface HostKeyPolicy {
  /** "host:port" or, with HostKeyAlias, the alias: what the messages name. */
  hostname: string;
  port: number;
  alias?: string;
  files: string[];
  checking: HostKeyChecking;
  /** Prefix of every refusal ("jump host bastion (10.0.0.1:22): "); empty for the target. */
  label: string;
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
  const files = policy.files.map((file) => ({
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
      const bad =
        verdicts.find((v) => v.verdict.status === "revoked") ??
        verdicts.find((v) => v.verdict.status === "changed");
      if (!bad && verdicts.some((v) => v.verdict.status === "known")) return true;
      const first = policy.files[0];
      if (!bad && policy.checking === "accept-new" && first !== undefined) {
        mkdirSync(dirname(first), { recursive: true, mode: 0o700 });
        appendFileSync(first, knownHostsLine(lookupHost, lookupPort, key) + "\n", { mode: 0o600 });
        return true;
      }
      const { file, verdict } = bad ?? {
        file: first ?? "known_hosts",
        verdict: { status: "unknown", knownTypes: [] } as HostKeyVerdict,
      };
      refusal = policy.label + refusalText(verdict, policy, lookupHost, lookupPort, key, file, policy.files);
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
