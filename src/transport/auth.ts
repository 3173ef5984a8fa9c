import ssh2, {
  type AnyAuthMethod,
  type AuthHandlerMiddleware,
  type OpenSSHAgent as Agent,
  type ParsedKey,
} from "ssh2";
import type { Secret } from "../secrets/secret.js";
import { fingerprint, keyTypeOf } from "./known-hosts.js";
import { decryptKey, readKeyFile, type KeyFile } from "./key-files.js";
import type { SshTarget } from "./ssh-target.js";

// ssh2 is CommonJS: its classes come from the default export.
const { BaseAgent, OpenSSHAgent } = ssh2;

/**
 * Public key authentication in ssh's order: agent identities first (the agent's copy of a configured key
 * file before the others; only those with IdentitiesOnly), then the key files the agent does not hold.
 * An encrypted key file is decrypted with ssh_key_passphrase, else with a passphrase asked on the
 * terminal, else skipped with a note saying what would unlock it. Every key offered is remembered, so a
 * refused login can say exactly what was tried.
 */

export interface AuthOptions {
  /** ssh_key_passphrase of the host. */
  passphrase?: Secret;
  /** Asks on the terminal (once per key per run); undefined when there is no terminal. */
  ask?: (keyFile: string) => Promise<Secret | undefined>;
  log?: (line: string) => void;
}

export interface Authentication {
  handler: AuthHandlerMiddleware;
  /** What was offered, in order, e.g. `agent key ssh-ed25519 SHA256:... (me@laptop)`. */
  offered: string[];
  /** Keys that could not be offered and why. */
  notes: string[];
}

type Attempt = { kind: "agent"; key: ParsedKey; file?: string } | { kind: "file"; file: KeyFile };

export function authentication(
  target: SshTarget,
  agentSocket: string | undefined,
  options: AuthOptions,
): Authentication {
  const offered: string[] = [];
  const notes: string[] = [];
  const username = target.user.value;
  const agent = agentSocket ? new OpenSSHAgent(agentSocket) : undefined;
  let queue: Promise<Attempt[]> | undefined;

  const next = async (): Promise<AnyAuthMethod | false> => {
    const attempts = await (queue ??= plan(target, agent, agentSocket, notes));
    for (let attempt = attempts.shift(); attempt; attempt = attempts.shift()) {
      if (attempt.kind === "agent") {
        const what = `agent key ${describeKey(attempt.key.getPublicSSH(), attempt.key.comment || attempt.file)}`;
        offered.push(what);
        options.log?.(`offering ${what}`);
        return { type: "agent", username, agent: new OneKeyAgent(agent!, attempt.key) };
      }
      const key = await unlock(attempt.file, options, notes);
      if (!key) continue;
      const what = `key file ${attempt.file.path} (${describeKey(key.getPublicSSH())})`;
      offered.push(what);
      options.log?.(`offering ${what}`);
      return { type: "publickey", username, key };
    }
    return false;
  };

  const handler: AuthHandlerMiddleware = (_methodsLeft, _partial, callback) => {
    // ssh2 takes `false` for "nothing more to try", which its typings leave out.
    const done = callback as (next: AnyAuthMethod | false) => void;
    next().then(done, (error: unknown) => {
      notes.push(error instanceof Error ? error.message : String(error));
      done(false);
    });
  };
  return { handler, offered, notes };
}

async function plan(
  target: SshTarget,
  agent: Agent | undefined,
  socket: string | undefined,
  notes: string[],
): Promise<Attempt[]> {
  const files: KeyFile[] = [];
  for (const path of target.identityFiles.value) {
    const file = readKeyFile(path);
    if (!file) {
      if (!target.identityFiles.defaults) notes.push(`identity file ${path} does not exist`);
    } else if (file.unusable) {
      notes.push(`identity file ${path} cannot be used: ${file.unusable}`);
    } else {
      files.push(file);
    }
  }
  const agentKeys = agent ? await identities(agent, socket!, notes) : [];
  const inAgent = (file: KeyFile) =>
    agentKeys.find((k) => file.publicKey && k.getPublicSSH().equals(file.publicKey));
  const attempts: Attempt[] = [];
  for (const file of files) {
    const key = inAgent(file);
    if (key) attempts.push({ kind: "agent", key, file: file.path });
  }
  if (!target.identitiesOnly.value) {
    for (const key of agentKeys)
      if (!attempts.some((a) => a.kind === "agent" && a.key === key)) attempts.push({ kind: "agent", key });
  }
  for (const file of files) if (!inAgent(file)) attempts.push({ kind: "file", file });
  return attempts;
}

function identities(agent: Agent, socket: string, notes: string[]): Promise<ParsedKey[]> {
  return new Promise((resolve) =>
    agent.getIdentities((error, keys) => {
      if (error) notes.push(`ssh-agent at ${socket} cannot be used: ${error.message}`);
      resolve(error ? [] : ((keys ?? []) as ParsedKey[]));
    }),
  );
}

/** The agent's keys as offered ("ssh-ed25519 SHA256:... (comment)"), or why it cannot be asked. */
export async function agentKeys(socket: string): Promise<string[]> {
  const notes: string[] = [];
  const keys = await identities(new OpenSSHAgent(socket), socket, notes);
  return [...keys.map((k) => describeKey(k.getPublicSSH(), k.comment)), ...notes];
}

async function unlock(file: KeyFile, options: AuthOptions, notes: string[]): Promise<ParsedKey | undefined> {
  if (!file.encrypted) return file.parsed;
  const passphrase = options.passphrase ?? (await options.ask?.(file.path));
  if (!passphrase) {
    notes.push(
      `${file.path} is encrypted and no passphrase is available: add it to ssh-agent (ssh-add ${file.path}), ` +
        `run on a terminal to be asked for it, or set ssh_key_passphrase: { env | file | command } in the inventory`,
    );
    return undefined;
  }
  const key = decryptKey(file, passphrase.reveal());
  if (key instanceof Error) {
    notes.push(`the passphrase from ${passphrase.source} does not decrypt ${file.path}`);
    return undefined;
  }
  return key;
}

function describeKey(publicKey: Buffer, comment?: string): string {
  return `${keyTypeOf(publicKey)} ${fingerprint(publicKey)}${comment ? ` (${comment})` : ""}`;
}

/** The agent, narrowed to one of its keys: ssh2 then offers exactly that key, when we choose to. */
class OneKeyAgent extends BaseAgent<ParsedKey> {
  constructor(
    private readonly agent: Agent,
    private readonly key: ParsedKey,
  ) {
    super();
  }

  getIdentities(cb: (error: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }

  sign(pubKey: ParsedKey, data: Buffer, ...rest: unknown[]): void {
    (this.agent.sign as (...args: unknown[]) => void)(pubKey, data, ...rest);
  }
}
