// The "ISP" side of the lab: SMTP submission servers that, like a real provider, accept mail only after
// TLS and a successful AUTH, and record what they were given so tests can assert on it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerSession,
} from "smtp-server";
import { must } from "./exec.js";

export interface RelaySpec {
  name: string;
  /** The name hosts use for it, e.g. mail.isp.example (resolved through each host's /etc/hosts). */
  hostname: string;
  port: number;
  tls: "starttls" | "implicit";
  /** username -> password the relay accepts. */
  users: Record<string, string>;
  /**
   * Senders (`user@domain` or `@domain`) whose MAIL FROM the relay refuses, as a provider refuses an
   * address its user does not own.
   */
  refuseSenders?: string[];
  /** Recipients (`user@domain` or `@domain`) whose RCPT TO the relay refuses: an unknown user. */
  refuseRecipients?: string[];
  /** Accepts the TCP connection and then never says a word (a hung server, for time-outs). */
  silent?: boolean;
  /** A domain's mail exchanger (direct delivery): mail for it is accepted without AUTH. */
  mx?: boolean;
}

export interface RelayMessage {
  relay: string;
  authUser: string | null;
  mailFrom: string;
  rcptTo: string[];
  data: string;
}

/** One SMTP command a relay accepted: a login, a MAIL FROM or a RCPT TO (with or without DATA after it). */
export interface RelayCommand {
  relay: string;
  command: "AUTH" | "MAIL FROM" | "RCPT TO";
  /** The authenticated user at that moment (AUTH: the user just accepted). */
  authUser: string | null;
  /** AUTH: the username; MAIL FROM / RCPT TO: the address. */
  value: string;
}

export interface AuthFailure {
  relay: string;
  username: string;
}

/** The record every relay writes into; one per lab so tests can read it synchronously. */
export class RelayLog {
  readonly messages: RelayMessage[] = [];
  readonly authFailures: AuthFailure[] = [];
  readonly commands: RelayCommand[] = [];
}

/** One self-signed certificate naming every relay: Postfix at "encrypt" does not verify it anyway. */
export async function makeCertificate(
  dir: string,
  hostnames: string[],
): Promise<{ key: Buffer; cert: Buffer }> {
  const keyPath = join(dir, "relay-key.pem");
  const certPath = join(dir, "relay-cert.pem");
  const names = hostnames.length > 0 ? hostnames : ["relay.lab.example"];
  await must("openssl", [
    "req",
    ...["-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30"],
    ...["-keyout", keyPath, "-out", certPath, "-subj", `/CN=${names[0]}`],
    ...["-addext", `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`],
  ]);
  return { key: await readFile(keyPath), cert: await readFile(certPath) };
}

function rejectAuth(): Error {
  // 535 is what real providers answer for bad credentials; Postfix logs it as an authentication failure.
  return Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 });
}

/** `address` is one of `list` (`user@domain`, or `@domain` for the whole domain), case-insensitively. */
function listed(list: string[] | undefined, address: string): boolean {
  const lower = address.toLowerCase();
  return (list ?? []).some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith("@") ? lower.endsWith(e) : lower === e;
  });
}

/** What Postfix answers in these cases, with the code a client treats as permanent. */
function refusal(command: "MAIL FROM" | "RCPT TO", address: string, user: string | undefined): Error {
  return command === "MAIL FROM"
    ? Object.assign(
        new Error(`<${address}>: Sender address rejected: not owned by user ${user ?? "(anonymous)"}`),
        { responseCode: 553 },
      )
    : Object.assign(new Error(`<${address}>: Recipient address rejected: User unknown`), {
        responseCode: 550,
      });
}

function createServer(spec: RelaySpec, tls: { key: Buffer; cert: Buffer }, log: RelayLog): SMTPServer {
  // Recorded as accepted, so a test can tell a probe that stopped before DATA from a delivered message.
  const recordEnvelope =
    (command: "MAIL FROM" | "RCPT TO") =>
    (address: SMTPServerAddress, session: SMTPServerSession, callback: (error?: Error | null) => void) => {
      const refused = command === "MAIL FROM" ? spec.refuseSenders : spec.refuseRecipients;
      if (listed(refused, address.address)) return callback(refusal(command, address.address, session.user));
      log.commands.push({
        relay: spec.name,
        command,
        authUser: session.user ?? null,
        value: address.address,
      });
      callback();
    };
  return new SMTPServer({
    ...tls,
    name: spec.hostname,
    banner: `${spec.hostname} provision lab relay`,
    secure: spec.tls === "implicit",
    authMethods: ["PLAIN", "LOGIN"],
    // An MX takes mail from anyone for its domain; a provider's relay only after AUTH.
    authOptional: spec.mx === true,
    // No AUTH before TLS, as at real providers; together with required AUTH this makes TLS mandatory.
    allowInsecureAuth: false,
    // A reverse lookup would send DNS queries for lab addresses to the machine's real resolver.
    disableReverseLookup: true,
    logger: false,
    size: 25 * 1024 * 1024,
    closeTimeout: 2_000,
    // No callback: no greeting, ever (until the idle timeout closes the connection).
    ...(spec.silent && { onConnect: () => undefined }),
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
      const username = auth.username ?? "";
      const expected = Object.prototype.hasOwnProperty.call(spec.users, username)
        ? spec.users[username]
        : undefined;
      if (expected !== undefined && auth.password === expected) {
        log.commands.push({ relay: spec.name, command: "AUTH", authUser: username, value: username });
        return callback(null, { user: username });
      }
      log.authFailures.push({ relay: spec.name, username });
      callback(rejectAuth());
    },
    onMailFrom: recordEnvelope("MAIL FROM"),
    onRcptTo: recordEnvelope("RCPT TO"),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err) => callback(err));
      stream.on("end", () => {
        const { mailFrom, rcptTo } = session.envelope;
        log.messages.push({
          relay: spec.name,
          authUser: session.user ?? null,
          mailFrom: mailFrom ? mailFrom.address : "",
          rcptTo: rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString("utf8"),
        });
        callback(null, `queued as lab-${log.messages.length}`);
      });
    },
  });
}

function listen(server: SMTPServer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`relay cannot listen on ${address}:${port}: ${err.message}`));
    server.once("error", onError);
    server.listen(port, address, () => {
      server.off("error", onError);
      // Client-side trouble (a dropped TLS handshake...) must not crash the test process.
      server.on("error", () => undefined);
      resolve();
    });
  });
}

export interface RunningRelays {
  close(): Promise<void>;
}

export async function startRelays(
  specs: RelaySpec[],
  addresses: string[],
  tls: { key: Buffer; cert: Buffer },
  log: RelayLog,
): Promise<RunningRelays> {
  const servers: SMTPServer[] = [];
  const close = () =>
    Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
  try {
    for (const [i, spec] of specs.entries()) {
      const server = createServer(spec, tls, log);
      await listen(server, spec.port, addresses[i] ?? "");
      servers.push(server);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}
