// What every kind of lab host shares: the interface the lab drives (namespace hosts in host.ts, systemd
// guests in guest.ts), their /etc/hosts and main.cf naming, and waiting for their sshd.
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { waitFor, type ExecResult } from "./exec.js";

export type StopMode = "refuse" | "unplug";

/** sshd settings of every lab host: one ed25519 host key, keys only, no DNS lookups. */
export const SSHD_LAB_SETTINGS = [
  "HostKey /etc/ssh/ssh_host_ed25519_key",
  "PermitRootLogin prohibit-password",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "UseDNS no",
  // Benchmarks open many sessions at once; the default 10:30:100 drops some of them at random.
  "MaxStartups 200",
  "MaxSessions 50",
];

/** What the lab does with a host, whichever kind it is (namespace host here, systemd guest in guest.ts). */
export interface HostRuntime {
  readonly name: string;
  readonly address: string;
  /** For titles and reports, e.g. "Debian 13 (systemd)". */
  readonly kind: string;
  /** First start: network, fresh files (with a new SSH host key), then boot. */
  create(): Promise<void>;
  /** The known_hosts line for this host, by address (how the inventory reaches it). */
  knownHostsLine(): Promise<string>;
  /** Runs a command as root inside the host (not over SSH). */
  run(command: string, timeoutMs?: number): Promise<ExecResult>;
  stop(mode: StopMode): Promise<void>;
  start(): Promise<void>;
  /** Back to a freshly installed host, Postfix running; the SSH host key is kept. */
  reset(): Promise<void>;
  /** Kills every process of the host; its network namespace stays. */
  kill(): Promise<void>;
  /** Postfix's log lines so far, wherever this kind of host keeps them. */
  mailLog(): Promise<string>;
}

/** /etc/hosts of a lab host: itself, the relays and the other lab hosts (there is no DNS). */
export function etcHosts(name: string, address: string, sharedHostsLines: string[]): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    "",
    `${address}\t${name}`,
    ...sharedHostsLines.filter((l) => !l.endsWith(`\t${name}`)),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * main.cf as a Debian install would have written it on this host: the install machine's name replaced
 * by the host's in myhostname and mydestination (also as NAME.localdomain).
 */
export function renameInMainCf(text: string, installHostname: string, name: string): string {
  return text
    .split("\n")
    .map((line) => {
      const m = /^(myhostname|mydestination)(\s*=\s*)(.*)$/.exec(line);
      if (!m) return line;
      const [, key, eq, value] = m as unknown as [string, string, string, string];
      const replaced = value
        .split(/(\s*,\s*|\s+)/)
        .map((token) =>
          token === installHostname || token.startsWith(`${installHostname}.`)
            ? name + token.slice(installHostname.length)
            : token,
        )
        .join("");
      return `${key}${eq}${replaced}`;
    })
    .join("\n");
}

/** A setup script run as root on the host; a non-zero exit is an error naming the host. */
export async function mustRun(host: HostRuntime, script: string): Promise<string> {
  const r = await host.run(`set -eu\n${script}`);
  if (r.code !== 0)
    throw new Error(`on lab host ${host.name}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export async function knownHostsLine(address: string, publicKeyFile: string): Promise<string> {
  const [type, key] = (await readFile(publicKeyFile, "utf8")).trim().split(/\s+/);
  return `${address} ${type} ${key}`;
}

export function sshPortOpen(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22, timeout: 1_000 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

export async function waitForSsh(name: string, address: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `sshd of lab host ${name} (${address}:22)`,
    async () => ((await sshPortOpen(address)) ? true : undefined),
    timeoutMs,
  );
}

export async function waitForSshClosed(name: string, address: string): Promise<void> {
  await waitFor(
    `sshd on ${name} to stop`,
    async () => ((await sshPortOpen(address)) ? undefined : true),
    10_000,
  );
}
