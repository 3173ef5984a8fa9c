import type { FactsSummary } from "../facts/types.js";
import type { Change, Plan } from "./plan.js";

/** What happened on one host, for every report (text, JSON, Prometheus). No secrets in here. */
/** `skipped`: never started, because the run was interrupted (Ctrl-C) before its turn. */
export type HostStatus = "in-sync" | "drift" | "changed" | "failed" | "unreachable" | "skipped";

/** One thing an apply did on the host, as its script reported it. */
export type AppliedStep =
  | { kind: "wrote" | "fixed" | "removed"; path: string }
  | { kind: "postmap"; map: string }
  | { kind: "service"; action: string };

export interface HostOutcome {
  name: string;
  address: string;
  status: HostStatus;
  changes: Change[];
  /** The plan, for diffs (masked views only are shown). */
  plan?: Plan;
  /** What apply did on the host, in order (also when it then failed and rolled back). */
  steps: AppliedStep[];
  /** Where a completed apply saved the files it replaced. */
  backup?: string;
  warnings: string[];
  error?: string;
  facts?: FactsSummary;
  stats: { connections: number; commands: number; durationMs: number };
}
