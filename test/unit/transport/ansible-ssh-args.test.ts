import { expect } from "chai";
import { parseAnsibleSshArgs } from "../../../src/transport/ansible-ssh-args.js";
import { errorOf } from "../error-of.js";

describe("ansible_ssh_common_args / ansible_ssh_extra_args", () => {
  const parse = (text: string) => parseAnsibleSshArgs(text, "ansible_ssh_common_args", "inv.yaml:7");
  const settings = (text: string) => parse(text).lines.map((l) => `${l.keyword} ${l.args.join(" ")}`);

  it("takes the jump chain from -J, -o ProxyJump= and the classic ProxyCommand ssh -W form", () => {
    expect(settings("-J ops@bastion:2200")).to.deep.equal(["proxyjump ops@bastion:2200"]);
    expect(settings("-o ProxyJump=bastion")).to.deep.equal(["proxyjump bastion"]);
    expect(settings("-oProxyJump=a,b")).to.deep.equal(["proxyjump a,b"]);
    expect(settings(`-o ProxyCommand="ssh -W %h:%p -q ops@bastion"`)).to.deep.equal([
      "proxyjump ops@bastion",
    ]);
    expect(settings(`-o 'ProxyCommand ssh -p 2200 -W [%h]:%p bastion'`)).to.deep.equal([
      "proxyjump bastion:2200",
    ]);
  });

  it("uses ssh_config options provision honours and -p/-l/-i, at the variable's line", () => {
    const { lines } = parse("-o User=admin -p 2222 -i ~/.ssh/k -o StrictHostKeyChecking=accept-new");
    expect(lines.map((l) => [l.keyword, l.args[0], `${l.file}:${l.line}`])).to.deep.equal([
      ["user", "admin", "inv.yaml:7"],
      ["port", "2222", "inv.yaml:7"],
      ["identityfile", "~/.ssh/k", "inv.yaml:7"],
      ["stricthostkeychecking", "accept-new", "inv.yaml:7"],
    ]);
    expect(settings("-o GlobalKnownHostsFile=/srv/fleet/known_hosts -o HashKnownHosts=yes")).to.deep.equal([
      "globalknownhostsfile /srv/fleet/known_hosts",
      "hashknownhosts yes",
    ]);
  });

  it("warns about ssh process options it has no use for, and refuses anything else", () => {
    const { lines, warnings } = parse("-C -o ControlMaster=auto -o ControlPersist=60s");
    expect(lines).to.deep.equal([]);
    expect(warnings).to.deep.equal([
      "inv.yaml:7: ansible_ssh_common_args: -C is ignored (provision keeps one SSH connection of its own per host)",
      "inv.yaml:7: ansible_ssh_common_args: -o ControlMaster=auto is ignored (provision keeps one SSH connection of its own per host)",
      "inv.yaml:7: ansible_ssh_common_args: -o ControlPersist=60s is ignored (provision keeps one SSH connection of its own per host)",
    ]);
    expect(errorOf(() => parse("-L 8080:localhost:80"))).to.equal(
      'inv.yaml:7: ansible_ssh_common_args: "-L" is not supported by provision (it understands -J, -o ProxyJump= and ssh_config options)',
    );
    expect(errorOf(() => parse("-o SendEnv=LANG"))).to.equal(
      "inv.yaml:7: ansible_ssh_common_args: -o SendEnv=LANG is not supported by provision",
    );
    expect(errorOf(() => parse(`-o ProxyCommand="nc -X 5 -x proxy:1080 %h %p"`))).to.match(
      /ProxyCommand "nc -X 5 -x proxy:1080 %h %p" is not supported; use -J HOST/,
    );
  });
});
