import { existsSync, readFileSync, appendFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { NodeSSH, type Config } from "node-ssh";
import type { ConnectionSpec } from "../inventory/host.js";
import { CommandTimeoutError, HostError, UnreachableError } from "../errors.js";
import { execWithStdin, formatBytes, OutputLimitError, type ExecConnection } from "./exec.js";
import {
  fingerprint,
  knownHostsLine,
  parseKnownHosts,
  recordedKeyTypes,
  removeKeyCommand,
  verifyHostKey,
  type HostKeyVerdict,
} from "./known-hosts.js";

/**
 * The only way `provision` talks to a host: ONE SSH connection, over which whole shell scripts are sent
 * on stdin to a fixed command line (`sh -s`, or `sudo -n sh -s` with become). Nothing the user wrote,
 * and no file content or secret, ever appears in a remote command line (visible in `ps`).
 */

export type HostKeyChecking = "strict" | "accept-new";

export interface SessionOptions {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** --host-key-checking; undefined = the host's `host_key_checking` from the inventory, else strict. */
  hostKeyChecking?: HostKeyChecking;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  connectTimeoutMs: 15_000,
  commandTimeoutMs: 120_000,
};

export interface RemoteResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RemoteSession {
  /** Run a POSIX sh script as root; `what` names it in errors ("gather facts", "apply"). */
  runScript(script: string, what: string): Promise<RemoteResult>;
  close(): void;
  /** How many remote commands this session ran (for the benchmark). */
  readonly commandCount: number;
}

export async function openSession(
  hostName: string,
  spec: ConnectionSpec,
  options: SessionOptions = DEFAULT_SESSION_OPTIONS,
): Promise<RemoteSession> {
  const knownHostsFile = spec.knownHostsFile ?? defaultKnownHosts();
  const entries = existsSync(knownHostsFile) ? parseKnownHosts(readFileSync(knownHostsFile, "utf8")) : [];
  const checking: HostKeyChecking = options.hostKeyChecking ?? spec.hostKeyChecking ?? "strict";
  let refusal: string | undefined;

  const hostVerifier = (key: Buffer): boolean => {
    const verdict = verifyHostKey(entries, spec.address, spec.port, key);
    if (verdict.status === "known") return true;
    if (verdict.status === "unknown" && checking === "accept-new") {
      mkdirSync(dirname(knownHostsFile), { recursive: true, mode: 0o700 });
      appendFileSync(knownHostsFile, knownHostsLine(spec.address, spec.port, key) + "\n", { mode: 0o600 });
      return true;
    }
    refusal = hostKeyRefusal(verdict, spec, key, knownHostsFile);
    return false;
  };

  const recorded = recordedKeyTypes(entries, spec.address, spec.port);
  const config: Config = {
    host: spec.address,
    port: spec.port,
    username: spec.user,
    readyTimeout: options.connectTimeoutMs,
    keepaliveInterval: 5_000,
    keepaliveCountMax: 3,
    hostVerifier,
    authHandler: authMethods(hostName, spec),
    ...(recorded.length > 0 ? { algorithms: { serverHostKey: hostKeyAlgorithms(recorded) } } : {}),
  };

  const ssh = new NodeSSH();
  try {
    await ssh.connect(config);
  } catch (error) {
    if (refusal) throw new HostError(hostName, refusal);
    throw new UnreachableError(hostName, `cannot connect to ${describe(spec)}: ${errorText(error)}`);
  }
  // An error after connect (e.g. the peer vanished) must never crash the process; the pending command
  // rejects on its own when the channel closes.
  ssh.connection?.on("error", () => undefined);
  const connection = ssh.connection as ExecConnection;

  let commandCount = 0;
  const command = spec.become && spec.user !== "root" ? "sudo -n -- /bin/sh -s" : "/bin/sh -s";

  return {
    get commandCount() {
      return commandCount;
    },
    async runScript(script, what) {
      commandCount += 1;
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new CommandTimeoutError(
                hostName,
                `${what} timed out after ${options.commandTimeoutMs / 1000} s`,
              ),
            ),
          options.commandTimeoutMs,
        );
      });
      try {
        const result = await Promise.race([execWithStdin(connection, command, script), timeout]);
        if (result.code === null && result.signal === null && !ssh.isConnected()) {
          throw new UnreachableError(hostName, `connection to ${describe(spec)} lost during ${what}`);
        }
        if (spec.become && /sudo: .*password/i.test(result.stderr)) {
          throw new HostError(
            hostName,
            `sudo on ${describe(spec)} asks for a password; give ${spec.user} passwordless sudo ` +
              `(NOPASSWD in /etc/sudoers.d) or connect as root`,
          );
        }
        return {
          code: result.code,
          stdout: result.stdout,
          stderr: result.stderr,
          durationMs: Date.now() - started,
        };
      } catch (error) {
        if (error instanceof HostError || error instanceof UnreachableError) throw error;
        if (error instanceof OutputLimitError) {
          throw new HostError(
            hostName,
            `${what}: ${error.message}; provision reads at most ${formatBytes(error.limit)} per command ` +
              `and stopped there (a file it reads, main.cf or a table in /etc/postfix, is probably far too large)`,
          );
        }
        throw new UnreachableError(hostName, `${what} on ${describe(spec)} failed: ${errorText(error)}`);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      ssh.dispose();
    },
  };
}

/** OpenSSH's own default, which `ssh-keygen -R` also uses. */
function defaultKnownHosts(): string {
  return join(homedir(), ".ssh", "known_hosts");
}

function describe(spec: ConnectionSpec): string {
  return `${spec.user}@${spec.address}:${spec.port}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** ssh-agent first, then the identity file or OpenSSH's default key files, like `ssh` does. */
function authMethods(hostName: string, spec: ConnectionSpec): Config["authHandler"] {
  const methods: NonNullable<Config["authHandler"]> & unknown[] = [];
  const username = spec.user;
  if (spec.keyFile) {
    if (!existsSync(spec.keyFile)) {
      throw new HostError(hostName, `ssh_key ${spec.keyFile} does not exist`);
    }
    methods.push({ type: "publickey", username, key: readFileSync(spec.keyFile) });
    return methods;
  }
  if (process.env.SSH_AUTH_SOCK) methods.push({ type: "agent", username, agent: process.env.SSH_AUTH_SOCK });
  for (const name of ["id_ed25519", "id_ecdsa", "id_rsa"]) {
    const file = join(homedir(), ".ssh", name);
    if (existsSync(file)) methods.push({ type: "publickey", username, key: readFileSync(file) });
  }
  return methods;
}

/** Ask only for host key algorithms we hold a recorded key for, so verification can succeed. */
function hostKeyAlgorithms(types: string[]): string[] {
  return types.flatMap((type) => (type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type]));
}

function hostKeyRefusal(verdict: HostKeyVerdict, spec: ConnectionSpec, key: Buffer, file: string): string {
  const where = `${spec.address}:${spec.port}`;
  switch (verdict.status) {
    case "revoked":
      return `host key of ${where} (${fingerprint(key)}) is marked @revoked in ${file}:${verdict.line}; refusing to connect`;
    case "changed":
      return (
        `HOST KEY OF ${where} HAS CHANGED: it now presents ${fingerprint(key)}, which does not match ` +
        `${file}:${verdict.line}. Someone may be intercepting the connection, or the host was reinstalled. ` +
        `If you are sure, remove the old entry (${removeKeyCommand(spec.address, spec.port, file, defaultKnownHosts())}) ` +
        `and try again`
      );
    default:
      return (
        `host ${where} is not in ${file}; its key is ${fingerprint(key)}. Verify it, then add this line ` +
        `to ${file}:\n  ${knownHostsLine(spec.address, spec.port, key)}\nor run once with --host-key-checking accept-new`
      );
  }
}
