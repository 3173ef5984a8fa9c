import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { InputError, type SourceLocation } from "../errors.js";
import { expandHome } from "../home-path.js";
import { firstUnsafeCharacter } from "../report/terminal.js";
import { isTooShort, tooShortMessage } from "./redact.js";
import { Secret } from "./secret.js";

/** Where a password comes from, as written in the playbook (after `{{ var }}` substitution). */
export type SecretRef = { env: string } | { file: string } | { command: string };

/** The playbook position of the reference, for error messages. */
export interface SecretSite {
  location: SourceLocation;
  /** Dotted path, e.g. "0.postfix.relay.password". */
  path: string;
}

export interface SecretResolver {
  resolve(ref: SecretRef, site: SecretSite): Promise<Secret>;
}

export interface SecretResolverOptions {
  env?: NodeJS.ProcessEnv;
  /** Directory that relative playbook file names are relative to (the CLI's working directory). */
  cwd?: string;
  home?: string;
  commandTimeoutMs?: number;
}

/**
 * Resolves secret references on the control machine. `file` paths and `command`s run relative to the
 * directory of the playbook that names them. Each distinct reference is resolved once per resolver,
 * so a `pass` or `gpg` prompt appears once however many hosts use it. Messages never include a value,
 * nor the standard output of a command (which is where the value would be).
 */
export function createSecretResolver(options: SecretResolverOptions = {}): SecretResolver {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const timeout = options.commandTimeoutMs ?? 30_000;
  const cache = new Map<string, Promise<Secret>>();

  const load = async (ref: SecretRef, site: SecretSite): Promise<Secret> => {
    const fail = (message: string) => new InputError(message, { location: site.location, path: site.path });
    const unavailable = (source: string, reason: string) => new SecretUnavailableError(source, reason, site);
    const base = resolve(cwd, dirname(site.location.file));
    if ("env" in ref) {
      const value = env[ref.env];
      if (value === undefined)
        throw unavailable(`env ${ref.env}`, `environment variable ${ref.env} is not set`);
      return checked(value, `env ${ref.env}`, fail);
    }
    if ("file" in ref) {
      const path = resolve(base, expandHome(ref.file, options.home));
      let content: string;
      try {
        content = await readFile(path, "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code;
        throw unavailable(`file ${path}`, `cannot read password file ${path}: ${reason}`);
      }
      return checked(stripNewline(content), `file ${path}`, fail);
    }
    const output = await runCommand(ref.command, base, env, timeout).catch((error: unknown) => {
      throw unavailable(`command ${ref.command}`, error instanceof Error ? error.message : String(error));
    });
    return checked(stripNewline(output), `command ${ref.command}`, fail);
  };

  return {
    resolve(ref, site) {
      const base = resolve(cwd, dirname(site.location.file));
      const key = JSON.stringify("env" in ref ? ref : [base, ref]);
      let secret = cache.get(key);
      if (!secret) cache.set(key, (secret = load(ref, site)));
      return secret;
    },
  };
}

/**
 * The password cannot be had here and now: its environment variable is not set, its file cannot be read,
 * its command failed. `apply` stops on it; `check` goes on without the value (playbook/resolve.ts). A
 * value that is there but unusable (empty, a line break, too short) is a plain InputError for both.
 */
export class SecretUnavailableError extends InputError {
  constructor(
    /** e.g. "env ISP_PASSWORD", "file /home/me/isp.pass". */
    readonly source: string,
    /** e.g. "environment variable ISP_PASSWORD is not set". */
    readonly reason: string,
    site: SecretSite,
  ) {
    super(reason, { location: site.location, path: site.path });
    this.name = "SecretUnavailableError";
  }
}

/** A literal password written in the playbook, held to the same rules as one from env, file or command. */
export function literalSecret(value: string, source: string, site: SecretSite): Secret {
  return checked(
    value,
    source,
    (message) => new InputError(message, { location: site.location, path: site.path }),
  );
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

function checked(value: string, source: string, fail: (message: string) => InputError): Secret {
  if (value === "") throw fail(`the password from ${source} is empty`);
  if (/[\r\n\0]/.test(value))
    throw fail(
      `the password from ${source} contains a line break or NUL character; a password must be one line ` +
        `(sasl_passwd is read line by line)`,
    );
  // Output escapes these (report/terminal.ts); an escaped secret would no longer be recognised and masked.
  const control = firstUnsafeCharacter(value);
  if (control !== undefined)
    throw fail(
      `the password from ${source} contains the control character U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
    );
  // Postfix trims table values, so such a password would silently not be the one sent.
  if (value.trim() !== value) throw fail(`the password from ${source} has leading or trailing whitespace`);
  if (isTooShort(value)) throw fail(tooShortMessage(source));
  return new Secret(value, source);
}

/**
 * Runs `/bin/sh -c command`; rejects with a message holding the command and stderr, never stdout.
 * It keeps the terminal (stdin, controlling tty) so that `pass` or `gpg` can ask for a passphrase.
 */
function runCommand(command: string, cwd: string, env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd, env, stdio: ["inherit", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
      // Something the shell started may still hold the pipes open: stop waiting for them.
      child.stdout.destroy();
      child.stderr.destroy();
    }, timeout);
    const fail = (what: string) => {
      const firstLine = Buffer.concat(stderr)
        .toString("utf8")
        .split("\n")
        .find((line) => line.trim() !== "")
        ?.trim();
      reject(new Error(`command ${JSON.stringify(command)} ${what}${firstLine ? `: ${firstLine}` : ""}`));
    };
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`command ${JSON.stringify(command)} could not run: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return fail(`timed out after ${timeout / 1000} s`);
      if (code !== 0) return fail(`failed (${code === null ? `signal ${signal}` : `exit code ${code}`})`);
      resolvePromise(Buffer.concat(stdout).toString("utf8"));
    });
  });
}
