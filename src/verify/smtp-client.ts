import { createHmac } from "node:crypto";
import type { Duplex } from "node:stream";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";

/**
 * A small SMTP client for `provision verify`, written here rather than taken from npm: the probe must
 * stop after RCPT TO and never send DATA, and it must speak over a stream that is an SSH channel (the
 * host's own TCP connection). nodemailer's SMTPConnection, the well-kept choice, only offers `send()`,
 * which always goes on to DATA; its MAIL/RCPT steps are private. What is needed is small: replies
 * (multi-line), EHLO, STARTTLS or TLS from the first byte, AUTH PLAIN/LOGIN/CRAM-MD5, MAIL, RCPT, RSET,
 * QUIT. No message is ever sent by this client.
 */

export interface Reply {
  code: number;
  /** The reply's text lines, without the code. */
  lines: string[];
}

/** The reply as the relay wrote it, one line: `535 5.7.8 Authentication credentials invalid`. */
export function replyText(reply: Reply): string {
  return `${reply.code} ${reply.lines.join(" ")}`.trim();
}

export class SmtpTimeoutError extends Error {}
export class SmtpClosedError extends Error {}

/** A conversation with one SMTP server over `stream` (plain; see startTls / implicit TLS below). */
export class SmtpClient {
  private socket: Duplex;
  private buffer = "";
  private pending: string[] = [];
  private waiting?: { resolve: () => void };
  private closed = false;

  constructor(
    stream: Duplex,
    private readonly timeoutMs: number,
  ) {
    this.socket = stream;
    this.attach(stream);
  }

  /** Wrap the stream in TLS before any SMTP (port 465, Postfix's smtp_tls_wrappermode). */
  static async implicitTls(stream: Duplex, timeoutMs: number, tls: ConnectionOptions): Promise<SmtpClient> {
    const socket = await handshake(stream, tls, timeoutMs);
    return new SmtpClient(socket, timeoutMs);
  }

  get tlsSocket(): TLSSocket | undefined {
    return "getPeerCertificate" in this.socket ? (this.socket as TLSSocket) : undefined;
  }

  /** Read one complete (possibly multi-line) reply. */
  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      const match = /^(\d{3})([- ]?)(.*)$/.exec(line);
      if (!match) throw new Error(`not an SMTP reply: ${JSON.stringify(line.slice(0, 200))}`);
      lines.push(match[3] ?? "");
      if (match[2] !== "-") return { code: Number(match[1]), lines };
    }
  }

  /** Send one command line and read its reply. */
  async command(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** STARTTLS has been accepted (220): hand the raw stream over to TLS. */
  async startTls(tls: ConnectionOptions): Promise<void> {
    this.detach(this.socket);
    this.socket = await handshake(this.socket, tls, this.timeoutMs);
    this.buffer = "";
    this.attach(this.socket);
  }

  /** AUTH with the given mechanism; resolves to the final reply (235 on success). */
  async auth(mechanism: string, username: string, password: string): Promise<Reply> {
    const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
    if (mechanism === "PLAIN") return this.command(`AUTH PLAIN ${b64(`\0${username}\0${password}`)}`);
    if (mechanism === "LOGIN") {
      let reply = await this.command("AUTH LOGIN");
      if (reply.code !== 334) return reply;
      reply = await this.command(b64(username));
      if (reply.code !== 334) return reply;
      return this.command(b64(password));
    }
    if (mechanism === "CRAM-MD5") {
      const reply = await this.command("AUTH CRAM-MD5");
      if (reply.code !== 334) return reply;
      const challenge = Buffer.from(reply.lines[0] ?? "", "base64").toString("utf8");
      const digest = createHmac("md5", password).update(challenge).digest("hex");
      return this.command(b64(`${username} ${digest}`));
    }
    throw new Error(`AUTH ${mechanism} is not implemented`);
  }

  /** QUIT politely (without waiting long) and close. */
  async quit(): Promise<void> {
    if (!this.closed) {
      await Promise.race([this.command("QUIT").catch(() => undefined), sleep(1000)]);
    }
    this.close();
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer | string) => {
    this.buffer += chunk.toString();
    let at: number;
    while ((at = this.buffer.indexOf("\n")) >= 0) {
      this.pending.push(this.buffer.slice(0, at).replace(/\r$/, ""));
      this.buffer = this.buffer.slice(at + 1);
    }
    this.wake();
  };

  private readonly onEnd = () => {
    this.closed = true;
    this.wake();
  };

  private attach(stream: Duplex): void {
    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
    stream.on("close", this.onEnd);
    stream.on("error", this.onEnd);
  }

  private detach(stream: Duplex): void {
    stream.off("data", this.onData);
    stream.off("end", this.onEnd);
    stream.off("close", this.onEnd);
    stream.off("error", this.onEnd);
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  }

  private async line(): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const line = this.pending.shift();
      if (line !== undefined) return line;
      if (this.closed) throw new SmtpClosedError("the relay closed the connection");
      const left = deadline - Date.now();
      if (left <= 0) throw new SmtpTimeoutError(`no reply from the relay within ${this.timeoutMs / 1000} s`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiting = { resolve };
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }
}

function handshake(stream: Duplex, options: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // Certificates are judged by the caller (only some TLS levels ask for it), from authorizationError.
    const socket = tlsConnect({ ...options, socket: stream, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpTimeoutError(`TLS handshake did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
