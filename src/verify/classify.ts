import { replyText, type Reply } from "./smtp-client.js";

/**
 * Turns what went wrong on a path into the precise cause a user acts on. Pure: the host sshd's channel
 * open failure, or the step and the relay's reply, go in; a kind (stable, for --json) and a sentence
 * come out.
 */

export type ProblemKind =
  | "name-does-not-resolve"
  | "connection-refused"
  | "timed-out"
  | "no-route"
  | "forwarding-refused"
  | "connection-failed"
  | "session-refused"
  | "tls-not-offered"
  | "tls-failed"
  | "certificate-not-trusted"
  | "no-usable-mechanism"
  | "authentication-failed"
  | "sender-refused"
  | "recipient-refused"
  | "protocol-error"
  | "no-delivery";

export interface Problem {
  kind: ProblemKind;
  message: string;
  /** The relay's own reply, where there is one. */
  reply?: string;
}

/** ssh2 reports an open failure with the sshd's reason text and SSH_OPEN_* code. */
export function openFailure(
  error: { message: string; reason?: number | string },
  where: { host: string; address: string; port: number; hostName: string },
): Problem {
  const text = error.message;
  const target = `${where.host} (${where.address}) port ${where.port}`;
  if (/administratively prohibited/i.test(text) || error.reason === 1) {
    return {
      kind: "forwarding-refused",
      message:
        `the SSH server of ${where.hostName} refuses to open TCP connections for provision ` +
        `(AllowTcpForwarding / PermitOpen in its sshd_config): ${text}`,
    };
  }
  if (/refused/i.test(text)) {
    return {
      kind: "connection-refused",
      message: `connection refused: nothing accepts connections on ${target} as seen from ${where.hostName}`,
    };
  }
  if (/timed? ?out/i.test(text)) {
    return { kind: "timed-out", message: `connection to ${target} timed out from ${where.hostName}` };
  }
  if (/no route|unreachable/i.test(text)) {
    return { kind: "no-route", message: `${where.hostName} has no route to ${target}: ${text}` };
  }
  if (/name|resolv|not known|getaddrinfo/i.test(text)) {
    return nameProblem(where.host, where.hostName);
  }
  return {
    kind: "connection-failed",
    message: `cannot connect to ${target} from ${where.hostName}: ${text}`,
  };
}

export function nameProblem(host: string, hostName: string): Problem {
  return {
    kind: "name-does-not-resolve",
    message:
      `the name ${host} does not resolve from ${hostName} (getent ahosts finds no address; ` +
      `check its DNS, or /etc/hosts with smtp_host_lookup = native)`,
  };
}

export type Step = "greeting" | "ehlo" | "starttls" | "auth" | "mail" | "rcpt";

/** The relay answered `reply` to `step` with something other than success. */
export function replyProblem(step: Step, reply: Reply, detail: { username?: string } = {}): Problem {
  const said = replyText(reply);
  switch (step) {
    case "greeting":
    case "ehlo":
      return { kind: "session-refused", message: `the relay refused the session: ${said}`, reply: said };
    case "starttls":
      return { kind: "tls-failed", message: `the relay refused STARTTLS: ${said}`, reply: said };
    case "auth":
      return {
        kind: "authentication-failed",
        message: `authentication failed as ${detail.username ?? "?"}: the relay said ${said}`,
        reply: said,
      };
    case "mail":
      return { kind: "sender-refused", message: `sender refused: the relay said ${said}`, reply: said };
    case "rcpt":
      return { kind: "recipient-refused", message: `recipient refused: the relay said ${said}`, reply: said };
  }
}

/** TLS levels at which Postfix will not send without TLS (smtp_tls_security_level). */
export const MANDATORY_TLS = ["encrypt", "dane-only", "fingerprint", "verify", "secure"];
/** TLS levels at which Postfix checks the relay's certificate against its trusted CAs and name. */
export const VERIFIED_TLS = ["verify", "secure"];

export function tlsNotOffered(level: string): Problem {
  return {
    kind: "tls-not-offered",
    message:
      `TLS required (tls: ${level}) but the relay does not offer STARTTLS; Postfix defers the mail ` +
      `(use the provider's submission port 587, or 465 with TLS from the first byte)`,
  };
}
