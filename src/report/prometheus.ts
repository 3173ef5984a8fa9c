import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { HostOutcome } from "../engine/outcome.js";

/** Prometheus textfile-collector metrics for `check --prom-file` (pure rendering + atomic write). */
export function prometheusMetrics(outcomes: HostOutcome[], now: Date): string {
  const lines = [
    ...checkError(0),
    "# HELP provision_drift 1 when the host differs from the playbook, 0 when in sync.",
    "# TYPE provision_drift gauge",
    ...outcomes.map((o) => `provision_drift{host="${label(o.name)}"} ${o.status === "drift" ? 1 : 0}`),
    ...UP_HEADER,
    ...outcomes.map(
      (o) =>
        `provision_up{host="${label(o.name)}"} ${o.status === "in-sync" || o.status === "drift" ? 1 : 0}`,
    ),
    "# HELP provision_last_check_timestamp_seconds When the check finished.",
    "# TYPE provision_last_check_timestamp_seconds gauge",
    ...outcomes.map(
      (o) =>
        `provision_last_check_timestamp_seconds{host="${label(o.name)}"} ${Math.floor(now.getTime() / 1000)}`,
    ),
    "# HELP provision_check_duration_seconds How long the check of the host took.",
    "# TYPE provision_check_duration_seconds gauge",
    ...outcomes.map(
      (o) =>
        `provision_check_duration_seconds{host="${label(o.name)}"} ${(o.stats.durationMs / 1000).toFixed(3)}`,
    ),
  ];
  return lines.join("\n") + "\n";
}

/**
 * The metrics of a check that failed before any host was checked (bad input, a missing inventory): no
 * per-host series, so that nothing looks healthy, and the run-level `provision_up 0`.
 */
export function failedCheckMetrics(): string {
  return [...checkError(1), ...UP_HEADER, "provision_up 0"].join("\n") + "\n";
}

const UP_HEADER = [
  "# HELP provision_up 1 when the host could be checked, 0 when it failed, was unreachable or was not " +
    "started; without a host label: 0, the check failed before any host was checked.",
  "# TYPE provision_up gauge",
];

function checkError(value: 0 | 1): string[] {
  return [
    "# HELP provision_check_error 1 when the check failed before any host was checked (its output says why).",
    "# TYPE provision_check_error gauge",
    `provision_check_error ${value}`,
  ];
}

function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Write via a temp file in the same directory + rename, so the collector never reads half a file. The
 * temp file has a random name and is created exclusively (O_EXCL: never an existing file, never through a
 * symlink), so nobody who can write to the directory can make us write elsewhere; the rename replaces
 * whatever is at `file`, a symlink included, and never writes through it.
 */
export function writePromFile(file: string, content: string): void {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", 0o644);
  try {
    try {
      writeFileSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
