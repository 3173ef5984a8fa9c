import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  labPlaybook,
  LAB_PLAY,
  modeOwner,
  onHost,
  PASSWORDS,
  postconf,
  provision,
  REPO,
  sendMail,
  labTargets,
  useLab,
  writeInventory,
} from "./support.js";

/**
 * Every SOHO_README scenario (MISSION.md), applied by the real CLI to a fresh Debian "Local only"
 * Postfix, then proven with real mail through real SMTP relays that demand AUTH.
 */
for (const target of labTargets()) {
  describe(`SOHO scenarios on ${target.title}, end to end with real mail`, function () {
    this.timeout(300_000);
    const hosts = ["site", "xlator", "canon", "smtps", "alone"];
    const { lab, work } = useLab(hosts, target);
    let inventory: string;

    before(function () {
      inventory = writeInventory(lab(), join(work, "hosts.yaml"), hosts);
    });

    async function apply(playbook: string, host: string, env = PASSWORDS) {
      const result = await provision(["apply", playbook, "-i", inventory, "--limit", host], work, env);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      return result;
    }

    /** Send from `host` as cron would, to a remote address, and wait for the message at a relay. */
    async function relayed(host: string, from: string, subject: string) {
      await sendMail(lab(), host, from, "friend@elsewhere.example", subject);
      const mail = await lab().waitForMessage((m) => m.data.includes(`Subject: ${subject}`));
      return { ...mail, route: [mail.relay, mail.authUser, mail.mailFrom] };
    }

    it("sender-dependent relays (site.yaml): each sender leaves through its own provider with its own login", async () => {
      await apply(labPlaybook(join(work, "site.yaml"), "site.yaml"), "site");
      const l = lab();

      const isp = await relayed("site", "his@localdomain.local", "isp");
      expect(isp.relay).to.equal("isp");
      expect(isp.authUser).to.equal("username");
      expect(isp.mailFrom, "generic rewrites the made-up sender").to.equal("hisaccount@hisisp.example");
      expect(isp.rcptTo).to.deep.equal(["friend@elsewhere.example"]);

      const catchAll = await relayed("site", "someone@localdomain.local", "catchall");
      expect(catchAll.mailFrom).to.equal("hisaccount+local@hisisp.example");

      const user1 = await relayed("site", "user1@example.com", "user1");
      expect(user1.route).to.deep.equal(["example-com", "username2", "user1@example.com"]);
      const user2 = await relayed("site", "user2@example.net", "user2");
      expect(user2.route).to.deep.equal(["example-net", "username2", "user2@example.net"]);

      expect(await postconf(l, "site", "relayhost")).to.equal("[mail.isp.example]:submission");
      expect(await postconf(l, "site", "smtp_sender_dependent_authentication")).to.equal("yes");
      expect(await modeOwner(l, "site", "/etc/postfix/sasl_passwd")).to.equal("600 root:root");
      expect(await modeOwner(l, "site", "/etc/postfix/sasl_passwd.db")).to.equal("600 root:root");
      expect(await modeOwner(l, "site", "/etc/postfix/sender_relay.db")).to.equal("600 root:root");
      expect(await modeOwner(l, "site", "/etc/postfix/main.cf")).to.equal("644 root:root");
      expect(l.authFailures()).to.deep.equal([]);
    });

    it("the translator's setup: [foo.bar.com]:587, plain/login, password from a command, generic", async () => {
      const text = readFileSync(join(REPO, "playbooks", "translator.yaml"), "utf8").replace(
        'command: "pass show mail/foo.bar.com"',
        `command: "printf '%s' \\"$SMTP_PASSWORD\\""`,
      );
      writeFileSync(join(work, "translator.yaml"), text + LAB_PLAY);
      await apply(join(work, "translator.yaml"), "xlator");
      const l = lab();
      const mail = await relayed("xlator", "logwatch@linux.myhome.net", "logwatch");
      expect(mail.route).to.deep.equal(["foo-bar", "hoge", "hoge@foo.bar.com"]);
      expect(await postconf(l, "xlator", "smtp_sasl_mechanism_filter")).to.equal("plain, login");
      expect(await postconf(l, "xlator", "smtp_sasl_security_options")).to.equal("noanonymous");
      expect(
        await onHost(l, "xlator", "postmap -q '[foo.bar.com]:587' hash:/etc/postfix/sasl_passwd"),
      ).to.equal("hoge:piyopiyo\n");
    });

    it("canonical + virtual (Postfix <= 2.1 solution): login rewritten on the way out, ISP address delivered locally", async () => {
      const l = lab();
      const text =
        readFileSync(join(REPO, "playbooks", "canonical-virtual.yaml"), "utf8").replaceAll(
          "your-login-name",
          l.sudoUser,
        ) +
        `
- name: relay for the canonical scenario
  hosts: home
  postfix:
    relay: { host: mail.isp.example, port: submission, username: username, password: { env: ISP_PASSWORD } }
` +
        LAB_PLAY;
      writeFileSync(join(work, "canonical.yaml"), text);
      await apply(join(work, "canonical.yaml"), "canon");

      const out = await relayed("canon", l.sudoUser, "canonical");
      expect(out.mailFrom).to.equal("your-account@your-isp.example");

      await sendMail(l, "canon", "friend@elsewhere.example", "your-account@your-isp.example", "virtual");
      const mailbox = `/var/mail/${l.sudoUser}`;
      let delivered = "";
      for (let i = 0; i < 60 && !delivered.includes("Subject: virtual"); i++) {
        await new Promise((r) => setTimeout(r, 500));
        delivered = (await l.run("canon", `cat ${mailbox} 2>/dev/null`)).stdout;
      }
      expect(delivered, "virtual_alias_maps delivers the ISP address to the local login").to.include(
        "Subject: virtual",
      );
      expect(l.messages().some((m) => m.data.includes("Subject: virtual"))).to.equal(false);
    });

    it("port 465: wrapper mode with encrypt, authenticated at the implicit-TLS relay", async () => {
      const text = readFileSync(join(REPO, "playbooks", "sasl-relay.yaml"), "utf8")
        .replace("host: mail.isp.example", "host: smtps.isp.example")
        .replace(/port: submission.*$/m, "port: 465");
      writeFileSync(join(work, "smtps.yaml"), text + LAB_PLAY);
      await apply(join(work, "smtps.yaml"), "smtps");
      const l = lab();
      expect(await postconf(l, "smtps", "smtp_tls_wrappermode")).to.equal("yes");
      expect(await postconf(l, "smtps", "smtp_tls_security_level")).to.equal("encrypt");
      expect(await postconf(l, "smtps", "relayhost")).to.equal("[smtps.isp.example]:465");
      const mail = await relayed("smtps", "root", "smtps");
      expect([mail.relay, mail.authUser]).to.deep.equal(["isp-smtps", "username"]);
    });

    it("standalone Internet host: postconf -n shows exactly the declared parameters", async () => {
      await apply(join(REPO, "playbooks", "standalone.yaml"), "alone");
      const l = lab();
      const shown = await onHost(l, "alone", "postconf -n");
      expect(shown).to.match(/^myorigin = \$mydomain$/m);
      expect(shown).to.match(/^proxy_interfaces = 1\.2\.3\.4$/m);
      expect(shown).to.match(/^mynetworks_style = host$/m);
      expect(shown).to.match(/^relay_domains =$/m);
      // Lines the playbook does not own are untouched: Debian's Local-only settings stay.
      expect(shown).to.match(/^inet_interfaces = loopback-only$/m);
      expect(shown).to.match(/^default_transport = error$/m);
    });
  });
}
