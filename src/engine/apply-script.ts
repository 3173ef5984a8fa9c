import { factCommands, type FactRequest, type LockOptions } from "../facts/script.js";
import { remoteScript } from "../remote/script.js";
import { shellQuote } from "../transport/shell.js";
import { MAIN_CF, type Plan } from "./plan.js";

/**
 * The remote half of apply: ONE POSIX sh script that carries out a plan safely and then re-reads the
 * facts, so an apply costs one round trip after the facts. This module lists the steps of one run with
 * their quoted arguments; the steps themselves are shell functions in src/remote (apply.sh, backup.sh,
 * service.sh, lock.sh).
 *
 *  1. takes the host's run lock (exclusive) and checks that every file it will change is still as the
 *     facts saw it: another run or a hand edit in between stops it before anything is touched;
 *  2. saves the current version of every file it will change (a backup set per run, the last few kept);
 *  3. stages the new files next to their targets and has Postfix parse the new main.cf
 *     (`postconf -c STAGE -n`): rejected = stop, nothing changed; warnings are passed on;
 *  4. installs: tables (atomic rename), postmap, index owner/mode, then main.cf; `postfix check`;
 *     reload / restart / start;
 *  5. any failure in 4 restores the saved files and indexes and re-activates the previous configuration.
 *
 * After step 1 all output goes to a log file and SIGHUP/SIGPIPE are ignored, so a lost connection does
 * not stop the script halfway: it finishes (or rolls back) on its own; the log is sent at the end.
 * File contents are embedded base64-encoded and reach `base64 -d` through the shell's builtin printf:
 * they travel on the ssh channel's stdin, never on a command line.
 */

export interface ApplyOptions extends LockOptions {
  /** Expected SHA-256 (hex) of each file the plan changes, or null where it must not exist. */
  expected: Map<string, string | null>;
  /** main.cf parameters the playbook sets: Postfix not knowing one of them refuses the apply. */
  ownedParameters: string[];
  pause?: Pause;
}

export const PAUSE_STEPS = ["before-lock", "after-upload", "after-postmap", "before-reload"] as const;
export type PauseStep = (typeof PAUSE_STEPS)[number];
/** Test hook for fault injection: sleep at a named step. */
export interface Pause {
  step: PauseStep;
  seconds: number;
}

export function applyScript(plan: Plan, refacts: FactRequest, options: ApplyOptions): string {
  const tables = plan.writes.filter((w) => w.path !== MAIN_CF);
  const mains = plan.writes.filter((w) => w.path === MAIN_CF);
  const touched = [
    ...plan.writes.map((w) => w.path),
    ...plan.attributeFixes.map((f) => f.path),
    ...plan.postmaps.flatMap((p) => p.indexPaths),
    ...plan.removals,
  ];
  const q = shellQuote;
  const steps: string[] = [
    ...[...options.expected].map(([path, sha]) => `expect_file ${q(path)} ${sha ?? "absent"}`),
    "begin_backup",
    ...[...new Set(touched)].map((path) => `save ${q(path)}`),
    "end_backup",
    ...plan.writes.map((w, i) => `stage ${i} ${w.mode.toString(8)} '${encode(w.content.reveal())}'`),
    ...mains.map((w) => `validate_main ${plan.writes.indexOf(w)}`),
    "STATE=installing",
    ...tables.map((w) => `install ${plan.writes.indexOf(w)} ${q(w.path)}`),
    ...plan.attributeFixes.map((f) => `fix ${q(f.path)} ${f.mode.toString(8)}`),
    "pause_point after-upload",
    // Built aside, made root 0600, then renamed into place (apply.sh).
    ...plan.postmaps.map((p) => `pmap ${[p.map, ...p.indexPaths].map(q).join(" ")}`),
    "pause_point after-postmap",
    // main.cf last: every table it refers to is in place (and indexed) before it does.
    ...mains.map((w) => `install ${plan.writes.indexOf(w)} ${q(w.path)}`),
    // Only now does main.cf no longer refer to what goes: stale indexes, retired tables.
    ...plan.removals.map((path) => `remove ${q(path)}`),
    "postfix_check",
    "pause_point before-reload",
    `activate ${plan.service}`,
    "STATE=done",
    ...(plan.retired ?? []).map((source) => `purge_saved ${q(source)}`),
    "emit_backup",
  ];

  return remoteScript({
    libraries: ["lock", "facts", "apply", "backup", "service"],
    settings: {
      RUN_ID: options.runId,
      PAUSE_STEP: options.pause?.step ?? "",
      PAUSE_SECONDS: options.pause?.seconds ?? 0,
      OWNED: ` ${options.ownedParameters.join(" ")} `,
    },
    body: [
      "pause_point before-lock",
      `lock_host -x ${options.waitSeconds} apply || exit 0`,
      "start_work",
      ...steps,
      ...factCommands(refacts),
      "finish",
    ],
  });
}

/** A separate round trip, used when the final verification of an apply fails: restore its backup. */
export function rollbackScript(backupDir: string, service: Plan["service"], options: LockOptions): string {
  return remoteScript({
    libraries: ["lock", "apply", "backup", "service"],
    settings: { RUN_ID: options.runId },
    body: [
      `lock_host -x ${options.waitSeconds} rollback || exit 0`,
      "start_work",
      `rollback_run ${shellQuote(backupDir)} ${service}`,
    ],
  });
}

function encode(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
