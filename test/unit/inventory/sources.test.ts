import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadInventory } from "../../../src/inventory/index.js";
import { errorOf } from "../error-of.js";

const defaults = { user: "me", home: "/home/me" };

/** Inventories and their group_vars/host_vars files, written under a fresh directory. */
describe("inventory sources: several -i, host lists, directories, group_vars/ and host_vars/", () => {
  let dir: string;
  const write = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
  };
  const load = (sources: string[], playbookDir?: string) =>
    loadInventory(
      sources.map((s) => (s.includes(",") ? s : join(dir, s))),
      { ...defaults, ...(playbookDir !== undefined && { playbookDir: join(dir, playbookDir) }) },
    );
  const hostOf = (inventory: ReturnType<typeof load>, name: string) =>
    inventory.hosts.find((h) => h.name === name);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "provision-sources-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("merges several inventories in order: hosts and groups add up, the later value wins", () => {
    write({
      "a/hosts.ini": "[home]\nnas ansible_host=192.0.2.1 from=a\npi\n[home:vars]\nsite=a\n",
      "b/hosts.yaml":
        "all:\n  children:\n    home:\n      vars: { site: b }\n      hosts:\n        nas: { from: b }\n    office:\n      hosts:\n        laptop:\n",
    });
    const inventory = load(["a/hosts.ini", "b/hosts.yaml"]);
    expect(inventory.file).to.equal(`${join(dir, "a/hosts.ini")}, ${join(dir, "b/hosts.yaml")}`);
    expect(inventory.hosts.map((h) => h.name)).to.deep.equal(["nas", "pi", "laptop"]);
    expect(hostOf(inventory, "nas")?.vars).to.include({ from: "b", site: "b", ansible_host: "192.0.2.1" });
    expect(hostOf(inventory, "nas")?.connection.address).to.equal("192.0.2.1");
    expect(inventory.groups.get("home")).to.deep.equal(["nas", "pi"]);
  });

  it("reads a host list (a value with a comma that names no file), with ports", () => {
    write({ "play/host_vars/pi.yml": "ansible_user: pi\n" });
    const inventory = load(["nas,pi:2222,"], "play");
    expect(inventory.hosts.map((h) => [h.name, h.connection.port, h.connection.user])).to.deep.equal([
      ["nas", 22, "me"],
      ["pi", 2222, "pi"],
    ]);
    expect(inventory.groups.get("ungrouped")).to.deep.equal(["nas", "pi"]);
    expect(errorOf(() => load([","]))).to.equal("the inventory lists no hosts: -i , names no host");
  });

  it("reads an inventory directory as Ansible does, with the group_vars/ inside it", () => {
    write({
      "inv/1.yml": "all:\n  hosts:\n    nas:\n",
      "inv/2": "[web]\nweb1\n",
      "inv/skipped.ini": "[never]\nnever\n",
      "inv/notes.md": "not an inventory\n",
      "inv/group_vars/web.yml": "role: web\n",
    });
    const inventory = load(["inv"]);
    expect(inventory.hosts.map((h) => h.name)).to.deep.equal(["nas", "web1"]);
    expect(hostOf(inventory, "web1")?.vars.role).to.equal("web");
  });

  it("takes the connection from group_vars/ and host_vars/, beside the inventory and the playbook", () => {
    write({
      "inventory/hosts.ini": "[home]\nnas\n",
      "inventory/group_vars/all.yml": "ansible_user: deploy\nisp: inventory\n",
      "inventory/host_vars/nas/main.yml": "ansible_host: 192.0.2.10\nansible_port: 2222\n",
      "playbooks/group_vars/home.yml": "isp: playbook\nmotd: |\n  two\n  lines\n",
    });
    const nas = hostOf(load(["inventory/hosts.ini"], "playbooks"), "nas");
    expect(nas?.connection).to.deep.equal({
      address: "192.0.2.10",
      port: 2222,
      user: "deploy",
      become: false,
    });
    expect(nas?.vars).to.include({ isp: "playbook", motd: "two\nlines\n" });
  });

  it("reports mistakes in group_vars/ and host_vars/ files at their file:line:column", () => {
    write({
      "hosts.ini": "[home]\nnas\n[empty]\n",
      "group_vars/home.yml": 'relay: x\nansible_port: "22a"\n',
      "group_vars/empty.yaml": "- a list\n",
      "host_vars/nas.yml": "ansible_host: { broken\n",
      "group_vars/all/secret.yml": "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
      "group_vars/all/vaulted.yml": "$ANSIBLE_VAULT;1.1;AES256\n6162\n",
    });
    const message = errorOf(() => load(["hosts.ini"]));
    expect(message.split("\n")).to.deep.equal([
      `${join(dir, "group_vars/all/secret.yml")}:1:11: Unresolved tag: !vault (not supported)`,
      `${join(dir, "group_vars/all/vaulted.yml")}:1:1: the file is encrypted with ansible-vault, which is not supported: decrypt it`,
      `${join(dir, "group_vars/home.yml")}:2:15: ansible_port: expected a port number from 1 to 65535`,
      `${join(dir, "group_vars/empty.yaml")}:1:1: expected a map of variables (name: value)`,
      `${join(dir, "host_vars/nas.yml")}:1:15: YAML syntax error: this { is never closed (still open at line 2); add the closing }`,
    ]);
  });

  it("reports a group_vars that is a file, not a directory", () => {
    write({ "hosts.ini": "nas\n", group_vars: "x: 1\n" });
    expect(errorOf(() => load(["hosts.ini"]))).to.equal(
      `${join(dir, "group_vars")} is not a directory: make it one, holding files of variables`,
    );
  });

  it("refuses what it cannot read, saying how to get an inventory it can", () => {
    const hint =
      "provision reads YAML and INI inventories; `ansible-inventory -i THIS --list -y > hosts.yaml` writes one from it";
    write({
      "aws.yml": "plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n",
      "script.py": "#!/usr/bin/env python3\nprint('{}')\n",
      "hosts.toml": "[web.hosts]\nnas = {}\n",
      vaulted: "$ANSIBLE_VAULT;1.1;AES256\n6162\n",
    });
    expect(errorOf(() => load(["aws.yml"]))).to.equal(
      `${join(dir, "aws.yml")}:1:1: an inventory plugin configuration (plugin: amazon.aws.aws_ec2) is not supported: ${hint}`,
    );
    expect(errorOf(() => load(["script.py"]))).to.equal(
      `${join(dir, "script.py")}:1:1: an inventory script is not supported: ${hint}`,
    );
    expect(errorOf(() => load(["hosts.toml"]))).to.equal(
      `${join(dir, "hosts.toml")}:1:1: a TOML inventory is not supported: ${hint}`,
    );
    expect(errorOf(() => load(["vaulted"]))).to.equal(
      `${join(dir, "vaulted")}:1:1: the file is encrypted with ansible-vault, which is not supported: decrypt it`,
    );
  });
});
