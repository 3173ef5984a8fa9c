import { expect } from "chai";
import { matchHostPattern, parseInventory, selectHosts } from "../../../src/inventory/index.js";

const inventory = parseInventory(
  `all:
  hosts:
    router:
  children:
    home:
      hosts:
        nas:
        pi:
        pi2:
        laptop:
    wired:
      hosts:
        nas:
        router:
        pi2:
`,
  "hosts.yaml",
  { user: "me", home: "/home/me" },
);

describe("host patterns", () => {
  const cases: [string | undefined, string[]][] = [
    [undefined, ["router", "nas", "pi", "pi2", "laptop"]],
    ["all", ["router", "nas", "pi", "pi2", "laptop"]],
    ["*", ["router", "nas", "pi", "pi2", "laptop"]],
    ["nas", ["nas"]],
    ["home", ["nas", "pi", "pi2", "laptop"]],
    ["pi,nas", ["nas", "pi"]],
    ["pi:nas", ["nas", "pi"]],
    ["home:!pi", ["nas", "pi2", "laptop"]],
    ["!pi:home", ["nas", "pi2", "laptop"]],
    ["!home", ["router"]],
    ["home:&wired", ["nas", "pi2"]],
    ["home:&wired:!pi2", ["nas"]],
    ["pi*", ["pi", "pi2"]],
    ["pi?", ["pi2"]],
    ["[ln]*", ["nas", "laptop"]],
    ["w*", ["router", "nas", "pi2"]],
    ["~^(pi|nas)$", ["nas", "pi"]],
    [" nas , pi ", ["nas", "pi"]],
    ["ungrouped", []],
  ];
  for (const [pattern, hosts] of cases) {
    it(`${JSON.stringify(pattern)} selects ${hosts.join(", ") || "nothing"} in inventory order`, () => {
      expect(selectHosts(inventory, pattern)).to.deep.equal(hosts);
    });
  }

  it("names the terms that match nothing", () => {
    expect(() => selectHosts(inventory, "home:!pj")).to.throw(
      'host pattern term "!pj" matches no host or group of hosts.yaml',
    );
    expect(() => selectHosts(inventory, "nsa,lap*")).to.throw('term "nsa" matches no host or group');
    expect(matchHostPattern(inventory, "nsa,pi,x*")).to.deep.equal({
      hosts: ["pi"],
      unmatched: ["nsa", "x*"],
    });
  });

  it("rejects an empty pattern", () => {
    expect(() => selectHosts(inventory, " , ")).to.throw('empty host pattern " , "');
  });
});
