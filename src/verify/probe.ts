import type { Duplex } from "node:stream";
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from "node:tls";
import {
  MANDATORY_TLS,
  nameProblem,
  openFailure,
  replyProblem,
  tlsNotOffered,
  VERIFIED_TLS,
  type Problem,
} from "./classify.js";
import type { VerifyHostFacts } from "./host-facts.js";
import { chooseMechanism } from "./mechanisms.js";
import type { Relay, VerifyPath } from "./paths.js";
import { SmtpClient, SmtpClosedError, SmtpTimeoutError, type Reply } from "./smtp-client.js";

/**
 * One sending path proven from the host: a TCP connection the host itself opens (SSH direct-tcpip), then
 * SMTP as the host's Postfix would speak it: EHLO, TLS as configured, AUTH with the playbook's login and
 * the mechanism Postfix would choose, MAIL FROM with the rewritten sender, RCPT TO; then RSET and QUIT.
 * Never DATA: nothing is delivered, queued or bounced.
 */

export interface PathResult {
  kind: VerifyPath["kind"];
  sender: string;
  mailFrom: string;
  rcptTo?: string;
  relay?: { nexthop: string; host: string; port: number; address?: string };
  /** How the session was protected: "STARTTLS", "TLS (implicit, port 465)", "none". */
  tls?: string;
  /** "trusted" (checked as tls: verify/secure ask), "not checked" (lower TLS levels). */
  certificate?: string;
  auth?: { username: string; mechanism: string };
  ok: boolean;
  /** "not-probed": a direct path without a recipient to probe; counts as working. */
  probed: boolean;
  problem?: Problem;
  notes: string[];
}

export interface ProbeContext {
  hostName: string;
  facts: VerifyHostFacts;
  /** The host's SSH session: opens TCP connections from the host. */
  forward: (address: string, port: number) => Promise<Duplex>;
  /** RCPT TO for every path; undefined = each path's own rewritten sender. */
  rcpt?: string;
  /** Name given in EHLO. */
  helo: string;
  timeoutMs: number;
}

export async function probePath(path: VerifyPath, context: ProbeContext): Promise<PathResult> {
  const base = { kind: path.kind, sender: path.sender, mailFrom: path.mailFrom, notes: [] as string[] };
  if (!path.relay) {
    const { defaultTransport, relayhost } = path.transport!;
    if (defaultTransport === "error") {
      const problem: Problem = {
        kind: "no-delivery",
        message:
          `no relay is declared and default_transport = error on ${context.hostName} (Debian's "Local ` +
          `only" setting): Postfix delivers no mail off this machine; declare relay: or set ` +
          `default_transport: smtp in main:`,
      };
      return { ...base, ok: false, probed: true, problem };
    }
    base.notes.push(
      relayhost
        ? `not direct: with this playbook applied ${context.hostName} has relayhost = ${relayhost}, so ` +
            `Postfix hands every message to it instead of each recipient domain's MX; declare it as ` +
            `relay: to have it proven, or remove it with main: { relayhost: null }`
        : "direct delivery to each recipient domain's mail exchanger (MX); there is no single server to " +
            "probe: --send-test ADDRESS proves it with a real message",
    );
    return { ...base, ok: true, probed: false };
  }
  const relay = path.relay;
  const rcptTo = context.rcpt ?? path.mailFrom;
  // Without getent the name goes to the host's sshd, which resolves it (a failure maps to the same cause).
  const address = context.facts.addresses.get(relay.host) ?? (context.facts.getent ? undefined : relay.host);
  const result: PathResult = {
    ...base,
    rcptTo,
    relay: { nexthop: relay.nexthop, host: relay.host, port: relay.port, ...(address && { address }) },
    ok: false,
    probed: true,
  };
  if (relay.mx)
    result.notes.push(`mx: true: Postfix looks up ${relay.host}'s MX records; probed the name itself`);
  if (!address) return { ...result, problem: nameProblem(relay.host, context.hostName) };
  let client: SmtpClient | undefined;
  let stream: Duplex | undefined;
  try {
    stream = await withTimeout(context.forward(address, relay.port), context.timeoutMs, () =>
      Object.assign(new Error("timed out"), { reason: "timeout" }),
    ).catch((error: Error & { reason?: number | string }) => {
      throw new Failure(
        openFailure(error, { host: relay.host, address, port: relay.port, hostName: context.hostName }),
      );
    });
    const tlsOptions: ConnectionOptions = {
      servername: relay.host,
      ...(context.facts.caCertificates !== undefined && { ca: context.facts.caCertificates }),
    };
    client = relay.implicitTls
      ? await SmtpClient.implicitTls(stream, context.timeoutMs, tlsOptions).catch(tlsFailure)
      : new SmtpClient(stream, context.timeoutMs);
    result.tls = relay.implicitTls ? `TLS (implicit, port ${relay.port})` : "none";
    await step(client.reply(), [220], "greeting");
    let ehlo = await step(client.command(`EHLO ${context.helo}`), [250], "ehlo");
    if (!relay.implicitTls && relay.tls !== "none") {
      if (extensions(ehlo).has("STARTTLS")) {
        await step(client.command("STARTTLS"), [220], "starttls");
        await client.startTls(tlsOptions).catch(tlsFailure);
        result.tls = "STARTTLS";
        ehlo = await step(client.command(`EHLO ${context.helo}`), [250], "ehlo");
      } else if (MANDATORY_TLS.includes(relay.tls)) {
        throw new Failure(tlsNotOffered(relay.tls));
      } else {
        result.notes.push(`the relay offers no STARTTLS; at tls: ${relay.tls} Postfix sends without TLS`);
      }
    }
    result.certificate = certificateCheck(client, relay);
    if (relay.login) {
      const { username, password } = relay.login;
      const mechanism = mechanismFor(ehlo, relay, context, client.tlsSocket !== undefined);
      if (mechanism.note) result.notes.push(mechanism.note);
      const reply = await client.auth(mechanism.mechanism, username, password.reveal());
      if (reply.code !== 235) throw new Failure(replyProblem("auth", reply, { username }));
      result.auth = { username, mechanism: mechanism.mechanism };
    } else {
      result.notes.push("no login declared for this relay: no AUTH");
    }
    await step(client.command(`MAIL FROM:<${path.mailFrom}>`), [250], "mail");
    await step(client.command(`RCPT TO:<${rcptTo}>`), [250, 251], "rcpt");
    await client.command("RSET").catch(() => undefined);
    result.ok = true;
  } catch (error) {
    result.problem = problemOf(error, relay);
  } finally {
    // The channel goes with the client; without one (a failed TLS handshake) it is closed here.
    if (client) await client.quit();
    else stream?.destroy();
  }
  return result;
}

/** A classified failure, thrown through the conversation to its end. */
class Failure extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

/** The reply to one step, which must have one of `codes`. */
async function step(reply: Promise<Reply>, codes: number[], step: Parameters<typeof replyProblem>[0]) {
  const got = await reply;
  if (!codes.includes(got.code)) throw new Failure(replyProblem(step, got));
  return got;
}

function tlsFailure(error: Error): never {
  if (error instanceof SmtpTimeoutError) throw error;
  throw new Failure({ kind: "tls-failed", message: `TLS handshake with the relay failed: ${error.message}` });
}

function problemOf(error: unknown, relay: Relay): Problem {
  if (error instanceof Failure) return error.problem;
  if (error instanceof SmtpTimeoutError) {
    return { kind: "timed-out", message: `${relay.nexthop}: ${error.message}` };
  }
  if (error instanceof SmtpClosedError) {
    return { kind: "protocol-error", message: `${relay.nexthop}: ${error.message} before the probe ended` };
  }
  return { kind: "protocol-error", message: `${relay.nexthop}: ${(error as Error).message}` };
}

/** EHLO keywords, upper case, with their parameters: "AUTH" -> ["PLAIN", "LOGIN"]. */
function extensions(ehlo: Reply): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of ehlo.lines.slice(1)) {
    const [keyword, ...params] = line.trim().split(/[\s=]+/);
    if (keyword) map.set(keyword.toUpperCase(), [...(map.get(keyword.toUpperCase()) ?? []), ...params]);
  }
  return map;
}

function mechanismFor(
  ehlo: Reply,
  relay: Relay,
  context: ProbeContext,
  tls: boolean,
): { mechanism: string; note?: string } {
  const { facts, hostName } = context;
  if (!facts.saslClients.includes("cyrus")) {
    throw new Failure({
      kind: "no-usable-mechanism",
      message: `no usable mechanism: the Postfix on ${hostName} has no Cyrus SASL client (postconf -A lists ${facts.saslClients.join(", ") || "none"})`,
    });
  }
  const choice = chooseMechanism({
    offered: extensions(ehlo).get("AUTH") ?? [],
    filter: relay.mechanisms,
    securityOptions: tls ? relay.tlsSecurityOptions : relay.securityOptions,
    plugins: facts.saslPlugins,
    pluginDirs: facts.saslPluginDirs,
    distro: facts.distro,
    host: hostName,
  });
  if (!choice.ok)
    throw new Failure({ kind: "no-usable-mechanism", message: `no usable mechanism: ${choice.why}` });
  return choice;
}

/** At tls: verify / secure the certificate must chain to a CA the host trusts and name the relay. */
function certificateCheck(client: SmtpClient, relay: Relay): string | undefined {
  const socket = client.tlsSocket;
  if (!socket) return undefined;
  if (!VERIFIED_TLS.includes(relay.tls)) return "not checked (tls: " + relay.tls + ")";
  const untrusted = (why: string): never => {
    throw new Failure({
      kind: "certificate-not-trusted",
      message: `certificate not trusted (tls: ${relay.tls}): ${why}`,
    });
  };
  if (!socket.authorized)
    untrusted(`${String(socket.authorizationError)} (checked against the host's CA certificates)`);
  const mismatch = checkServerIdentity(relay.host, socket.getPeerCertificate() as PeerCertificate);
  if (mismatch) untrusted(mismatch.message);
  return "trusted";
}

/** The host's channel open, bounded: sshd's own connect may wait minutes for a silent firewall. */
function withTimeout(open: Promise<Duplex>, ms: number, error: () => Error): Promise<Duplex> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  // An open that succeeds after we gave up must not leave its channel open.
  const late = open.then((stream) => {
    if (timedOut) stream.destroy();
    return stream;
  });
  return Promise.race([
    late,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(error());
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
