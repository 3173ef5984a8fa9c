import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretResolver, type SecretRef } from "../../../src/secrets/resolve.js";

describe("secret resolution", () => {
  let dir: string;
  // The playbook that names the secrets lives in DIR/playbooks; relative files are relative to it.
  const site = () => ({
    location: { file: join(dir, "playbooks", "site.yaml"), line: 7, column: 17 },
    path: "0.postfix.relay.password",
  });
  const where = () => `${join(dir, "playbooks", "site.yaml")}:7:17: 0.postfix.relay.password: `;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "provision-secrets-"));
    mkdirSync(join(dir, "playbooks"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function failure(
    ref: SecretRef,
    env: NodeJS.ProcessEnv = {},
    commandTimeoutMs = 5000,
  ): Promise<string> {
    try {
      await createSecretResolver({ env, cwd: dir, home: dir, commandTimeoutMs }).resolve(ref, site());
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected the secret to fail");
  }

  it("reads an environment variable", async () => {
    const secret = await createSecretResolver({ env: { ISP_PASSWORD: "s3cr:et #1" } }).resolve(
      { env: "ISP_PASSWORD" },
      site(),
    );
    expect(secret.reveal()).to.equal("s3cr:et #1");
    expect(secret.source).to.equal("env ISP_PASSWORD");
    expect(String(secret)).to.equal("********");
  });

  it("names a missing or empty environment variable and where it is used", async () => {
    expect(await failure({ env: "ISP_PASSWORD" })).to.equal(
      `${where()}environment variable ISP_PASSWORD is not set`,
    );
    expect(await failure({ env: "ISP_PASSWORD" }, { ISP_PASSWORD: "" })).to.equal(
      `${where()}the password from env ISP_PASSWORD is empty`,
    );
  });

  it("reads a file relative to the playbook, or under ~, stripping one trailing newline", async () => {
    writeFileSync(join(dir, "playbooks", "isp.pass"), "from-file\n");
    writeFileSync(join(dir, "home.pass"), "from-home\r\n");
    const resolver = createSecretResolver({ cwd: dir, home: dir });
    expect((await resolver.resolve({ file: "isp.pass" }, site())).reveal()).to.equal("from-file");
    const home = await resolver.resolve({ file: "~/home.pass" }, site());
    expect(home.reveal()).to.equal("from-home");
    expect(home.source).to.equal(`file ${join(dir, "home.pass")}`);
  });

  it("works with a relative playbook file name, relative to cwd", async () => {
    writeFileSync(join(dir, "playbooks", "isp.pass"), "relative-pw\n");
    const relative = { location: { file: "playbooks/site.yaml", line: 1, column: 1 }, path: "p" };
    const secret = await createSecretResolver({ cwd: dir }).resolve({ file: "isp.pass" }, relative);
    expect(secret.reveal()).to.equal("relative-pw");
  });

  it("reports a missing file", async () => {
    expect(await failure({ file: "nope.pass" })).to.equal(
      `${where()}cannot read password file ${join(dir, "playbooks", "nope.pass")}: no such file`,
    );
  });

  it("rejects a value with a line break, without showing it", async () => {
    writeFileSync(join(dir, "playbooks", "two.pass"), "line-one\nline-two\n");
    const message = await failure({ file: "two.pass" });
    expect(message).to.equal(
      `${where()}the password from file ${join(dir, "playbooks", "two.pass")} contains a line break or NUL character; a password must be one line (sasl_passwd is read line by line)`,
    );
    expect(message).not.to.contain("line-one");
  });

  it("runs a command with /bin/sh in the playbook's directory", async () => {
    writeFileSync(join(dir, "playbooks", "pw.txt"), "cmd-secret");
    const secret = await createSecretResolver({ cwd: dir }).resolve({ command: "cat pw.txt; echo" }, site());
    expect(secret.reveal()).to.equal("cmd-secret");
    expect(secret.source).to.equal("command cat pw.txt; echo");
  });

  it("reports a failing command with its stderr, never its stdout", async () => {
    const message = await failure({
      command: "echo hunter2; echo 'gpg: decryption failed' >&2; echo more >&2; exit 2",
    });
    expect(message).to.equal(
      `${where()}command "echo hunter2; echo 'gpg: decryption failed' >&2; echo more >&2; exit 2" failed (exit code 2): gpg: decryption failed`,
    );
    expect(message.replace("echo hunter2", "")).not.to.contain("hunter2");
  });

  it("stops a command that hangs", async () => {
    const message = await failure({ command: "echo started >&2; sleep 10 | cat" }, {}, 300);
    expect(message).to.equal(
      `${where()}command "echo started >&2; sleep 10 | cat" timed out after 0.3 s: started`,
    );
  });

  it("resolves each distinct reference once", async () => {
    const counter = join(dir, "count");
    const resolver = createSecretResolver({ cwd: dir });
    const ref = { command: `echo x >> ${counter}; echo once-pw` };
    const [a, b] = await Promise.all([resolver.resolve(ref, site()), resolver.resolve(ref, site())]);
    await resolver.resolve({ ...ref }, site());
    expect(a).to.equal(b);
    expect(readFileSync(counter, "utf8")).to.equal("x\n");
  });
});
