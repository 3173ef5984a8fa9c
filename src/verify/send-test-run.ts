import type { RemoteSession } from "../transport/ssh.js";
import {
  deleteScript,
  flushScript,
  messageFates,
  parseLog,
  parseSendOutput,
  readLogScript,
  sendScript,
  type Fate,
  type TestMessage,
} from "./send-test.js";

/** Seconds after which a message with no delivery attempt logged is flushed (qmgr may be backing off). */
const FLUSH_AFTER_SECONDS = 5;
const POLL_MS = 1000;

/**
 * Send the messages and follow them in the host's log until each has had its first delivery attempt, or
 * `waitSeconds` pass (bounded: at most one log read a second). A deferred message would only be retried
 * minutes later (minimal_backoff_time) and for days after: it is reported with Postfix's reason and
 * deleted from the queue, as is one never tried in time, so no test message bounces later.
 */
export async function runSendTest(
  session: RemoteSession,
  messages: TestMessage[],
  waitSeconds: number,
): Promise<Map<string, Fate>> {
  const sent = parseSendOutput(
    (await session.runScript(sendScript(messages), "send the test messages")).stdout,
  );
  const fates = new Map<string, Fate>();
  for (const [id, reason] of sent.refused) fates.set(id, { status: "not-queued", reason });
  const pending = messages.map((m) => m.messageId).filter((id) => !fates.has(id));
  if (pending.length === 0 || sent.start === undefined) return fates;

  const started = Date.now();
  let flushed = false;
  let latest = new Map<string, Fate>();
  for (;;) {
    const log = parseLog((await session.runScript(readLogScript(sent.start), "read the mail log")).stdout);
    latest = messageFates(log, pending);
    const open = [...latest.values()].filter((f) => f.status === "waiting");
    const elapsed = (Date.now() - started) / 1000;
    if (open.length === 0 || elapsed >= waitSeconds) break;
    if (!flushed && elapsed >= FLUSH_AFTER_SECONDS) {
      flushed = true;
      const ids = open.map((f) => ("queueId" in f ? f.queueId : undefined)).filter((id) => id !== undefined);
      if (ids.length > 0) await session.runScript(flushScript(ids), "flush the test messages");
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const leftover = [...latest.values()]
    .filter((f) => f.status === "waiting" || f.status === "deferred")
    .map((f) => ("queueId" in f ? f.queueId : undefined))
    .filter((id) => id !== undefined);
  if (leftover.length > 0)
    await session.runScript(deleteScript(leftover), "remove the undelivered test messages");
  for (const [id, fate] of latest) fates.set(id, fate);
  return fates;
}
