import type { HostStep, RunMode } from "../engine/host-run.js";
import { EXIT } from "./usage.js";

/**
 * Ctrl-C during a run. The first stops starting hosts and lets the hosts in flight run to their end (an
 * apply finishes or rolls back), so the run can still say what happened on each; the CLI then exits 130.
 * The second exits at once: an apply in flight then goes on on its host by itself (the remote script
 * ignores hang-ups once it holds the run lock, remote/apply.sh), which the message says, rather than
 * promising anything about it. The exit code is 130 (128 + SIGINT), as shells report a command ended
 * by Ctrl-C.
 */

/** Where interruptions come from; the tests pass their own. */
export interface Interrupts {
  /** Calls `handler` on every SIGINT until the returned function is called. */
  subscribe(handler: () => void): () => void;
  /** Ends the process at once. */
  exit(code: number): void;
}

export const processInterrupts: Interrupts = {
  subscribe(handler) {
    process.on("SIGINT", handler);
    return () => process.off("SIGINT", handler);
  },
  exit: (code) => process.exit(code),
};

export interface InterruptWatch {
  /** Aborted by the first interruption: start no more hosts. */
  signal: AbortSignal;
  dispose(): void;
}

/** Watches for Ctrl-C while the hosts run; `run` tells what is in flight and prints the messages. */
export function watchInterrupts(
  mode: RunMode,
  interrupts: Interrupts | undefined,
  run: { inFlight: ReadonlyMap<string, HostStep>; notice(text: string): void },
): InterruptWatch {
  const stop = new AbortController();
  if (!interrupts) return { signal: stop.signal, dispose: () => undefined };
  const dispose = interrupts.subscribe(() => {
    if (!stop.signal.aborted) {
      stop.abort();
      run.notice(firstInterruptMessage(run.inFlight));
    } else {
      run.notice(secondInterruptMessage(mode, run.inFlight));
      interrupts.exit(EXIT.interrupted);
    }
  });
  return { signal: stop.signal, dispose };
}

export function firstInterruptMessage(inFlight: ReadonlyMap<string, HostStep>): string {
  const waiting =
    inFlight.size === 0
      ? ""
      : ` Waiting for the hosts in flight to finish (an apply finishes or rolls back): ${[...inFlight.keys()].join(", ")}.`;
  return (
    `\nInterrupted: no more hosts are started; those not started are reported as not started.${waiting}` +
    ` Press Ctrl-C again to exit at once.\n`
  );
}

export function secondInterruptMessage(mode: RunMode, inFlight: ReadonlyMap<string, HostStep>): string {
  const changing = [...inFlight]
    .filter(([, step]) => mode === "apply" && (step === "applying" || step === "reading the host again"))
    .map(([host]) => host);
  const reading = [...inFlight.keys()].filter((host) => !changing.includes(host));
  const lines = ["Interrupted again: exiting now."];
  if (changing.length > 0)
    lines.push(
      `The hosts in flight finish or roll back on their own (the apply goes on on the host without ` +
        `provision): ${changing.join(", ")}. Run provision check to see how they ended.`,
    );
  if (reading.length > 0)
    lines.push(`Nothing was changed on the hosts still being read: ${reading.join(", ")}.`);
  return `\n${lines.join("\n")}\n`;
}
