import { expect } from "chai";
import { fileURLToPath } from "node:url";
import { loadInventory, parseInventory } from "../../../src/inventory/index.js";
import { errorOf } from "../error-of.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/inventory/${name}`, import.meta.url));
const defaults = { user: "me", home: "/home/me" };

describe("inventory", () => {
  it("loads the SPEC.md inventory", () => {
    const inventory = loadInventory(fixture("home.yaml"), defaults);
    expect(inventory.hosts.map((h) => h.name)).to.deep.equal(["nas", "pi", "laptop"]);
    const [nas, pi, laptop] = inventory.hosts;
    expect(nas?.connection).to.deep.equal({ address: "192.168.1.10", port: 22, user: "root", become: false });
    expect(pi?.connection).to.deep.equal({ address: "pi.lan", port: 22, user: "admin", become: true });
    expect(laptop?.connection).to.deep.equal({
      address: "laptop.lan",
      port: 2222,
      user: "root",
      become: false,
    });
    expect(nas?.vars.mydomain).to.equal("home.example");
    expect(nas?.groups).to.deep.equal(["all", "home"]);
    expect(Object.fromEntries(inventory.groups)).to.deep.equal({
      all: ["nas", "pi", "laptop"],
      home: ["nas", "pi", "laptop"],
      ungrouped: [],
    });
  });

  it("loads an Ansible inventory: ansible_* names, yes/no, string ports, merge keys, top-level groups", () => {
    const inventory = loadInventory(fixture("ansible.yaml"), defaults);
    const host = (name: string) => inventory.hosts.find((h) => h.name === name);
    expect(host("router")?.connection).to.deep.equal({
      address: "10.0.0.1",
      port: 2200,
      user: "deploy",
      become: false,
    });
    expect(host("nas")?.connection).to.deep.equal({
      address: "nas.lan",
      port: 22,
      user: "deploy",
      keyFile: "/home/me/.ssh/nas_ed25519",
      become: false,
    });
    expect(host("pi")?.connection).to.deep.equal({
      address: "pi",
      port: 22,
      user: "pi",
      become: true,
      knownHostsFile: "/home/me/.ssh/lab_known_hosts",
    });
    // `wired` is both a top-level group and a child of `home`: its vars are the deepest for nas.
    expect(host("nas")?.vars.mydomain).to.equal("wired.home.example");
    expect(host("nas")?.vars.cable).to.equal("cat6");
    expect(Object.fromEntries(inventory.groups)).to.deep.equal({
      all: ["router", "nas", "pi"],
      home: ["nas", "pi"],
      wired: ["nas"],
      ungrouped: ["router"],
    });
  });

  it("defaults ssh_user to the local user and address to the host name", () => {
    const inventory = parseInventory("all:\n  hosts:\n    nas:\n", "inv.yaml", defaults);
    expect(inventory.hosts[0]?.connection).to.deep.equal({
      address: "nas",
      port: 22,
      user: "me",
      become: false,
    });
    expect(inventory.hosts[0]?.groups).to.deep.equal(["all", "ungrouped"]);
  });

  it("applies variable precedence: host > child group > parent group > all; same depth by priority, then name", () => {
    const inventory = loadInventory(fixture("precedence.yaml"), defaults);
    const vars = (name: string) => inventory.hosts.find((h) => h.name === name)?.vars ?? {};
    expect(vars("h1")).to.include({ level: "host", only_parent: "from-parent", only_all: "from-all" });
    expect(vars("h2")).to.include({ level: "child", same_depth: "b_group" });
    expect(vars("h3")).to.include({ prio: "high" });
    expect(vars("h1").inventory_hostname).to.equal("h1");
  });

  it("reports a YAML syntax error with its position", () => {
    // Inline: a fixture file with broken YAML would break `prettier --check .`.
    const text = "all:\n  hosts:\n    nas: { address: 192.168.1.10\n    pi:\n";
    expect(errorOf(() => parseInventory(text, "hosts.yaml", defaults))).to.equal(
      "hosts.yaml:3:10: YAML syntax error: this { is never closed (still open at line 4); add the closing }",
    );
  });

  it("reports a duplicate key at the second occurrence", () => {
    const file = fixture("duplicate-key.yaml");
    expect(errorOf(() => loadInventory(file, defaults))).to.equal(
      `${file}:5:7: all.hosts.nas.address: duplicate key "address" (first at line 4): a key may appear once in a map; keep one`,
    );
  });

  it("reports an unknown key with a suggestion", () => {
    const file = fixture("unknown-key.yaml");
    expect(errorOf(() => loadInventory(file, defaults))).to.equal(
      `${file}:4:7: all.children.home.host: unknown key "host", did you mean "hosts"?`,
    );
  });

  it("reports every badly typed connection variable with its position", () => {
    const file = fixture("bad-port.yaml");
    expect(errorOf(() => loadInventory(file, defaults))).to.equal(
      [
        `${file}:4:17: all.hosts.nas.ssh_port: expected a port number from 1 to 65535`,
        `${file}:6:15: all.hosts.pi.become: expected true or false`,
      ].join("\n"),
    );
  });

  it("rejects a line break in a value, and in a key", () => {
    const text = 'all:\n  hosts:\n    nas:\n      address: "nas\\nx"\n    "p\\ni":\n';
    expect(errorOf(() => parseInventory(text, "inv.yaml", defaults))).to.equal(
      [
        "inv.yaml:4:16: all.hosts.nas.address: value contains a line break; write it on one line, without control characters",
        'inv.yaml:5:5: all.hosts["p\\ni"]: key contains a line break; write it on one line, without control characters',
      ].join("\n"),
    );
  });

  it("rejects backwards host ranges, vault values, group cycles and contradicting synonyms", () => {
    expect(
      errorOf(() => parseInventory("all:\n  hosts:\n    www[10:01].lan:\n", "i.yaml", defaults)),
    ).to.equal(
      'i.yaml:3:5: all.hosts["www[10:01].lan"]: the host range [10:01] begins after it ends: write [01:10]',
    );
    expect(
      errorOf(() => parseInventory("all:\n  vars:\n    pw: !vault |\n      abc\n", "i.yaml", defaults)),
    ).to.match(/^i\.yaml:3:9: Unresolved tag: !vault \(not supported\)/);
    const cycle =
      "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n";
    expect(errorOf(() => parseInventory(cycle, "i.yaml", defaults))).to.equal(
      'i.yaml:7:13: all.children.a.children.b.children.a: group "a" contains itself (all -> a -> b -> a)',
    );
    const both = "all:\n  hosts:\n    nas: { ssh_user: root, ansible_user: admin }\n";
    expect(errorOf(() => parseInventory(both, "i.yaml", defaults))).to.equal(
      "i.yaml:3:28: all.hosts.nas.ansible_user: conflicts with ssh_user in the same map",
    );
  });

  it("reports an undefined variable in a connection setting", () => {
    const text = 'all:\n  hosts:\n    nas: { ansible_host: "{{ lan }}" }\n';
    expect(errorOf(() => parseInventory(text, "i.yaml", defaults))).to.equal(
      'i.yaml:3:26: all.hosts.nas.ansible_host: undefined variable "lan" (host nas)',
    );
  });

  it("reports a missing file plainly", () => {
    expect(errorOf(() => loadInventory("/nonexistent/hosts.yaml"))).to.equal(
      "cannot read inventory /nonexistent/hosts.yaml: no such file",
    );
  });
});
