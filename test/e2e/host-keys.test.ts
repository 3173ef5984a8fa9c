import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { hostSnapshot, labPlaybook, onHost, provision, useLab, type CliResult } from "./support.js";

/**
 * Host key checking against a real OpenSSH server, through the real CLI: every case writes its own
 * known_hosts file and inventory, and a refused host must show no login in sshd's log and no change.
 * The suite's private ~/.ssh/config (HOME is the suite's own) names its global known_hosts files and
 * HashKnownHosts, so neither this machine's /etc/ssh/ssh_config (Debian's says HashKnownHosts yes)
 * nor its /etc/ssh/ssh_known_hosts decides any case.
 */
describe("host key checking against a real sshd", function () {
  this.timeout(300_000);
  const { lab, work } = useLab(["nas"]);
  const ALT_PORT = 2222;
  let address: string;
  /** "ssh-ed25519 AAAA..." of the host, read off the host itself. */
  let hostKey: string;
  /** SHA256:... as OpenSSH's ssh-keygen prints it for that key. */
  let hostFingerprint: string;
  /** A valid ed25519 key that is not the host's. */
  let otherKey: string;
  let playbook: string;
  let caseNo = 0;
  const home = join(work, "home");
  const sshConfig = join(home, ".ssh", "config");
  const globalFiles = [join(work, "global", "ssh_known_hosts"), join(work, "global", "ssh_known_hosts2")];

  interface Case {
    knownHosts?: string;
    port?: number;
    inventoryChecking?: "strict" | "accept-new";
  }

  /** A fresh known_hosts file (unless knownHosts is undefined: the file does not exist) and inventory. */
  const setup = (c: Case) => {
    caseNo += 1;
    const knownHostsFile = join(work, `kh-${caseNo}`, "known_hosts");
    if (c.knownHosts !== undefined) {
      execFileSync("mkdir", ["-p", join(work, `kh-${caseNo}`)]);
      writeFileSync(knownHostsFile, c.knownHosts);
    }
    const inventory = join(work, `hosts-${caseNo}.yaml`);
    const extra = [
      c.port !== undefined ? `ssh_port: ${c.port}` : "",
      c.inventoryChecking ? `host_key_checking: ${c.inventoryChecking}` : "",
    ].filter(Boolean);
    writeFileSync(
      inventory,
      `all:
  vars:
    ssh_user: root
    ssh_key: ${lab().sshKey}
    ssh_known_hosts: ${knownHostsFile}
  children:
    home:
      hosts:
        nas: { address: ${address}${extra.map((e) => `, ${e}`).join("")} }
`,
    );
    return { knownHostsFile, inventory };
  };

  const logins = async () =>
    Number(
      (
        await onHost(
          lab(),
          "nas",
          "cat /var/log/sshd*.log 2>/dev/null | grep -c 'Accepted publickey' || true",
        )
      )
        .trim()
        .split("\n")[0],
    );

  /** Runs the CLI and insists that it was refused before anything happened on the host. */
  const expectRefused = async (args: string[], name = "nas"): Promise<CliResult> => {
    const before = await hostSnapshot(lab(), "nas");
    const loginsBefore = await logins();
    const result = await provision(args, work);
    expect(result.code, result.stdout + result.stderr).to.equal(1);
    expect(result.stdout).to.match(new RegExp(`^${name}\\b.*: (failed|FAILED)`, "m"));
    expect(await logins(), "a login happened on the refused host").to.equal(loginsBefore);
    expect(await hostSnapshot(lab(), "nas")).to.equal(before);
    return result;
  };

  const expectAccepted = async (args: string[]): Promise<CliResult> => {
    const loginsBefore = await logins();
    const result = await provision(args, work);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/postfix version: +3\./);
    expect(await logins()).to.equal(loginsBefore + 1);
    return result;
  };

  before(async function () {
    address = lab().hosts[0]!.address;
    hostKey = (await onHost(lab(), "nas", "cat /etc/ssh/ssh_host_ed25519_key.pub"))
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(" ");
    hostFingerprint = (await onHost(lab(), "nas", "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")).split(
      " ",
    )[1]!;
    expect(hostFingerprint).to.match(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const other = join(work, "other_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "other", "-f", other]);
    otherKey = readFileSync(`${other}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    playbook = labPlaybook(join(work, "site.yaml"), "site.yaml");
    // A second sshd in the host on port 2222 with the same host key (the lab's listens on 22 only); it
    // goes with the lab's teardown, which kills every process of the host.
    await onHost(
      lab(),
      "nas",
      `printf '%s\\n' 'ListenAddress ${address}:${ALT_PORT}' 'HostKey /etc/ssh/ssh_host_ed25519_key' \\
         'PidFile /run/sshd-${ALT_PORT}.pid' 'PermitRootLogin prohibit-password' 'PasswordAuthentication no' \\
         'KbdInteractiveAuthentication no' 'UseDNS no' > /run/sshd-${ALT_PORT}.conf
       /usr/sbin/sshd -f /run/sshd-${ALT_PORT}.conf -E /var/log/sshd-${ALT_PORT}.log`,
    );
    await waitForPort(address, ALT_PORT);
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    writeFileSync(
      sshConfig,
      `Host kh-global
    HostName ${address}
    GlobalKnownHostsFile ${globalFiles.join(" ")}
    StrictHostKeyChecking yes
Host kh-hashed kh-plain
    HostName ${address}
    UserKnownHostsFile ~/.ssh/known_hosts_%n
    StrictHostKeyChecking accept-new
Host kh-hashed
    HashKnownHosts yes
Host *
    HashKnownHosts no
    GlobalKnownHostsFile none
`,
    );
  });

  it("refuses an unknown host, naming it, with its SHA256 fingerprint and the line to add (facts and check)", async () => {
    // Another host's entry only: nas itself is unknown.
    const { inventory, knownHostsFile } = setup({ knownHosts: `198.18.255.254 ${hostKey}\n` });
    const line = `${address} ${hostKey}`;
    for (const args of [
      ["facts", "-i", inventory],
      ["check", playbook, "-i", inventory],
    ]) {
      const result = await expectRefused(args);
      expect(result.stdout).to.include(`host ${address}:22 is not in ${knownHostsFile}`);
      expect(result.stdout).to.include(`its key is ${hostFingerprint}`);
      // On a line of its own, indented under the host line (error continuation lines are).
      expect(result.stdout).to.include(`\n    ${line}\n`);
      expect(result.stdout).to.include("--host-key-checking accept-new");
    }
    expect(readFileSync(knownHostsFile, "utf8")).to.equal(`198.18.255.254 ${hostKey}\n`);
  });

  it("the changed-key hint is a command that works: ssh-keygen -f FILE -R HOST or '[HOST]:PORT'", async () => {
    for (const port of [22, ALT_PORT]) {
      const name = port === 22 ? address : `[${address}]:${port}`;
      const { inventory, knownHostsFile } = setup({ knownHosts: `${name} ${otherKey}\n`, port });
      const refused = await expectRefused(["facts", "-i", inventory]);
      const hint = /remove the old entry \((ssh-keygen [^)]*)\)/.exec(refused.stdout)?.[1] ?? "";
      expect(hint).to.equal(`ssh-keygen -f ${knownHostsFile} -R ${port === 22 ? address : `'${name}'`}`);
      // Run it as the user would (with a HOME of its own, so no other known_hosts could be touched).
      execFileSync("sh", ["-c", hint], { stdio: "pipe", env: { ...process.env, HOME: join(work, "home") } });
      expect(readFileSync(knownHostsFile, "utf8")).to.not.include(otherKey);
      const after = await expectRefused(["facts", "-i", inventory]);
      expect(after.stdout).to.include(`host ${address}:${port} is not in ${knownHostsFile}`);
    }
  });

  it("refuses a missing known_hosts file as unknown, and does not create it", async () => {
    const { inventory, knownHostsFile } = setup({});
    const result = await expectRefused(["facts", "-i", inventory]);
    expect(result.stdout).to.include("is not in");
    expect(existsSync(knownHostsFile)).to.equal(false);
  });

  it("refuses a changed key loudly, also with --host-key-checking accept-new, and leaves known_hosts alone", async () => {
    const recorded = `# nas before it was reinstalled\n${address} ${otherKey}\n`;
    const { inventory, knownHostsFile } = setup({ knownHosts: recorded });
    for (const extra of [[], ["--host-key-checking", "accept-new"]]) {
      const result = await expectRefused(["facts", "-i", inventory, ...extra]);
      expect(result.stdout).to.include(`HOST KEY OF ${address}:22 HAS CHANGED`);
      expect(result.stdout).to.include(hostFingerprint);
      expect(result.stdout).to.include(`${knownHostsFile}:2`);
    }
    expect(readFileSync(knownHostsFile, "utf8")).to.equal(recorded);
    // The inventory's accept-new does not help either.
    const viaInventory = setup({ knownHosts: recorded, inventoryChecking: "accept-new" });
    const result = await expectRefused(["facts", "-i", viaInventory.inventory]);
    expect(result.stdout).to.include("HAS CHANGED");
  });

  it("accepts a hashed entry written by ssh-keygen -H", async () => {
    const { inventory, knownHostsFile } = setup({ knownHosts: `${address} ${hostKey}\n` });
    execFileSync("ssh-keygen", ["-q", "-H", "-f", knownHostsFile], { stdio: "pipe" });
    const hashed = readFileSync(knownHostsFile, "utf8");
    expect(hashed).to.match(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    expect(hashed).to.not.include(address);
    await expectAccepted(["facts", "-i", inventory]);
  });

  it("matches [host]:port entries only on that port, and plain entries only on port 22", async () => {
    const plain = setup({ knownHosts: `${address} ${hostKey}\n`, port: ALT_PORT });
    const refused = await expectRefused(["facts", "-i", plain.inventory]);
    expect(refused.stdout).to.include(`host ${address}:${ALT_PORT} is not in`);
    expect(refused.stdout).to.include(`\n    [${address}]:${ALT_PORT} ${hostKey}\n`);

    const bracketed = setup({ knownHosts: `[${address}]:${ALT_PORT} ${hostKey}\n`, port: ALT_PORT });
    await expectAccepted(["facts", "-i", bracketed.inventory]);
    expect(await onHost(lab(), "nas", `grep -c 'Accepted publickey' /var/log/sshd-${ALT_PORT}.log`)).to.match(
      /^[1-9]/,
    );

    const hashedPort = setup({ knownHosts: `[${address}]:${ALT_PORT} ${hostKey}\n`, port: ALT_PORT });
    execFileSync("ssh-keygen", ["-q", "-H", "-f", hashedPort.knownHostsFile], { stdio: "pipe" });
    expect(readFileSync(hashedPort.knownHostsFile, "utf8")).to.match(/^\|1\|/);
    await expectAccepted(["facts", "-i", hashedPort.inventory]);

    const otherPort = setup({ knownHosts: `[${address}]:${ALT_PORT} ${hostKey}\n` });
    const refused22 = await expectRefused(["facts", "-i", otherPort.inventory]);
    expect(refused22.stdout).to.include(`host ${address}:22 is not in`);
  });

  it("refuses a key marked @revoked, even next to a plain entry and with accept-new", async () => {
    const both = setup({ knownHosts: `${address} ${hostKey}\n@revoked * ${hostKey}\n` });
    const result = await expectRefused(["facts", "-i", both.inventory]);
    expect(result.stdout).to.include(`(${hostFingerprint}) is marked @revoked in ${both.knownHostsFile}:2`);

    const revokedOnly = `@revoked ${address} ${hostKey}\n`;
    const alone = setup({ knownHosts: revokedOnly });
    const again = await expectRefused(["facts", "-i", alone.inventory, "--host-key-checking", "accept-new"]);
    expect(again.stdout).to.include("@revoked");
    expect(readFileSync(alone.knownHostsFile, "utf8")).to.equal(revokedOnly);
  });

  it("--host-key-checking accept-new records an unknown host, and strict checking then accepts it", async () => {
    const { inventory, knownHostsFile } = setup({ knownHosts: `# mine\n` });
    await expectAccepted(["facts", "-i", inventory, "--host-key-checking", "accept-new"]);
    expect(readFileSync(knownHostsFile, "utf8")).to.equal(`# mine\n${address} ${hostKey}\n`);
    await expectAccepted(["facts", "-i", inventory]);
    await expectAccepted(["facts", "-i", inventory, "--host-key-checking", "strict"]);
    expect(readFileSync(knownHostsFile, "utf8")).to.equal(`# mine\n${address} ${hostKey}\n`);

    // No file yet: it is created (with its directory), private, holding the [host]:port line.
    const fresh = setup({ port: ALT_PORT });
    await expectAccepted(["facts", "-i", fresh.inventory, "--host-key-checking", "accept-new"]);
    expect(readFileSync(fresh.knownHostsFile, "utf8")).to.equal(`[${address}]:${ALT_PORT} ${hostKey}\n`);
    expect(statSync(fresh.knownHostsFile).mode & 0o777).to.equal(0o600);
    await expectAccepted(["facts", "-i", fresh.inventory]);
  });

  it("inventory host_key_checking: accept-new records an unknown host; the command line flag wins over it", async () => {
    const strictFlag = setup({ knownHosts: "", inventoryChecking: "accept-new" });
    await expectRefused(["facts", "-i", strictFlag.inventory, "--host-key-checking", "strict"]);
    expect(readFileSync(strictFlag.knownHostsFile, "utf8")).to.equal("");

    await expectAccepted(["facts", "-i", strictFlag.inventory]);
    expect(readFileSync(strictFlag.knownHostsFile, "utf8")).to.equal(`${address} ${hostKey}\n`);

    const strictInventory = setup({ knownHosts: "", inventoryChecking: "strict" });
    await expectRefused(["facts", "-i", strictInventory.inventory]);
    await expectAccepted(["facts", "-i", strictInventory.inventory, "--host-key-checking", "accept-new"]);
    expect(readFileSync(strictInventory.knownHostsFile, "utf8")).to.equal(`${address} ${hostKey}\n`);
  });

  /** An inventory of one host known by its ~/.ssh/config alias, with no known_hosts of its own. */
  const aliasInventory = (alias: string) => {
    const file = join(work, `hosts-${++caseNo}.yaml`);
    writeFileSync(
      file,
      `all:\n  vars:\n    ssh_user: root\n    ssh_key: ${lab().sshKey}\n  hosts:\n    ${alias}:\n`,
    );
    return file;
  };

  it("GlobalKnownHostsFile from ~/.ssh/config: a key found only there is trusted; a changed one refused", async () => {
    const inventory = aliasInventory("kh-global");
    const userFile = join(home, ".ssh", "known_hosts");
    const unknown = await expectRefused(["facts", "-i", inventory], "kh-global");
    expect(unknown.stdout).to.include(
      `is not in ${userFile} or ${home}/.ssh/known_hosts2 or ${globalFiles.join(" or ")};`,
    );

    // The second global file holds the key; the first does not exist. StrictHostKeyChecking is yes.
    mkdirSync(join(work, "global"), { recursive: true });
    writeFileSync(globalFiles[1]!, `# the fleet's keys\n${address} ${hostKey}\n`);
    const accepted = await expectAccepted(["facts", "-i", inventory, "-v"]);
    expect(accepted.stderr).to.include(`global known hosts: ${globalFiles.join(", ")} (strict)`);
    expect(existsSync(userFile), "nothing is recorded in the user's file").to.equal(false);
    expect(readFileSync(globalFiles[1]!, "utf8")).to.equal(`# the fleet's keys\n${address} ${hostKey}\n`);

    const hosts = await provision(["hosts", "-i", inventory], work);
    expect(hosts.code, hosts.stderr).to.equal(0);
    expect(hosts.stdout).to.include(`global_known_hosts ${globalFiles.join(", ")}  (${sshConfig}:3)`);
    expect(hosts.stdout).to.include(`hash_known_hosts   false  (${sshConfig}:12)`);
    expect(hosts.stdout).to.include(`host_key_checking  strict  (${sshConfig}:4)`);

    writeFileSync(globalFiles[1]!, `${address} ${otherKey}\n`);
    const changed = await expectRefused(
      ["facts", "-i", inventory, "--host-key-checking", "accept-new"],
      "kh-global",
    );
    expect(changed.stdout).to.include(`HOST KEY OF ${address}:22 HAS CHANGED`);
    expect(changed.stdout).to.include(`does not match ${globalFiles[1]}:1`);
    expect(existsSync(userFile)).to.equal(false);
  });

  it("HashKnownHosts yes records the new host hashed, as ssh does: ssh-keygen -F and ssh itself find it", async () => {
    const hashedFile = join(home, ".ssh", "known_hosts_kh-hashed");
    const hashed = await expectAccepted(["facts", "-i", aliasInventory("kh-hashed"), "-v"]);
    expect(hashed.stderr).to.include(`recorded host key ${hostFingerprint} in ${hashedFile} (hashed)`);
    const line = readFileSync(hashedFile, "utf8");
    expect(line).to.match(/^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= \S+ \S+\n$/);
    expect(line.endsWith(` ${hostKey}\n`), line).to.equal(true);
    expect(line).to.not.include(address);
    const found = execFileSync("ssh-keygen", ["-F", address, "-f", hashedFile], { encoding: "utf8" });
    expect(found).to.include(line.trim());
    // OpenSSH's own client, checking strictly against that file alone, logs in.
    const loginsBefore = await logins();
    execFileSync(
      "ssh",
      [
        ...["-F", "/dev/null", "-i", lab().sshKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
        ...["-o", `UserKnownHostsFile=${hashedFile}`, "-o", "GlobalKnownHostsFile=none"],
        ...["-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", `root@${address}`, "true"],
      ],
      { stdio: "pipe", timeout: 60_000 },
    );
    expect(await logins()).to.equal(loginsBefore + 1);
    await expectAccepted(["facts", "-i", aliasInventory("kh-hashed"), "--host-key-checking", "strict"]);
    expect(readFileSync(hashedFile, "utf8")).to.equal(line);

    // The same without HashKnownHosts (the suite's Host * says no): the plain name.
    await expectAccepted(["facts", "-i", aliasInventory("kh-plain")]);
    expect(readFileSync(join(home, ".ssh", "known_hosts_kh-plain"), "utf8")).to.equal(
      `${address} ${hostKey}\n`,
    );
  });
});

async function waitForPort(host: string, port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, timeout: 1_000 });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
      socket.once("timeout", () => done(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on ${host}:${port}`);
}
