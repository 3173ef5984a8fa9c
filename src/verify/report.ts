import pc from "picocolors";
import { indentContinuation, terminalSafe } from "../report/terminal.js";
import type { HostVerification, VerifiedPath } from "./run.js";

/**
 * What `verify` prints: per host one line, then one per path (what was proven, or the precise cause),
 * and the --json document. Host text (relay replies, log lines) is made terminal-safe first; secrets are
 * never in a result, and the CLI's redactor scrubs what it prints as a last line of defence.
 */

export function hostVerificationText(host: HostVerification, color: boolean): string {
  const c = pc.createColors(color);
  const safe = terminalSafe(host);
  const lines: string[] = [];
  const failed = safe.paths.filter((p) => !p.ok).length;
  if (safe.status === "unreachable")
    lines.push(`${c.bold(safe.name)}: ${c.red("UNREACHABLE")}: ${safe.error ?? ""}`);
  else if (safe.error) lines.push(`${c.bold(safe.name)}: ${c.red("FAILED")}: ${safe.error}`);
  else if (failed > 0)
    lines.push(`${c.bold(safe.name)}: ${c.red(`${failed} of ${safe.paths.length} paths fail`)}`);
  else lines.push(`${c.bold(safe.name)}: ${c.green(`every path works (${safe.paths.length})`)}`);
  for (const path of safe.paths) {
    const mark = path.ok ? (path.probed ? c.green("ok  ") : c.yellow("--  ")) : c.red("FAIL");
    lines.push(indentContinuation(`  ${mark}  ${pathLabel(path)}: ${pathDetail(path)}`, "        "));
    for (const note of path.notes) lines.push(`        note: ${note}`);
    if (path.sendTest) lines.push(indentContinuation(`        send-test: ${fateText(path)}`, "          "));
  }
  return lines.join("\n") + "\n";
}

export function summaryLine(hosts: HostVerification[]): string {
  const count = (status: HostVerification["status"]) => hosts.filter((h) => h.status === status).length;
  return `verify: ${hosts.length} host${hosts.length === 1 ? "" : "s"}: ${count("ok")} ok, ${count("failed")} failed, ${count("unreachable")} unreachable\n`;
}

function pathLabel(path: VerifiedPath): string {
  const where = path.relay
    ? ` ${path.relay.nexthop} (${path.relay.address ?? "unresolved"} port ${path.relay.port})`
    : "";
  if (path.kind === "relay") return `default relay${where}`;
  if (path.kind === "sender") return `sender ${path.sender} via${where}`;
  return "direct delivery (no relay)";
}

function pathDetail(path: VerifiedPath): string {
  const parts: string[] = [];
  if (path.tls) parts.push(`TLS: ${path.tls}${path.certificate ? `, certificate ${path.certificate}` : ""}`);
  if (path.auth) parts.push(`AUTH accepted as ${path.auth.username} (${path.auth.mechanism})`);
  if (path.problem) {
    parts.push(path.problem.message);
  } else if (path.relay) {
    parts.push(
      `MAIL FROM:<${path.mailFrom}> and RCPT TO:<${path.rcptTo ?? ""}> accepted; stopped before DATA`,
    );
  } else {
    parts.push(path.probed ? "" : `not probed (sender ${path.mailFrom})`);
  }
  return parts.filter((p) => p !== "").join("; ");
}

function fateText(path: VerifiedPath): string {
  const fate = path.sendTest!;
  if (fate.status === "not-queued") return `not queued: sendmail said ${fate.reason}`;
  if (fate.status === "waiting") {
    return fate.queueId
      ? `queued as ${fate.queueId} but no delivery attempt was logged in time; removed from the queue`
      : "the message never showed up in the mail log";
  }
  const via = fate.relay ? ` via ${fate.relay}` : "";
  const removed = fate.status === "deferred" ? "; removed from the queue" : "";
  return `${fate.status}${via} (${fate.reason}), queue ID ${fate.queueId}${removed}`;
}

/** The --json document: per host its status and every path's result; no secrets. */
export function verifyJson(hosts: HostVerification[], exitCode: number): object {
  return {
    command: "verify",
    exitCode,
    hosts: hosts.map((h) => ({
      name: h.name,
      address: h.address,
      status: h.status,
      ...(h.error !== undefined && { error: h.error }),
      paths: h.paths.map((p) => ({
        kind: p.kind,
        ok: p.ok,
        probed: p.probed,
        sender: p.sender,
        mailFrom: p.mailFrom,
        ...(p.rcptTo !== undefined && { rcptTo: p.rcptTo }),
        ...(p.relay && { relay: p.relay }),
        ...(p.tls !== undefined && { tls: p.tls }),
        ...(p.certificate !== undefined && { certificate: p.certificate }),
        ...(p.auth && { auth: p.auth }),
        ...(p.problem && { problem: p.problem }),
        ...(p.notes.length > 0 && { notes: p.notes }),
        ...(p.sendTest && { sendTest: p.sendTest }),
      })),
    })),
  };
}
