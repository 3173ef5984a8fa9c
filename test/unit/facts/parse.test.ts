import { createHash } from "node:crypto";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { parseFacts } from "../../../src/facts/parse.js";
import { factsScript } from "../../../src/facts/script.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/facts/${name}`, import.meta.url), "utf8");

describe("facts", () => {
  it("parses the facts of a fresh Debian 'Local only' Postfix (recorded output)", () => {
    const facts = parseFacts("nas", fixture("debian-local-only.txt"));
    expect(facts.version).to.equal("3.7.11");
    expect(facts.defaultDatabaseType).to.equal("hash");
    expect(facts.supportedTypes).to.include.members(["hash", "btree", "regexp", "texthash"]);
    expect(facts.running).to.equal(true);
    expect(facts.postconfN).to.match(/^default_transport = error$/m);
    const main = facts.files.get("/etc/postfix/main.cf");
    expect(main).to.include({ exists: true, mode: 0o644, owner: "root", group: "root" });
    expect(main?.content).to.match(/^inet_interfaces = loopback-only$/m);
    expect(facts.files.get("/etc/postfix/generic")).to.deep.equal({
      path: "/etc/postfix/generic",
      exists: false,
    });
    expect(facts.files.get("/etc/postfix/generic.db")?.exists).to.equal(false);
  });

  it("reads the SASL plugins (each once, by name), the distribution and the unknown parameter names", () => {
    const output = [
      "version\t3.7.11",
      "sasl_plugins\t libplain.so libplain.so.2 libplain.so.2.0.25 liblogin.so.3.0.0 libsasldb.so",
      "distro\trocky\trhel centos fedora",
      "unknown_parameter\tsmtp_helo_timout",
      "unknown_parameter\tmyorign",
    ].join("\n");
    const facts = parseFacts("nas", output);
    expect(facts.saslPlugins).to.deep.equal(["login", "plain", "sasldb"]);
    expect(facts.distro).to.deep.equal({ id: "rocky", like: ["rhel", "centos", "fedora"] });
    expect(facts.unknownParameters).to.deep.equal(["smtp_helo_timout", "myorign"]);
    // No plugin directory at all: an empty list, not "unknown".
    expect(parseFacts("nas", "version\t3.7.11\nsasl_plugins\t").saslPlugins).to.deep.equal([]);
  });

  it("keeps an empty file's content as empty text, and a stat-only file without content", () => {
    const output = [
      "version\t3.7.11",
      "file\t/etc/postfix/generic\t600 root root 1700000000.5\t",
      "file\t/etc/postfix/generic.db\t644 root root 1700000001.25",
    ].join("\n");
    const facts = parseFacts("nas", output);
    expect(facts.files.get("/etc/postfix/generic")).to.include({
      content: "",
      mode: 0o600,
      mtime: 1700000000.5,
    });
    expect(facts.files.get("/etc/postfix/generic.db")).to.not.have.property("content");
    expect(facts.files.get("/etc/postfix/generic.db")?.mode).to.equal(0o644);
  });

  it("flags content that is not valid UTF-8, and checksums the exact bytes", () => {
    const bytes = Buffer.from("# Ge\xe4ndert\n", "latin1");
    const facts = parseFacts(
      "nas",
      `version\t3.7.11\nfile\t/etc/postfix/main.cf\t644 root root 1\t${bytes.toString("base64")}\n`,
    );
    const main = facts.files.get("/etc/postfix/main.cf");
    expect(main?.utf8).to.equal(false);
    expect(main?.sha256).to.equal(createHash("sha256").update(bytes).digest("hex"));
  });

  it("says what Postfix says when it cannot read its own main.cf", () => {
    expect(() =>
      parseFacts(
        "nas",
        "postconf_error\tpostconf: fatal: /etc/postfix/main.cf, line 2: missing '=' after attribute name\n",
      ),
    ).to.throw(/Postfix cannot read its configuration: postconf: fatal: .*line 2: missing '='/);
  });

  it("reports a host locked by another run, naming the holder", () => {
    expect(() =>
      parseFacts("pi", "locked\tprovision apply (run 1a2b, pid 77) since 2026-11-27 22:50:01\n"),
    ).to.throw(/another provision run holds the host's run lock \(provision apply \(run 1a2b/);
  });

  it("reports a host without Postfix clearly", () => {
    expect(() => parseFacts("pi", "no-postfix\t1\n")).to.throw(/Postfix is not installed/);
  });

  it("quotes every path it asks about, so a name cannot break out of the script", () => {
    const script = factsScript(
      { contents: ["/etc/postfix/it's"], stats: [] },
      { runId: "r1", waitSeconds: 5 },
    );
    expect(script).to.include(`file_fact '/etc/postfix/it'\\''s' content`);
  });
});
