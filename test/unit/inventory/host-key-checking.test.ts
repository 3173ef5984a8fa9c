import { expect } from "chai";
import { parseInventory } from "../../../src/inventory/index.js";
import { errorOf } from "../error-of.js";

const defaults = { user: "me", home: "/home/me" };

describe("inventory host_key_checking", () => {
  const text = `all:
  vars:
    host_key_checking: accept-new
  children:
    home:
      vars:
        host_key_checking: strict
      hosts:
        nas:
        pi: { host_key_checking: accept-new }
  hosts:
    router:
`;

  it("is read per host with the usual precedence (host > child group > all)", () => {
    const inventory = parseInventory(text, "inv.yaml", defaults);
    const checking = (name: string) =>
      inventory.hosts.find((h) => h.name === name)?.connection.hostKeyChecking;
    expect(checking("nas")).to.equal("strict");
    expect(checking("pi")).to.equal("accept-new");
    expect(checking("router")).to.equal("accept-new");
    expect(inventory.hosts.find((h) => h.name === "pi")?.vars.host_key_checking).to.equal("accept-new");
  });

  it("is absent from the connection when not set (strict unless --host-key-checking says otherwise)", () => {
    const inventory = parseInventory("all:\n  hosts:\n    nas:\n", "inv.yaml", defaults);
    expect(inventory.hosts[0]?.connection).to.not.have.property("hostKeyChecking");
  });

  it("rejects anything but strict or accept-new, including Ansible's booleans, with its position", () => {
    const bad = "all:\n  vars:\n    host_key_checking: false\n  hosts:\n    nas: { host_key_checking: no }\n";
    expect(errorOf(() => parseInventory(bad, "inv.yaml", defaults))).to.equal(
      [
        "inv.yaml:5:31: all.hosts.nas.host_key_checking: expected strict or accept-new (host keys are always checked)",
        "inv.yaml:3:24: all.vars.host_key_checking: expected strict or accept-new (host keys are always checked)",
      ].join("\n"),
    );
    const typo = "all:\n  hosts:\n    nas: { host_key_checking: accept_new }\n";
    expect(errorOf(() => parseInventory(typo, "inv.yaml", defaults))).to.equal(
      "inv.yaml:3:31: all.hosts.nas.host_key_checking: expected strict or accept-new (host keys are always checked)",
    );
  });

  it("leaves Ansible's own ansible_host_key_checking alone (an Ansible inventory still loads)", () => {
    const ansible = "all:\n  vars:\n    ansible_host_key_checking: false\n  hosts:\n    nas:\n";
    const inventory = parseInventory(ansible, "inv.yaml", defaults);
    expect(inventory.hosts[0]?.connection).to.not.have.property("hostKeyChecking");
  });
});
