import { openSession } from "../transport/ssh.js";
import { runHost, type Connect, type HostJob, type RunMode, type RunOptions } from "./host-run.js";
import type { HostOutcome } from "./outcome.js";

export interface RunAllOptions extends RunOptions {
  forks: number;
  /** Each host's outcome the moment it is known, in completion order (hosts not started last). */
  onDone?: (outcome: HostOutcome) => void;
  /**
   * Once aborted (the first Ctrl-C), no further host is started; the hosts in flight run to their end
   * and every host not started is reported `skipped`.
   */
  stop?: AbortSignal;
}

/** Run every host concurrently, at most `forks` at a time; results in inventory order. */
export async function runAll(
  jobs: HostJob[],
  mode: RunMode,
  options: RunAllOptions,
  connect: Connect = openSession,
): Promise<HostOutcome[]> {
  const results: (HostOutcome | undefined)[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !options.stop?.aborted) {
      const index = next++;
      const outcome = await runHost(jobs[index]!, mode, options, connect);
      results[index] = outcome;
      options.onDone?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.forks, jobs.length)) }, worker));
  return jobs.map((job, index) => {
    let outcome = results[index];
    if (!outcome) {
      outcome = notStarted(job);
      options.onDone?.(outcome);
    }
    return outcome;
  });
}

/** The outcome of a host the run never started: nothing was read, nothing changed. */
function notStarted(job: HostJob): HostOutcome {
  return {
    name: job.host.name,
    address: job.host.connection.address,
    status: "skipped",
    changes: [],
    steps: [],
    warnings: [],
    stats: { connections: 0, commands: 0, durationMs: 0 },
  };
}
