import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/cli/main.js";

/** `provision hosts`: how hosts will be reached and why, and ssh configuration mistakes, with no host contacted. */
describe("provision hosts", () => {
  const dir = mkdtempSync(join(tmpdir(), "provision-hosts-"));
  const SECRET = "Become-Pw-Unit 1";
  const me = userInfo().username;

  const cli = async (args: string[]) => {
    let out = "";
    let err = "";
    const code = await run(args, { out: (t) => (out += t), err: (t) => (err += t), color: false });
    return { code, out, err };
  };

  before(() => {
    writeFileSync(
      join(dir, "ssh_config"),
      [
        "Host nas",
        "    HostName 192.0.2.10",
        "    Port 2222",
        "    User admin",
        "Match exec true",
        "    Port 1",
        "Host gw.example",
        "    ProxyJump none",
        "Host *",
        "    ProxyJump gw.example",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "hosts.yaml"),
      [
        "all:",
        "  vars:",
        "    ssh_config: ssh_config",
        "  hosts:",
        "    nas:",
        "      ansible_user: root",
        "      become: true",
        "      become_password: { env: UNIT_BECOME }",
        "    pi: { ansible_host: 192.0.2.20, ansible_ssh_common_args: '-J ops@bastion.example:2200 -C' }",
        "",
      ].join("\n"),
    );
  });

  it("prints each host's address, port, user and jump chain with where each came from; secrets masked", async () => {
    process.env.UNIT_BECOME = SECRET;
    try {
      const { code, out, err } = await cli(["hosts", "-i", join(dir, "hosts.yaml"), "--json"]);
      expect(code, err).to.equal(0);
      expect(out).to.not.include(SECRET);
      const [nas, pi] = (JSON.parse(out) as { hosts: Record<string, { value: unknown; from: string }>[] })
        .hosts;
      const config = join(dir, "ssh_config");
      const inventory = join(dir, "hosts.yaml");
      expect(nas!.address).to.deep.equal({ value: "192.0.2.10", from: `${config}:2` });
      expect(nas!.port).to.deep.equal({ value: 2222, from: `${config}:3` });
      // The inventory wins over the ssh configuration, as with Ansible's ssh connection.
      expect(nas!.user).to.deep.equal({ value: "root", from: `${inventory}:6` });
      expect(nas!.jump).to.deep.equal({
        value: [`${me}@gw.example:22`],
        from: `${config}:10`,
      });
      expect(nas!.become_password).to.deep.equal({ value: "********", from: "env UNIT_BECOME" });
      expect(pi!.address).to.deep.equal({ value: "192.0.2.20", from: `${inventory}:9` });
      // bastion.example's own ProxyJump (Host *) comes first, as with ssh -J.
      expect(pi!.jump).to.deep.equal({
        value: [`${me}@gw.example:22`, "ops@bastion.example:2200"],
        from: `${inventory}:9`,
      });
      expect(err).to.include(`${config}:5: Match exec is not evaluated by provision`);
      expect(err).to.include("ansible_ssh_common_args: -C is ignored");
    } finally {
      delete process.env.UNIT_BECOME;
    }
  });

  it("refuses ProxyCommand and StrictHostKeyChecking no with their file and line, before contacting anything", async () => {
    writeFileSync(join(dir, "bad_config"), "Host *\n    ProxyCommand nc %h %p\n");
    const bad = await cli([
      "facts",
      "-i",
      join(dir, "hosts.yaml"),
      "--ssh-config",
      join(dir, "bad_config"),
      "-l",
      "pi",
    ]);
    expect(bad.code).to.equal(1);
    expect(bad.err).to.include(`${join(dir, "bad_config")}:2: ProxyCommand is not supported by provision`);
    expect(bad.err).to.include("Nothing was changed on any host.");
    writeFileSync(join(dir, "off_config"), "StrictHostKeyChecking no\n");
    const off = await cli(["hosts", "-i", join(dir, "hosts.yaml"), "--ssh-config", join(dir, "off_config")]);
    expect(off.code).to.equal(1);
    expect(off.err).to.include(`${join(dir, "off_config")}:1: StrictHostKeyChecking no is refused`);
  });
});
