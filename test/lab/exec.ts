// Process helpers for the lab. Every child process gets a deadline so that a wedged command (a hung
// nsenter, an sshd that never answers) turns into a clear error instead of a test run that never ends.
import { spawn, type ChildProcess } from "node:child_process";

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** A predictable environment for commands run on the lab's behalf: no locale or PATH surprises from the caller. */
export const CLEAN_ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C",
  HOME: "/root",
};

/** Runs a command to completion; never rejects for a non-zero exit, only for a spawn failure or the deadline. */
export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? CLEAN_ENV, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out after ${timeoutMs} ms: ${describe(cmd, args)}\n${stderr}`));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) });
    });
    // A command that does not read stdin must not fail on EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Like exec, but a non-zero exit is an error that carries the command and its stderr. */
export async function must(cmd: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${describe(cmd, args)} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Runs a shell script (set -eu) as root in the lab's clean environment. */
export function sh(script: string, opts: ExecOptions = {}): Promise<string> {
  return must("sh", ["-euc", script], opts);
}

export function describe(cmd: string, args: string[]): string {
  const shown = [cmd, ...args].join(" ");
  return shown.length > 300 ? `${shown.slice(0, 300)}...` : shown;
}

/** Quotes a value for inclusion in a POSIX shell script. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `probe` until it returns a value other than undefined. Bounded both in attempts and in time,
 * as every wait in the lab must be; the error says what was being waited for.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits, bounded, for a child process to exit; false when it is still running at the deadline. */
export async function waitForExit(child: ChildProcess, timeoutMs = 5_000): Promise<boolean> {
  const exited = () => (child.exitCode !== null || child.signalCode !== null ? true : undefined);
  return waitFor("a child process to exit", exited, timeoutMs).catch(() => false);
}
