import pc from "picocolors";
import type { HostOutcome } from "../engine/outcome.js";
import type { Plan } from "../engine/plan.js";
import { fileDiff } from "./diff.js";
import { factsReport } from "./facts.js";
import { indentContinuation, terminalSafe } from "./terminal.js";

/** Human-readable reports. Pure: outcome -> text. Colours only when the caller asks for them. */

export interface TextOptions {
  mode: "apply" | "dry-run" | "check";
  diff: boolean;
  color: boolean;
}

export type ReportMode = TextOptions["mode"] | "facts";

export interface ReportOptions {
  diff: boolean;
  color: boolean;
  /** `--quiet`, for cron: nothing about hosts in sync or changed, and no recap when all went well. */
  quiet?: boolean;
}

/**
 * The whole text report of a run (stdout): every host's part in the order given (the CLI prints each
 * the moment its host is done), then the summary. Host text enters the report here and only here, and
 * is made terminal-safe once (see terminal.ts) before anything renders it.
 */
export function textReport(
  mode: ReportMode,
  outcomes: readonly HostOutcome[],
  options: ReportOptions,
): string {
  return outcomes.map((o) => hostText(mode, o, options)).join("") + summaryText(mode, outcomes, options);
}

/** One host's part of the report, with the blank line after it; "" when `quiet` leaves the host out. */
export function hostText(mode: ReportMode, outcome: HostOutcome, options: ReportOptions): string {
  if (options.quiet && !isWrong(outcome)) return "";
  const safe = terminalSafe(outcome);
  if (safe.status === "skipped" && mode !== "check")
    return `${safe.name} (${safe.address}): ${STATUS_LABEL.skipped}\n${mode === "facts" ? "" : "\n"}`;
  if (mode === "facts") return `${factsReport(safe)}\n`;
  if (mode === "check") return `${checkLines(safe)}\n`;
  const diff = mode === "dry-run" || options.diff;
  return `${hostReport(safe, { mode, diff, color: options.color })}\n\n`;
}

/** What follows the hosts' parts: the recap of apply and dry run (with `quiet` only when something is wrong). */
export function summaryText(
  mode: ReportMode,
  outcomes: readonly HostOutcome[],
  options: ReportOptions,
): string {
  if (mode === "facts" || mode === "check") return "";
  if (options.quiet && !outcomes.some(isWrong)) return "";
  const report = `${recap(outcomes.map(terminalSafe), mode, options.color)}\n`;
  return mode === "dry-run" ? `${report}Dry run: nothing was changed on any host.\n` : report;
}

/** What `--quiet` still reports: drift (would change), failures, unreachable and hosts not started. */
function isWrong(outcome: HostOutcome): boolean {
  return outcome.status !== "in-sync" && outcome.status !== "changed";
}

const STATUS_LABEL: Record<HostOutcome["status"], string> = {
  "in-sync": "ok",
  drift: "drift",
  changed: "changed",
  failed: "FAILED",
  unreachable: "UNREACHABLE",
  skipped: "not started (interrupted)",
};

function hostReport(outcome: HostOutcome, options: TextOptions): string {
  const c = pc.createColors(options.color);
  const paint = {
    "in-sync": c.green,
    drift: c.yellow,
    changed: c.yellow,
    failed: c.red,
    unreachable: c.red,
    skipped: c.yellow,
  }[outcome.status];
  const status =
    outcome.status === "drift" && options.mode === "dry-run" ? "would change" : STATUS_LABEL[outcome.status];
  const lines = [`${c.bold(outcome.name)} (${outcome.address}): ${paint(status)}`];
  for (const warning of outcome.warnings)
    lines.push(c.yellow(`  warning: ${indentContinuation(warning, "    ")}`));
  if (outcome.error) lines.push(c.red(`  error: ${indentContinuation(outcome.error, "    ")}`));
  for (const change of outcome.changes) {
    const params = change.parameters ? `: ${change.parameters.join(", ")}` : "";
    const detail = change.parameters ? "" : ` (${change.detail})`;
    lines.push(`  ${change.what.padEnd(11)} ${change.path}${params}${detail}`);
  }
  if (outcome.plan && outcome.changes.length > 0 && options.mode !== "check") {
    lines.push(...planActions(outcome.plan, options.mode === "apply" && outcome.status === "changed"));
    if (outcome.backup) lines.push(`  previous files saved in ${outcome.backup}`);
    if (options.diff) {
      for (const write of outcome.plan.writes) lines.push(colorDiff(fileDiff(write), c));
    }
  }
  return lines.join("\n");
}

function planActions(plan: Plan, done: boolean): string[] {
  const verb = (now: string, future: string) => (done ? now : future);
  const lines: string[] = [];
  for (const write of plan.writes)
    lines.push(`  ${verb("wrote", "would write")} ${write.path} (root:root 0${write.mode.toString(8)})`);
  for (const fix of plan.attributeFixes)
    lines.push(`  ${verb("fixed", "would fix")} ${fix.path} -> root:root 0${fix.mode.toString(8)}`);
  for (const path of plan.removals) lines.push(`  ${verb("removed", "would remove")} ${path}`);
  for (const postmap of plan.postmaps) lines.push(`  ${verb("ran", "would run")} postmap ${postmap.map}`);
  if (plan.service !== "none") lines.push(`  ${verb("ran", "would run")} postfix ${plan.service}`);
  return lines;
}

function colorDiff(diff: string, c: ReturnType<typeof pc.createColors>): string {
  return diff
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---")) return c.bold(line);
      if (line.startsWith("+")) return c.green(line);
      if (line.startsWith("-")) return c.red(line);
      if (line.startsWith("@@")) return c.cyan(line);
      return line;
    })
    .map((line) => `    ${line}`)
    .join("\n")
    .trimEnd();
}

/** One line per host plus counts, like Ansible's PLAY RECAP. */
function recap(outcomes: readonly HostOutcome[], mode: TextOptions["mode"], color: boolean): string {
  const c = pc.createColors(color);
  const width = Math.max(4, ...outcomes.map((o) => o.name.length));
  const lines = [c.bold("RECAP")];
  for (const o of outcomes) {
    const status = o.status === "drift" && mode === "dry-run" ? "would change" : o.status;
    lines.push(`  ${o.name.padEnd(width)}  ${status.padEnd(12)} changes=${o.changes.length}`);
  }
  return lines.join("\n");
}

/** The terse drift-check line per host, for cron mail and timers, with the host's warnings under it. */
function checkLines(outcome: HostOutcome): string {
  const warnings = outcome.warnings.map((w) => `\n  warning: ${indentContinuation(w, "    ")}`).join("");
  return checkLine(outcome) + warnings;
}

function checkLine(outcome: HostOutcome): string {
  if (outcome.status === "in-sync") return `${outcome.name}: in sync`;
  if (outcome.status === "skipped") return `${outcome.name}: ${STATUS_LABEL.skipped}`;
  if (outcome.error) return `${outcome.name}: ${outcome.status}: ${indentContinuation(outcome.error, "  ")}`;
  const what = outcome.changes.map(
    (c) => `${c.path} ${c.what}${c.parameters ? ` (${c.parameters.join(", ")})` : ""}`,
  );
  return `${outcome.name}: drift: ${what.join("; ")}`;
}
