import type { HostStep, RunMode } from "../engine/host-run.js";
import type { HostOutcome } from "../engine/outcome.js";
import { hostText, summaryText, type ReportOptions } from "../report/text.js";

/**
 * What a run prints while it runs: each host's part of the report the moment the host is done, and on
 * a terminal a live line on stderr with the hosts still running and their step, redrawn in place and
 * erased before anything else is printed (so it never ends up in the middle of the report).
 */

/** Back to the start of the line, and erase it. */
export const ERASE_LINE = "\r\u001b[2K";

/**
 * The live line for the hosts still running (in the order they started), at most `columns - 1` long: a
 * longer line would wrap, and a wrapped line cannot be erased in place. Hosts that do not fit are counted.
 */
export function liveLine(running: ReadonlyMap<string, HostStep>, columns: number): string {
  const items = [...running].map(([host, step]) => `${host} (${step})`);
  if (items.length === 0) return "";
  const width = Math.max(columns - 1, 10);
  for (let shown = items.length; shown > 0; shown--) {
    const more = shown < items.length ? ` and ${items.length - shown} more` : "";
    const line = `running: ${items.slice(0, shown).join(", ")}${more}`;
    if (line.length <= width) return line;
  }
  return `running: ${items.length} host${items.length === 1 ? "" : "s"}`.slice(0, width);
}

export interface ProgressIo {
  /** Report text (stdout). */
  out: (text: string) => void;
  /** Messages (stderr, where the live line is). */
  err: (text: string) => void;
  /** Draw the live line: stderr is a terminal, and neither --json nor --quiet was given. */
  live: boolean;
  /** The terminal's width. */
  columns: () => number;
}

export class RunProgress {
  /** Host -> its current step, in the order the hosts started. */
  private readonly running = new Map<string, HostStep>();
  /** The live line on the screen now ("" when none). */
  private drawn = "";

  /** `report` undefined: no text report (--json prints its document at the end). */
  constructor(
    private readonly mode: RunMode,
    private readonly report: ReportOptions | undefined,
    private readonly io: ProgressIo,
  ) {}

  readonly onStep = (host: string, step: HostStep): void => {
    this.running.set(host, step);
    this.draw();
  };

  readonly onDone = (outcome: HostOutcome): void => {
    this.running.delete(outcome.name);
    if (this.report) this.print(hostText(this.mode, outcome, this.report), this.io.out);
    this.draw();
  };

  /** The hosts still running and their steps. */
  get inFlight(): ReadonlyMap<string, HostStep> {
    return this.running;
  }

  /** A message on stderr, with the live line out of its way. */
  notice(text: string): void {
    this.print(text, this.io.err);
    this.draw();
  }

  /** After the last host: the summary (the recap of apply and dry run). */
  finish(outcomes: readonly HostOutcome[]): void {
    this.running.clear();
    if (this.report) this.print(summaryText(this.mode, outcomes, this.report), this.io.out);
    this.draw();
  }

  private print(text: string, write: (text: string) => void): void {
    if (text === "") return;
    this.erase();
    write(text);
  }

  private draw(): void {
    if (!this.io.live) return;
    const line = liveLine(this.running, this.io.columns());
    if (line === this.drawn) return;
    this.io.err(line === "" ? ERASE_LINE : `${ERASE_LINE}${line}`);
    this.drawn = line;
  }

  private erase(): void {
    if (this.drawn === "") return;
    this.io.err(ERASE_LINE);
    this.drawn = "";
  }
}
