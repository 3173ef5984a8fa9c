import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/cli/main.js";
import { closeListener, listen, type Listener } from "./listener.js";

/** `provision import` reads exactly one host; anything else is bad input, and no host is contacted. */
describe("provision import: which host", () => {
  let listener: Listener;
  let inventory: string;
  before(async () => {
    listener = await listen();
    inventory = join(mkdtempSync(join(tmpdir(), "import-cli-")), "hosts.yaml");
    writeFileSync(
      inventory,
      `all:\n  hosts:\n    nas: { address: 127.0.0.1, ssh_port: ${listener.port} }\n    pi: { address: 127.0.0.1, ssh_port: ${listener.port} }\n`,
    );
  });
  after(() => closeListener(listener));

  const importing = async (host: string) => {
    const connections = listener.connections;
    let out = "";
    let err = "";
    const code = await run(["import", host, "-i", inventory], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      color: false,
    });
    return { code, out, err, connected: listener.connections - connections };
  };

  it("a pattern matching several hosts is refused before any connection", async () => {
    const result = await importing("nas,pi");
    expect(result.code).to.equal(1);
    expect(result.err).to.include('import reads one host; "nas,pi" matches 2: nas, pi');
    expect(result.out).to.equal("");
    expect(result.connected).to.equal(0);
  });

  it("a host that cannot be reached: exit 3, nothing on stdout", async () => {
    const result = await importing("nas");
    expect(result.code, result.err).to.equal(3);
    expect(result.err).to.match(/^error: nas: /);
    expect(result.out).to.equal("");
  });

  it("an unknown host is refused, naming the inventory", async () => {
    const result = await importing("nosuch");
    expect(result.code).to.equal(1);
    expect(result.err).to.match(/nosuch/);
    expect(result.connected).to.equal(0);
  });
});
