import { existsSync } from "node:fs";
import type { HostReach } from "../transport/ssh.js";
import type { Sourced, SshTarget } from "../transport/ssh-target.js";

/**
 * `provision hosts`: how each host will be reached and where each value came from, like `ssh -G` plus
 * `ansible-inventory --host`. Secrets show only where they come from, never their value.
 */

export interface ReachRow {
  name: string;
  become: boolean;
  /** Where `become` was set ("default" when not). */
  becomeFrom: string;
  reach: HostReach;
  /** The keys the target's ssh-agent holds (offered first), by agent socket. */
  agentKeys: Map<string, string[]>;
}

interface Field {
  value: string | number | boolean | string[] | null;
  from: string;
}

function fields(target: SshTarget, agents: Map<string, string[]>): Record<string, Field> {
  const of = <T>(s: Sourced<T>, value: Field["value"] = s.value as Field["value"]): Field => ({
    value,
    from: s.origin,
  });
  const keys = target.identityFiles.value.filter((f) => !target.identityFiles.defaults || existsSync(f));
  return {
    address: of(target.hostname),
    port: of(target.port),
    user: of(target.user),
    jump: {
      value: target.jumps.map((j) => `${j.user.value}@${j.hostname.value}:${j.port.value}`),
      from: target.jumpSpec.origin,
    },
    agent: of(target.identityAgent, target.identityAgent.value ?? null),
    ...(target.identityAgent.value !== undefined && {
      agent_keys: { value: agents.get(target.identityAgent.value) ?? [], from: "ssh-agent" },
    }),
    identity_files: { value: keys, from: target.identityFiles.origin },
    identities_only: of(target.identitiesOnly),
    known_hosts: of(target.knownHostsFiles),
    global_known_hosts: of(target.globalKnownHostsFiles),
    hash_known_hosts: of(target.hashKnownHosts),
    host_key_checking: of(target.hostKeyChecking),
    ...(target.hostKeyAlias && { host_key_alias: of(target.hostKeyAlias) }),
    connect_timeout: { value: target.connectTimeoutMs.value / 1000, from: target.connectTimeoutMs.origin },
  };
}

function secrets(row: ReachRow): Record<string, Field> {
  const out: Record<string, Field> = { become: { value: row.become, from: row.becomeFrom } };
  if (row.reach.becomePassword)
    out.become_password = { value: "********", from: row.reach.becomePassword.source };
  if (row.reach.keyPassphrase)
    out.key_passphrase = { value: "********", from: row.reach.keyPassphrase.source };
  return out;
}

export function reachJson(rows: ReachRow[]): string {
  const hosts = rows.map((row) => ({
    name: row.name,
    ...fields(row.reach.target, row.agentKeys),
    ...secrets(row),
    jump_hosts: row.reach.target.jumps.map((j) => ({ name: j.name, ...fields(j, row.agentKeys) })),
  }));
  return JSON.stringify({ hosts }, null, 2) + "\n";
}

export function reachText(rows: ReachRow[]): string {
  const render = (all: Record<string, Field>, indent: string) =>
    Object.entries(all).map(([key, f]) => {
      const value = Array.isArray(f.value)
        ? f.value.join(", ") || "none"
        : f.value === null
          ? "none"
          : String(f.value);
      return `${indent}${key.padEnd(18)} ${value}  (${f.from})`;
    });
  return (
    rows
      .map((row) => {
        const lines = [
          row.name,
          ...render({ ...fields(row.reach.target, row.agentKeys), ...secrets(row) }, "  "),
        ];
        for (const jump of row.reach.target.jumps)
          lines.push(`  jump host ${jump.name}:`, ...render(fields(jump, row.agentKeys), "    "));
        return lines.join("\n");
      })
      .join("\n\n") + "\n"
  );
}

/** -v: one line per host saying how it will be reached. */
export function reachLog(reach: Map<string, HostReach>): string[] {
  return [...reach].map(([name, { target }]) => {
    const via =
      target.jumps.length > 0
        ? ` through ${target.jumps.map((j) => `${j.user.value}@${j.hostname.value}:${j.port.value}`).join(" -> ")}`
        : "";
    const files = target.configFiles.length > 0 ? target.configFiles.join(", ") : "none";
    return `${name}: ${target.user.value}@${target.hostname.value}:${target.port.value}${via}; ssh configuration read: ${files}; agent: ${target.identityAgent.value ?? "none"}; identity files: ${target.identityFiles.value.join(", ")}`;
  });
}
