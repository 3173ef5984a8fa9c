import { remoteScript } from "../remote/script.js";
import { shellQuote } from "../transport/shell.js";

/**
 * The remote half of fact gathering: one script (src/remote/facts.sh), run in ONE command, that prints
 * every fact the planner needs as records (file contents base64-encoded, so any byte survives).
 * facts/parse.ts builds the facts from them.
 */

export interface FactRequest {
  /** Files whose content and metadata are read (main.cf, table sources). */
  contents: string[];
  /** Files whose metadata only is read (index files). */
  stats: string[];
  /** main.cf parameter names to ask Postfix about: those it does not know come back as unknown. */
  parameters?: string[];
}

export interface LockOptions {
  /** Identifies this run in the lock file and in backups. */
  runId: string;
  /** How long to wait for another run's lock, in seconds. */
  waitSeconds: number;
}

/** The commands that print the facts; the apply script ends with them too. */
export function factCommands(request: FactRequest): string[] {
  return [
    "postfix_facts",
    "sasl_facts",
    ...(request.parameters?.length
      ? [`unknown_parameters ${request.parameters.map(shellQuote).join(" ")}`]
      : []),
    ...request.contents.map((path) => `file_fact ${shellQuote(path)} content`),
    ...request.stats.map((path) => `file_fact ${shellQuote(path)} stat`),
  ];
}

/** The whole facts script, under the shared run lock so it never reads a host halfway through an apply. */
export function factsScript(request: FactRequest, lock: LockOptions): string {
  return remoteScript({
    libraries: ["lock", "facts"],
    settings: { RUN_ID: lock.runId },
    body: [`lock_host -s ${lock.waitSeconds} read || exit 0`, ...factCommands(request)],
  });
}

/**
 * The facts after an apply whose client went away (lost connection, timeout): the run is cancelled if
 * it still waits for the lock, waited for if it runs, and its result passed on if it kept one.
 */
export function followUpScript(request: FactRequest, lock: LockOptions): string {
  return remoteScript({
    libraries: ["lock", "facts"],
    settings: { RUN_ID: lock.runId },
    body: [
      "cancel_run",
      `lock_host -s ${lock.waitSeconds} read || exit 0`,
      "run_result",
      ...factCommands(request),
    ],
  });
}
