import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/cli/main.js";

/**
 * `-i` as Ansible takes it: given several times (merged), or a host list `nas,pi,`; group_vars/
 * beside the playbook count. Every case here stops at a deliberate input error, before any host
 * would be contacted: which names the error finds (or not) shows what was read.
 */
describe("the command line's inventory options", () => {
  let dir: string;
  const cli = async (...argv: string[]) => {
    let err = "";
    const code = await run(argv, { out: () => undefined, err: (t) => (err += t), color: false });
    return { code, err };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "provision-cli-inventory-"));
    writeFileSync(join(dir, "a.ini"), "[home]\nnas ansible_host=192.0.2.1\n");
    writeFileSync(join(dir, "b.yaml"), "all:\n  children:\n    office:\n      hosts:\n        laptop:\n");
    mkdirSync(join(dir, "play", "group_vars"), { recursive: true });
    writeFileSync(
      join(dir, "play", "site.yaml"),
      "- hosts: all\n  postfix:\n    main:\n      myorigin: $myhostname\n",
    );
    writeFileSync(join(dir, "play", "group_vars", "office.yml"), "ansible_port: 70000\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("merges every -i: a --limit naming hosts of both finds them all", async () => {
    const result = await cli(
      "facts",
      "-i",
      join(dir, "a.ini"),
      "-i",
      join(dir, "b.yaml"),
      "--limit",
      "nas,laptop,zzz",
    );
    expect(result.code).to.equal(1);
    expect(result.err).to.include(
      `host pattern term "zzz" matches no host or group of ${join(dir, "a.ini")}, ${join(dir, "b.yaml")}`,
    );
  });

  it("takes a comma-separated value that names no file as a host list", async () => {
    const result = await cli("facts", "-i", "nas,pi:2222,", "--limit", "nas,pi,zzz");
    expect(result.err).to.include('host pattern term "zzz" matches no host or group of nas,pi:2222,');
  });

  it("reads group_vars/ beside the playbook", async () => {
    const result = await cli("check", join(dir, "play", "site.yaml"), "-i", join(dir, "b.yaml"));
    expect(result.code).to.equal(1);
    expect(result.err).to.include(
      `${join(dir, "play", "group_vars", "office.yml")}:1:15: ansible_port: expected a port number from 1 to 65535`,
    );
    expect(result.err).to.include("Nothing was changed on any host.");
  });
});
