import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/cli/main.js";

/**
 * The last-line redactor through the real CLI (in process): a host on a closed local port gives a real
 * "unreachable" report whose error text is known, so we can choose passwords that collide with it.
 */
describe("the CLI's last-line redactor", function () {
  this.timeout(20_000);
  let dir: string;
  const saved = process.env.PROVISION_TEST_REDACT;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "provision-redact-"));
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    writeFileSync(
      join(dir, "hosts.yaml"),
      "all:\n  vars:\n    ssh_user: root\n  hosts:\n    newbox: { address: 127.0.0.1, ssh_port: 1 }\n",
    );
    writeFileSync(
      join(dir, "site.yaml"),
      "- hosts: all\n  postfix:\n    relay: { host: mail.isp.example, username: u, password: { env: PROVISION_TEST_REDACT } }\n",
    );
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.PROVISION_TEST_REDACT;
    else process.env.PROVISION_TEST_REDACT = saved;
  });

  async function check(password: string, ...extra: string[]) {
    process.env.PROVISION_TEST_REDACT = password;
    let out = "";
    let err = "";
    const argv = ["check", join(dir, "site.yaml"), "-i", join(dir, "hosts.yaml"), ...extra];
    const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t), color: false });
    return { code, out, err };
  }

  it("refuses a password too short to be masked safely, before contacting any host", async () => {
    const result = await check("x", "--json");
    expect(result.code).to.equal(1);
    expect(result.out).to.equal("");
    expect(result.err).to.include("password from env PROVISION_TEST_REDACT is shorter than 6 characters");
    expect(result.err).to.include("Nothing was changed on any host.");
  });

  it("never changes JSON keys or structure, and masks a password only as a whole value token", async () => {
    // "exitCode" and "newbox" are a key and a value of the document; "ECONNREFUSED" is inside an error.
    const keyLike = await check("exitCode", "--json");
    expect(keyLike.code, keyLike.err).to.equal(3);
    const document = JSON.parse(keyLike.out) as {
      exitCode: number;
      hosts: { name: string; status: string }[];
    };
    expect(document.exitCode).to.equal(3);
    expect(document.hosts[0]).to.include({ name: "newbox", status: "unreachable" });

    const inError = await check("ECONNREFUSED", "--json");
    const masked = JSON.parse(inError.out) as { hosts: { error: string }[] };
    expect(masked.hosts[0]?.error).to.include("********").and.not.include("ECONNREFUSED");
    expect(inError.out).to.include('"exitCode": 3');
  });

  it("masks a whole word in text, never part of a longer word", async () => {
    const text = await check("newbox");
    expect(text.code).to.equal(3);
    expect(text.out).to.match(/^\*{8}: unreachable: /);
    const inside = await check("nreachab");
    expect(inside.out).to.include("newbox: unreachable: ");
  });
});
