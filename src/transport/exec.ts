import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";

/**
 * One remote command over an open SSH connection: the script goes to its stdin, its output is collected
 * as bytes (decoded once at the end, so a UTF-8 character split across two packets survives) and never
 * beyond a limit. A host that prints without end (a table of hundreds of megabytes, a runaway loop)
 * would otherwise exhaust memory or JavaScript's maximum string length and crash the whole run.
 */

/**
 * What is read from a host per command, stdout and stderr together: far above any real facts output
 * (base64 of main.cf and the tables: a 100,000-entry table makes well under 10 MiB), far below what Node.js can
 * hold in one string (about 512 MiB).
 */
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The parts of an ssh2 exec channel used here (node-ssh ships no types for ssh2). */
export interface ExecChannel extends EventEmitter {
  stderr: EventEmitter;
  write(data: string | Buffer): boolean;
  end(): void;
  close(): void;
}

export interface ExecConnection {
  exec(command: string, callback: (error: Error | undefined, channel: ExecChannel) => void): unknown;
}

export interface ExecResult {
  /** null when the channel closed without an exit status (connection lost, or we closed it). */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The host printed more than `limit` bytes; reading stopped and the channel was closed. */
export class OutputLimitError extends Error {
  constructor(readonly limit: number) {
    super(`the host printed more than ${formatBytes(limit)}`);
    this.name = "OutputLimitError";
  }
}

/**
 * What a command reads: all of it at once, or a stream written as the command's output asks for it
 * (become.ts answers sudo's password prompt, then sends the script), with hooks that see the output.
 */
export interface ExecFeed {
  stdin: string | Readable;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export function execWithStdin(
  connection: ExecConnection,
  command: string,
  stdin: string | ExecFeed,
  limit = MAX_OUTPUT_BYTES,
): Promise<ExecResult> {
  const feed: ExecFeed = typeof stdin === "string" ? { stdin } : stdin;
  return new Promise((resolve, reject) => {
    connection.exec(command, (error, channel) => {
      if (error) return reject(error);
      collect(channel, limit, feed).then(resolve, reject);
      const input = feed.stdin;
      if (typeof input === "string") {
        channel.write(input);
        channel.end();
      } else {
        input.on("data", (chunk: Buffer | string) => channel.write(chunk));
        input.on("end", () => channel.end());
      }
    });
  });
}

/** Gathers a channel's output until it closes, or rejects (and closes it) once `limit` is passed. */
export function collect(
  channel: ExecChannel,
  limit: number,
  hooks: Pick<ExecFeed, "onStdout" | "onStderr"> = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let received = 0;
    let over = false;
    let code: number | null = null;
    let signal: string | null = null;
    const take = (into: Buffer[], hook?: (chunk: Buffer) => void) => (chunk: Buffer) => {
      if (over) return;
      hook?.(chunk);
      received += chunk.length;
      if (received > limit) {
        over = true;
        stdout.length = 0;
        stderr.length = 0;
        channel.close();
        reject(new OutputLimitError(limit));
        return;
      }
      into.push(chunk);
    };
    // A channel error (the connection failing mid-command) must reject, never crash the process.
    channel.on("error", (error: Error) => {
      if (!over) reject(error);
    });
    channel.on("data", take(stdout, hooks.onStdout));
    channel.stderr.on("data", take(stderr, hooks.onStderr));
    channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
      code = exitCode ?? null;
      signal = exitSignal ?? null;
    });
    channel.on("close", () => {
      if (over) return;
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}

export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}
