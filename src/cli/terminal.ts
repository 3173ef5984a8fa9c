import { closeSync, openSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import { Secret } from "../secrets/secret.js";

/**
 * Asking for a passphrase or a sudo password on the controlling terminal (/dev/tty, like ssh and sudo,
 * so it works with stdout redirected), without echo. One question at a time, however many hosts connect
 * at once; each answer is asked once per run. Without a terminal (cron) there is no asking.
 */

let queue: Promise<unknown> = Promise.resolve();

export function terminalAvailable(): boolean {
  try {
    closeSync(openSync("/dev/tty", "r+"));
    return true;
  } catch {
    return false;
  }
}

/** Asks `question` on the terminal; undefined when there is none or the answer is empty. */
export function askSecret(question: string, source: string): Promise<Secret | undefined> {
  const asked = queue
    .then(() => readHidden(question))
    .then((answer) => (answer ? new Secret(answer, source) : undefined));
  queue = asked.catch(() => undefined);
  return asked;
}

/** Memoised per key: one question per key file per run. */
export function passphraseAsker(): (keyFile: string) => Promise<Secret | undefined> {
  const answers = new Map<string, Promise<Secret | undefined>>();
  return (keyFile) => {
    let answer = answers.get(keyFile);
    if (!answer)
      answers.set(
        keyFile,
        (answer = askSecret(`Enter passphrase for key '${keyFile}': `, `passphrase typed for ${keyFile}`)),
      );
    return answer;
  };
}

function readHidden(question: string): Promise<string | undefined> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    return Promise.resolve(undefined);
  }
  // Echo off before the question: an answer typed at once must not be echoed either.
  const input = new ReadStream(fd);
  input.setRawMode(true);
  writeSync(fd, question);
  return new Promise((resolve, reject) => {
    let answer = "";
    const finish = (value: string | undefined, error?: Error) => {
      input.setRawMode(false);
      input.removeAllListeners("data");
      writeSync(fd, "\n");
      input.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    input.on("data", (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish(answer);
        if (char === "\u0003") return finish(undefined, new Error("interrupted at the passphrase prompt"));
        if (char === "\u0004") return finish(answer || undefined);
        if (char === "\u007f" || char === "\b") answer = answer.slice(0, -1);
        else if (char === "\u0015") answer = "";
        else answer += char;
      }
    });
  });
}
