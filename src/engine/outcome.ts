import type { Change, Plan } from "./plan.js";

/** What happened on one host, for every report (text, JSON, Prometheus). No secrets in here. */
export type HostStatus = "in-sync" | "drift" | "changed" | "failed" | "unreachable";

export interface HostOutcome {
  name: string;
  address: string;
  status: HostStatus;
  changes: Change[];
  /** The plan, for diffs (masked views only are shown). */
  plan?: Plan;
  /** What apply did on the host: "wrote /etc/postfix/generic", "postmap hash:...", "service reload". */
  steps: string[];
  warnings: string[];
  error?: string;
  facts?: {
    version: string;
    defaultDatabaseType: string;
    supportedTypes: string[];
    running: boolean;
    postconfN: string;
  };
  stats: { connections: number; commands: number; durationMs: number };
}
