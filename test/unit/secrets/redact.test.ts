import { expect } from "chai";
import { createRedactor } from "../../../src/secrets/redact.js";
import { Secret } from "../../../src/secrets/secret.js";

const redactor = (...values: string[]) => createRedactor(values.map((v, i) => new Secret(v, `env S${i}`)));

describe("output redaction", () => {
  it("masks a secret where it stands as a token, with any punctuation around it", () => {
    const { text } = redactor("isp-Pa55:with#hash", "piyopiyo");
    expect(text("[mail.isp.example]:submission username:isp-Pa55:with#hash\n")).to.equal(
      "[mail.isp.example]:submission username:********\n",
    );
    expect(text('hoge:piyopiyo "piyopiyo" (piyopiyo).')).to.equal('hoge:******** "********" (********).');
  });

  it("leaves words that merely contain the secret alone", () => {
    const { text } = redactor("newbox", "passwd");
    expect(text("newboxes sasl_passwd smtp_sasl_password_maps passwd2 Passwd")).to.equal(
      "newboxes sasl_passwd smtp_sasl_password_maps passwd2 Passwd",
    );
    expect(text("host newbox: failed")).to.equal("host ********: failed");
  });

  it("masks the longer of two overlapping secrets whole", () => {
    const { text } = redactor("secret", "secret-longer");
    expect(text("a secret-longer b secret")).to.equal("a ******** b ********");
  });

  it("a secret with regular expression characters is matched literally", () => {
    const { text } = redactor("a.b*c(d)[e]$", "x\\y+z?");
    expect(text("1 a.b*c(d)[e]$ 2 aXbbc 3 x\\y+z?")).to.equal("1 ******** 2 aXbbc 3 ********");
  });

  it("in a JSON document masks string values only: keys, numbers and structure stay", () => {
    const { json } = redactor("exitCode", "status");
    const document = { exitCode: 1, hosts: [{ name: "nas", status: "status", error: "bad exitCode here" }] };
    expect(json(document)).to.deep.equal({
      exitCode: 1,
      hosts: [{ name: "nas", status: "********", error: "bad ******** here" }],
    });
    expect(document.hosts[0]?.status, "the original is not modified").to.equal("status");
  });

  it("refuses a secret shorter than 6 characters, naming where it came from but not the value", () => {
    expect(() => redactor("long-enough", "x1y2z")).to.throw(
      "the password from env S1 is shorter than 6 characters",
    );
    expect(() => redactor("ab😀cde")).to.not.throw();
    expect(() => redactor("ab😀c")).to.throw("shorter than 6 characters");
  });

  it("without secrets, changes nothing", () => {
    const { text, json } = createRedactor([]);
    expect(text("x")).to.equal("x");
    const document = { a: "x" };
    expect(json(document)).to.equal(document);
  });
});
