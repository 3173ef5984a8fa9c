import { expect } from "chai";
import { InputError } from "../../../src/errors.js";
import { formatNextHop, isImplicitTls, resolvePort } from "../../../src/postfix/relay.js";
import type { NextHop } from "../../../src/postfix/state.js";

describe("postfix/relay", () => {
  describe("formatNextHop", () => {
    const cases: [NextHop, string][] = [
      [{ host: "mail.isp.example", mx: false }, "[mail.isp.example]"],
      [{ host: "mail.isp.example", port: "submission", mx: false }, "[mail.isp.example]:submission"],
      [{ host: "foo.bar.com", port: 587, mx: false }, "[foo.bar.com]:587"],
      [{ host: "foo.bar.com", port: "587", mx: false }, "[foo.bar.com]:587"],
      [{ host: "isp.example", mx: true }, "isp.example"],
      [{ host: "isp.example", port: 25, mx: true }, "isp.example:25"],
      [{ host: "192.168.1.1", port: "smtps", mx: false }, "[192.168.1.1]:smtps"],
      [{ host: "relay", mx: false }, "[relay]"],
    ];
    for (const [hop, expected] of cases) {
      it(`${JSON.stringify(hop)} -> ${expected}`, () => {
        expect(formatNextHop(hop)).to.equal(expected);
      });
    }

    const bad: [NextHop, RegExp][] = [
      [{ host: "[mail.isp.example]", mx: false }, /brackets/],
      [{ host: "mail.isp.example:587", mx: false }, /port:/],
      [{ host: "2001:db8::1", mx: false }, /IPv6/],
      [{ host: "mail isp", mx: false }, /DNS name/],
      [{ host: "", mx: false }, /DNS name/],
      [{ host: "mail..isp", mx: false }, /DNS name/],
      [{ host: "mail.isp\n", mx: false }, /DNS name/],
      [{ host: "300.1.1.1", mx: false }, /IPv4/],
      [{ host: "192.168.1.1", mx: true }, /MX/],
      [{ host: "mail.isp.example", port: "imap", mx: false }, /unknown relay port "imap"/],
      [{ host: "mail.isp.example", port: 0, mx: false }, /unknown relay port "0"/],
    ];
    for (const [hop, message] of bad) {
      it(`rejects ${JSON.stringify(hop)}`, () => {
        expect(() => formatNextHop(hop)).to.throw(InputError, message);
      });
    }
  });

  describe("resolvePort", () => {
    const cases: [string | number, number][] = [
      ["smtp", 25],
      ["submission", 587],
      ["smtps", 465],
      ["submissions", 465],
      [587, 587],
      ["2525", 2525],
      [1, 1],
      [65535, 65535],
    ];
    for (const [port, expected] of cases) {
      it(`${JSON.stringify(port)} -> ${expected}`, () => expect(resolvePort(port)).to.equal(expected));
    }
    for (const port of ["imap", "", "65536", 0, -1, 58.7, "0x1d", "SUBMISSION"]) {
      it(`rejects ${JSON.stringify(port)} and lists what works`, () => {
        expect(() => resolvePort(port)).to.throw(
          InputError,
          /use a number .* smtp, submission, smtps, submissions/,
        );
      });
    }
  });

  describe("isImplicitTls", () => {
    const cases: [string | number | undefined, boolean][] = [
      [465, true],
      ["465", true],
      ["smtps", true],
      ["submissions", true],
      ["submission", false],
      [587, false],
      [undefined, false],
    ];
    for (const [port, expected] of cases) {
      it(`${String(port)} -> ${expected}`, () => expect(isImplicitTls(port)).to.equal(expected));
    }
  });
});
