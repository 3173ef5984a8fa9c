import { randomBytes } from "node:crypto";
import { gatherFacts } from "../engine/gather.js";
import { MAIN_CF } from "../engine/plan.js";
import type { HostFacts } from "../facts/types.js";
import type { RemoteSession } from "../transport/ssh.js";
import { parsePostconfN, tableRefs } from "./host-config.js";

/**
 * The I/O half of `provision import`: read main.cf and `postconf -n`, then the tables main.cf refers to
 * (their sources, with their modes and owners), under the host's run lock like every read. Two read-only
 * commands; nothing on the host is changed.
 */
export async function readHostSetup(
  session: RemoteSession,
  host: string,
  lockWaitSeconds: number,
): Promise<HostFacts> {
  const lock = { runId: randomBytes(6).toString("hex"), waitSeconds: lockWaitSeconds };
  const first = await gatherFacts(session, host, { contents: [MAIN_CF], stats: [] }, lock);
  const paths = tableRefs(parsePostconfN(first.postconfN)).map((ref) => ref.path);
  if (paths.length === 0) return first;
  return gatherFacts(session, host, { contents: [MAIN_CF, ...new Set(paths)], stats: [] }, lock);
}
