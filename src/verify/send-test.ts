import { shellQuote } from "../transport/shell.js";

/**
 * `verify --send-test ADDRESS`: one real message per path, handed to the host's own Postfix with
 * `sendmail -f SENDER ADDRESS` (so it takes exactly the route real mail takes: canonical and generic
 * rewriting, sender-dependent relay and login, TLS), then its fate read from the host's mail log
 * (maillog_file, /var/log/mail.log, else the journal). A message deferred at its first attempt, or not
 * tried in time, is deleted from the queue (postsuper -d) so that it neither retries for days nor bounces.
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

/** Hands every message to sendmail; prints where the log stood before (`log FILE OFFSET` or `journal T`). */
export function sendScript(messages: TestMessage[]): string {
  const sends = messages.map((m) => {
    const body = [
      `From: <${m.sender}>`,
      `To: <${m.recipient}>`,
      `Subject: provision verify --send-test (${m.label})`,
      `Message-ID: <${m.messageId}>`,
      `X-Provision-Verify: ${m.messageId}`,
      "",
      `A test message from provision verify --send-test, through the path: ${m.label}.`,
      "",
    ].join("\n");
    return (
      `out=$(printf '%s' ${shellQuote(body)} | sendmail -f ${shellQuote(m.sender)} -- ${shellQuote(m.recipient)} 2>&1)` +
      ` || printf 'failed\\t%s %s\\n' ${shellQuote(m.messageId)} "$(printf '%s' "$out" | tr '\\n' ' ')"`
    );
  });
  return `
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
${LOG_SOURCE}
if [ -n "$log" ]; then printf 'start\\tlog %s %s\\n' "$(wc -c < "$log")" "$log"; else printf 'start\\tjournal %s\\n' "$(date +%s)"; fi
${sends.join("\n")}
true
`;
}

/** Postfix's own log file, else Debian's syslog file; none: the journal. */
const LOG_SOURCE = `log=$(postconf -h maillog_file 2>/dev/null)
case $log in /*) ;; *) log= ;; esac
[ -n "$log" ] || log=/var/log/mail.log
[ -r "$log" ] || log=`;

/** Everything the log gained since `start` (the `start` record of sendScript). */
export function readLogScript(start: string): string {
  const [kind, first, ...rest] = start.split(" ");
  if (kind === "log") {
    return `tail -c +$((${Number(first) || 0} + 1)) ${shellQuote(rest.join(" "))} 2>/dev/null; true`;
  }
  return `journalctl -q -o cat --since @${Number(first) || 0} 2>/dev/null; true`;
}

/** Deliver these queued messages now (qmgr may be waiting), then drop those given up on. */
export function flushScript(queueIds: string[]): string {
  return queueIds.map((id) => `postqueue -i ${shellQuote(id)} >/dev/null 2>&1`).join("\n") + "\ntrue\n";
}

export function deleteScript(queueIds: string[]): string {
  return queueIds.map((id) => `postsuper -d ${shellQuote(id)} >/dev/null 2>&1`).join("\n") + "\ntrue\n";
}

/** sendScript's output: where the log stood, and the messages sendmail refused outright. */
export function parseSendOutput(stdout: string): { start?: string; refused: Map<string, string> } {
  let start: string | undefined;
  const refused = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const [kind, rest = ""] = line.split("\t");
    if (kind === "start") start = rest;
    if (kind === "failed") {
      const space = rest.indexOf(" ");
      refused.set(rest.slice(0, space), rest.slice(space + 1).trim() || "sendmail failed");
    }
  }
  return { ...(start !== undefined && { start }), refused };
}

/**
 * Each message's fate from the log text: its queue ID from cleanup's `message-id=` line, then the
 * delivery agent's `QUEUEID: to=<...>, relay=..., status=STATUS (REASON)`.
 */
export function messageFates(log: string, messageIds: string[]): Map<string, Fate> {
  const fates = new Map<string, Fate>();
  const lines = log.split("\n");
  for (const id of messageIds) {
    const queued = lines
      .map((line) => /\]: ([0-9A-Za-z]+): message-id=<(.*)>\s*$/.exec(line))
      .find((match) => match?.[2] === id);
    const queueId = queued?.[1];
    if (!queueId) {
      fates.set(id, { status: "waiting" });
      continue;
    }
    let fate: Fate = { status: "waiting", queueId };
    for (const line of lines) {
      const match = new RegExp(
        `\\]: ${queueId}: (?:to=<[^>]*>, )?(.*?)status=(sent|deferred|bounced) ?\\((.*)\\)\\s*$`,
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
