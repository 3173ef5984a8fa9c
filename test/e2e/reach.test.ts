import { expect } from "chai";
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bridgeHost, createHiddenNetwork, hideHost, removeHiddenNetwork } from "../lab/hidden-network.js";
import { ensurePasswordSudoUser, PASSWORD_SUDO_USER } from "../lab/password-sudo.js";
import { base64Cores, filesHolding, sampleProcesses } from "./secret-probes.js";
import { labPlaybook, onHost, PASSWORDS, postconf, REPO, useLab, type CliResult } from "./support.js";

/**
 * Reaching hosts the way ssh and Ansible do, against real OpenSSH servers: ~/.ssh/config (aliases,
 * wildcards, Include, another port), hosts behind a jump host that the machine has no route to (through
 * ~/.ssh/config, ssh_jump, ansible_ssh_common_args, two hops; unknown and changed jump host keys),
 * passphrase-protected keys (ssh-agent, a terminal, ssh_key_passphrase; several key formats), and a sudo
 * that asks for a password (become_password, -K). The passphrase and the sudo password never show up in
 * any output, on a process command line or environment on the host, or in a file others can read.
 */
describe("reaching hosts as ssh and Ansible do", function () {
  this.timeout(600_000);
  const { lab, work } = useLab(["nas", "jump", "in1", "in2"]);
  const PASSPHRASE = "Key-Phrase 7x!q";
  const BECOME = "Sudo-Pw 9z#k";
  const secrets = [PASSPHRASE, BECOME];
  const home = join(work, "home");
  /** A second HOME without any key of its own, for the key tests. */
  const bareHome = join(work, "bare-home");
  const addr: Record<string, string> = {};
  const hidden: Record<string, string> = {};
  const hostKey: Record<string, string> = {};
  let playbook: string;
  let encKey: string;
  let caseNo = 0;

  const BIN = join(REPO, "bin", "provision.js");
  /** The CLI without a controlling terminal (as from cron), in its own session. */
  const run = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    new Promise((done) => {
      // setsid: a session of its own, so no controlling terminal to ask on.
      execFile(
        "setsid",
        ["-w", process.execPath, BIN, ...args],
        {
          cwd: work,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, NO_COLOR: "1", ...PASSWORDS, ...env },
          timeout: 300_000,
        },
        (error, stdout, stderr) =>
          done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  /** The CLI on a pseudo-terminal (util-linux `script`): answers `answer` once `prompt` appears. */
  const onTerminal = (
    args: string[],
    prompt: string,
    answer: string,
    env: Record<string, string> = {},
  ): Promise<CliResult> =>
    new Promise((done) => {
      const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
      const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          NO_COLOR: "1",
          TERM: "dumb",
          ...PASSWORDS,
          ...env,
        },
        detached: true,
      });
      let out = "";
      let answered = false;
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (!answered && out.includes(prompt)) {
          answered = true;
          child.stdin.write(`${answer}\r`);
        }
      });
      child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
      child.on("close", (code) => {
        clearTimeout(timer);
        done({ code: code ?? 1, stdout: out, stderr: "" });
      });
    });

  const expectClean = (result: CliResult) => {
    const text = result.stdout + result.stderr;
    for (const secret of secrets) {
      expect(text, `output shows "${secret}"`).to.not.include(secret);
      for (const core of base64Cores(secret))
        expect(text, `output shows base64 of "${secret}"`).to.not.include(core);
    }
  };
  const inventory = (hosts: string) => {
    const file = join(work, `hosts-${++caseNo}.yaml`);
    const indented = hosts.replace(/^/gm, "    ").trimEnd();
    writeFileSync(
      file,
      `all:\n  vars:\n    mydomain: home.example\n  children:\n    home:\n      hosts:\n${indented}\n`,
    );
    return file;
  };
  const accepted = async (host: string, log: string) =>
    Number(
      (await onHost(lab(), host, `grep -c 'Accepted publickey' ${log} 2>/dev/null || true`)).trim() || "0",
    );
  const knownHosts = join(home, ".ssh", "known_hosts");

  before(async function () {
    this.timeout(300_000);
    for (const h of lab().hosts) addr[h.name] = h.address;
    for (const name of ["nas", "jump", "in1", "in2"]) {
      hostKey[name] = (await onHost(lab(), name, "cat /etc/ssh/ssh_host_ed25519_key.pub"))
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(" ");
    }
    await createHiddenNetwork();
    await bridgeHost(lab(), "jump");
    hidden.in1 = await hideHost(lab(), "in1");
    hidden.in2 = await hideHost(lab(), "in2");
    playbook = labPlaybook(join(work, "site.yaml"), "site.yaml");

    mkdirSync(join(home, ".ssh", "config.d"), { recursive: true, mode: 0o700 });
    execFileSync("cp", [lab().sshKey, join(home, ".ssh", "id_ed25519")]);
    writeFileSync(
      knownHosts,
      [
        `${addr.nas} ${hostKey.nas}`,
        `[${addr.nas}]:2222 ${hostKey.nas}`,
        `${addr.jump} ${hostKey.jump}`,
        `${hidden.in1} ${hostKey.in1}`,
        `${hidden.in2} ${hostKey.in2}`,
      ].join("\n") + "\n",
    );
    writeFileSync(
      join(home, ".ssh", "config"),
      `Include config.d/*.conf\n\nHost *-lab\n    User root\n    IdentityFile ~/.ssh/id_ed25519\n`,
    );
    writeFileSync(
      join(home, ".ssh", "config.d", "home.conf"),
      `Host mail-lab\n    HostName ${addr.nas}\n    Port 2222\n\nHost bastion-lab\n    HostName ${addr.jump}\n\n` +
        `Host hidden1-lab\n    HostName ${hidden.in1}\n    ProxyJump bastion-lab\n`,
    );
    await onHost(
      lab(),
      "nas",
      `printf '%s\\n' 'ListenAddress ${addr.nas}:2222' 'HostKey /etc/ssh/ssh_host_ed25519_key' 'PidFile /run/sshd-2222.pid' \\
         'PermitRootLogin prohibit-password' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'UseDNS no' > /run/sshd-2222.conf
       /usr/sbin/sshd -f /run/sshd-2222.conf -E /var/log/sshd-2222.log`,
    );

    mkdirSync(join(bareHome, ".ssh"), { recursive: true, mode: 0o700 });
    writeFileSync(join(bareHome, ".ssh", "known_hosts"), `${addr.nas} ${hostKey.nas}\n`);
    encKey = join(work, "enc_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "encrypted", "-f", encKey]);
    await onHost(
      lab(),
      "nas",
      `printf '%s\\n' '${readFileSync(`${encKey}.pub`, "utf8").trim()}' >> /root/.ssh/authorized_keys`,
    );
    await ensurePasswordSudoUser(BECOME, readFileSync(`${lab().sshKey}.pub`, "utf8").trim());
  });

  after(async () => {
    await removeHiddenNetwork();
  });

  describe("~/.ssh/config", () => {
    it("an alias with HostName and another port, a wildcard block and an Include: apply, then check in sync", async () => {
      const inv = inventory("    mail-lab:\n");
      const before = await accepted("nas", "/var/log/sshd-2222.log");
      const apply = await run(["apply", playbook, "-i", inv]);
      expect(apply.code, apply.stdout + apply.stderr).to.equal(0);
      expect(apply.stdout).to.match(/mail-lab .*changed/);
      expect(await postconf(lab(), "nas", "relayhost")).to.equal("[mail.isp.example]:submission");
      const check = await run(["check", playbook, "-i", inv]);
      expect(check.code, check.stdout + check.stderr).to.equal(0);
      expect(await accepted("nas", "/var/log/sshd-2222.log")).to.equal(before + 2);
    });

    it("provision hosts shows each value with the file and line it came from; -v logs the connection steps", async () => {
      const inv = inventory("    mail-lab:\n    hidden1-lab:\n");
      const hosts = await run(["hosts", "-i", inv]);
      expect(hosts.code, hosts.stderr).to.equal(0);
      const conf = join(home, ".ssh", "config.d", "home.conf");
      expect(hosts.stdout).to.include(`address            ${addr.nas}  (${conf}:2)`);
      expect(hosts.stdout).to.include(`port               2222  (${conf}:3)`);
      expect(hosts.stdout).to.include(`user               root  (${join(home, ".ssh", "config")}:4)`);
      expect(hosts.stdout).to.include(`jump               root@${addr.jump}:22  (${conf}:10)`);
      const json = JSON.parse((await run(["hosts", "-i", inv, "--json"])).stdout) as {
        hosts: { name: string; port: { value: number; from: string } }[];
      };
      expect(json.hosts[0]).to.deep.include({ name: "mail-lab", port: { value: 2222, from: `${conf}:3` } });
      const verbose = await run(["facts", "-i", inv, "-l", "mail-lab", "-v"]);
      expect(verbose.code, verbose.stderr).to.equal(0);
      expect(verbose.stderr).to.include(
        `provision: mail-lab: root@${addr.nas}:2222; ssh configuration read: ${join(home, ".ssh", "config")}, ${conf}`,
      );
      expect(verbose.stderr).to.match(
        /provision: mail-lab: offering key file .*id_ed25519 \(ssh-ed25519 SHA256:/,
      );
      expect((await run(["--version"])).stdout.trim()).to.equal(
        JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version,
      );
    });
  });

  describe("behind a jump host", () => {
    it("the hidden hosts cannot be reached directly", async () => {
      const result = await run(["facts", "-i", inventory(`    in1: { address: ${hidden.in1} }\n`)]);
      expect(result.code, result.stdout).to.equal(3);
      expect(result.stdout, result.stdout).to.match(/cannot connect to [\s\S]*EHOSTUNREACH/);
    });

    it("through ~/.ssh/config ProxyJump: apply and check", async () => {
      const inv = inventory("    hidden1-lab:\n");
      const before = await accepted("jump", "/var/log/sshd.log");
      const apply = await run(["apply", playbook, "-i", inv]);
      expect(apply.code, apply.stdout + apply.stderr).to.equal(0);
      expect(await postconf(lab(), "in1", "relayhost")).to.equal("[mail.isp.example]:submission");
      expect((await run(["check", playbook, "-i", inv])).code).to.equal(0);
      expect(await accepted("jump", "/var/log/sshd.log")).to.equal(before + 2);
    });

    it("through the inventory's ssh_jump and ansible_ssh_common_args", async () => {
      const viaJump = await run([
        "facts",
        "-i",
        inventory(`    in2: { address: ${hidden.in2}, ssh_jump: "root@${addr.jump}" }\n`),
      ]);
      expect(viaJump.code, viaJump.stdout + viaJump.stderr).to.equal(0);
      expect(viaJump.stdout).to.match(/postfix version: +3\./);
      const ansible = inventory(
        `    in2: { ansible_host: ${hidden.in2}, ansible_ssh_common_args: "-o ProxyJump=root@${addr.jump} -o ControlMaster=auto" }\n`,
      );
      const viaArgs = await run(["facts", "-i", ansible]);
      expect(viaArgs.code, viaArgs.stdout + viaArgs.stderr).to.equal(0);
      expect(viaArgs.stderr).to.include("-o ControlMaster=auto is ignored");
      const bad = await run([
        "facts",
        "-i",
        inventory(`    in2: { address: ${hidden.in2}, ansible_ssh_extra_args: "-R 8080:localhost:80" }\n`),
      ]);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.include('ansible_ssh_extra_args: "-R" is not supported');
      expect(bad.stderr).to.include("Nothing was changed on any host.");
    });

    it("through two hops, each hop's key checked", async () => {
      const before = await accepted("in2", "/var/log/sshd-hidden.log");
      const result = await run([
        "facts",
        "-i",
        inventory(`    in1: { address: ${hidden.in1}, ssh_jump: "root@${addr.jump},root@${hidden.in2}" }\n`),
      ]);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(await accepted("in2", "/var/log/sshd-hidden.log")).to.equal(before + 1);
    });

    it("refuses a jump host whose key is unknown or has changed, naming the jump host; the target is not logged in to", async () => {
      const original = readFileSync(knownHosts, "utf8");
      const inv = inventory(`    in2: { address: ${hidden.in2}, ssh_jump: "root@${addr.jump}" }\n`);
      const targetBefore = await accepted("in2", "/var/log/sshd-hidden.log");
      try {
        writeFileSync(knownHosts, original.replace(`${addr.jump} ${hostKey.jump}\n`, ""));
        const unknown = await run(["facts", "-i", inv]);
        expect(unknown.code).to.equal(1);
        expect(unknown.stdout).to.include(
          `jump host root@${addr.jump} (root@${addr.jump}:22): host ${addr.jump}:22 is not in`,
        );
        writeFileSync(
          knownHosts,
          original.replace(`${addr.jump} ${hostKey.jump}`, `${addr.jump} ${hostKey.nas}`),
        );
        const changed = await run(["facts", "-i", inv]);
        expect(changed.code).to.equal(1);
        expect(changed.stdout).to.include(
          `jump host root@${addr.jump} (root@${addr.jump}:22): HOST KEY OF ${addr.jump}:22 HAS CHANGED`,
        );
      } finally {
        writeFileSync(knownHosts, original);
      }
      expect(await accepted("in2", "/var/log/sshd-hidden.log")).to.equal(targetBefore);
    });
  });

  describe("passphrase-protected keys", () => {
    const nasOnly = (vars = "") => inventory(`    nas: { address: ${addr.nas}${vars} }\n`);
    const bare = { HOME: bareHome };
    let agent: { socket: string; pid: number } | undefined;

    const startAgent = () => {
      const socket = join(work, `agent-${++caseNo}.sock`);
      const out = execFileSync("ssh-agent", ["-a", socket], { encoding: "utf8" });
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
      const askpass = join(work, "askpass.sh");
      writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${PASSPHRASE}'\n`, { mode: 0o700 });
      execFileSync("ssh-add", [encKey], {
        env: {
          SSH_AUTH_SOCK: socket,
          SSH_ASKPASS: askpass,
          SSH_ASKPASS_REQUIRE: "force",
          DISPLAY: "none",
          PATH: process.env.PATH,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      agent = { socket, pid };
      return socket;
    };
    afterEach(() => {
      if (agent) process.kill(agent.pid);
      agent = undefined;
    });

    it("ssh-agent holding the key: used whether the inventory names the key file or not, nothing asked", async () => {
      const socket = startAgent();
      const named = await run(["facts", "-i", nasOnly(`, ssh_user: root, ssh_key: ${encKey}`)], {
        ...bare,
        SSH_AUTH_SOCK: socket,
      });
      expect(named.code, named.stdout + named.stderr).to.equal(0);
      const unnamed = await run(["facts", "-i", nasOnly(", ssh_user: root"), "-v"], {
        ...bare,
        SSH_AUTH_SOCK: socket,
      });
      expect(unnamed.code, unnamed.stdout + unnamed.stderr).to.equal(0);
      expect(unnamed.stderr).to.match(/offering agent key ssh-ed25519 SHA256:\S+ \(encrypted\)/);
      const hosts = await run(["hosts", "-i", nasOnly(", ssh_user: root")], {
        ...bare,
        SSH_AUTH_SOCK: socket,
      });
      expect(hosts.stdout).to.match(/agent_keys +ssh-ed25519 SHA256:\S+ \(encrypted\) +\(ssh-agent\)/);
    });

    it("no agent and no terminal: a clear error naming the key and what would unlock it", async () => {
      const result = await run(["facts", "-i", nasOnly(`, ssh_user: root, ssh_key: ${encKey}`)], bare);
      expect(result.code).to.equal(3);
      expect(result.stdout).to.include(`login as root refused by ${addr.nas}:22`);
      expect(result.stdout).to.include(`${encKey} is encrypted and no passphrase is available`);
      expect(result.stdout).to.include("ssh_key_passphrase");
      expect(result.stdout).to.include(`ssh-add ${encKey}`);
    });

    it("asked on the terminal, not echoed", async () => {
      const result = await onTerminal(
        ["facts", "-i", nasOnly(`, ssh_user: root, ssh_key: ${encKey}`)],
        `Enter passphrase for key '${encKey}': `,
        PASSPHRASE,
        bare,
      );
      expect(result.code, result.stdout).to.equal(0);
      expect(result.stdout).to.match(/postfix version: +3\./);
      expectClean(result);
    });

    it("ssh_key_passphrase from the environment, for ed25519, ecdsa and rsa keys in OpenSSH and PEM formats", async () => {
      for (const [type, format] of [
        ["ed25519", "RFC4716"],
        ["ecdsa", "PEM"],
        ["rsa", "PEM"],
        ["rsa", "RFC4716"],
      ] as const) {
        const key = join(work, `key-${type}-${format}`);
        execFileSync("ssh-keygen", [
          "-q",
          "-t",
          type,
          "-m",
          format,
          "-N",
          PASSPHRASE,
          "-C",
          `${type}-${format}`,
          "-f",
          key,
        ]);
        await onHost(
          lab(),
          "nas",
          `printf '%s\\n' '${readFileSync(`${key}.pub`, "utf8").trim()}' >> /root/.ssh/authorized_keys`,
        );
        const result = await run(
          [
            "facts",
            "-i",
            nasOnly(`, ssh_user: root, ssh_key: ${key}, ssh_key_passphrase: { env: KEY_PASS }`),
            "-v",
          ],
          { ...bare, KEY_PASS: PASSPHRASE },
        );
        expect(result.code, `${type} ${format}: ${result.stdout}${result.stderr}`).to.equal(0);
        expect(result.stderr).to.include(`offering key file ${key}`);
        expectClean(result);
      }
    });

    it("a refused login names the user, the address and every key offered", async () => {
      const stranger = join(work, "stranger_ed25519");
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", stranger]);
      const result = await run(["facts", "-i", nasOnly(`, ssh_user: root, ssh_key: ${stranger}`)], bare);
      expect(result.code).to.equal(3);
      expect(result.stdout).to.match(
        new RegExp(
          `login as root refused by ${addr.nas!.replace(/\./g, "\\.")}:22; offered key file ${stranger} \\(ssh-ed25519 SHA256:`,
        ),
      );
    });
  });

  describe("a sudo that asks for a password", () => {
    const user = PASSWORD_SUDO_USER;
    const viaSudo = (vars: string) =>
      inventory(`    nas: { address: ${addr.nas}, ssh_user: ${user}${vars} }\n`);

    it("without become: a clear error telling to set become: true; without a password: how to give one", async () => {
      const noBecome = await run(["facts", "-i", viaSudo("")]);
      expect(noBecome.code).to.equal(1);
      expect(noBecome.stdout).to.include(`logged in as ${user}, who is not root; set become: true`);
      const noPassword = await run(["facts", "-i", viaSudo(", become: true")]);
      expect(noPassword.code).to.equal(1);
      expect(noPassword.stdout).to.include("set become_password");
      expect(noPassword.stdout).to.include("--ask-become-pass (-K)");
    });

    it("become_password from the environment: apply repairs drift as root; the password is on no command line or environment", async () => {
      await onHost(lab(), "nas", "postconf -e myorigin=drifted.example");
      const inv = viaSudo(", become: true, ansible_become_password: { env: BECOME_PASS }");
      const { result, samples } = await sampleProcesses(lab(), "nas", () =>
        run(["apply", playbook, "-i", inv, "--diff"], { BECOME_PASS: BECOME }),
      );
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(await postconf(lab(), "nas", "myorigin")).to.equal("$mydomain");
      expectClean(result);
      expect(
        samples.some((s) => s.includes("sudo -S -k")),
        "saw sudo run",
      ).to.equal(true);
      for (const sample of samples) for (const secret of secrets) expect(sample).to.not.include(secret);
      const json = await run(["check", playbook, "-i", inv, "--json"], { BECOME_PASS: BECOME });
      expect(json.code, json.stdout).to.equal(0);
      expectClean(json);
      const found = await filesHolding(lab(), "nas", secrets);
      expect(found.filter((f) => f.exposed).map((f) => f.path)).to.deep.equal([]);
    });

    it("a wrong become password: a clear error for that host", async () => {
      const result = await run(
        ["facts", "-i", viaSudo(", become: true, become_password: { env: BECOME_PASS }")],
        { BECOME_PASS: "not-the-password" },
      );
      expect(result.code).to.equal(1);
      expect(result.stdout).to.include(
        `sudo on ${user}@${addr.nas}:22 refused the become password for ${user}`,
      );
    });

    it("-K asks once on the terminal, not echoed", async () => {
      const result = await onTerminal(
        ["check", playbook, "-i", viaSudo(", become: true"), "-K"],
        "BECOME password: ",
        BECOME,
      );
      expect(result.code, result.stdout).to.equal(0);
      expectClean(result);
    });
  });
});
