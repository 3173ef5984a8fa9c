import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SOHO_RELAYS, type Lab, type RelayCommand, type RelaySpec } from "../lab/lab.js";
import {
  labPlaybook,
  labTargets,
  LAB_PLAY,
  onHost,
  PASSWORDS,
  provision,
  useLab,
  writeInventory,
} from "./support.js";

/**
 * The SOHO relays, the ISP's refusing senders and recipients it does not know (as a provider refuses an
 * address its user does not own), plus a relay that never answers and a mail exchanger for direct delivery.
 */
const RELAYS: RelaySpec[] = [
  ...SOHO_RELAYS.map((relay) =>
    relay.name === "isp"
      ? { ...relay, refuseSenders: ["@spoofed.example"], refuseRecipients: ["@unknown.example"] }
      : relay,
  ),
  { name: "silent", hostname: "silent.isp.example", port: 587, tls: "starttls", users: {}, silent: true },
  { name: "mx", hostname: "friends.example", port: 25, tls: "starttls", users: {}, mx: true },
];

/** The --send-test messages the relays received, as [relay, login, recipients], sorted. */
const testMessages = (lab: Lab) =>
  lab
    .messages()
    .filter((m) => m.data.includes("X-Provision-Verify:"))
    .map((m) => [m.relay, m.authUser, m.rcptTo.join()])
    .sort();

/**
 * `provision verify` against real lab hosts and the lab's AUTH-demanding relays: each path is proven from
 * the host (an SSH direct-tcpip channel the host's sshd opens), with the relay recording what it accepted;
 * nothing but --send-test may ever reach DATA.
 */
describe("verify: every sending path proven from the host", function () {
  this.timeout(300_000);
  const hosts = ["nas", "pi"];
  const { lab, work } = useLab(hosts, undefined, RELAYS);
  let inventory: string;
  let site: string;

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), hosts);
    site = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });

  /** A playbook of the lab play plus `play` (one Postfix state for both hosts). */
  function playbook(name: string, play: string): string {
    const file = join(work, name);
    writeFileSync(file, `- name: ${name}\n  hosts: home\n  postfix:\n${play}${LAB_PLAY}`);
    return file;
  }

  function verify(args: string[], env = PASSWORDS) {
    return provision(["verify", ...args, "-i", inventory], work, env);
  }

  /** What the relays accepted since `from` (an index into relayCommands()). */
  const accepted = (from: number) =>
    lab()
      .relayCommands()
      .slice(from)
      .map((c: RelayCommand) => `${c.relay} ${c.command} ${c.value}`);

  /** Mail log lines on the host that show a message entering Postfix. */
  const queuedOnHost = async (host: string) =>
    (await onHost(lab(), host, "grep -c 'message-id=' /var/log/mail.log || true")).trim();

  it("a working host: exit 0, each path's relay saw AUTH with the right user, MAIL FROM and RCPT TO, and no DATA", async () => {
    const applied = await provision(["apply", site, "-i", inventory, "--limit", "nas"], work);
    expect(applied.code, applied.stdout + applied.stderr).to.equal(0);
    const messages = lab().messages().length;
    const queued = await queuedOnHost("nas");
    const from = lab().relayCommands().length;

    const result = await verify([site, "--limit", "nas"]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(
      /default relay \[mail\.isp\.example\]:submission .*port 587\): TLS: STARTTLS/,
    );
    expect(result.stdout).to.include("AUTH accepted as username (PLAIN)");
    expect(result.stdout).to.match(
      /sender user1@example\.com via \[mail\.example\.com\]:submission .*AUTH accepted as username2/,
    );
    expect(result.stdout).to.match(
      /sender user2@example\.net via \[mail\.example\.net\] .*port 25\).*AUTH accepted as username2/,
    );
    expect(result.stdout).to.include("stopped before DATA");

    const origin = (await onHost(lab(), "nas", "postconf -x -h myorigin")).trim();
    expect(accepted(from)).to.deep.equal([
      "isp AUTH username",
      `isp MAIL FROM root@${origin}`,
      `isp RCPT TO root@${origin}`,
      "example-com AUTH username2",
      "example-com MAIL FROM user1@example.com",
      "example-com RCPT TO user1@example.com",
      "example-net AUTH username2",
      "example-net MAIL FROM user2@example.net",
      "example-net RCPT TO user2@example.net",
    ]);
    expect(lab().messages().length, "no message reached any relay").to.equal(messages);
    expect(await queuedOnHost("nas"), "no message entered the host's Postfix").to.equal(queued);
    expect(await onHost(lab(), "nas", "postqueue -p")).to.include("Mail queue is empty");
    expect(lab().authFailures()).to.deep.equal([]);
  });

  it("the generic: rewriting is applied to the sender, and --json reports every path", async () => {
    const rewritten = playbook(
      "rewrite.yaml",
      `    generic: { "@localdomain.local": hisaccount+local@hisisp.example, "root@{{ inventory_hostname }}.home.example": box@hisisp.example }
    main: { myorigin: "{{ inventory_hostname }}.home.example" }
    relay: { host: mail.isp.example, port: submission, username: username, password: { env: ISP_PASSWORD } }
`,
    );
    const result = await verify([rewritten, "--limit", "nas", "--json"]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const document = JSON.parse(result.stdout);
    const [path] = document.hosts[0].paths;
    expect(path).to.include({
      kind: "relay",
      ok: true,
      sender: "root@nas.home.example",
      mailFrom: "box@hisisp.example",
    });
    expect(path.auth).to.deep.equal({ username: "username", mechanism: "PLAIN" });
    expect(path.relay).to.include({ nexthop: "[mail.isp.example]:submission", port: 587 });
    expect(document.exitCode).to.equal(0);
  });

  it("a wrong password: exit 1, the relay's reply shown, the password nowhere", async () => {
    const wrong = "Wr0ng-pass:word#1";
    const env = { ...PASSWORDS, ISP_PASSWORD: wrong };
    for (const json of [false, true]) {
      const result = await verify([site, "--limit", "nas", ...(json ? ["--json"] : [])], env);
      expect(result.code, result.stdout + result.stderr).to.equal(1);
      expect(result.stdout).to.include("authentication failed as username: the relay said 535");
      expect(result.stdout).to.include("Authentication credentials invalid");
      for (const secret of [
        wrong,
        PASSWORDS.ISP_PASSWORD!,
        Buffer.from(`\0username\0${wrong}`).toString("base64"),
      ]) {
        expect(result.stdout + result.stderr).not.to.include(secret);
      }
      if (json) {
        const path = JSON.parse(result.stdout).hosts[0].paths[0];
        expect(path.problem.kind).to.equal("authentication-failed");
        expect(path.problem.reply).to.match(/^535 /);
      }
    }
  });

  it("security options noplaintext: no usable mechanism, and why", async () => {
    const strict = playbook(
      "noplaintext.yaml",
      `    relay:
      host: mail.isp.example
      port: submission
      username: username
      password: { env: ISP_PASSWORD }
      security_options: [noplaintext, noanonymous]
`,
    );
    const from = lab().relayCommands().length;
    const result = await verify([strict, "--limit", "nas"]);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stdout).to.include(
      "no usable mechanism: the security options (noplaintext, noanonymous) refuse every mechanism the relay offers (PLAIN, LOGIN",
    );
    expect(result.stdout).to.include("No worthy mechs found");
    expect(accepted(from), "no AUTH was even tried").to.deep.equal([]);
  });

  it("a host whose SASL plugins are unavailable: reported with the package to install", async () => {
    const dir = (await onHost(lab(), "pi", "ls -d /usr/lib/*/sasl2")).trim();
    await onHost(lab(), "pi", `mount -t tmpfs none ${dir}`);
    try {
      const result = await verify([site, "--limit", "pi"]);
      expect(result.code, result.stdout + result.stderr).to.equal(1);
      expect(result.stdout).to.include(
        "no usable mechanism: the SASL plugin package libsasl2-modules is not installed on pi",
      );
      expect(result.stdout).to.include(dir);
      expect(result.stdout.match(/libsasl2-modules is not installed/g)).to.have.length(3);
    } finally {
      await onHost(lab(), "pi", `umount ${dir}`);
    }
    const again = await verify([site, "--limit", "pi"]);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
  });

  it("paths that cannot work: a relay that is down, a name the host cannot resolve, TLS not offered, an untrusted certificate", async () => {
    const broken = playbook(
      "broken.yaml",
      `    relay: { host: mail.isp.example, port: 2525, username: username, password: { env: ISP_PASSWORD } }
    senders:
      a@example.com: { relay: { host: nowhere.example }, username: username2, password: { env: EXAMPLE_COM_PASSWORD } }
`,
    );
    const result = await verify([broken, "--limit", "nas", "--json"]);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    const [down, unknown] = JSON.parse(result.stdout).hosts[0].paths;
    expect(down.problem.kind).to.equal("connection-refused");
    expect(down.problem.message).to.include(`mail.isp.example (${lab().relayAddress("isp")}) port 2525`);
    expect(unknown.problem.kind).to.equal("name-does-not-resolve");
    expect(unknown.problem.message).to.include("the name nowhere.example does not resolve from nas");

    // pi's own Postfix on 127.0.0.1:25, told not to offer STARTTLS: a relay without TLS.
    const before = (await onHost(lab(), "pi", "postconf -n smtpd_tls_security_level")).trim();
    await onHost(lab(), "pi", "postconf -e smtpd_tls_security_level=none && postfix reload");
    try {
      const plain = playbook(
        "no-tls.yaml",
        `    relay: { host: 127.0.0.1, port: 25, username: username, password: { env: ISP_PASSWORD } }\n`,
      );
      const noTls = await verify([plain, "--limit", "pi"]);
      expect(noTls.code, noTls.stdout + noTls.stderr).to.equal(1);
      expect(noTls.stdout).to.include("TLS required (tls: encrypt) but the relay does not offer STARTTLS");
    } finally {
      await onHost(
        lab(),
        "pi",
        `postconf -X smtpd_tls_security_level; ${before ? `postconf -e '${before}';` : ""} postfix reload`,
      );
    }

    const verified = playbook(
      "verify-tls.yaml",
      `    relay: { host: mail.isp.example, port: submission, tls: verify, username: username, password: { env: ISP_PASSWORD } }\n`,
    );
    const untrusted = await verify([verified, "--limit", "nas"]);
    expect(untrusted.code, untrusted.stdout + untrusted.stderr).to.equal(1);
    expect(untrusted.stdout).to.include("certificate not trusted (tls: verify)");
  });

  it("the 465 path: TLS from the first byte, AUTH accepted", async () => {
    const smtps = playbook(
      "smtps.yaml",
      `    relay: { host: smtps.isp.example, port: smtps, username: username, password: { env: ISP_PASSWORD } }\n`,
    );
    const from = lab().relayCommands().length;
    const result = await verify([smtps, "--limit", "nas"]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.include("TLS: TLS (implicit, port 465)");
    expect(result.stdout).to.include("AUTH accepted as username (PLAIN)");
    expect(accepted(from)[0]).to.equal("isp-smtps AUTH username");
  });

  it("--send-test: one real message per path reaches its relay; a failing path reports deferred with the reason", async () => {
    const to = "friend@elsewhere.example";
    const result = await verify([site, "--limit", "nas", "--send-test", to]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout.match(/send-test: sent via /g)).to.have.length(3);
    expect(testMessages(lab())).to.deep.equal([
      ["example-com", "username2", to],
      ["example-net", "username2", to],
      ["isp", "username", to],
    ]);

    // pi gets the site with a password the ISP refuses: its default path's message is deferred.
    const wrong = { ...PASSWORDS, ISP_PASSWORD: "Wr0ng-pass:word#1" };
    const applied = await provision(["apply", site, "-i", inventory, "--limit", "pi"], work, wrong);
    expect(applied.code, applied.stdout + applied.stderr).to.equal(0);
    const failing = await verify([site, "--limit", "pi", "--send-test", to, "--json"], wrong);
    expect(failing.code, failing.stdout + failing.stderr).to.equal(1);
    const paths = JSON.parse(failing.stdout).hosts[0].paths;
    expect(paths[0].sendTest.status).to.equal("deferred");
    expect(paths[0].sendTest.reason).to.include("SASL authentication failed");
    expect(paths[0].sendTest.reason).to.include("535");
    expect(paths.slice(1).map((p: { sendTest: { status: string } }) => p.sendTest.status)).to.deep.equal([
      "sent",
      "sent",
    ]);
    expect(failing.stdout).not.to.include("Wr0ng-pass:word#1");
    expect(await onHost(lab(), "pi", "postqueue -p"), "the deferred test message was removed").to.include(
      "Mail queue is empty",
    );
  });

  it("a relay that refuses the sender, or (--rcpt) the recipient: exit 1, each cause with the relay's reply", async () => {
    const refusing = playbook(
      "refused.yaml",
      `    relay: { host: mail.isp.example, port: submission, username: username, password: { env: ISP_PASSWORD } }
    senders:
      boss@spoofed.example: { relay: { host: mail.isp.example, port: submission }, username: username, password: { env: ISP_PASSWORD } }
`,
    );
    const messages = lab().messages().length;
    const from = lab().relayCommands().length;
    const result = await verify([refusing, "--limit", "nas"]);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stdout).to.match(/ok {4}default relay .*AUTH accepted as username \(PLAIN\); MAIL FROM:</);
    expect(result.stdout).to.match(
      /FAIL {2}sender boss@spoofed\.example via .*AUTH accepted as username \(PLAIN\); sender refused: the relay said 553 .*<boss@spoofed\.example>: Sender address rejected: not owned by user username/,
    );
    const origin = (await onHost(lab(), "nas", "postconf -x -h myorigin")).trim();
    expect(accepted(from), "the refused sender got no RCPT TO").to.deep.equal([
      "isp AUTH username",
      `isp MAIL FROM root@${origin}`,
      `isp RCPT TO root@${origin}`,
      "isp AUTH username",
    ]);

    const unknown = await verify([refusing, "--limit", "nas", "--rcpt", "nobody@unknown.example", "--json"]);
    expect(unknown.code, unknown.stdout + unknown.stderr).to.equal(1);
    const [relay, sender] = JSON.parse(unknown.stdout).hosts[0].paths;
    expect(relay.problem.kind).to.equal("recipient-refused");
    expect(relay.problem.reply).to.match(
      /^550 .*<nobody@unknown\.example>: Recipient address rejected: User unknown$/,
    );
    expect(relay.problem.message).to.equal(`recipient refused: the relay said ${relay.problem.reply}`);
    expect(sender.problem.kind).to.equal("sender-refused");
    expect(sender.problem.reply).to.match(/^553 /);
    expect(lab().messages().length, "no message reached any relay").to.equal(messages);

    // --send-test with that playbook applied: the refused sender's message bounces, and no bounce notice
    // goes back out through the relay (sendmail -N never): only the working path's message leaves.
    const applied = await provision(["apply", refusing, "-i", inventory, "--limit", "pi"], work, PASSWORDS);
    expect(applied.code, applied.stdout + applied.stderr).to.equal(0);
    const before = lab().messages().length;
    const sent = await verify([
      refusing,
      "--limit",
      "pi",
      "--send-test",
      "friend@elsewhere.example",
      "--json",
    ]);
    expect(sent.code, sent.stdout + sent.stderr).to.equal(1);
    const fates = JSON.parse(sent.stdout).hosts[0].paths.map(
      (p: { sendTest: { status: string } }) => p.sendTest,
    );
    expect(fates.map((f: { status: string }) => f.status)).to.deep.equal(["sent", "bounced"]);
    expect(fates[1].reason).to.include("553").and.include("Sender address rejected");
    await new Promise((done) => setTimeout(done, 3000));
    const relayed = lab().messages().slice(before);
    expect(
      relayed.map((m) => m.mailFrom),
      "the one test message that was sent, no bounce notice",
    ).to.have.length(1);
    expect(await onHost(lab(), "pi", "postqueue -p")).to.include("Mail queue is empty");
  });

  it("a relay that accepts the connection but never answers, and an address nothing answers on: timed out, within --smtp-timeout", async () => {
    // In the lab's network, owned by no host or relay: the host's connection attempt gets no answer.
    const nobody = lab()
      .relayAddress("isp")
      .replace(/\d+\.\d+$/, "255.253");
    const hung = playbook(
      "hung.yaml",
      `    relay: { host: silent.isp.example, port: submission, username: username, password: { env: ISP_PASSWORD } }
    senders:
      a@example.com: { relay: { host: ${nobody}, port: submission }, username: username2, password: { env: EXAMPLE_COM_PASSWORD } }
`,
    );
    const started = Date.now();
    const result = await verify([hung, "--limit", "nas", "--smtp-timeout", "1", "--json"]);
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    const [silent, unanswered] = JSON.parse(result.stdout).hosts[0].paths;
    expect(silent.problem).to.deep.equal({
      kind: "timed-out",
      message: "[silent.isp.example]:submission: no reply from the relay within 1 s",
    });
    expect(unanswered.problem).to.deep.equal({
      kind: "timed-out",
      message: `connection to ${nobody} (${nobody}) port 587 timed out from nas`,
    });
    // Two paths of 1 s each, plus the SSH session and the host's facts; the default would be 20 s each.
    expect(seconds, "verify gave up in time").to.be.lessThan(12);
  });

  it("an unreachable host: exit 3, the others still verified", async () => {
    await lab().stopHost("pi");
    try {
      const result = await verify([site, "--json"]);
      expect(result.code, result.stdout + result.stderr).to.equal(3);
      const [nas, pi] = JSON.parse(result.stdout).hosts;
      expect([nas.status, pi.status]).to.deep.equal(["ok", "unreachable"]);
    } finally {
      await lab().startHost("pi");
    }
  });

  it("direct delivery (no relay): --send-test hands the message to the recipient domain's mail exchanger, or reports why not", async () => {
    // No relay, and Debian's "Local only" default_transport = error lifted. The lab has no DNS: with DNS
    // lookups off, Postfix finds the recipient domain's server through /etc/hosts.
    const direct = playbook(
      "direct.yaml",
      `    main: { default_transport: smtp, smtp_dns_support_level: disabled }\n`,
    );
    // A relayhost set by hand stays: a playbook without relay: does not own it.
    await onHost(lab(), "nas", "postconf -e 'relayhost = [smarthost.example]:587'");
    const relayed = await verify([direct, "--limit", "nas"]);
    expect(relayed.code, relayed.stdout + relayed.stderr).to.equal(0);
    expect(relayed.stdout).to.include(
      "note: not direct: with this playbook applied nas has relayhost = [smarthost.example]:587",
    );

    await lab().resetHost("nas"); // a fresh "Local only" host: no relayhost
    const applied = await provision(["apply", direct, "-i", inventory, "--limit", "nas"], work);
    expect(applied.code, applied.stdout + applied.stderr).to.equal(0);
    const before = lab().messages("mx").length;
    const to = "friend@friends.example";
    const result = await verify([direct, "--limit", "nas", "--send-test", to, "--json"]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const [path, ...others] = JSON.parse(result.stdout).hosts[0].paths;
    expect(others).to.deep.equal([]);
    expect(path).to.include({ kind: "direct", ok: true, probed: false });
    expect(path.sendTest).to.include({
      status: "sent",
      relay: `friends.example[${lab().relayAddress("mx")}]:25`,
    });
    const got = lab().messages("mx").slice(before);
    expect(got.map((m) => [m.authUser, m.rcptTo.join()])).to.deep.equal([[null, to]]);
    expect(got[0]!.data).to.include("X-Provision-Verify:");

    // A recipient domain no server can be found for: deferred with Postfix's reason, and removed.
    const lost = await verify([direct, "--limit", "nas", "--send-test", "friend@nowhere.example", "--json"]);
    expect(lost.code, lost.stdout + lost.stderr).to.equal(1);
    const [failed] = JSON.parse(lost.stdout).hosts[0].paths;
    expect(failed.ok).to.equal(false);
    expect(failed.sendTest).to.include({ status: "deferred", relay: "none" });
    expect(failed.sendTest.reason).to.include("unable to look up host nowhere.example");
    expect(await onHost(lab(), "nas", "postqueue -p")).to.include("Mail queue is empty");
  });
});

for (const target of labTargets().filter((t) => t.release === "12")) {
  describe(`verify on ${target.title}: the fate of a test message read from the journal`, function () {
    this.timeout(300_000);
    const HOST = "svc";
    const { lab, work } = useLab([HOST], target);

    it("no mail log file: the probe proves each path, --send-test reads sent and deferred from the journal", async () => {
      // The premise: Postfix logs to the journal alone (no maillog_file, no syslog daemon, no log file).
      expect(
        await onHost(
          lab(),
          HOST,
          'echo "[$(postconf -h maillog_file)]"; ls /var/log/mail.log /var/log/mail.info /var/log/syslog 2>/dev/null; command -v rsyslogd syslog-ng; true',
        ),
      ).to.equal("[]\n");
      const inventory = writeInventory(lab(), join(work, "hosts.yaml"), [HOST]);
      const site = labPlaybook(join(work, "site.yaml"), "site.yaml");
      // The ISP refuses the password the host gets: its path fails, the two others work.
      const wrong = { ...PASSWORDS, ISP_PASSWORD: "Wr0ng-pass:word#1" };
      const applied = await provision(["apply", site, "-i", inventory], work, wrong);
      expect(applied.code, applied.stdout + applied.stderr).to.equal(0);

      const to = "friend@elsewhere.example";
      const result = await provision(
        ["verify", site, "-i", inventory, "--send-test", to, "--json"],
        work,
        wrong,
      );
      expect(result.code, result.stdout + result.stderr).to.equal(1);
      const paths = JSON.parse(result.stdout).hosts[0].paths;
      expect(
        paths.map(
          (p: { problem?: { kind: string }; auth?: { username: string }; sendTest: { status: string } }) => [
            p.problem?.kind ?? "ok",
            p.auth?.username ?? "",
            p.sendTest.status,
          ],
        ),
      ).to.deep.equal([
        ["authentication-failed", "", "deferred"],
        ["ok", "username2", "sent"],
        ["ok", "username2", "sent"],
      ]);
      expect(paths[0].sendTest.reason).to.include("SASL authentication failed").and.include("535");
      // What verify reported is what the journal holds for those queue IDs.
      const journal = await lab().mailLog(HOST);
      for (const { sendTest } of paths) {
        expect(journal).to.match(
          new RegExp(`: ${sendTest.queueId}: to=<${to}>, .*status=${sendTest.status} \\(`),
        );
      }
      expect(testMessages(lab())).to.deep.equal([
        ["example-com", "username2", to],
        ["example-net", "username2", to],
      ]);
      expect(await onHost(lab(), HOST, "postqueue -p"), "the deferred test message was removed").to.include(
        "Mail queue is empty",
      );
    });
  });
}
