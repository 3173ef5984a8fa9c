// The lab itself: real hosts reachable with the system ssh client, a pristine Debian "Local only"
// Postfix on each, and a hand-configured Postfix delivering through an AUTH-requiring relay.
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import {
  labLeftovers,
  labUnavailableReason,
  SOHO_RELAYS,
  startLab,
  type Lab,
  LAB_PASSWORDS,
} from "../lab/lab.js";
import { labTargets, REPO } from "./support.js";

interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The system OpenSSH client with strict host key checking against the lab's known_hosts. */
function ssh(lab: Lab, user: string, address: string, command: string, input = ""): Promise<SshResult> {
  const args = [
    ...["-F", "/dev/null", "-i", lab.sshKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
    ...["-o", `UserKnownHostsFile=${lab.knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
    ...["-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", `${user}@${address}`, command],
  ];
  return new Promise((resolve) => {
    const child = execFile("ssh", args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 255) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

async function sshOk(lab: Lab, user: string, address: string, command: string, input = ""): Promise<string> {
  const r = await ssh(lab, user, address, command, input);
  expect(r.code, `ssh ${user}@${address} ${command}: ${r.stderr}`).to.equal(0);
  return r.stdout;
}

/** SOHO_README scenario 3 by hand: SASL auth to the ISP's submission port, as a user would type it. */
const MANUAL_RELAY_CONFIG = `set -e
postconf -e 'relayhost = [mail.isp.example]:submission' \\
  smtp_sasl_auth_enable=yes smtp_sasl_password_maps=hash:/etc/postfix/sasl_passwd \\
  smtp_sasl_security_options=noanonymous smtp_tls_security_level=encrypt smtp_host_lookup=native
postconf -X default_transport relay_transport
umask 077
echo '[mail.isp.example]:submission PASSWORD' > /etc/postfix/sasl_passwd
postmap hash:/etc/postfix/sasl_passwd
postfix reload`;

for (const target of labTargets()) {
  describe(`lab (real hosts for e2e tests) on ${target.title}`, function () {
    let lab: Lab | undefined;
    const address = (name: string) => {
      const host = lab?.hosts.find((h) => h.name === name);
      if (!host) throw new Error(`no lab host ${name}`);
      return host.address;
    };
    const theLab = () => {
      if (!lab) throw new Error("lab not started");
      return lab;
    };

    before(async function () {
      this.timeout(600_000);
      const reason = labUnavailableReason(target.release !== undefined);
      if (reason) {
        const banner = `\n${"!".repeat(78)}\n!! LAB UNAVAILABLE: ${reason}\n${"!".repeat(78)}\n`;
        if (process.env.CI === "true") throw new Error(`the lab must run in CI, but: ${reason}`);
        console.warn(`${banner}!! skipping the lab e2e tests (they FAIL instead when CI=true)\n`);
        this.skip();
      }
      const release = target.release;
      const hosts = ["nas", "pi"].map((name) => (release ? { name, release } : name));
      lab = await startLab({ hosts, relays: SOHO_RELAYS });
    });

    after(async function () {
      this.timeout(120_000);
      await lab?.down();
    });

    it("lets root log in by key on every host, with host keys checked strictly", async function () {
      for (const h of theLab().hosts) {
        expect((await sshOk(theLab(), "root", h.address, "id -un")).trim()).to.equal("root");
      }
    });

    it("lets the sudo user log in and become root with sudo -n sh -s", async function () {
      const l = theLab();
      for (const h of l.hosts) {
        expect((await sshOk(l, l.sudoUser, h.address, "id -un")).trim()).to.equal(l.sudoUser);
        const out = await sshOk(l, l.sudoUser, h.address, "sudo -n sh -s", "id -un\nhostname\n");
        expect(out.trim().split("\n")).to.deep.equal(["root", h.name]);
      }
    });

    it("runs a pristine Debian 'Local only' Postfix on every host", async function () {
      for (const h of theLab().hosts) {
        const out = await sshOk(
          theLab(),
          "root",
          h.address,
          "postconf -h default_transport relayhost inet_interfaces",
        );
        expect(out.split("\n").slice(0, 3)).to.deep.equal(["error", "", "loopback-only"]);
        expect((await theLab().run(h.name, "postfix status")).code).to.equal(0);
      }
    });

    it("gives every host its own name", async function () {
      const names = await Promise.all(
        theLab().hosts.map((h) => sshOk(theLab(), "root", h.address, "hostname")),
      );
      expect(names.map((n) => n.trim())).to.deep.equal(["nas", "pi"]);
      expect((await theLab().run("pi", "hostname")).stdout.trim()).to.equal("pi");
    });

    it("delivers mail from a hand-configured Postfix to the relay, authenticated", async function () {
      const l = theLab();
      await sshOk(
        l,
        "root",
        address("nas"),
        MANUAL_RELAY_CONFIG.replace("PASSWORD", `username:${LAB_PASSWORDS.isp}`),
      );
      await sshOk(
        l,
        "root",
        address("nas"),
        "printf 'Subject: lab test\\n\\nhello\\n' | sendmail -f x@y rcpt@z",
      );
      const m = await l.waitForMessage((msg) => msg.rcptTo.includes("rcpt@z"), 60_000);
      expect(m).to.include({ relay: "isp", authUser: "username", mailFrom: "x@y" });
      expect(m.rcptTo).to.deep.equal(["rcpt@z"]);
      expect(m.data).to.match(/^Subject: lab test$/m);
    });

    it("records an AUTH failure for a wrong password", async function () {
      const l = theLab();
      await sshOk(l, "root", address("pi"), MANUAL_RELAY_CONFIG.replace("PASSWORD", "username:wrong"));
      await sshOk(l, "root", address("pi"), "echo hi | sendmail -f a@pi never@z");
      const deadline = Date.now() + 30_000;
      while (l.authFailures().length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(l.authFailures()).to.deep.include({ relay: "isp", username: "username" });
      expect(l.messages().some((msg) => msg.rcptTo.includes("never@z"))).to.equal(false);
    });

    it("resets a host to pristine, keeping its SSH host key", async function () {
      const l = theLab();
      await l.resetHost("nas");
      const out = await sshOk(
        l,
        "root",
        address("nas"),
        "postconf -h default_transport relayhost; ls /etc/postfix",
      );
      expect(out.split("\n").slice(0, 2)).to.deep.equal(["error", ""]);
      expect(out).not.to.include("sasl_passwd");
      expect((await l.run("nas", "postfix status")).code).to.equal(0);
    });

    it("stops and starts a host", async function () {
      const l = theLab();
      await l.stopHost("pi");
      const refused = await ssh(l, "root", address("pi"), "true");
      expect(refused.code).to.equal(255);
      expect(refused.stderr).to.match(/refused/i);
      await l.startHost("pi");
      expect((await sshOk(l, "root", address("pi"), "hostname")).trim()).to.equal("pi");
    });

    it("tears down completely", async function () {
      await theLab().down();
      expect(await labLeftovers()).to.deep.equal([]);
    });

    it("cleans up after a crashed lab: the next start removes what the dead one left", async function () {
      // A lab in another process, killed without any chance to tear down (like a crashed test run).
      const spec = target.release ? `crashed:${target.release}` : "crashed";
      const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "test/lab/cli.ts"), "up", spec], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const deadline = Date.now() + 300_000;
      while (!output.includes("lab is up") && child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(output, "the other lab came up").to.include("lab is up");
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      expect(await labLeftovers(), "the dead lab left its hosts behind").to.not.deep.equal([]);

      lab = await startLab({
        hosts: [target.release ? { name: "next", release: target.release } : "next"],
        relays: SOHO_RELAYS,
      });
      expect(lab.hosts.map((h) => h.name)).to.deep.equal(["next"]);
      expect((await lab.run("next", "postfix status")).code).to.equal(0);
      await lab.down();
      expect(await labLeftovers()).to.deep.equal([]);
    });
  });
}
