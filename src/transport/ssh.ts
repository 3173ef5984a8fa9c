import { NodeSSH } from "node-ssh";
import type { Duplex } from "node:stream";
import type { ConnectionSpec } from "../inventory/host.js";
import type { Secret } from "../secrets/secret.js";
import { CommandTimeoutError, HostError, UnreachableError } from "../errors.js";
import { becomeProblemText, launchFor } from "./become.js";
import { connectTarget, describe } from "./connect.js";
import { execWithStdin, formatBytes, OutputLimitError, type ExecConnection } from "./exec.js";
import { reachHost } from "./reach.js";
import type { HostKeyChecking, SshTarget } from "./ssh-target.js";

/**
 * The only way `provision` talks to a host: ONE SSH connection, over which whole shell scripts are sent
 * on stdin to a fixed command line (`sh -s`, or `sudo -n sh -s` with become). Nothing the user wrote,
 * and no file content or secret, ever appears in a remote command line (visible in `ps`).
 */

export type { HostKeyChecking } from "./ssh-target.js";

export interface SessionOptions {
  /** Used only for a host without a resolved `reach` (the ssh configuration's ConnectTimeout wins). */
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** --host-key-checking; undefined = the host's `host_key_checking` from the inventory, else strict. */
  hostKeyChecking?: HostKeyChecking;
  /** Per inventory host: how it is reached and its secrets, resolved before any host is contacted. */
  reach?: Map<string, HostReach>;
  /** Asks for a key's passphrase on the terminal; absent without one. */
  askPassphrase?: (keyFile: string) => Promise<Secret | undefined>;
  /** -v: connection steps, one line each. */
  log?: (line: string) => void;
}

export interface HostReach {
  target: SshTarget;
  becomePassword?: Secret;
  keyPassphrase?: Secret;
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
  /**
   * A TCP connection made BY THE HOST (an SSH direct-tcpip channel, as `ssh -W`) over this session, for
   * `provision verify`. Rejects with the host sshd's reason ("Connection refused", ...). Optional so that
   * recorded sessions in unit tests need not fake it.
   */
  forward?(address: string, port: number): Promise<Duplex>;
  /** How many remote commands this session ran (for the benchmark). */
  readonly commandCount: number;
}

export async function openSession(
  hostName: string,
  spec: ConnectionSpec,
  options: SessionOptions = DEFAULT_SESSION_OPTIONS,
): Promise<RemoteSession> {
  const reach = options.reach?.get(hostName) ?? {
    target: reachHost(hostName, spec, { connectTimeoutSeconds: options.connectTimeoutMs / 1000 }).target,
  };
  const { target } = reach;
  const session = await connectTarget(hostName, target, {
    ...(options.hostKeyChecking && { hostKeyChecking: options.hostKeyChecking }),
    ...(reach.keyPassphrase && { keyPassphrase: reach.keyPassphrase }),
    ...(options.askPassphrase && { ask: options.askPassphrase }),
    ...(options.log && { log: options.log }),
  });
  const ssh: NodeSSH = session.ssh;
  const where = describe(target);
  const launch = launchFor(spec.become, target.user.value, reach.becomePassword);
  const connection = ssh.connection as unknown as ExecConnection;

  let commandCount = 0;
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
        const run = launch.start(script);
        const raw = await Promise.race([execWithStdin(connection, launch.command, run), timeout]);
        const result = { ...raw, ...run.finish(raw.stdout, raw.stderr) };
        if (result.code === null && result.signal === null && !ssh.isConnected()) {
          throw new UnreachableError(hostName, `connection to ${where} lost during ${what}`);
        }
        if (result.problem)
          throw new HostError(hostName, becomeProblemText(result.problem, where, target.user.value));
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
        throw new UnreachableError(hostName, `${what} on ${where} failed: ${errorText(error)}`);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      session.close();
    },
    forward(address, port) {
      return new Promise((resolve, reject) => {
        if (!ssh.connection) return reject(new UnreachableError(hostName, `connection to ${where} lost`));
        ssh.connection.forwardOut("127.0.0.1", 0, address, port, (error, stream) =>
          error ? reject(error) : resolve(stream),
        );
      });
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
