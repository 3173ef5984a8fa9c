import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseLine } from "../../../src/transport/ssh-config-parse.js";
import { fileSource } from "../../../src/transport/ssh-config-files.js";
import { resolveSshConfig } from "../../../src/transport/ssh-config.js";
import { DEFAULT_IDENTITY_FILES, resolveTarget, type SshTarget } from "../../../src/transport/ssh-target.js";
import { expandTilde } from "../../../src/transport/ssh-patterns.js";
import { parseHop } from "../../../src/transport/ssh-values.js";

/**
 * provision's reading of an OpenSSH client configuration must be ssh's own: every host of every case in
 * test/fixtures/ssh-config is resolved by provision and by the real `ssh -G -F config HOST`, and every
 * setting provision honours must agree. ssh expands `~` and %d from the password database, not $HOME,
 * so provision is given that home here; the configurations never read this machine's ~/.ssh.
 */

const CORPUS = fileURLToPath(new URL("../../fixtures/ssh-config/", import.meta.url));
const haveSsh = spawnSync("ssh", ["-V"]).status === 0;
const passwdHome = userInfo().homedir;
/** ssh reads no ~/.ssh with -F; a HOME of its own all the same. */
const privateHome = mkdtempSync(join(tmpdir(), "provision-ssh-home-"));

/** `ssh -G` output as keyword -> values (identityfile repeats). */
function sshG(config: string, host: string, options: string[]): Map<string, string[]> {
  const out = execFileSync("ssh", ["-G", "-F", config, ...options.flatMap((o) => ["-o", o]), host], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: privateHome, SSH_AUTH_SOCK: "/agent/from-env" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const map = new Map<string, string[]>();
  for (const line of out.split("\n")) {
    const at = line.indexOf(" ");
    if (at < 0) continue;
    const key = line.slice(0, at);
    map.set(key, [...(map.get(key) ?? []), line.slice(at + 1)]);
  }
  return map;
}

/** provision's result in ssh -G's terms, for the settings it honours. */
function ours(target: SshTarget, rawIdentityFiles: string[], rawAgent?: string): Map<string, string[]> {
  const jumps = target.jumpSpec.value.toLowerCase() === "none" ? [] : target.jumpSpec.value.split(",");
  const map = new Map<string, string[]>([
    ["hostname", [target.hostname.value]],
    ["user", [target.user.value]],
    ["port", [String(target.port.value)]],
    ["identityfile", rawIdentityFiles],
    ["identitiesonly", [target.identitiesOnly.value ? "yes" : "no"]],
    ["userknownhostsfile", [target.knownHostsFiles.value.join(" ") || "none"]],
    ["hashknownhosts", [target.hashKnownHosts.value ? "yes" : "no"]],
  ]);
  if (target.identityAgent.origin !== "SSH_AUTH_SOCK" && target.identityAgent.origin !== "default")
    // ssh -G shows these two forms unexpanded.
    map.set("identityagent", [
      rawAgent?.startsWith("$") || rawAgent === "SSH_AUTH_SOCK"
        ? rawAgent
        : (target.identityAgent.value ?? "none"),
    ]);
  if (jumps.length > 0) {
    const normal = jumps.map((hop) => {
      const h = parseHop(hop)!;
      return `${h.user ? `${h.user}@` : ""}${h.host}${h.port ? `:${h.port}` : ""}`;
    });
    map.set("proxyjump", [normal.join(",")]);
  }
  if (target.hostKeyAlias) map.set("hostkeyalias", [target.hostKeyAlias.value]);
  return map;
}

interface Case {
  dir: string;
  host: string;
  options: string[];
}

function cases(): Case[] {
  return readdirSync(CORPUS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readFileSync(join(CORPUS, d.name, "hosts"), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((line) => {
          const [host, ...rest] = line.trim().split(/\s+/);
          const options = rest.filter((_, i) => i % 2 === 1);
          return { dir: d.name, host: host!, options };
        }),
    );
}

describe("ssh configuration: agreement with ssh -G on the corpus", function () {
  if (!haveSsh) {
    it("needs the OpenSSH client (ssh -G)", function () {
      if (process.env.CI === "true") throw new Error("ssh is not installed");
      this.skip();
    });
    return;
  }
  const copies = new Map<string, string>();
  const copyOf = (dir: string): string => {
    let copy = copies.get(dir);
    if (!copy) {
      copy = join(mkdtempSync(join(tmpdir(), "provision-ssh-config-")), dir);
      cpSync(join(CORPUS, dir), copy, { recursive: true });
      for (const entry of readdirSync(copy, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const file = join(entry.parentPath, entry.name);
        writeFileSync(file, readFileSync(file, "utf8").replaceAll("@DIR@", copy));
      }
      copies.set(dir, copy);
    }
    return copy;
  };

  for (const c of cases()) {
    const label = `${c.dir}: ${c.host}${c.options.map((o) => ` -o ${o}`).join("")}`;
    it(label, () => {
      const config = join(copyOf(c.dir), "config");
      const theirs = sshG(config, c.host, c.options);
      const commandLine = c.options.map((o, i) => parseLine(o, "command line", i + 1)!);
      const environment = {
        files: [{ path: config, user: true }],
        source: fileSource,
        home: passwdHome,
        localUser: userInfo().username,
        uid: userInfo().uid,
        localHost: hostname(),
        env: { SSH_AUTH_SOCK: "/agent/from-env" },
      };
      const request = { name: c.host, host: c.host, commandLine };
      let target: SshTarget;
      try {
        target = resolveTarget(request, environment);
      } catch (error) {
        // provision refuses what it will not do; ssh must indeed have chosen exactly that.
        const message = (error as Error).message;
        if (/ProxyCommand is not supported/.test(message))
          expect(theirs.get("proxycommand")).to.have.length(1);
        else if (/StrictHostKeyChecking .* is refused/.test(message))
          expect(theirs.get("stricthostkeychecking")).to.deep.equal(["false"]);
        else throw error;
        return;
      }
      expect(theirs.has("proxycommand"), "ssh uses a ProxyCommand here").to.equal(false);
      const raw = resolveSshConfig(c.host, commandLine, environment.files, fileSource, environment);
      const rawFiles = raw.identityFiles.length > 0 ? raw.identityFiles.map((s) => s.args[0]!) : DEFAULTS;
      const mine = ours(target, rawFiles, raw.settings.get("identityagent")?.args[0]);
      const timeout = raw.settings.get("connecttimeout")?.args[0]?.toLowerCase() ?? "none";
      expect(theirs.get("connecttimeout")).to.deep.equal([timeout]);
      expect(target.connectTimeoutMs.value).to.equal((Number(timeout) || 15) * 1000);
      for (const [key, value] of mine) expect(theirs.get(key), key).to.deep.equal(value);
      for (const key of ["proxyjump", "hostkeyalias", "identityagent"]) {
        if (!mine.has(key)) expect(theirs.get(key), key).to.equal(undefined);
      }
      // ssh -G prints GlobalKnownHostsFile as written: ssh expands only its `~`, when it connects.
      const global = theirs.get("globalknownhostsfile")![0]!.split(" ");
      expect(target.globalKnownHostsFiles.value, "globalknownhostsfile").to.deep.equal(
        global.length === 1 && global[0]!.toLowerCase() === "none"
          ? []
          : global.map((f) => expandTilde(f, passwdHome)),
      );
      const checking = theirs.get("stricthostkeychecking")?.[0];
      expect(target.hostKeyChecking.value).to.equal(checking === "accept-new" ? "accept-new" : "strict");
      expect(["true", "ask", "accept-new"]).to.include(checking);
      const interval = Number(theirs.get("serveraliveinterval")?.[0]);
      expect(target.keepaliveIntervalMs.value).to.equal((interval || 5) * 1000);
      expect(target.keepaliveCountMax.value).to.equal(Number(theirs.get("serveralivecountmax")?.[0]));
    });
  }
});

const DEFAULTS = DEFAULT_IDENTITY_FILES.map((f) => `~/.ssh/${f}`);
