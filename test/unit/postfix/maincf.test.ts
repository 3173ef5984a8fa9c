import { expect } from "chai";
import { InputError } from "../../../src/errors.js";
import {
  editMainCf,
  mainCfValues,
  validateParamName,
  validateParamValue,
} from "../../../src/postfix/maincf.js";

/** A shortened Debian bookworm main.cf after a "Local only" install. */
const DEBIAN = `# See /usr/share/postfix/main.cf.dist for a commented, more complete version

smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no

# appending .domain is the MUA's job.
append_dot_mydomain = no

smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated
    defer_unauth_destination
myhostname = nas.home.example
mydestination = $myhostname, nas, localhost.localdomain, localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
inet_interfaces = loopback-only
default_transport = error
relay_transport = error
`;

describe("postfix/maincf", () => {
  describe("mainCfValues", () => {
    const cases: [string, string, Record<string, string>][] = [
      ["name = value lines", "a = 1\nb = two words\n", { a: "1", b: "two words" }],
      ["whitespace around = ignored", "a=1\nb   =\t2  \nc =\n", { a: "1", b: "2", c: "" }],
      ["the last definition wins", "a = 1\nb = x\na = 2\n", { a: "2", b: "x" }],
      ["continuation lines joined", "a = x,\n    y,\n\tz\nb = 1\n", { a: "x, y, z", b: "1" }],
      ["inner whitespace normalised", "a = x    y\n", { a: "x y" }],
      ["comments and blank lines skipped", "# a = 1\n  # b = 2\n\nc = 3\n", { c: "3" }],
      ["a comment inside a continued value", "a = x\n# note\n  y\nb = 1\n", { a: "x y", b: "1" }],
      ["a blank line inside a continued value", "a = x\n\n  y\n", { a: "x y" }],
      ["inline # is part of the value", "a = x # not a comment\n", { a: "x # not a comment" }],
      ["CRLF line endings", "a = 1\r\nb = 2\r\n  3\r\n", { a: "1", b: "2 3" }],
      ["no trailing newline", "a = 1\nb = 2", { a: "1", b: "2" }],
      ["empty file", "", {}],
      ["a line without = is not a parameter", "garbage here\n  more\na = 1\n", { a: "1" }],
      ["a leading continuation line is ignored", "  orphan\na = 1\n", { a: "1" }],
    ];
    for (const [title, text, expected] of cases) {
      it(title, () => {
        expect(Object.fromEntries(mainCfValues(text))).to.deep.equal(expected);
      });
    }
  });

  describe("whitespace and line ends as Postfix reads them (checked with postconf -c DIR -n, Postfix 3.7)", () => {
    const host =
      "mydestination = $myhostname,\u00a0localhost\nsmtpd_banner = $myhostname\u2028ESMTP\nrelayhost = [x]\n";

    it("a no-break space is part of the value and U+2028 ends no line", () => {
      const values = mainCfValues(host);
      expect(values.get("mydestination")).to.equal("$myhostname,\u00a0localhost");
      expect(values.get("smtpd_banner")).to.equal("$myhostname\u2028ESMTP");
      expect(values.get("relayhost")).to.equal("[x]");
    });

    it("so a list written with a no-break space is drift, and the edit replaces it in place", () => {
      const edit = editMainCf(host, { mydestination: "$myhostname, localhost" });
      expect(edit.changed).to.deep.equal(["mydestination"]);
      expect(edit.text).to.equal(host.replace("\u00a0", " "));
    });

    it("CR, VT and FF are whitespace: they continue lines and are trimmed", () => {
      const values = mainCfValues("myorigin = a\n\rb\nmyhostname = q \u000b\r\nrelayhost =\u000c [x]\n");
      expect(Object.fromEntries(values)).to.deep.equal({
        myorigin: "a b",
        myhostname: "q",
        relayhost: "[x]",
      });
    });
  });

  describe("editMainCf", () => {
    it("replaces a parameter in place and keeps every other line byte for byte", () => {
      const { text, changed } = editMainCf(DEBIAN, { relayhost: "[mail.isp.example]:submission" });
      expect(text).to.equal(DEBIAN.replace("relayhost =\n", "relayhost = [mail.isp.example]:submission\n"));
      expect(changed).to.deep.equal(["relayhost"]);
    });

    it("leaves a parameter that already has the value untouched, however it is written", () => {
      const before = "myorigin=$mydomain\nmynetworks = 127.0.0.0/8\n    192.168.1.0/28\n";
      const { text, changed } = editMainCf(before, {
        myorigin: "$mydomain",
        mynetworks: "127.0.0.0/8 192.168.1.0/28",
      });
      expect(text).to.equal(before);
      expect(changed).to.deep.equal([]);
    });

    it("replaces a continued parameter with one line and keeps comments inside it", () => {
      const before = "a = 1\nsmtpd_relay_restrictions = x\n# why y\n    y\nb = 2\n";
      const { text, changed } = editMainCf(before, { smtpd_relay_restrictions: "z" });
      expect(text).to.equal("a = 1\nsmtpd_relay_restrictions = z\n# why y\nb = 2\n");
      expect(changed).to.deep.equal(["smtpd_relay_restrictions"]);
    });

    it("writes the first definition and deletes later duplicates", () => {
      const before = "# top\nrelayhost = [a]\nbiff = no\nrelayhost = [b]\n  # c\nend = 1\n";
      const { text, changed } = editMainCf(before, { relayhost: "[c]" });
      expect(text).to.equal("# top\nrelayhost = [c]\nbiff = no\n  # c\nend = 1\n");
      expect(changed).to.deep.equal(["relayhost"]);
    });

    it("rewrites duplicates even when the last one already has the value", () => {
      const { text, changed } = editMainCf("a = 1\nb = 2\na = 3\n", { a: "3" });
      expect(text).to.equal("a = 3\nb = 2\n");
      expect(changed).to.deep.equal(["a"]);
    });

    it("rewrites when only an earlier duplicate has the value (the last one wins in Postfix)", () => {
      const { text, changed } = editMainCf("a = 3\na = 1\n", { a: "3" });
      expect(text).to.equal("a = 3\n");
      expect(changed).to.deep.equal(["a"]);
    });

    it("null removes every definition with its continuation lines", () => {
      const before = "x = 1\n  2\nproxy_interfaces = 1.2.3.4\n\ny = 1\nx = 3\n";
      const { text, changed } = editMainCf(before, { x: null, proxy_interfaces: null });
      expect(text).to.equal("\ny = 1\n");
      expect(changed).to.deep.equal(["proxy_interfaces", "x"]);
    });

    it("null for an absent parameter changes nothing", () => {
      expect(editMainCf(DEBIAN, { proxy_interfaces: null })).to.deep.equal({ text: DEBIAN, changed: [] });
    });

    it("appends new parameters at the end in the given order, `name =` for an empty value", () => {
      const { text, changed } = editMainCf("biff = no\n", {
        mynetworks_style: "host",
        relay_domains: "",
        myorigin: "$mydomain",
      });
      expect(text).to.equal("biff = no\nmynetworks_style = host\nrelay_domains =\nmyorigin = $mydomain\n");
      expect(changed).to.deep.equal(["mynetworks_style", "myorigin", "relay_domains"]);
    });

    it("writes values trimmed", () => {
      expect(editMainCf("", { a: "  x y  " }).text).to.equal("a = x y\n");
    });

    it("adds the missing final newline before appending", () => {
      expect(editMainCf("a = 1", { b: "2" }).text).to.equal("a = 1\nb = 2\n");
    });

    it("ends with a newline when the last line is replaced", () => {
      expect(editMainCf("b = 1\na = 1", { a: "2" }).text).to.equal("b = 1\na = 2\n");
    });

    it("leaves a file without final newline alone when nothing changes", () => {
      expect(editMainCf("a = 1", { a: "1" })).to.deep.equal({ text: "a = 1", changed: [] });
    });

    it("fills an empty file", () => {
      expect(editMainCf("", { a: "1", b: null })).to.deep.equal({ text: "a = 1\n", changed: ["a"] });
    });

    it("keeps CRLF line endings consistent", () => {
      const { text } = editMainCf("# c\r\na = 1\r\nb = 2\r\n", { a: "9", c: "3" });
      expect(text).to.equal("# c\r\na = 9\r\nb = 2\r\nc = 3\r\n");
    });

    it("never mistakes a commented-out definition for the parameter", () => {
      const before = "#relayhost = [old]\n";
      expect(editMainCf(before, { relayhost: "[new]" }).text).to.equal(before + "relayhost = [new]\n");
    });

    it("applies the SOHO standalone-host settings to a Debian main.cf", () => {
      const { text, changed } = editMainCf(DEBIAN, {
        myorigin: "$mydomain",
        mynetworks_style: "host",
        relay_domains: "",
        mynetworks: null,
        proxy_interfaces: "1.2.3.4",
      });
      const values = mainCfValues(text);
      expect(values.get("myorigin")).to.equal("$mydomain");
      expect(values.get("relay_domains")).to.equal("");
      expect(values.has("mynetworks")).to.equal(false);
      expect(values.get("smtpd_relay_restrictions")).to.equal(
        "permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
      );
      expect(text.startsWith(DEBIAN.slice(0, DEBIAN.indexOf("mynetworks =")))).to.equal(true);
      expect(changed).to.deep.equal([
        "mynetworks",
        "mynetworks_style",
        "myorigin",
        "proxy_interfaces",
        "relay_domains",
      ]);
    });

    describe("is idempotent: a second edit with the same values changes nothing", () => {
      const desired: Record<string, string | null> = {
        relayhost: "[mail.isp.example]:submission",
        smtpd_relay_restrictions: "permit_mynetworks, reject",
        default_transport: null,
        relay_transport: null,
        myorigin: "$mydomain",
        relay_domains: "",
        mynetworks: "127.0.0.0/8   192.168.1.0/28",
      };
      const inputs: [string, string][] = [
        ["Debian main.cf", DEBIAN],
        ["empty file", ""],
        ["CRLF without final newline", "relayhost = [x]\r\nmyorigin = $myhostname"],
        [
          "duplicates and continuations",
          "mynetworks = a\n  b\n# x\nmynetworks = c\n\tD\nrelay_domains = x\n",
        ],
      ];
      for (const [title, input] of inputs) {
        it(title, () => {
          const first = editMainCf(input, desired);
          expect(first.changed).not.to.deep.equal([]);
          const second = editMainCf(first.text, desired);
          expect(second).to.deep.equal({ text: first.text, changed: [] });
          const values = mainCfValues(first.text);
          for (const [name, value] of Object.entries(desired)) {
            expect(values.get(name), name).to.equal(value?.replace(/\s+/g, " "));
          }
        });
      }
    });

    it("rejects an injection attempt without changing anything", () => {
      expect(() => editMainCf(DEBIAN, { relayhost: "[x]\nrelay_transport = error" })).to.throw(InputError);
      expect(() => editMainCf(DEBIAN, { "relayhost = x\n#": "y" })).to.throw(InputError);
    });
  });

  describe("validateParamName / validateParamValue", () => {
    const goodNames = ["relayhost", "smtp_sasl_auth_enable", "2bounce_notice_recipient", "my_own_list"];
    // Postfix reads "a.b" and "a-b" as names no program uses ("unused parameter"), and `$a-b` as `$a`.
    const badNames = ["", "relay host", "relayhost=", "a\nb", "-x", ".x", "$x", "näme", "submission.name-x"];
    for (const name of goodNames) {
      it(`accepts name ${JSON.stringify(name)}`, () => expect(() => validateParamName(name)).not.to.throw());
    }
    for (const name of badNames) {
      it(`rejects name ${JSON.stringify(name)}`, () =>
        expect(() => validateParamName(name)).to.throw(InputError));
    }
    const goodValues = [
      "",
      "$mydomain",
      "hash:/etc/postfix/generic",
      "a\tb",
      " padded ",
      "x # y",
      "${a?{b}}",
    ];
    const badValues = ["a\nb", "a\rb", "a\u0000b", "a\u001bb", "a\u007fb"];
    for (const value of goodValues) {
      it(`accepts value ${JSON.stringify(value)}`, () =>
        expect(() => validateParamValue("p", value)).not.to.throw());
    }
    for (const value of badValues) {
      it(`rejects value ${JSON.stringify(value)}, naming the parameter`, () =>
        expect(() => validateParamValue("relayhost", value)).to.throw(InputError, /relayhost/));
    }
  });
});
