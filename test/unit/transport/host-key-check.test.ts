import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostKeyCheck, type HostKeyPolicy } from "../../../src/transport/host-key-check.js";
import { fingerprint } from "../../../src/transport/known-hosts.js";

/**
 * Which known_hosts files vouch for a host key, as OpenSSH decides it: the user files and the global
 * files (GlobalKnownHostsFile) together, and where accept-new records an unknown host (plain, or hashed
 * with HashKnownHosts yes, in a form OpenSSH's own ssh-keygen -F finds).
 */
describe("host key check over user and global known_hosts files", function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), "provision-host-key-"));
  let caseNo = 0;
  /** "ssh-ed25519 AAAA..." and the raw blob of a fresh key, from ssh-keygen. */
  const newKey = () => {
    const file = join(dir, `key-${++caseNo}`);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
    const text = readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    return { text, blob: Buffer.from(text.split(" ")[1]!, "base64") };
  };
  const HOST = newKey();
  const OTHER = newKey();

  /** Files of one case: `content` undefined = the file does not exist. */
  const files = (user?: string, global?: string) => {
    const base = join(dir, `case-${++caseNo}`);
    const paths = { user: `${base}-user`, global: `${base}-global` };
    if (user !== undefined) writeFileSync(paths.user, user);
    if (global !== undefined) writeFileSync(paths.global, global);
    return paths;
  };
  const check = (paths: { user: string; global: string }, more: Partial<HostKeyPolicy> = {}) =>
    hostKeyCheck({
      hostname: "nas.lan",
      port: 22,
      files: [paths.user],
      globalFiles: [join(dir, "missing-global"), paths.global],
      checking: "strict",
      hash: false,
      label: "",
      ...more,
    });

  it("accepts a key found only in a global file, and writes nothing", () => {
    const paths = files(undefined, `# fleet\nnas.lan ${HOST.text}\n`);
    const c = check(paths);
    expect(c.verify(HOST.blob)).to.equal(true);
    expect(c.algorithms()).to.deep.equal(["ssh-ed25519"]);
    expect(existsSync(paths.user)).to.equal(false);
    const accepting = check(paths, { checking: "accept-new" });
    expect(accepting.verify(HOST.blob)).to.equal(true);
    expect(existsSync(paths.user)).to.equal(false);
  });

  it("refuses a key that changed in a global file, naming that file and line, also with accept-new", () => {
    const global = `# fleet\nnas.lan ${OTHER.text}\n`;
    const paths = files("", global);
    for (const checking of ["strict", "accept-new"] as const) {
      const c = check(paths, { checking });
      expect(c.verify(HOST.blob)).to.equal(false);
      expect(c.refusal()).to.match(/^HOST KEY OF nas\.lan:22 HAS CHANGED/);
      expect(c.refusal()).to.include(`does not match ${paths.global}:2`);
    }
    expect(readFileSync(paths.user, "utf8")).to.equal("");
    expect(readFileSync(paths.global, "utf8")).to.equal(global);
  });

  it("trusts a key recorded in any file, as ssh does, though another file holds another key", () => {
    // A fleet-wide file with an older key, the user's own file with the current one (and the reverse).
    expect(check(files(`nas.lan ${HOST.text}\n`, `nas.lan ${OTHER.text}\n`)).verify(HOST.blob)).to.equal(
      true,
    );
    expect(check(files(`nas.lan ${OTHER.text}\n`, `nas.lan ${HOST.text}\n`)).verify(HOST.blob)).to.equal(
      true,
    );
  });

  it("refuses a key @revoked in a global file, even when the user's file records it", () => {
    const paths = files(`nas.lan ${HOST.text}\n`, `@revoked * ${HOST.text}\n`);
    const c = check(paths);
    expect(c.verify(HOST.blob)).to.equal(false);
    expect(c.refusal()).to.include(`is marked @revoked in ${paths.global}:1`);
  });

  it("names every file it looked in when the host is unknown", () => {
    const paths = files("", "");
    const c = check(paths);
    expect(c.verify(HOST.blob)).to.equal(false);
    expect(c.refusal()).to.include(
      `host nas.lan:22 is not in ${paths.user} or ${join(dir, "missing-global")} or ${paths.global};`,
    );
  });

  describe("recording an unknown host with accept-new", () => {
    /** ssh-keygen -F: the lines OpenSSH finds for `name` in `file` (none: exit status 1). */
    const keygenFind = (name: string, file: string) => {
      const result = spawnSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8" });
      return result.status === 0 ? result.stdout.split("\n").filter((l) => l && !l.startsWith("#")) : [];
    };

    it("writes the first user file only, plain without HashKnownHosts", () => {
      const paths = files(undefined, "");
      const second = join(dir, "second-user");
      const c = check(paths, { checking: "accept-new", files: [paths.user, second] });
      expect(c.verify(HOST.blob)).to.equal(true);
      expect(readFileSync(paths.user, "utf8")).to.equal(`nas.lan ${HOST.text}\n`);
      expect(existsSync(second)).to.equal(false);
      expect(readFileSync(paths.global, "utf8")).to.equal("");
    });

    for (const port of [22, 2222]) {
      const name = port === 22 ? "nas.lan" : `[nas.lan]:${port}`;
      it(`with HashKnownHosts yes writes |1|salt|HMAC-SHA1 of ${name}, which ssh-keygen -F finds`, () => {
        const paths = files(undefined, "");
        const logged: string[] = [];
        const c = check(paths, { checking: "accept-new", hash: true, port, log: (l) => logged.push(l) });
        expect(c.verify(HOST.blob)).to.equal(true);
        const text = readFileSync(paths.user, "utf8");
        expect(text).to.not.include("nas");
        const [hosts, ...key] = text.trim().split(" ");
        expect(key.join(" ")).to.equal(HOST.text);
        const [, magic, salt, hash] = hosts!.split("|");
        expect(magic).to.equal("1");
        const saltBytes = Buffer.from(salt!, "base64");
        expect(saltBytes).to.have.length(20);
        expect(createHmac("sha1", saltBytes).update(name).digest("base64")).to.equal(hash);
        expect(logged).to.deep.equal([
          `recorded host key ${fingerprint(HOST.blob)} in ${paths.user} (hashed)`,
        ]);
        // Next time it is known, to provision and to OpenSSH alike.
        expect(check(paths, { port }).verify(HOST.blob)).to.equal(true);
        expect(keygenFind(name, paths.user)).to.deep.equal([text.trim()]);
        expect(keygenFind(port === 22 ? "other.lan" : "nas.lan", paths.user)).to.deep.equal([]);
      });
    }

    it("salts every line anew, so the same host recorded twice does not show as the same", () => {
      const [a, b] = [files(undefined, ""), files(undefined, "")].map((paths) => {
        check(paths, { checking: "accept-new", hash: true }).verify(HOST.blob);
        return readFileSync(paths.user, "utf8").split(" ")[0];
      });
      expect(a).to.match(/^\|1\|/);
      expect(a).to.not.equal(b);
    });
  });
});
