import { expect } from "chai";
import { openFailure, replyProblem } from "../../../src/verify/classify.js";
import { parseHostFacts } from "../../../src/verify/host-facts.js";
import { messageFates, parseSendOutput } from "../../../src/verify/send-test.js";
import { verifyExitCode } from "../../../src/cli/verify-command.js";

describe("verify: causes, facts and fates", () => {
  const where = { host: "mail.isp.example", address: "198.18.0.2", port: 587, hostName: "nas" };

  it("classifies the host sshd's channel open failures", () => {
    const kind = (message: string, reason?: number) =>
      openFailure({ message, ...(reason && { reason }) }, where).kind;
    expect(kind("Connection refused")).to.equal("connection-refused");
    expect(kind("timed out")).to.equal("timed-out");
    expect(kind("No route to host")).to.equal("no-route");
    expect(kind("open failed", 1)).to.equal("forwarding-refused");
    expect(kind("administratively prohibited: open failed")).to.equal("forwarding-refused");
    expect(kind("Name or service not known")).to.equal("name-does-not-resolve");
    expect(openFailure({ message: "Connection refused" }, where).message).to.equal(
      "connection refused: nothing accepts connections on mail.isp.example (198.18.0.2) port 587 as seen from nas",
    );
  });

  it("classifies the relay's replies by the step they answer", () => {
    const reply = { code: 535, lines: ["5.7.8 Authentication credentials invalid"] };
    expect(replyProblem("auth", reply, { username: "username" })).to.deep.equal({
      kind: "authentication-failed",
      message:
        "authentication failed as username: the relay said 535 5.7.8 Authentication credentials invalid",
      reply: "535 5.7.8 Authentication credentials invalid",
    });
    expect(replyProblem("mail", { code: 553, lines: ["sender not owned by user"] }).kind).to.equal(
      "sender-refused",
    );
    expect(replyProblem("rcpt", { code: 550, lines: ["no"] }).kind).to.equal("recipient-refused");
    expect(replyProblem("greeting", { code: 554, lines: ["go away"] }).kind).to.equal("session-refused");
  });

  it("reads the host's facts: plugins by name, names that resolve, myorigin, distribution, relayhost", () => {
    const facts = parseHostFacts(
      "nas",
      [
        "version\t3.7.11",
        "types\tbtree cidr hash ",
        "sasl_plugin_dir\t/usr/lib/x86_64-linux-gnu/sasl2",
        "sasl_plugins\t libplain.so.2.0.25 libplain.so liblogin.so.2",
        "distro\tdebian\t",
        "myorigin\tnas.home.example",
        "sasl_clients\tcyrus ",
        "getent\tyes",
        "address\tmail.isp.example\t198.18.0.2",
        "address\tnowhere.example\t",
        "ca\t" + Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64"),
        "postconf_n\t" +
          Buffer.from("default_transport = error\nrelayhost = [hand.made]:587\n").toString("base64"),
        "noise without a tab",
      ].join("\n"),
    );
    expect(facts.relayhost, "as main.cf sets it").to.equal("[hand.made]:587");
    expect(parseHostFacts("nas", "version\t3.7.11\n").relayhost, "none set").to.equal("");
    expect(facts.saslPlugins).to.deep.equal(["login", "plain"]);
    expect(facts.saslPluginDirs).to.deep.equal(["/usr/lib/x86_64-linux-gnu/sasl2"]);
    expect([...facts.addresses]).to.deep.equal([["mail.isp.example", "198.18.0.2"]]);
    expect(facts).to.include({ version: "3.7.11", myorigin: "nas.home.example", getent: true });
    expect(facts.saslClients).to.deep.equal(["cyrus"]);
    expect(facts.distro).to.deep.equal({ id: "debian", like: [] });
    expect(facts.supportedTypes).to.deep.equal(["btree", "cidr", "hash"]);
    expect(facts.caCertificates).to.equal("-----BEGIN CERTIFICATE-----\n");
  });

  it("a host without Postfix is an error naming what to install", () => {
    expect(() => parseHostFacts("nas", "no-postfix\t1\n")).to.throw(/Postfix is not installed/);
  });

  it("finds each test message's fate in the mail log", () => {
    const log = [
      "Nov 30 03:29:01 pi postfix/pickup[10]: 4AB12: uid=0 from=<root>",
      "Nov 30 03:29:01 pi postfix/cleanup[11]: 4AB12: message-id=<provision-verify.r.1@provision.invalid>",
      "Nov 30 03:29:01 pi postfix/cleanup[11]: 5CD34: message-id=<provision-verify.r.2@provision.invalid>",
      "Nov 30 03:29:01 pi postfix/cleanup[11]: 6EF56: message-id=<provision-verify.r.3@provision.invalid>",
      "Nov 30 03:29:02 pi postfix/smtp[12]: 4AB12: SASL authentication failed; server mail.isp.example[198.18.0.2] said: 535 no",
      "Nov 30 03:29:02 pi postfix/smtp[12]: 4AB12: to=<f@e.example>, relay=mail.isp.example[198.18.0.2]:587, delay=0.2, delays=0/0/0.1/0, dsn=4.7.8, status=deferred (SASL authentication failed; server mail.isp.example[198.18.0.2] said: 535 no)",
      "Nov 30 03:29:02 pi postfix/smtp[13]: 5CD34: to=<f@e.example>, relay=mail.example.com[198.18.0.4]:587, delay=0.3, dsn=2.0.0, status=sent (250 queued as lab-7)",
    ].join("\n");
    const fates = messageFates(log, [
      "provision-verify.r.1@provision.invalid",
      "provision-verify.r.2@provision.invalid",
      "provision-verify.r.3@provision.invalid",
      "provision-verify.r.4@provision.invalid",
    ]);
    expect(fates.get("provision-verify.r.1@provision.invalid")).to.deep.equal({
      status: "deferred",
      queueId: "4AB12",
      reason: "SASL authentication failed; server mail.isp.example[198.18.0.2] said: 535 no",
      relay: "mail.isp.example[198.18.0.2]:587",
    });
    expect(fates.get("provision-verify.r.2@provision.invalid")).to.include({
      status: "sent",
      reason: "250 queued as lab-7",
    });
    expect(fates.get("provision-verify.r.3@provision.invalid")).to.deep.equal({
      status: "waiting",
      queueId: "6EF56",
    });
    expect(fates.get("provision-verify.r.4@provision.invalid")).to.deep.equal({ status: "waiting" });
  });

  it("finds the fates in the journal as read_log takes it (journalctl -o cat: no syslog prefix)", () => {
    // A systemd host without a syslog daemon: only the message text, of every unit, in order.
    const log = [
      "4AB12: uid=0 from=<root>",
      "4AB12: message-id=<provision-verify.j.1@provision.invalid>",
      "Started session-4.scope - Session 4 of User root.",
      "5CD34: message-id=<provision-verify.j.2@provision.invalid>",
      "4AB12: to=<f@e.example>, relay=mail.isp.example[198.18.0.10]:587, delay=0.2, delays=0/0/0.1/0, dsn=4.7.8, status=deferred (SASL authentication failed; server mail.isp.example[198.18.0.10] said: 535 no)",
      "5CD34: to=<f@e.example>, relay=mail.example.com[198.18.0.12]:587, delay=0.3, dsn=2.0.0, status=sent (250 queued as lab-7)",
    ].join("\n");
    const fates = messageFates(log, [
      "provision-verify.j.1@provision.invalid",
      "provision-verify.j.2@provision.invalid",
    ]);
    expect(fates.get("provision-verify.j.1@provision.invalid")).to.deep.equal({
      status: "deferred",
      queueId: "4AB12",
      reason: "SASL authentication failed; server mail.isp.example[198.18.0.10] said: 535 no",
      relay: "mail.isp.example[198.18.0.10]:587",
    });
    expect(fates.get("provision-verify.j.2@provision.invalid")).to.deep.equal({
      status: "sent",
      queueId: "5CD34",
      reason: "250 queued as lab-7",
      relay: "mail.example.com[198.18.0.12]:587",
    });
  });

  it("reads what sendmail refused outright", () => {
    const sent = parseSendOutput(
      "log_start\t1764470000\t1234\t/var/log/mail.log\nrefused\tid-2\tsendmail: fatal: bad address \n",
    );
    expect(sent.start).to.deep.equal({ since: 1764470000, offset: 1234, file: "/var/log/mail.log" });
    expect([...sent.refused]).to.deep.equal([["id-2", "sendmail: fatal: bad address"]]);
  });

  it("exit codes: 1 when a path fails, else 3 when a host is unreachable, else 0", () => {
    const host = (status: "ok" | "failed" | "unreachable") => ({
      name: "h",
      address: "a",
      status,
      paths: [],
    });
    expect(verifyExitCode([host("ok"), host("ok")])).to.equal(0);
    expect(verifyExitCode([host("ok"), host("unreachable")])).to.equal(3);
    expect(verifyExitCode([host("failed"), host("unreachable")])).to.equal(1);
  });
});
