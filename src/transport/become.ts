import { PassThrough } from "node:stream";
import type { Secret } from "../secrets/secret.js";

/**
 * The fixed remote command that runs a script as root, and how the script (and a sudo password) reach
 * it. Nothing variable is ever on the command line: the password goes to sudo's standard input, and
 * only when sudo asks for it (a sudo that does not ask must never pass it on to the shell as a command).
 *
 * - root login: `sh -s`, after checking the login is really uid 0 (a non-root login without become would
 *   otherwise fail half-way with "Permission denied");
 * - become, no password: `sudo -n` (never waits for a password nobody will type);
 * - become with a password: `sudo -S -k` with a prompt of our own on stderr. When the prompt appears the
 *   password line is written; once root's shell has started it prints a marker on stdout and only then is
 *   the script written. A second prompt means a wrong password: stdin is closed, sudo gives up.
 */

export const NOT_ROOT_EXIT = 125;
const NOT_ROOT = "provision-not-root";
const PROMPT = "[provision] sudo password:";
const READY = "provision-become-ready";

export interface Launch {
  command: string;
  /** One run of a script: execCommand's stdin and output hooks, then the output without our marker. */
  start(script: string): {
    stdin: string | PassThrough;
    onStdout?: (chunk: Buffer) => void;
    onStderr?: (chunk: Buffer) => void;
    finish(stdout: string, stderr: string): { stdout: string; stderr: string; problem?: BecomeProblem };
  };
}

export type BecomeProblem = "not-root" | "password-required" | "password-refused" | "not-allowed" | "no-sudo";

export function launchFor(become: boolean, user: string, password: Secret | undefined): Launch {
  if (!become || user === "root") {
    return {
      command: `/bin/sh -c 'if [ "$(id -u)" != 0 ]; then echo ${NOT_ROOT} >&2; exit ${NOT_ROOT_EXIT}; fi; exec /bin/sh -s'`,
      start: (script) => ({
        stdin: script,
        finish: (stdout, stderr) =>
          stderr.startsWith(NOT_ROOT) ? { stdout, stderr, problem: "not-root" } : { stdout, stderr },
      }),
    };
  }
  if (!password) {
    return {
      command: "sudo -n -- /bin/sh -s",
      start: (script) => ({
        stdin: script,
        finish: (stdout, stderr) => ({ stdout, stderr, ...sudoProblem(stderr) }),
      }),
    };
  }
  return {
    command: `sudo -S -k -p '${PROMPT}' -- /bin/sh -c 'echo ${READY}; exec /bin/sh -s'`,
    start(script) {
      const stdin = new PassThrough();
      let prompts = 0;
      let ready = false;
      let out = "";
      let err = "";
      return {
        stdin,
        onStderr(chunk) {
          err += chunk.toString("latin1");
          const seen = err.split(PROMPT).length - 1;
          if (seen > prompts && !ready) {
            prompts = seen;
            if (prompts === 1) stdin.write(`${password.reveal()}\n`);
            else stdin.end();
          }
        },
        onStdout(chunk) {
          if (ready) return;
          out += chunk.toString("latin1");
          if (out.startsWith(`${READY}\n`)) {
            ready = true;
            stdin.end(script);
          } else if (out.length > READY.length) {
            stdin.end();
          }
        },
        finish(stdout, stderr) {
          const clean = stderr.split(PROMPT).join("");
          if (!ready) {
            const refused = prompts > 1 ? "password-refused" : undefined;
            return { stdout, stderr: clean, ...(refused ? { problem: refused } : sudoProblem(clean)) };
          }
          return { stdout: stdout.slice(READY.length + 1), stderr: clean };
        },
      };
    },
  };
}

/** What went wrong with sudo itself, from its own messages (not from the script's stderr). */
function sudoProblem(stderr: string): { problem?: BecomeProblem } {
  if (/not in the sudoers file|is not allowed to (execute|run sudo)/.test(stderr))
    return { problem: "not-allowed" };
  if (/^(\S*sh: .*)?sudo: (command )?not found/m.test(stderr)) return { problem: "no-sudo" };
  if (/^sudo: .*password/im.test(stderr)) return { problem: "password-required" };
  return {};
}

export function becomeProblemText(problem: BecomeProblem, where: string, user: string): string {
  switch (problem) {
    case "not-root":
      return (
        `${where}: logged in as ${user}, who is not root; set become: true (sudo) for this host ` +
        `or log in as root`
      );
    case "password-required":
      return (
        `sudo on ${where} asks ${user} for a password; set become_password ({ env | file | command }) ` +
        `in the inventory, run with --ask-become-pass (-K), or give ${user} passwordless sudo`
      );
    case "password-refused":
      return `sudo on ${where} refused the become password for ${user} (wrong password?)`;
    case "not-allowed":
      return `sudo on ${where} does not allow ${user} to run commands as root; add ${user} to sudoers or log in as root`;
    case "no-sudo":
      return `${where} has no sudo; install it or log in as root`;
  }
}
