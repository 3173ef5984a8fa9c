import { expect } from "chai";
import { filterAllows } from "../../../src/diagnose/sasl.js";
import { chooseMechanism, type MechanismInput } from "../../../src/verify/mechanisms.js";

describe("verify/mechanisms: the SASL mechanism the host's Postfix would use", () => {
  const input = (over: Partial<MechanismInput>): MechanismInput => ({
    offered: ["PLAIN", "LOGIN"],
    filter: [],
    securityOptions: ["noanonymous"],
    plugins: ["plain", "login", "crammd5", "digestmd5", "anonymous"],
    pluginDirs: ["/usr/lib/x86_64-linux-gnu/sasl2"],
    distro: { id: "debian", like: [] },
    host: "nas",
    ...over,
  });

  it("takes the first offered among equals (PLAIN before LOGIN), as Cyrus does", () => {
    expect(chooseMechanism(input({}))).to.deep.equal({ ok: true, mechanism: "PLAIN" });
    expect(chooseMechanism(input({ offered: ["LOGIN", "PLAIN"] }))).to.deep.equal({
      ok: true,
      mechanism: "LOGIN",
    });
  });

  it("prefers a stronger mechanism the relay also offers", () => {
    expect(chooseMechanism(input({ offered: ["PLAIN", "LOGIN", "CRAM-MD5"] }))).to.deep.equal({
      ok: true,
      mechanism: "CRAM-MD5",
    });
  });

  it("respects the mechanism filter; nothing left is Postfix's 'offered no supported AUTH mechanisms'", () => {
    expect(chooseMechanism(input({ filter: ["login"] }))).to.deep.equal({ ok: true, mechanism: "LOGIN" });
    const none = chooseMechanism(input({ filter: ["cram-md5"] }));
    expect(none.ok).to.equal(false);
    expect(!none.ok && none.why).to.match(
      /mechanism filter \(mechanisms: cram-md5\) matches none .*PLAIN, LOGIN/,
    );
  });

  it("noplaintext refuses PLAIN and LOGIN: 'No worthy mechs found', with the way out", () => {
    const choice = chooseMechanism(input({ securityOptions: ["noplaintext", "noanonymous"] }));
    expect(choice.ok).to.equal(false);
    expect(!choice.ok && choice.why).to.include(
      "the security options (noplaintext, noanonymous) refuse every mechanism the relay offers (PLAIN, LOGIN: noplaintext rules them out)",
    );
    expect(!choice.ok && choice.why).to.include("security_options: [noanonymous]");
  });

  it("missing plugins name the package of the host's distribution", () => {
    const debian = chooseMechanism(input({ plugins: ["anonymous"] }));
    expect(!debian.ok && debian.why).to.include(
      "the SASL plugin package libsasl2-modules is not installed on nas (no libplain.so or liblogin.so in /usr/lib/x86_64-linux-gnu/sasl2)",
    );
    const fedora = chooseMechanism(input({ plugins: [], distro: { id: "rocky", like: ["rhel", "fedora"] } }));
    expect(!fedora.ok && fedora.why).to.include("the SASL plugin package cyrus-sasl-plain is not installed");
    const either = chooseMechanism(
      input({ offered: ["CRAM-MD5", "PLAIN"], plugins: [], distro: { id: "fedora", like: [] } }),
    );
    expect(!either.ok && either.why).to.include("cyrus-sasl-md5 or cyrus-sasl-plain is not installed");
    const unknown = chooseMechanism(input({ plugins: [], distro: undefined }));
    expect(!unknown.ok && unknown.why).to.include(
      "the Cyrus SASL plugin package of this distribution (Debian/Ubuntu: libsasl2-modules; Fedora/RHEL: cyrus-sasl-plain) is not installed on nas",
    );
  });

  it("both causes at once are both reported", () => {
    const choice = chooseMechanism(input({ plugins: [], securityOptions: ["noplaintext"] }));
    expect(!choice.ok && choice.why).to.match(
      /libsasl2-modules is not installed.*; and the security options/,
    );
  });

  it("a relay offering no AUTH, and a mechanism only Postfix can speak", () => {
    expect(chooseMechanism(input({ offered: [] }))).to.deep.include({ ok: false });
    const digest = chooseMechanism(input({ offered: ["DIGEST-MD5"] }));
    expect(!digest.ok && digest.why).to.match(/Postfix would use DIGEST-MD5, which verify cannot speak/);
    expect(chooseMechanism(input({ offered: ["DIGEST-MD5", "PLAIN"] }))).to.deep.equal({
      ok: true,
      mechanism: "PLAIN",
      note: "Postfix would use DIGEST-MD5, which verify cannot speak; probed with PLAIN",
    });
  });

  it("filterAllows: first match decides, !name excludes, empty allows all", () => {
    expect(filterAllows([], "PLAIN")).to.equal(true);
    expect(filterAllows(["!plain", "login"], "PLAIN")).to.equal(false);
    expect(filterAllows(["!plain", "login"], "LOGIN")).to.equal(true);
    expect(filterAllows(["login"], "CRAM-MD5")).to.equal(false);
  });
});
