import { NodeSSH, type Config } from "node-ssh";
import ssh2, { type Client as SshClient, type ConnectConfig, type ServerHostKeyAlgorithm } from "ssh2";
import type { Duplex } from "node:stream";
import type { Secret } from "../secrets/secret.js";
import { HostError, UnreachableError } from "../errors.js";
import { authentication, type AuthOptions } from "./auth.js";
import { hostKeyCheck } from "./host-key-check.js";
import type { HostKeyChecking, SshTarget } from "./ssh-target.js";

// ssh2 is CommonJS: its classes come from the default export.
const { Client } = ssh2;

/**
 * One SSH connection to a host, through its jump hosts when it has any: each hop is an ssh2 client whose
 * `forwardOut` channel carries the next hop's connection (what `ssh -J` does, without running ssh).
 * Every hop's host key is checked and every hop logs in exactly like the target; an error names the hop.
 */

export interface ConnectOptions {
  /** --host-key-checking, which wins over the inventory and the ssh configuration. */
  hostKeyChecking?: HostKeyChecking;
  keyPassphrase?: Secret;
  ask?: AuthOptions["ask"];
  log?: (line: string) => void;
}

export interface Connection {
  ssh: NodeSSH;
  /** Closes the target connection and every jump host's. */
  close(): void;
}

export async function connectTarget(
  hostName: string,
  target: SshTarget,
  options: ConnectOptions,
): Promise<Connection> {
  const hops: SshClient[] = [];
  const closeHops = () => hops.reverse().forEach((hop) => hop.end());
  let sock: Duplex | undefined;
  try {
    for (const [index, jump] of target.jumps.entries()) {
      const label = `jump host ${jump.name} (${describe(jump)})`;
      const client = new Client();
      hops.push(client);
      await connectHop(client, hostName, jump, label, sock, options);
      const next = target.jumps[index + 1] ?? target;
      options.log?.(`${hostName}: ${label}: forwarding to ${next.hostname.value}:${next.port.value}`);
      sock = await forward(client, next, hostName, label);
    }
    const ssh = new NodeSSH();
    const label =
      target.jumps.length > 0
        ? `${describe(target)} (through ${target.jumps.map((j) => j.name).join(", ")})`
        : describe(target);
    const config = hopConfig(hostName, target, "", sock, options);
    try {
      await ssh.connect(config.connect as Config);
    } catch (error) {
      throw config.failure(error, `cannot connect to ${label}`);
    }
    options.log?.(`${hostName}: logged in to ${label}`);
    // An error after connect (e.g. the peer vanished) must never crash the process; the pending command
    // rejects on its own when the channel closes.
    ssh.connection?.on("error", () => undefined);
    for (const hop of hops) hop.on("error", () => undefined);
    return {
      ssh,
      close() {
        ssh.dispose();
        closeHops();
      },
    };
  } catch (error) {
    closeHops();
    throw error;
  }
}

function connectHop(
  client: SshClient,
  hostName: string,
  hop: SshTarget,
  label: string,
  sock: Duplex | undefined,
  options: ConnectOptions,
): Promise<void> {
  const config = hopConfig(hostName, hop, `${label}: `, sock, options);
  return new Promise((resolve, reject) => {
    client.once("ready", () => {
      options.log?.(`${hostName}: logged in to ${label}`);
      resolve();
    });
    client.once("error", (error) => reject(config.failure(error, `cannot connect to ${label}`)));
    client.connect(config.connect);
  });
}

/** ssh2 settings of one hop, and how to explain its failure. */
function hopConfig(
  hostName: string,
  hop: SshTarget,
  label: string,
  sock: Duplex | undefined,
  options: ConnectOptions,
) {
  const checking = options.hostKeyChecking ?? hop.hostKeyChecking.value;
  const log = options.log && ((line: string) => options.log!(`${hostName}: ${label}${line}`));
  const check = hostKeyCheck({
    hostname: hop.hostname.value,
    port: hop.port.value,
    ...(hop.hostKeyAlias && { alias: hop.hostKeyAlias.value }),
    files: hop.knownHostsFiles.value,
    globalFiles: hop.globalKnownHostsFiles.value,
    checking,
    hash: hop.hashKnownHosts.value,
    label,
    ...(log && { log }),
  });
  const list = (files: string[]) => files.join(", ") || "none";
  log?.(
    `connecting to ${describe(hop)}; known hosts: ${list(hop.knownHostsFiles.value)}; ` +
      `global known hosts: ${list(hop.globalKnownHostsFiles.value)} (${checking})`,
  );
  const auth = authentication(hop, hop.identityAgent.value, {
    ...(options.keyPassphrase && { passphrase: options.keyPassphrase }),
    ...(options.ask && { ask: options.ask }),
    ...(log && { log }),
  });
  const algorithms = check.algorithms();
  const connect: ConnectConfig = {
    ...(sock ? { sock } : { host: hop.hostname.value }),
    port: hop.port.value,
    username: hop.user.value,
    readyTimeout: hop.connectTimeoutMs.value,
    keepaliveInterval: hop.keepaliveIntervalMs.value,
    keepaliveCountMax: hop.keepaliveCountMax.value,
    hostVerifier: (key: Buffer) => check.verify(key),
    authHandler: auth.handler,
    ...(algorithms && { algorithms: { serverHostKey: algorithms as ServerHostKeyAlgorithm[] } }),
  };
  const failure = (error: unknown, what: string): Error => {
    const refusal = check.refusal();
    if (refusal) return new HostError(hostName, refusal);
    const message = error instanceof Error ? error.message : String(error);
    if (/authentication methods failed/i.test(message)) {
      const tried = auth.offered.length > 0 ? `offered ${auth.offered.join("; ")}` : "no key was offered";
      const notes = auth.notes.length > 0 ? `; ${auth.notes.join("; ")}` : "";
      const agent = hop.identityAgent.value
        ? ""
        : " (no ssh-agent: SSH_AUTH_SOCK is not set or IdentityAgent none)";
      return new UnreachableError(
        hostName,
        `${what}: login as ${hop.user.value} refused by ${hop.hostname.value}:${hop.port.value}; ${tried}${agent}${notes}`,
      );
    }
    return new UnreachableError(hostName, `${what}: ${message}`);
  };
  return { connect, failure };
}

function forward(client: SshClient, next: SshTarget, hostName: string, label: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut("127.0.0.1", 0, next.hostname.value, next.port.value, (error, stream) => {
      if (error)
        reject(
          new UnreachableError(
            hostName,
            `${label} cannot reach ${next.hostname.value}:${next.port.value}: ${error.message}`,
          ),
        );
      else resolve(stream);
    });
  });
}

export function describe(target: SshTarget): string {
  return `${target.user.value}@${target.hostname.value}:${target.port.value}`;
}
