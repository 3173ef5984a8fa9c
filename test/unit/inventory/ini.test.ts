import { expect } from "chai";
import { parseInventory } from "../../../src/inventory/index.js";
import { errorOf } from "../error-of.js";

const defaults = { user: "me", home: "/home/me" };
const ini = (text: string, file = "hosts.ini") => parseInventory(text, file, defaults);

describe("INI inventories", () => {
  it("reads groups, children, :vars, inline host variables and host ports", () => {
    const inventory = ini(
      [
        "# comment",
        "; comment",
        "router:2200 ansible_user=admin",
        "[home:children]",
        "wired",
        "[home:vars]",
        "ansible_user=deploy",
        "ansible_become=yes",
        "relay=mail.isp.example",
        "[wired]",
        'nas ansible_host=192.0.2.1 ansible_port=2222 label="two words" ansible_ssh_private_key_file=~/.ssh/nas',
        "pi   # a comment after the host",
      ].join("\n"),
    );
    const host = (name: string) => inventory.hosts.find((h) => h.name === name);
    expect(inventory.hosts.map((h) => h.name)).to.deep.equal(["router", "nas", "pi"]);
    expect(Object.fromEntries(inventory.groups)).to.deep.equal({
      all: ["router", "nas", "pi"],
      ungrouped: ["router"],
      home: ["nas", "pi"],
      wired: ["nas", "pi"],
    });
    expect(host("router")?.connection).to.deep.equal({
      address: "router",
      port: 2200,
      user: "admin",
      become: false,
    });
    expect(host("nas")?.connection).to.deep.equal({
      address: "192.0.2.1",
      port: 2222,
      user: "deploy",
      keyFile: "/home/me/.ssh/nas",
      become: true,
    });
    expect(host("nas")?.vars).to.include({
      label: "two words",
      relay: "mail.isp.example",
      ansible_port: 2222,
    });
    // Variables keep Ansible's values; only the connection converts them ("yes" stays text here).
    expect(host("pi")?.vars.ansible_become).to.equal("yes");
    expect(host("pi")?.groups).to.deep.equal(["all", "home", "wired"]);
  });

  it("types values as Ansible does: Python literals inline and in :vars, text otherwise", () => {
    const inventory = ini(
      [
        "[g]",
        `h n=42 t=True q="'05'" s=05 l="[1, 'a']" d="{'k': None}" e= w=a\\ b`,
        "[g:vars]",
        "v=23",
        "text=hello world # kept",
      ].join("\n"),
    );
    expect(inventory.hosts[0]?.vars).to.deep.include({
      n: 42,
      t: true,
      q: "05",
      s: "05",
      l: [1, "a"],
      d: { k: null },
      e: "",
      w: "a b",
      v: 23,
      text: "hello world # kept",
    });
  });

  it("expands host ranges, with steps, letters and a port", () => {
    const inventory = ini("[web]\nwww[01:03].lan\ndb-[a:c]:2201 role=db\nn[0:6:3]\n");
    expect(inventory.hosts.map((h) => h.name)).to.deep.equal([
      "www01.lan",
      "www02.lan",
      "www03.lan",
      "db-a",
      "db-b",
      "db-c",
      "n0",
      "n3",
      "n6",
    ]);
    const dbB = inventory.hosts.find((h) => h.name === "db-b");
    expect(dbB?.connection.port).to.equal(2201);
    expect(dbB?.vars.role).to.equal("db");
  });

  it("is told from YAML by its extension or, as Ansible does, by content that is not a YAML map", () => {
    expect(ini("[web]\nnas\n", "hosts.yaml").hosts.map((h) => h.name)).to.deep.equal(["nas"]);
    expect(ini("nas\npi\n", "hosts").hosts.map((h) => h.name)).to.deep.equal(["nas", "pi"]);
    expect(ini("all:\n  hosts:\n    nas:\n", "hosts").hosts.map((h) => h.name)).to.deep.equal(["nas"]);
    // Broken YAML stays a YAML error, not an INI one.
    expect(errorOf(() => ini("all:\n  hosts:\n    nas: { x: 1\n", "hosts"))).to.equal(
      "hosts:3:10: YAML syntax error: this { is never closed (still open at line 4); add the closing }",
    );
  });

  const errors: [string, string, string][] = [
    [
      "an unknown section type",
      "[web:var]\nnas\n",
      'hosts.ini:1:1: unknown section type "var": use [web], [web:vars] or [web:children]',
    ],
    [
      "a section with a space",
      "[web servers]\nnas\n",
      'hosts.ini:1:1: invalid section "[web servers]": a group name has no spaces, ":" or "]"; write [name], [name:vars] or [name:children]',
    ],
    [
      "a :vars line without =",
      "[web]\nnas\n[web:vars]\njust text\n",
      'hosts.ini:4:1: expected key=value in [web:vars], got "just text"',
    ],
    [
      "a host variable without =",
      "[web]\nnas ansible_host=192.0.2.1 oops\n",
      'hosts.ini:2:28: expected key=value after the host, got "oops": quote a value that has spaces (key="a b")',
    ],
    ["an unclosed quote", '[web]\nnas note="unclosed\n', "hosts.ini:2:1: a quote is never closed: close it"],
    [
      ":vars of a group never declared",
      "[web]\nnas\n[webs:vars]\nx=1\n",
      "hosts.ini:3:1: [webs:vars] is for a group that is never declared: add a [webs] section (or list webs under a [parent:children] section)",
    ],
    [
      "a child never declared",
      "[home:children]\nweb\n[home]\nnas\n",
      'hosts.ini:2:1: [home:children] lists "web", which is never declared: add a [web] section',
    ],
    [
      "a bad port inline, at its column",
      "[web]\n  nas ansible_host=192.0.2.1 ansible_port=22a\n",
      "hosts.ini:2:30: ansible_port: expected a port number from 1 to 65535",
    ],
    [
      "bad connection values in :vars",
      "[web]\nnas\n[web:vars]\nansible_port=seventy\nansible_become=maybe\n",
      "hosts.ini:4:1: ansible_port: expected a port number from 1 to 65535\nhosts.ini:5:1: ansible_become: expected true or false",
    ],
    [
      "a variable among hosts",
      "[web]\nnas\nx=1\n",
      'hosts.ini:3:1: "x=1" is a variable, but [web] lists hosts: put it under [web:vars]',
    ],
    [
      "a host ending in :",
      "[web]\nnas:\n",
      'hosts.ini:2:1: "nas:" ends in ":" without a port: write nas:PORT or just nas',
    ],
    [
      "a backwards range",
      "[web]\nwww[3:1]\n",
      "hosts.ini:2:1: www[3:1]: the host range [3:1] begins after it ends: write [1:3]",
    ],
    [
      "a bad group name",
      "[home:children]\nwe@b\n[we@b]\nnas\n",
      'hosts.ini:3:1: invalid group name "we@b": use letters, digits, "_", ".", "-"',
    ],
    [
      "a loop of groups",
      "[a:children]\nb\n[b:children]\na\n[a]\nnas\n",
      'hosts.ini:4:1: group "a" contains itself (a -> b -> a)',
    ],
    [
      "a priority that is no number",
      "[web]\nnas\n[web:vars]\nansible_group_priority=high\n",
      "hosts.ini:4:1: ansible_group_priority: expected a whole number",
    ],
    [
      "a line break in a connection value",
      `[web]\nnas ansible_user="'a\\nb'"\n`,
      "hosts.ini:2:5: ansible_user: value contains a line break; write it on one line",
    ],
    [
      "an undefined variable",
      '[web]\nnas ansible_host="{{ lan }}"\n',
      'hosts.ini:2:5: ansible_host: undefined variable "lan" (host nas)',
    ],
    [
      "no host",
      "# nothing\n[web]\n",
      "hosts.ini:1:1: the inventory lists no hosts: expected host names, one a line, under [group] sections",
    ],
  ];
  for (const [what, text, message] of errors) {
    it(`reports ${what} with file:line:column and what to do`, () => {
      expect(errorOf(() => ini(text))).to.equal(message);
    });
  }
});
