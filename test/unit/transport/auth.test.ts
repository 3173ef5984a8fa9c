import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnyAuthMethod, ParsedKey } from "ssh2";
import { authentication } from "../../../src/transport/auth.js";
import { readKeyFile } from "../../../src/transport/key-files.js";
import { Secret } from "../../../src/secrets/secret.js";
import { fingerprint } from "../../../src/transport/known-hosts.js";
import { resolveTarget } from "../../../src/transport/ssh-target.js";

/**
 * The order keys are offered in, with a real ssh-agent: agent identities first (the agent's copy of a
 * configured key file before the agent's other keys), then configured files the agent does not hold;
 * IdentitiesOnly keeps only the configured ones. An encrypted file is unlocked with its passphrase.
 */
describe("keys offered, in ssh's order", function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), "provision-auth-"));
  const socket = join(dir, "agent.sock");
  let agentPid = 0;
  const key = (name: string, passphrase = "") => {
    const file = join(dir, name);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", file]);
    return file;
  };
  const print = (file: string) =>
    fingerprint(Buffer.from(readFileSync(`${file}.pub`, "utf8").split(" ")[1]!, "base64"));
  let named: string;
  let agentOnly: string;
  let fileOnly: string;

  before(() => {
    named = key("named", "phrase one");
    agentOnly = key("agent-only");
    fileOnly = key("file-only", "phrase two");
    agentPid = Number(
      /SSH_AGENT_PID=(\d+)/.exec(execFileSync("ssh-agent", ["-a", socket], { encoding: "utf8" }))?.[1],
    );
    const askpass = join(dir, "askpass");
    writeFileSync(askpass, "#!/bin/sh\necho 'phrase one'\n", { mode: 0o700 });
    const env = {
      SSH_AUTH_SOCK: socket,
      SSH_ASKPASS: askpass,
      SSH_ASKPASS_REQUIRE: "force",
      PATH: process.env.PATH,
    };
    for (const file of [agentOnly, named]) execFileSync("ssh-add", [file], { env, stdio: "pipe" });
  });
  after(() => {
    if (agentPid) process.kill(agentPid);
  });

  /** Fingerprints in the order the handler offers them, until it says there is nothing more. */
  const offers = async (identitiesOnly: boolean, passphrase?: string) => {
    const line = (keyword: string, arg: string) => ({ keyword, args: [arg], file: "test", line: 1 });
    const target = resolveTarget(
      {
        name: "h",
        host: "h",
        commandLine: [
          line("identityfile", fileOnly),
          line("identityfile", named),
          line("identitiesonly", identitiesOnly ? "yes" : "no"),
          line("identityagent", socket),
        ],
      },
      {
        files: [],
        source: { read: () => undefined, glob: () => [] },
        home: dir,
        localUser: "me",
        uid: 1,
        localHost: "l",
        env: {},
      },
    );
    const auth = authentication(
      target,
      socket,
      passphrase ? { passphrase: new Secret(passphrase, "test") } : {},
    );
    const seen: string[] = [];
    for (;;) {
      const method = await new Promise<AnyAuthMethod | false>((resolve) =>
        auth.handler([], false, (next) => resolve(next as AnyAuthMethod | false)),
      );
      if (method === false) return { seen, notes: auth.notes };
      if (method.type === "agent") {
        const keys = await new Promise<ParsedKey[]>((resolve) =>
          (method.agent as { getIdentities(cb: (e: unknown, k: ParsedKey[]) => void): void }).getIdentities(
            (_, k) => resolve(k),
          ),
        );
        seen.push(`agent ${fingerprint(keys[0]!.getPublicSSH())}`);
      } else if (method.type === "publickey") {
        seen.push(`file ${fingerprint((method.key as ParsedKey).getPublicSSH())}`);
      }
    }
  };

  it("agent's copy of the named key, the agent's other keys, then files; the encrypted file with its passphrase", async () => {
    const { seen } = await offers(false, "phrase two");
    expect(seen).to.deep.equal([
      `agent ${print(named)}`,
      `agent ${print(agentOnly)}`,
      `file ${print(fileOnly)}`,
    ]);
  });

  it("IdentitiesOnly: only the configured keys; an encrypted file without a passphrase is skipped with a note", async () => {
    const { seen, notes } = await offers(true);
    expect(seen).to.deep.equal([`agent ${print(named)}`]);
    expect(notes).to.deep.equal([
      `${fileOnly} is encrypted and no passphrase is available: add it to ssh-agent (ssh-add ${fileOnly}), ` +
        "run on a terminal to be asked for it, or set ssh_key_passphrase: { env | file | command } in the inventory",
    ]);
  });

  it("knows an encrypted OpenSSH key's public key without its passphrase or .pub file", () => {
    const copy = join(dir, "no-pub");
    writeFileSync(copy, readFileSync(named), { mode: 0o600 });
    const file = readKeyFile(copy)!;
    expect(file.encrypted).to.equal(true);
    expect(fingerprint(file.publicKey!)).to.equal(print(named));
  });
});
