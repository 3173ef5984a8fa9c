import { runHost, type HostJob, type RunMode, type RunOptions } from "./host-run.js";
import type { HostOutcome } from "./outcome.js";

/** Run every host concurrently, at most `forks` at a time; results in inventory order. */
export async function runAll(
  jobs: HostJob[],
  mode: RunMode,
  options: RunOptions & { forks: number },
): Promise<HostOutcome[]> {
  const results: HostOutcome[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      const outcome = await runHost(job, mode, options);
      results[index] = outcome;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.forks, jobs.length)) }, worker));
  return results;
}
