import { expect } from "chai";
import {
  addressKeyProblem,
  bareDomainKeyWarning,
  managedTables,
  normaliseValue,
  parameterNameProblem,
  parameterValueProblem,
  senderProblem,
  tableKeyProblem,
  tableNameProblem,
  tableValueProblem,
  trimPostfix,
} from "../../../src/postfix/rules.js";
import type { PostfixState } from "../../../src/postfix/state.js";

describe("postfix/rules", () => {
  describe("whitespace is Postfix's (ASCII space, tab, CR, LF, VT, FF), never JavaScript's \\s", () => {
    it("keeps a no-break space and U+2028 as part of a value, as Postfix does", () => {
      expect(normaliseValue(" $myhostname,\u00a0localhost\t")).to.equal("$myhostname,\u00a0localhost");
      expect(normaliseValue("$myhostname, \t localhost")).to.equal("$myhostname, localhost");
      expect(trimPostfix("\u00a0x\u2028")).to.equal("\u00a0x\u2028");
      expect(trimPostfix("\r\v\f x \r")).to.equal("x");
    });

    it("refuses in main.cf values and table entries what Postfix would read differently from the playbook", () => {
      for (const text of ["a\u00a0b", "a\u2028b", "a\u2029b", "a\u200bb", "\ufeffa", "a\u3000b"]) {
        expect(parameterValueProblem(text), JSON.stringify(text)).to.match(/U\+[0-9A-F]{4} .*plain space/);
        expect(tableValueProblem(text), JSON.stringify(text)).to.match(/U\+[0-9A-F]{4}/);
        expect(tableKeyProblem(text), JSON.stringify(text)).to.match(/U\+[0-9A-F]{4}/);
      }
      expect(parameterValueProblem("Grüße from $myhostname\t(ESMTP)")).to.equal(undefined);
      expect(parameterValueProblem("a\nb")).to.match(/line break/);
      expect(parameterValueProblem("a\u0085b")).to.match(/line break/);
    });
  });

  describe("main.cf parameter names", () => {
    it("are letters, digits and _ (what a $name reference can name)", () => {
      for (const name of ["relayhost", "smtp_tls_security_level", "2bounce_notice_recipient", "MY_list"]) {
        expect(parameterNameProblem(name), name).to.equal(undefined);
      }
      for (const name of ["", "my-list", "smtp.x", "submission/inet", "relay host", "näme", "$x"]) {
        expect(parameterNameProblem(name), name).to.match(/use letters, digits and "_"/);
      }
    });
  });

  describe("table names", () => {
    it("refuse the built-in tables, dots and Postfix's own files", () => {
      expect(tableNameProblem("transport")).to.equal(undefined);
      expect(tableNameProblem("sasl_passwd")).to.equal(
        '"sasl_passwd" is managed by postfix.relay / senders; choose another table name',
      );
      expect(tableNameProblem("generic")).to.match(/postfix\.generic/);
      expect(tableNameProblem("main.cf")).to.match(/invalid table name/);
      expect(tableNameProblem("x.db")).to.match(/invalid table name/);
      expect(tableNameProblem("-x")).to.match(/invalid table name/);
      expect(tableNameProblem("postfix-files")).to.match(/Postfix file/);
    });
  });

  describe("addresses: one rule for generic:, canonical:, virtual: and senders:", () => {
    const addresses = [
      "user@example.com",
      "@example.com",
      "u+x@mail_1.example",
      "user@[192.0.2.1]",
      "@[IPv6:2001:db8::1]",
    ];
    const notAddresses = [
      "user@",
      "@",
      "a@b@c",
      "user@example..com",
      "user@.example",
      "user @x",
      '"a"@x',
      "u@[x]",
    ];

    it("accept user@domain and @domain, with a DNS name or an address literal", () => {
      for (const address of addresses) {
        expect(addressKeyProblem(address, "key"), address).to.equal(undefined);
        expect(senderProblem(address), address).to.equal(undefined);
      }
    });

    it('refuse anything else with "@", and a sender without one', () => {
      for (const text of notAddresses) {
        expect(addressKeyProblem(text, "key"), text).to.match(/is not a valid address/);
        expect(senderProblem(text), text).to.match(/user@domain or a domain @domain/);
      }
      expect(senderProblem("example.com")).to.match(/user@domain/);
    });

    it("take a bare key as a local user name, warning when it looks like a domain", () => {
      expect(addressKeyProblem("root", "key")).to.equal(undefined);
      expect(bareDomainKeyWarning("root")).to.equal(undefined);
      expect(bareDomainKeyWarning("@localdomain.local")).to.equal(undefined);
      expect(bareDomainKeyWarning("localdomain.local")).to.equal(
        'key "localdomain.local" has no "@", so Postfix reads it as a local user name, not a domain; ' +
          'for every address of the domain write "@localdomain.local"',
      );
    });
  });

  describe("managedTables", () => {
    const base: PostfixState = { tableType: "auto", main: {} };
    const relay = { host: "mail.isp.example", mx: false };

    it("lists every table a state writes or must remove, built-in ones first", () => {
      expect(managedTables(base)).to.deep.equal([]);
      expect(
        managedTables({
          ...base,
          generic: {},
          canonical: {},
          virtual: {},
          relay,
          senders: { "a@b.example": { relay } },
          tables: { transport: { parameter: "transport_maps", entries: {} } },
        }),
      ).to.deep.equal(["generic", "canonical", "virtual", "sasl_passwd", "sender_relay", "transport"]);
    });

    it("owns sasl_passwd with a relay even without credentials (old passwords are removed)", () => {
      expect(managedTables({ ...base, relay })).to.deep.equal(["sasl_passwd"]);
      expect(managedTables({ ...base, senders: {} })).to.deep.equal([]);
    });
  });
});
