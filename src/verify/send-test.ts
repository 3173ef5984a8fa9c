import { findRecord, parseRecords, type RemoteRecord } from "../remote/records.js";
import { remoteScript } from "../remote/script.js";
import { shellQuote } from "../transport/shell.js";

/**
 * `verify --send-test ADDRESS`: one real message per path, handed to the host's own Postfix with
 * `sendmail -N never -f SENDER ADDRESS` (so it takes exactly the route real mail takes: canonical and generic
 * rewriting, sender-dependent relay and login, TLS), then its fate read from the host's mail log
 * (maillog_file, /var/log/mail.log, else the journal). A message deferred at its first attempt, or not
 * tried in time, is deleted from the queue (postsuper -d) so that it neither retries for days nor bounces;
 * one that bounces at once sends no notice back (-N never): nothing but the test message itself leaves.
 */

export interface TestMessage {
  /** Unique per run and path: how its queue ID is found in the log. */
  messageId: string;
  sender: string;
  recipient: string;
  /** The path, in the subject line. */
  label: string;
}

export type Fate =
  | { status: "sent" | "deferred" | "bounced"; queueId: string; reason: string; relay?: string }
  | { status: "waiting"; queueId?: string }
  | { status: "not-queued"; reason: string };

/** Where the log stood before the messages were sent (the `log_start` record): what read_log takes back. */
export type LogStart = Omit<Extract<RemoteRecord, { kind: "log_start" }>, "kind">;

/** Every remote step of a send test: src/remote/verify.sh, with service.sh's log position. */
const script = (body: string[]) => remoteScript({ libraries: ["service", "verify"], settings: {}, body });

/** Notes where the log stands, then hands every message to sendmail. */
export function sendScript(messages: TestMessage[]): string {
  return script([
    "log_start",
    ...messages.map((m) =>
      ["send_message", ...[m.sender, m.recipient, m.messageId, messageText(m)].map(shellQuote)].join(" "),
    ),
  ]);
}

function messageText(m: TestMessage): string {
  return [
    `From: <${m.sender}>`,
    `To: <${m.recipient}>`,
    `Subject: provision verify --send-test (${m.label})`,
    `Message-ID: <${m.messageId}>`,
    `X-Provision-Verify: ${m.messageId}`,
    "",
    `A test message from provision verify --send-test, through the path: ${m.label}.`,
    "",
  ].join("\n");
}

/** Everything the log gained since `start`. */
export function readLogScript(start: LogStart): string {
  return script([`read_log ${start.since} ${start.offset} ${shellQuote(start.file)}`]);
}

/** Deliver these queued messages now (qmgr may be waiting). */
export function flushScript(queueIds: string[]): string {
  return script([["flush_messages", ...queueIds.map(shellQuote)].join(" ")]);
}

/** Drop the messages given up on. */
export function deleteScript(queueIds: string[]): string {
  return script([["drop_messages", ...queueIds.map(shellQuote)].join(" ")]);
}

/** sendScript's output: where the log stood, and the messages sendmail refused outright. */
export function parseSendOutput(stdout: string): { start?: LogStart; refused: Map<string, string> } {
  const records = parseRecords(stdout);
  const logStart = findRecord(records, "log_start");
  const refused = new Map<string, string>();
  for (const record of records) {
    if (record.kind === "refused") refused.set(record.messageId, record.reason || "sendmail failed");
  }
  return {
    ...(logStart && { start: { since: logStart.since, offset: logStart.offset, file: logStart.file } }),
    refused,
  };
}

/** read_log's output: the log text. */
export function parseLog(stdout: string): string {
  return findRecord(parseRecords(stdout), "mail_log")?.text ?? "";
}

/**
 * Each message's fate from the log text: its queue ID from cleanup's `message-id=` line, then the
 * delivery agent's `QUEUEID: to=<...>, relay=..., status=STATUS (REASON)`. A log file's lines carry the
 * syslog prefix (`... postfix/smtp[12]: QUEUEID: ...`); the journal as read_log takes it (`-o cat`) gives
 * the message alone, starting with the queue ID.
 */
export function messageFates(log: string, messageIds: string[]): Map<string, Fate> {
  const fates = new Map<string, Fate>();
  const lines = log.split("\n");
  for (const id of messageIds) {
    const queued = lines
      .map((line) => /(?:^|\]: )([0-9A-Za-z]+): message-id=<(.*)>\s*$/.exec(line))
      .find((match) => match?.[2] === id);
    const queueId = queued?.[1];
    if (!queueId) {
      fates.set(id, { status: "waiting" });
      continue;
    }
    let fate: Fate = { status: "waiting", queueId };
    for (const line of lines) {
      const match = new RegExp(
        `(?:^|\\]: )${queueId}: (?:to=<[^>]*>, )?(.*?)status=(sent|deferred|bounced) ?\\((.*)\\)\\s*$`,
      ).exec(line);
      if (!match) continue;
      const relay = /relay=([^,\s]+)/.exec(match[1] ?? "")?.[1];
      const status = match[2] as "sent" | "deferred" | "bounced";
      fate = { status, queueId, reason: match[3] ?? "", ...(relay && { relay }) };
      break;
    }
    fates.set(id, fate);
  }
  return fates;
}
