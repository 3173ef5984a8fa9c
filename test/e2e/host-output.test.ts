import { expect } from "chai";
import { join } from "node:path";
import { labPlaybook, onHost, provision, useLab, writeInventory } from "./support.js";

interface JsonHost {
  name: string;
  status: string;
  error?: string;
  facts?: { postconfN: string };
}
const hostsOf = (stdout: string): JsonHost[] => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts;

/** What may reach a terminal from the CLI (NO_COLOR is set): printable text, tab and line feed. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * What a host prints is not trusted: a host that prints without end, or text that would drive the
 * terminal of whoever reads the report (or the cron mail), must not harm the run or the reader.
 */
describe("what a host prints", function () {
  this.timeout(300_000);
  const { lab, work } = useLab(["nas", "pi"]);
  let inventory: string;
  let playbook: string;
  const run = (...args: string[]) => provision([...args, playbook, "-i", inventory], work);

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), ["nas", "pi"]);
    playbook = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });

  it("a host printing more than JavaScript can hold fails alone; the other host is reported", async () => {
    // site.yaml manages /etc/postfix/generic, so the facts script base64-prints it: a 420 MiB (sparse)
    // file makes about 560 million characters of output, more than a JavaScript string can hold.
    await onHost(lab(), "pi", "truncate -s 420M /etc/postfix/generic");
    try {
      const json = await run("check", "--json");
      expect(json.code, json.stderr).to.equal(1);
      expect(json.stderr).to.not.include("RangeError");
      const [nas, pi] = hostsOf(json.stdout);
      expect(nas).to.include({ name: "nas", status: "drift" });
      expect(pi).to.include({ name: "pi", status: "failed" });
      expect(pi?.error).to.match(/^gathering facts: the host printed more than 64 MiB/);
      expect(pi?.error).to.include("provision reads at most 64 MiB per command");

      const text = await run("check");
      expect(text.code, text.stderr).to.equal(1);
      expect(text.stdout).to.match(/^nas: drift: /m);
      expect(text.stdout).to.match(/^pi: failed: gathering facts: the host printed more than 64 MiB/m);
    } finally {
      await onHost(lab(), "pi", "rm -f /etc/postfix/generic");
    }
    const again = await run("check", "--json");
    expect(hostsOf(again.stdout).map((h) => h.status)).to.deep.equal(["drift", "drift"]);
  });

  describe("terminal escape sequences in host text", () => {
    // Screen clear, cursor up, an OSC 52 clipboard write, an 8-bit CSI and a right-to-left override.
    const HOSTILE = "\u001b[2J\u001b[1A\u001b]52;c;dG91Y2ggUFdORUQ=\u0007\u009b2J\u202e";
    const SHOWN = "\\x1b[2J\\x1b[1A\\x1b]52;c;dG91Y2ggUFdORUQ=\\x07\\x9b2J\\u202e";
    const bytes = Buffer.from(HOSTILE, "utf8").toString("base64");

    before(async () => {
      // A main.cf value Postfix happily keeps: one the playbook owns and one it leaves alone.
      await onHost(
        lab(),
        "nas",
        `cp -p /etc/postfix/main.cf /root/main.cf.before-hostile
         v=$(printf '%s' '${bytes}' | base64 -d)
         postconf -e "myorigin = evil$v" "smtpd_banner = \\$myhostname ESMTP $v"`,
      );
    });
    after(async () => {
      await onHost(lab(), "nas", "mv /root/main.cf.before-hostile /etc/postfix/main.cf");
    });

    it("facts: postconf -n values are shown escaped, and --json keeps them exactly", async () => {
      const text = await provision(["facts", "-i", inventory, "--limit", "nas"], work);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.not.match(UNSAFE);
      expect(text.stdout).to.include(`smtpd_banner = $myhostname ESMTP ${SHOWN}`);
      const json = await provision(["facts", "-i", inventory, "--limit", "nas", "--json"], work);
      expect(json.code, json.stderr).to.equal(0);
      expect(json.stdout).to.not.match(UNSAFE);
      expect(hostsOf(json.stdout)[0]?.facts?.postconfN).to.include(`myorigin = evil${HOSTILE}\n`);
    });

    it("dry run: the diff of the host's main.cf is shown escaped", async () => {
      const dry = await run("apply", "--dry-run", "--limit", "nas");
      expect(dry.code, dry.stderr).to.equal(0);
      expect(dry.stdout + dry.stderr).to.not.match(UNSAFE);
      expect(dry.stdout).to.include(`-myorigin = evil${SHOWN}`);
    });

    it("an error line quoting the host (the run lock's holder) is shown escaped", async () => {
      const holder = lab().run(
        "nas",
        `mkdir -p -m 0700 /run/provision
         printf 'provision apply %s' "$(printf '%s' '${bytes}' | base64 -d)" > /run/provision/lock
         exec flock -x /run/provision/lock sleep 8`,
        30_000,
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const check = await run("check", "--limit", "nas", "--lock-timeout", "1");
        expect(check.code, check.stdout + check.stderr).to.equal(1);
        expect(check.stdout + check.stderr).to.not.match(UNSAFE);
        expect(check.stdout).to.include(`provision apply ${SHOWN}`);
      } finally {
        await holder;
        await onHost(lab(), "nas", ": > /run/provision.lock");
      }
    });
  });
});
