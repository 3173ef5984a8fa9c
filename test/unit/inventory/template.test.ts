import { expect } from "chai";
import { renderTemplate } from "../../../src/inventory/index.js";

const host = {
  isp: "mail.isp.example",
  port: 587,
  relay: { host: "relay.example", port: 25 },
  list: ["a", "b"],
};
const play = {
  isp: "ignored.example",
  domain: "play.example",
  chained: "mx.{{ domain }}",
  self: "{{ self }}",
};
const render = (text: string) => renderTemplate(text, [host, play]);

describe("{{ var }} templates", () => {
  it("substitutes variables, with or without spaces inside the braces", () => {
    expect(render("{{ isp }}")).to.equal("mail.isp.example");
    expect(render("[{{isp}}]:{{   port }}")).to.equal("[mail.isp.example]:587");
  });

  it("prefers the first scope and falls back to the next", () => {
    expect(render("{{ isp }} {{ domain }}")).to.equal("mail.isp.example play.example");
  });

  it("keeps a number when the whole value is one variable", () => {
    expect(render("{{ port }}")).to.equal(587);
    expect(render("{{ relay.port }}")).to.equal(25);
  });

  it("steps into maps and lists with dots", () => {
    expect(render("{{ relay.host }}/{{ list.1 }}")).to.equal("relay.example/b");
  });

  it("renders variables whose values are templates", () => {
    expect(render("{{ chained }}")).to.equal("mx.play.example");
  });

  it("leaves Postfix's $name, ${name} and ${name?{value}} alone", () => {
    for (const text of ["$mydomain", "${mydomain}", "${a?{${b}}}", "$myhostname, localhost.$mydomain"]) {
      expect(render(text)).to.equal(text);
    }
  });

  it("explains what it cannot do", () => {
    expect(() => render("{{ nope }}")).to.throw('undefined variable "nope"');
    expect(() => render("{{ relay.user }}")).to.throw('undefined variable "relay.user"');
    expect(() => render("{{ isp | upper }}")).to.throw('unsupported expression "{{ isp | upper }}"');
    expect(() => render("{{ relay }}")).to.throw('variable "relay" is a map, not a string or a number');
    expect(() => render("{{ isp")).to.throw('"{{" without a matching "}}"');
    expect(() => render("{{ self }}")).to.throw('variable "self" refers to itself (self -> self)');
  });
});
