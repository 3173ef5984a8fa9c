import { InputError } from "../errors.js";
import { closest } from "../yaml/did-you-mean.js";
import { DNS_NAME } from "./rules.js";
import type { NextHop } from "./state.js";

/**
 * Service names a relay port may be given as: Postfix's own known_tcp_ports (3.6+) and /etc/services
 * agree on these. Other names would depend on the host's services file (inside the chroot), so they are
 * refused rather than guessed.
 */
const SERVICE_PORTS: Readonly<Record<string, number>> = {
  smtp: 25,
  submission: 587,
  smtps: 465,
  submissions: 465,
};

/** Ports where TLS starts before SMTP (no STARTTLS): Postfix needs smtp_tls_wrappermode = yes. */
const IMPLICIT_TLS_PORT = 465;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The port as a number: 1..65535, or one of the known service names. Throws InputError otherwise. */
export function resolvePort(port: string | number): number {
  const text = String(port).trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 65535) return n;
  } else if (Object.hasOwn(SERVICE_PORTS, text)) {
    return SERVICE_PORTS[text] ?? 0;
  }
  const hint = /^\d+$/.test(text) ? undefined : closest(text, Object.keys(SERVICE_PORTS));
  throw new InputError(
    `unknown relay port ${JSON.stringify(String(port))}` +
      (hint === undefined ? "" : ` (did you mean ${JSON.stringify(hint)}?)`) +
      `: use a number from 1 to 65535 or one of ${Object.keys(SERVICE_PORTS).join(", ")}`,
  );
}

/** True for port 465 (smtps, submissions): TLS from the first byte. Undefined = 25 = false. */
export function isImplicitTls(port: string | number | undefined): boolean {
  return port !== undefined && resolvePort(port) === IMPLICIT_TLS_PORT;
}

/**
 * Throws InputError unless `host` is a DNS name or an IPv4 address. IPv6 literals are refused: Postfix
 * needs them written as [ipv6:...], which no SOHO setup calls for; a DNS name works everywhere.
 */
export function validateRelayHost(host: string, mx: boolean): void {
  const fail = (why: string) => {
    throw new InputError(`relay host ${JSON.stringify(host)}: ${why}`);
  };
  if (host.includes("[") || host.includes("]")) {
    fail("write the host without [brackets]; they are added unless mx: true");
  }
  if (/^[0-9a-fA-F:.]+$/.test(host) && host.includes(":") && host.split(":").length > 2) {
    fail("IPv6 addresses are not supported as relay hosts; use a DNS name");
  }
  if (host.includes(":")) fail("write the port in port:, not in the host");
  const ipv4 = IPV4.exec(host);
  if (ipv4) {
    if (ipv4.slice(1).some((octet) => Number(octet) > 255)) fail("not a valid IPv4 address");
    if (mx) fail("an IP address has no MX records; use mx: false");
    return;
  }
  if (host.length > 253 || !DNS_NAME.test(host)) {
    fail("expected a DNS name (letters, digits, '-', '.') or an IPv4 address");
  }
}

/**
 * The next-hop exactly as Postfix wants it: `[host]`, `[host]:port`, or `host[:port]` with mx: true.
 * This one string is both the relayhost value and the sasl_passwd key, so they always match: Postfix
 * compares them literally (no MX brackets or a different port spelling = no AUTH, silently). The port is
 * therefore kept as written: `submission` stays `submission`.
 */
export function formatNextHop(h: NextHop): string {
  validateRelayHost(h.host, h.mx);
  let port = "";
  if (h.port !== undefined) {
    resolvePort(h.port);
    port = `:${String(h.port).trim()}`;
  }
  return (h.mx ? h.host : `[${h.host}]`) + port;
}
