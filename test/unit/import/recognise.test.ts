import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { HostFacts, RemoteFile } from "../../../src/facts/types.js";
import { importEffect } from "../../../src/import/compare.js";
import { tableEntries, tableRefs, parsePostconfN } from "../../../src/import/host-config.js";
import { envName, parseNextHop, recognise } from "../../../src/import/recognise.js";
import { renderPlaybook } from "../../../src/import/render.js";
import { loadPlaybook } from "../../../src/playbook/index.js";

/** `provision import`: a hand-made setup (main.cf + tables, as the SOHO guide writes them) -> a playbook. */

const DEBIAN_STOCK = `smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = nas
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
mydestination = $myhostname, nas, localhost.localdomain, localhost
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = loopback-only
inet_protocols = all
smtp_tls_security_level = may
`;

/** Facts of a host whose main.cf is `mainCf` (postconf -n = its sorted lines) and tables `tables`. */
function hostFacts(
  mainCf: string,
  tables: Record<string, { content: string; mode?: number }> = {},
): HostFacts {
  const file = (path: string, content: string, mode: number): RemoteFile => ({
    path,
    exists: true,
    content,
    mode,
    owner: "root",
    group: "root",
  });
  const files = new Map<string, RemoteFile>([
    ["/etc/postfix/main.cf", file("/etc/postfix/main.cf", mainCf, 0o644)],
  ]);
  for (const [name, { content, mode }] of Object.entries(tables))
    files.set(`/etc/postfix/${name}`, file(`/etc/postfix/${name}`, content, mode ?? 0o644));
  const lines = mainCf
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => l.replace(/\s*=\s*/, " = ").trimEnd());
  const postconfN = [...new Map(lines.map((l) => [l.split(" =")[0], l])).values()].sort().join("\n") + "\n";
  return {
    warnings: [],
    version: "3.7.11",
    defaultDatabaseType: "hash",
    supportedTypes: ["hash", "btree", "lmdb"],
    running: true,
    postconfN,
    files,
  };
}

function playbookOf(facts: HostFacts) {
  const recognised = recognise(facts);
  const text = renderPlaybook("nas", ["imported"], recognised.state, recognised.passwords);
  return { recognised, text, doc: parse(text)[0].postfix, effect: importEffect("nas", recognised, facts) };
}

describe("import: recognising a hand-made setup", () => {
  it("standalone: main: holds what the admin set, not the distribution's stock values", () => {
    const facts = hostFacts(
      `${DEBIAN_STOCK}myorigin = $mydomain\nmydomain = home.example\nrelay_domains =\n`,
    );
    const { doc, effect } = playbookOf(facts);
    expect(doc.main).to.deep.equal({
      inet_interfaces: "loopback-only",
      mydestination: "$myhostname, nas, localhost.localdomain, localhost",
      mydomain: "home.example",
      myhostname: "nas",
      myorigin: "$mydomain",
      relay_domains: "",
    });
    expect(effect).to.deep.equal({ mainChanges: [], entryChanges: [], rewrites: [] });
  });

  it("Debian 13's installer values are stock too; its mynetworks_style and myorigin stay the host's", () => {
    const trixie = `smtpd_banner = $myhostname ESMTP $mail_name (Debian)
biff = no
compatibility_level = 3.9
cyrus_sasl_config_path = /etc/postfix/sasl
mailbox_command =
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = loopback-only
inet_protocols = all
myhostname = nas
mydestination = nas, localhost
mynetworks_style = host
myorigin = $myhostname
relayhost =
`;
    const { doc, effect } = playbookOf(hostFacts(trixie));
    expect(doc.main).to.deep.equal({
      inet_interfaces: "loopback-only",
      mydestination: "nas, localhost",
      myhostname: "nas",
      mynetworks_style: "host",
      myorigin: "$myhostname",
    });
    expect(effect).to.deep.equal({ mainChanges: [], entryChanges: [], rewrites: [] });
  });

  it("generic with the guide's name becomes generic:; its apply only rewrites the file and tightens its mode", () => {
    const generic =
      "his@localdomain.local   hisaccount@hisisp.example\n@localdomain.local hisaccount+local@hisisp.example\n";
    const facts = hostFacts(`${DEBIAN_STOCK}smtp_generic_maps = hash:/etc/postfix/generic\n`, {
      generic: { content: generic },
    });
    const { doc, effect } = playbookOf(facts);
    expect(doc.generic).to.deep.equal({
      "his@localdomain.local": "hisaccount@hisisp.example",
      "@localdomain.local": "hisaccount+local@hisisp.example",
    });
    expect(doc.main).to.not.have.property("smtp_generic_maps");
    expect(effect.mainChanges).to.deep.equal([]);
    expect(effect.entryChanges).to.deep.equal([]);
    expect(effect.rewrites).to.deep.equal([
      "/etc/postfix/generic: rewritten in provision's format, root:root 0644 -> root:root 0600",
    ]);
  });

  it("a table under another name, or of another type than the play's, becomes tables:", () => {
    const facts = hostFacts(
      `${DEBIAN_STOCK}canonical_maps = hash:/etc/postfix/canonical\nvirtual_alias_maps = lmdb:/etc/postfix/virtual\ntransport_maps = hash:/etc/postfix/transport\n`,
      {
        canonical: { content: "root me@isp.example\n" },
        virtual: { content: "me@isp.example root\n" },
        transport: { content: "example.com smtp:[mx.example.com]\n" },
      },
    );
    const { doc, effect } = playbookOf(facts);
    expect(doc.canonical).to.deep.equal({ root: "me@isp.example" });
    expect(doc.tables).to.deep.equal({
      transport: { parameter: "transport_maps", entries: { "example.com": "smtp:[mx.example.com]" } },
    });
    // virtual is provision's own name, and of another type than canonical: left as it is.
    expect(doc.main.virtual_alias_maps).to.equal("lmdb:/etc/postfix/virtual");
    expect(effect.mainChanges).to.deep.equal([]);
    expect(effect.entryChanges).to.deep.equal([]);
  });

  it("sender-dependent relays: relay: and senders: with { env: NAME } passwords; no password in the document", () => {
    const main = `${DEBIAN_STOCK}relayhost = [mail.isp.example]:submission
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
smtp_tls_security_level = encrypt
smtp_sender_dependent_authentication = yes
sender_dependent_relayhost_maps = hash:/etc/postfix/sender_relay
default_transport = error
`;
    const sasl =
      "user1@example.com username2:pw-one-secret\n[mail.isp.example]:submission username:pw:two#secret\n";
    const senderRelay = "user1@example.com [mail.example.com]:submission\n";
    const facts = hostFacts(main, {
      sasl_passwd: { content: sasl, mode: 0o600 },
      sender_relay: { content: senderRelay },
    });
    const { doc, text, recognised, effect } = playbookOf(facts);
    expect(text).to.not.include("pw-one-secret").and.not.include("pw:two#secret");
    expect(doc.relay).to.deep.equal({
      host: "mail.isp.example",
      port: "submission",
      username: "username",
      password: { env: "MAIL_ISP_EXAMPLE_PASSWORD" },
      tls: "encrypt",
    });
    expect(doc.senders).to.deep.equal({
      "user1@example.com": {
        relay: { host: "mail.example.com", port: "submission" },
        username: "username2",
        password: { env: "USER1_EXAMPLE_COM_PASSWORD" },
      },
    });
    // Kept, or the relay would remove it: the host's choice stays the host's.
    expect(doc.main.default_transport).to.equal("error");
    expect(recognised.passwords.map((p) => `${p.env} ${p.what}`)).to.deep.equal([
      "USER1_EXAMPLE_COM_PASSWORD username2 for user1@example.com",
      "MAIL_ISP_EXAMPLE_PASSWORD username for [mail.isp.example]:submission",
    ]);
    expect(effect.mainChanges).to.deep.equal([]);
    expect(effect.entryChanges).to.deep.equal([]);
  });

  it("smtp_sasl_tls_security_options left at Postfix's default stays unset: no main.cf change", () => {
    const main = `${DEBIAN_STOCK}relayhost = [mail.isp.example]\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\nsmtp_sasl_security_options = noanonymous\n`;
    const facts = hostFacts(main, {
      sasl_passwd: { content: "[mail.isp.example] me:secret-pass\n", mode: 0o600 },
    });
    const { effect, doc } = playbookOf(facts);
    expect(doc.relay.tls).to.equal("may");
    expect(effect.mainChanges).to.deep.equal([]);
    expect(doc.main).to.not.have.property("smtp_sasl_tls_security_options");
  });

  it("TLS sessions with options of their own keep them as a main: value: no main.cf change", () => {
    const main = `${DEBIAN_STOCK}relayhost = [mail.isp.example]\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\nsmtp_sasl_security_options = noanonymous, noplaintext\nsmtp_sasl_tls_security_options = noanonymous\nsmtp_tls_security_level = encrypt\n`;
    const facts = hostFacts(main, {
      sasl_passwd: { content: "[mail.isp.example] me:secret-pass\n", mode: 0o600 },
    });
    const { effect, doc } = playbookOf(facts);
    expect(doc.relay.security_options).to.equal("noanonymous, noplaintext");
    expect(doc.main.smtp_sasl_tls_security_options).to.equal("noanonymous");
    expect(effect.mainChanges).to.deep.equal([]);
  });

  it("the translator's smtp_passwd (not provision's sasl_passwd name) stays unmanaged, with a note", () => {
    const main = `${DEBIAN_STOCK}relayhost = [foo.bar.com]:587\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/smtp_passwd\n`;
    const facts = hostFacts(main, {
      smtp_passwd: { content: "[foo.bar.com]:587 hoge:piyopiyo\n", mode: 0o600 },
    });
    const { doc, text, recognised, effect } = playbookOf(facts);
    expect(doc.relay).to.equal(undefined);
    expect(doc.tables).to.equal(undefined);
    expect(doc.main).to.include({
      relayhost: "[foo.bar.com]:587",
      smtp_sasl_password_maps: "hash:/etc/postfix/smtp_passwd",
    });
    expect(text).to.not.include("piyopiyo");
    expect(recognised.notes.join("\n")).to.include("not one table /etc/postfix/sasl_passwd");
    expect(effect).to.deep.equal({ mainChanges: [], entryChanges: [], rewrites: [] });
  });

  it("the printed playbook loads as a playbook", () => {
    const facts = hostFacts(
      `${DEBIAN_STOCK}relayhost = [mail.isp.example]:465\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\nsmtp_tls_wrappermode = yes\nsmtp_tls_security_level = encrypt\nsmtp_sasl_mechanism_filter = plain, login\n`,
      {
        sasl_passwd: { content: "[mail.isp.example]:465 me:secret-pass\n" },
      },
    );
    const file = join(mkdtempSync(join(tmpdir(), "import-")), "nas.yaml");
    writeFileSync(file, playbookOf(facts).text);
    const [play] = loadPlaybook(file).plays;
    expect(play?.postfix.relay).to.include({
      host: "mail.isp.example",
      port: 465,
      mechanisms: "plain, login",
    });
  });

  it("helpers: next-hops, environment names, table entries, referenced tables", () => {
    expect(parseNextHop("[a.example]:submission")).to.deep.equal({
      host: "a.example",
      mx: false,
      port: "submission",
    });
    expect(parseNextHop("a.example:587")).to.deep.equal({ host: "a.example", mx: true, port: 587 });
    expect(parseNextHop("a b")).to.equal(undefined);
    expect(envName("@example.net", [])).to.equal("EXAMPLE_NET_PASSWORD");
    expect(tableEntries("# c\nk1 v1\n  more\nK1 dup\nk2\tv2\n")).to.deep.equal([
      { key: "k1", value: "v1\n  more".replace("\n", "") },
      { key: "k2", value: "v2" },
    ]);
    const refs = tableRefs(
      parsePostconfN(
        "a = hash:/etc/postfix/x\nb = hash:/etc/postfix/y, hash:/etc/postfix/z\nc = regexp:/etc/postfix/r\n",
      ),
    );
    expect(refs.map((r) => r.parameter)).to.deep.equal(["a"]);
  });
});
