import { expect } from "chai";
import { parseSshConfig, splitArgs } from "../../../src/transport/ssh-config-parse.js";
import type { ConfigSource } from "../../../src/transport/ssh-config.js";
import { resolveTarget, type TargetEnvironment } from "../../../src/transport/ssh-target.js";
import { parseHop } from "../../../src/transport/ssh-values.js";
import { errorOf } from "../error-of.js";

/** What ssh -G cannot show: warnings, errors, relative Include, the jump chain, expanded paths. */

function environment(files: Record<string, string>): TargetEnvironment {
  const source: ConfigSource = {
    read: (path) => files[path],
    glob: (pattern) => {
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
  };
  return {
    files: [
      { path: "/home/me/.ssh/config", user: true },
      { path: "/etc/ssh/ssh_config", user: false },
    ],
    source,
    home: "/home/me",
    localUser: "me",
    uid: 1000,
    localHost: "laptop.home",
    env: { SSH_AUTH_SOCK: "/run/agent.sock", KEYS: "/keys" },
  };
}

const resolve = (files: Record<string, string>, host: string) =>
  resolveTarget({ name: host, host, commandLine: [] }, environment(files));

describe("ssh configuration", () => {
  it("splits arguments like OpenSSH: quotes, escapes, = and trailing comments", () => {
    expect(splitArgs(`"a b" c\\ d 'e "f"' # comment`)).to.deep.equal(["a b", "c d", 'e "f"']);
    expect(splitArgs(`"open`)).to.equal(undefined);
    const [line] = parseSshConfig("  IdentityFile=~/.ssh/k\n", "cfg");
    expect(line).to.deep.equal({ keyword: "identityfile", args: ["~/.ssh/k"], file: "cfg", line: 1 });
    expect(errorOf(() => parseSshConfig("Host a\n  User\n", "cfg"))).to.equal(
      'cfg:2: no argument after keyword "User"',
    );
  });

  it("reads a relative Include from ~/.ssh in the user's file and from /etc/ssh in the system's", () => {
    const target = resolve(
      {
        "/home/me/.ssh/config": "Include conf.d/*\n",
        "/home/me/.ssh/conf.d/home": "Host nas\n  HostName 10.0.0.2\n",
        "/etc/ssh/ssh_config": "Include site.conf\n",
        "/etc/ssh/site.conf": "Host *\n  Port 2222\n",
      },
      "nas",
    );
    expect(target.hostname).to.deep.equal({ value: "10.0.0.2", origin: "/home/me/.ssh/conf.d/home:2" });
    expect(target.port).to.deep.equal({ value: 2222, origin: "/etc/ssh/site.conf:2" });
  });

  it("warns about Match criteria it does not evaluate and does not apply their block", () => {
    const target = resolve(
      { "/home/me/.ssh/config": 'Match exec "ping -c1 nas"\n  Port 2222\nMatch localuser me\n  User x\n' },
      "nas",
    );
    expect(target.port.value).to.equal(22);
    expect(target.user.value).to.equal("me");
    expect(target.warnings).to.deep.equal([
      "/home/me/.ssh/config:1: Match exec is not evaluated by provision; the settings of this Match block are not applied",
      "/home/me/.ssh/config:3: Match localuser is not evaluated by provision; the settings of this Match block are not applied",
    ]);
  });

  it("expands ~, %-tokens and ${VAR} in key, agent and known_hosts paths", () => {
    const target = resolve(
      {
        "/home/me/.ssh/config":
          "Host nas\n  HostName nas.lan\n  User admin\n  IdentityFile ~/.ssh/%h_%r\n  IdentityFile ${KEYS}/%u-%n-%p\n" +
          "  IdentityAgent %d/agent\n  UserKnownHostsFile ~/.ssh/kh_%k\n  HostKeyAlias box\n",
      },
      "nas",
    );
    expect(target.identityFiles.value).to.deep.equal(["/home/me/.ssh/nas.lan_admin", "/keys/me-nas-22"]);
    expect(target.identityAgent.value).to.equal("/home/me/agent");
    expect(target.knownHostsFiles.value).to.deep.equal(["/home/me/.ssh/kh_box"]);
    const none = resolve({ "/home/me/.ssh/config": "IdentityAgent none\n" }, "nas");
    expect(none.identityAgent.value).to.equal(undefined);
    expect(resolve({}, "nas").identityAgent).to.deep.equal({
      value: "/run/agent.sock",
      origin: "SSH_AUTH_SOCK",
    });
    expect(errorOf(() => resolve({ "/home/me/.ssh/config": "IdentityFile ~/%z\n" }, "nas"))).to.equal(
      '/home/me/.ssh/config:1: IdentityFile "/home/me/%z": unknown token %z',
    );
  });

  it("reads GlobalKnownHostsFile (~ only; none = no file, and alone) and HashKnownHosts, with their lines", () => {
    const target = resolve(
      {
        "/home/me/.ssh/config": "Host nas\n  GlobalKnownHostsFile ~/fleet %h_kh\n",
        "/etc/ssh/ssh_config": "Host *\n  HashKnownHosts yes\n  GlobalKnownHostsFile /etc/ssh/site_kh\n",
      },
      "nas",
    );
    expect(target.globalKnownHostsFiles).to.deep.equal({
      value: ["/home/me/fleet", "%h_kh"],
      origin: "/home/me/.ssh/config:2",
    });
    expect(target.hashKnownHosts).to.deep.equal({ value: true, origin: "/etc/ssh/ssh_config:2" });
    const defaults = resolve({}, "nas");
    expect(defaults.globalKnownHostsFiles).to.deep.equal({
      value: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
      origin: "default",
    });
    expect(defaults.hashKnownHosts).to.deep.equal({ value: false, origin: "default" });
    const none = resolve(
      { "/home/me/.ssh/config": "GlobalKnownHostsFile none\nUserKnownHostsFile NONE\n" },
      "nas",
    );
    expect([none.globalKnownHostsFiles.value, none.knownHostsFiles.value]).to.deep.equal([[], []]);
    expect(
      errorOf(() => resolve({ "/etc/ssh/ssh_config": "GlobalKnownHostsFile /kh none\n" }, "nas")),
    ).to.equal('/etc/ssh/ssh_config:1: GlobalKnownHostsFile "none" must appear alone');
    expect(errorOf(() => resolve({ "/etc/ssh/ssh_config": "HashKnownHosts ask\n" }, "nas"))).to.equal(
      '/etc/ssh/ssh_config:1: HashKnownHosts "ask": expected yes or no',
    );
  });

  it("resolves every jump host with its own settings, the first hop's own ProxyJump first", () => {
    const target = resolve(
      {
        "/home/me/.ssh/config":
          "Host inner\n  ProxyJump mid,ops@edge:2200\nHost mid\n  HostName 10.0.0.1\n  User jumper\n  ProxyJump gw\n" +
          "Host edge\n  ProxyJump never-used\n",
      },
      "inner",
    );
    expect(target.jumps.map((j) => `${j.user.value}@${j.hostname.value}:${j.port.value}`)).to.deep.equal([
      "me@gw:22",
      "jumper@10.0.0.1:22",
      "ops@edge:2200",
    ]);
  });

  it("refuses a jump host that jumps through itself, ProxyCommand and StrictHostKeyChecking no", () => {
    expect(errorOf(() => resolve({ "/home/me/.ssh/config": "Host *\n  ProxyJump gw\n" }, "nas"))).to.equal(
      "/home/me/.ssh/config:2: ProxyJump loops: nas -> gw -> gw (exclude the jump host from the Host pattern)",
    );
    expect(errorOf(() => resolve({ "/home/me/.ssh/config": "ProxyCommand nc %h %p\n" }, "nas"))).to.match(
      /^\/home\/me\/.ssh\/config:1: ProxyCommand is not supported by provision .* use ProxyJump/,
    );
    expect(errorOf(() => resolve({ "/etc/ssh/ssh_config": "StrictHostKeyChecking no\n" }, "nas"))).to.equal(
      "/etc/ssh/ssh_config:1: StrictHostKeyChecking no is refused: provision always checks host keys " +
        "(use accept-new to record unknown hosts)",
    );
  });

  it("parses ProxyJump hops: user, port, ssh:// and IPv6", () => {
    expect(parseHop("ops@bastion:2222")).to.deep.equal({ user: "ops", host: "bastion", port: 2222 });
    expect(parseHop("ssh://[fd00::1]:23")).to.deep.equal({ host: "fd00::1", port: 23 });
    expect(parseHop("bastion")).to.deep.equal({ host: "bastion" });
    expect(parseHop("a b")).to.equal(undefined);
    expect(parseHop("host:99999")).to.equal(undefined);
  });
});
