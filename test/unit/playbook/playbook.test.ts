import { expect } from "chai";
import { fileURLToPath } from "node:url";
import { loadPlaybook, parsePlaybook } from "../../../src/playbook/index.js";
import { errorOf } from "../error-of.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/playbook/${name}`, import.meta.url));

describe("playbook loading", () => {
  it("loads the SPEC.md playbook", () => {
    const playbook = loadPlaybook(fixture("site.yaml"));
    expect(playbook.plays).to.have.length(1);
    const [play] = playbook.plays;
    expect(play?.name).to.equal("Home machines send mail through the ISP");
    expect(play?.hosts).to.equal("home");
    expect(play?.vars).to.deep.equal({ isp: "mail.isp.example" });
    expect(play?.postfix.relay?.password).to.deep.equal({ env: "ISP_PASSWORD" });
  });

  it("reports a YAML syntax error with its position", () => {
    // Inline: a fixture file with broken YAML would break `prettier --check .`.
    const text = "- hosts: home\n  postfix:\n    main:\n      myorigin: [unclosed\n";
    expect(errorOf(() => parsePlaybook(text, "site.yaml"))).to.equal(
      "site.yaml:4:17: YAML syntax error: this [ is never closed (still open at line 5); add the closing ]",
    );
  });

  it("reports a duplicate key", () => {
    const file = fixture("duplicate-key.yaml");
    expect(errorOf(() => loadPlaybook(file))).to.equal(
      `${file}:5:7: 0.postfix.main.myorigin: duplicate key "myorigin" (first at line 4): a key may appear once in a map; keep one`,
    );
  });

  it("reports an unknown key at the key, with a suggestion", () => {
    const file = fixture("unknown-key.yaml");
    expect(errorOf(() => loadPlaybook(file))).to.equal(
      `${file}:3:5: 0.postfix.realy: unknown key "realy", did you mean "relay"?`,
    );
    expect(errorOf(() => parsePlaybook("- hosts: all\n  postfix: {}\n  become: true\n", "p.yaml"))).to.equal(
      'p.yaml:3:3: 0.become: unknown key "become"',
    );
  });

  it("reports every wrong type at its value", () => {
    const file = fixture("wrong-type.yaml");
    expect(errorOf(() => loadPlaybook(file))).to.equal(
      [
        `${file}:5:13: 0.postfix.relay.port: expected a port number (1-65535) or a service name such as submission`,
        `${file}:6:11: 0.postfix.relay.mx: expected true or false, got the text "no": YAML 1.2 reads yes/no/on/off (and anything quoted) as text; write true or false without quotes`,
      ].join("\n"),
    );
  });

  it("rejects a line break in a value", () => {
    const file = fixture("newline.yaml");
    expect(errorOf(() => loadPlaybook(file))).to.equal(
      `${file}:4:17: 0.postfix.main.myorigin: value contains a line break; write it on one line, without control characters`,
    );
  });

  it("rejects control characters in keys and values", () => {
    const text = '- hosts: all\n  postfix:\n    generic:\n      "a\\u0000b": x\n      c: "d\\u001be"\n';
    expect(errorOf(() => parsePlaybook(text, "p.yaml"))).to.equal(
      [
        'p.yaml:4:7: 0.postfix.generic["a\\u0000b"]: key contains a NUL character; write it on one line, without control characters',
        "p.yaml:5:10: 0.postfix.generic.c: value contains the control character U+001B; write it on one line, without control characters",
      ].join("\n"),
    );
  });

  it("requires a list of plays, each with hosts and postfix", () => {
    expect(errorOf(() => parsePlaybook("hosts: all\n", "p.yaml"))).to.equal(
      "p.yaml:1:1: expected a list of plays (each starting with `- hosts: ...`)",
    );
    expect(errorOf(() => parsePlaybook("- name: x\n", "p.yaml"))).to.equal(
      ["p.yaml:1:3: 0.hosts: required", "p.yaml:1:3: 0.postfix: required"].join("\n"),
    );
  });

  it("checks table names and credentials", () => {
    const text = `- hosts: all
  postfix:
    relay: { host: mail.isp.example, username: me }
    tables:
      sasl_passwd: { parameter: x, entries: {} }
      main.cf: { parameter: x, entries: {} }
`;
    expect(errorOf(() => parsePlaybook(text, "p.yaml"))).to.equal(
      [
        'p.yaml:5:7: 0.postfix.tables.sasl_passwd: "sasl_passwd" is managed by postfix.relay / senders; choose another table name',
        'p.yaml:6:7: 0.postfix.tables["main.cf"]: invalid table name: use letters, digits, "_", "-"',
        "p.yaml:3:12: 0.postfix.relay: password is missing: give both username and password, or neither",
      ].join("\n"),
    );
  });

  it("explains the accepted forms of a password", () => {
    const text = "- hosts: all\n  postfix:\n    relay: { host: h, username: u, password: { envv: X } }\n";
    expect(errorOf(() => parsePlaybook(text, "p.yaml"))).to.equal(
      'p.yaml:3:46: 0.postfix.relay.password: expected { env: NAME }, { file: PATH }, { command: "..." } (or a literal string, not advised)',
    );
  });
});
