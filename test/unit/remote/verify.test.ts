import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../../src/transport/shell.js";
import { parseHostFacts } from "../../../src/verify/host-facts.js";
import { parseLog, parseSendOutput } from "../../../src/verify/send-test.js";
import { recordsOf, Sandbox, SHELLS } from "./sandbox.js";

/**
 * A postconf that answers what verify asks: myorigin (the value given with -o, else a file naming it,
 * as Debian's /etc/mailname), the EHLO name, the transport, the SASL client and the CA file. With
 * `old`, it refuses -o as a postconf before Postfix 2.10 does.
 */
const postconf = (mailname: string, old = false) => `
origin=; param=
while [ $# -gt 0 ]; do
  case $1 in
    -o) ${old ? "echo 'postconf: invalid option -- o' >&2; exit 1" : "case $2 in myorigin=*) origin=${2#myorigin=} ;; esac; shift 2"} ;;
    -A) echo cyrus; exit 0 ;;
    -x | -h) shift ;;
    *) param=$1; shift ;;
  esac
done
case $param in
  mail_version) echo 3.7.11 ;;
  myorigin) printf '%s\\n' "\${origin:-${mailname}}" ;;
  smtp_helo_name) echo box.home.example ;;
  default_transport) echo error ;;
esac`;

for (const shell of SHELLS) {
  describe(`remote shell under ${shell.name}: what verify reads and sends`, function () {
    this.timeout(10_000);
    let host: Sandbox;
    beforeEach(() => (host = new Sandbox()));
    afterEach(() => host.remove());

    it("sasl_facts: the plugins and the directories they were looked for in, and the distribution", () => {
      const lib = join(host.root, "usr/lib");
      mkdirSync(join(lib, "x86_64-linux-gnu/sasl2"), { recursive: true });
      mkdirSync(join(lib, "sasl2"));
      for (const file of ["libplain.so.2", "liblogin.so", "libsasldb.so"])
        writeFileSync(join(lib, "x86_64-linux-gnu/sasl2", file), "");
      writeFileSync(join(host.root, "os-release"), 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n');
      const run = host.run(shell, ["sasl_facts"], {
        SASL_PLUGIN_DIRS: `${lib}/sasl2 ${lib}/*/sasl2 ${host.root}/nowhere/sasl2`,
        OS_RELEASE: join(host.root, "os-release"),
      });
      expect(recordsOf(run, "sasl_plugin_dir").map((r) => r.dir)).to.deep.equal([
        `${lib}/sasl2`,
        `${lib}/x86_64-linux-gnu/sasl2`,
      ]);
      expect(recordsOf(run, "sasl_plugins")[0]?.files).to.have.members([
        "libplain.so.2",
        "liblogin.so",
        "libsasldb.so",
      ]);
      expect(recordsOf(run, "distro")).to.deep.equal([{ kind: "distro", id: "ubuntu", like: ["debian"] }]);
    });

    it("sender_identity: the playbook's names go to postconf -o intact; myorigin read from the file it names", () => {
      const mailname = join(host.root, "mailname");
      writeFileSync(mailname, "nas.home.example\nsecond line\n");
      host.program("postconf", postconf(mailname));
      const given = host.run(shell, [`sender_identity ${shellQuote("myorigin=it's a $(name)")}`]);
      expect(recordsOf(given, "myorigin")[0]?.value).to.equal("it's a $(name)");
      expect(host.calls("postconf")).to.include("postconf -o myorigin=it's a $(name) -x -h myorigin");
      const own = host.run(shell, ["sender_identity"]);
      expect(recordsOf(own, "myorigin")[0]?.value).to.equal("nas.home.example");
      expect(own.records.filter((r) => r.kind !== "myorigin")).to.deep.equal([
        { kind: "helo", value: "box.home.example" },
        { kind: "default_transport", value: "error" },
        { kind: "sasl_clients", clients: ["cyrus"] },
      ]);
    });

    it("sender_identity: a postconf without -o (before Postfix 2.10) gives the host's own values", () => {
      const mailname = join(host.root, "mailname");
      writeFileSync(mailname, "nas.home.example\n");
      host.program("postconf", postconf(mailname, true));
      const run = host.run(shell, ["sender_identity myorigin=playbook.example"]);
      expect(recordsOf(run, "myorigin")[0]?.value).to.equal("nas.home.example");
    });

    it("resolve_names: the first address getent gives; an empty one for a name that does not resolve", () => {
      host.program(
        "getent",
        `case $2 in mail.isp.example) printf '198.18.0.2 STREAM mail.isp.example\\n198.18.0.9 DGRAM\\n' ;; *) exit 2 ;; esac`,
      );
      const run = host.run(shell, ["resolve_names mail.isp.example nowhere.example"]);
      expect(run.records).to.deep.equal([
        { kind: "getent" },
        { kind: "address", name: "mail.isp.example", address: "198.18.0.2" },
        { kind: "address", name: "nowhere.example", address: "" },
      ]);
      expect(host.calls("getent")).to.deep.equal([
        "getent ahosts mail.isp.example",
        "getent ahosts nowhere.example",
      ]);
    });

    it("resolve_names without getent: no getent record, so the host's sshd resolves the names", () => {
      const run = host.run(shell, ["resolve_names mail.isp.example"], { PATH: join(host.root, "empty") });
      expect(recordsOf(run, "getent")).to.deep.equal([]);
      expect(recordsOf(run, "address")).to.deep.equal([
        { kind: "address", name: "mail.isp.example", address: "" },
      ]);
    });

    it("trusted_cas: smtp_tls_CAfile, else the first system bundle there is; nothing when there is none", () => {
      const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
      writeFileSync(join(host.root, "rhel-bundle.crt"), pem);
      const bundles = {
        CA_BUNDLE_DEBIAN: join(host.root, "missing.crt"),
        CA_BUNDLE_RHEL: join(host.root, "rhel-bundle.crt"),
      };
      const run = host.run(shell, ["trusted_cas"], bundles);
      expect(run.records).to.deep.equal([{ kind: "ca", pem }]);
      const none = host.run(shell, ["trusted_cas"], { ...bundles, CA_BUNDLE_RHEL: "" });
      expect(none.records).to.deep.equal([]);
      const own = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
      writeFileSync(join(host.root, "own-ca.pem"), own);
      host.program("postconf", `echo '${join(host.root, "own-ca.pem")}'`);
      expect(host.run(shell, ["trusted_cas"], bundles).records).to.deep.equal([{ kind: "ca", pem: own }]);
      expect(host.calls("postconf")).to.include("postconf -x -h smtp_tls_CAfile");
    });

    it("send_message hands the text to sendmail as is; read_log gives back only what the log gained", () => {
      const log = join(host.root, "mail.log");
      writeFileSync(log, "before the test\n");
      host.program(
        "sendmail",
        `cat > '${host.root}/message'
case $6 in bad*) echo "sendmail: fatal: bad address syntax" >&2; echo "second line" >&2; exit 75 ;; esac`,
      );
      const text = "Subject: it's $(here)\n\nbody\n";
      const sent = host.run(shell, [
        "log_start",
        `send_message root@nas.example good@example.com id-1@provision.invalid ${shellQuote(text)}`,
        `send_message root@nas.example bad@@example.com id-2@provision.invalid ${shellQuote(text)}`,
      ]);
      expect(host.read(join(host.root, "message"))).to.equal(text);
      expect(host.calls("sendmail")).to.deep.equal([
        "sendmail -N never -f root@nas.example -- good@example.com",
        "sendmail -N never -f root@nas.example -- bad@@example.com",
      ]);
      const { start, refused } = parseSendOutput(sent.stdout);
      expect(start).to.include({ offset: 16, file: log });
      expect([...refused]).to.deep.equal([
        ["id-2@provision.invalid", "sendmail: fatal: bad address syntax second line"],
      ]);

      writeFileSync(log, "before the test\nQ1: message-id=<id-1@provision.invalid>\n");
      const read = host.run(shell, [`read_log ${start!.since} ${start!.offset} ${shellQuote(start!.file)}`]);
      expect(parseLog(read.stdout)).to.equal("Q1: message-id=<id-1@provision.invalid>\n");
    });

    it("a host without a mail log file: log_start names none, and read_log asks the journal since then", () => {
      host.program("journalctl", "echo 'from the journal'");
      const sent = host.run(shell, ["log_start"], { MAIL_LOG: join(host.root, "no-such.log") });
      const { start } = parseSendOutput(sent.stdout);
      expect(start?.file).to.equal("");
      expect(start?.since).to.be.greaterThan(1_700_000_000);
      const read = host.run(shell, [`read_log ${start!.since} ${start!.offset} ''`]);
      expect(parseLog(read.stdout)).to.equal("from the journal\n");
      expect(host.calls("journalctl")).to.deep.equal([
        `journalctl -q --no-pager -o cat --since @${start!.since}`,
      ]);
    });

    it("flush_messages and drop_messages: each queue ID once, and a failure stops neither", () => {
      host.program("postqueue", "exit 1");
      host.program("postsuper", "exit 1");
      const run = host.run(shell, ["flush_messages A1 B2 && drop_messages A1 B2 && echo done"]);
      expect(run.stdout).to.include("done\n");
      expect(host.calls().filter((c) => /^post(queue|super) /.test(c))).to.deep.equal([
        "postqueue -i A1",
        "postqueue -i B2",
        "postsuper -d A1",
        "postsuper -d B2",
      ]);
    });

    it("the whole host facts script reads as verify's facts", () => {
      host.program("postconf", postconf(join(host.root, "mailname")));
      host.program("getent", "echo '198.18.0.2 STREAM'");
      const run = host.run(shell, [
        "postfix_facts",
        "sasl_facts",
        "sender_identity myorigin=nas.example",
        "resolve_names mail.isp.example",
      ]);
      const facts = parseHostFacts("nas", run.stdout);
      expect(facts).to.include({
        version: "3.7.11",
        myorigin: "nas.example",
        helo: "box.home.example",
        getent: true,
      });
      expect([...facts.addresses]).to.deep.equal([["mail.isp.example", "198.18.0.2"]]);
    });
  });
}
