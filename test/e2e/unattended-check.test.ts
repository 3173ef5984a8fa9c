import { expect } from "chai";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { labPlaybook, onHost, PASSWORDS, provision, useLab, writeInventory } from "./support.js";

/**
 * The drift check a timer runs has no passwords. It still checks everything else on a real host (main.cf,
 * table keys and usernames, modes, indexes, the service), names the credentials it could not verify, and
 * exits as the rest says; --prom-file is written; --quiet prints only what is wrong.
 */

const SASL = "/etc/postfix/sasl_passwd";
const ISP_KEY = "[mail.isp.example]:submission";
const NOT_VERIFIED = `password for ${ISP_KEY} in ${SASL} not verified: environment variable ISP_PASSWORD is not set`;

describe("check without the passwords (a timer's drift check)", function () {
  this.timeout(600_000);
  const { lab, work } = useLab(["nas"]);
  let inventory: string;
  let site: string;
  const withoutIsp = Object.fromEntries(
    Object.entries(PASSWORDS).filter(([name]) => name !== "ISP_PASSWORD"),
  );

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), ["nas"]);
    site = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });

  const apply = () => provision(["apply", site, "-i", inventory], work);
  const check = (env: Record<string, string>, ...args: string[]) =>
    provision(["check", site, "-i", inventory, ...args], work, env);
  const secretsIn = (text: string) => Object.values(PASSWORDS).filter((value) => text.includes(value));

  it("an in-sync host: exit 0, with a warning naming the credential not verified and why", async () => {
    expect((await apply()).code).to.equal(0);
    const prom = join(work, "nas.prom");
    const result = await check(withoutIsp, "--prom-file", prom);
    const shown = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, shown).to.equal(0);
    expect(result.stdout, shown).to.equal(`nas: in sync\n  warning: ${NOT_VERIFIED}\n`);
    expect(result.stderr, shown).to.equal("");
    expect(secretsIn(result.stdout + result.stderr), "no password in the output").to.deep.equal([]);
    const metrics = readFileSync(prom, "utf8");
    expect(metrics).to.match(/^provision_drift\{host="nas"\} 0$/m);
    expect(metrics).to.match(/^provision_up\{host="nas"\} 1$/m);
    expect(metrics).to.match(/^provision_check_error 0$/m);
  });

  it("with no secret at all (no environment, no password file) it names each credential", async () => {
    const emptyHome = join(work, "empty-home");
    mkdirSync(emptyHome, { recursive: true });
    const result = await check({ HOME: emptyHome });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    const warnings = result.stdout.split("\n").filter((line) => line.startsWith("  warning: "));
    expect(warnings).to.have.length(3);
    expect(result.stdout).to.include("environment variable EXAMPLE_COM_PASSWORD is not set");
    expect(result.stdout).to.match(
      /password for user2@example\.net .*cannot read password file .*: no such file/,
    );
  });

  it("--quiet prints nothing for a host in sync", async () => {
    const result = await check(withoutIsp, "--quiet");
    expect(result.code).to.equal(0);
    expect(result.stdout + result.stderr).to.equal("");
  });

  it("another password on the host cannot be seen without it, but is with it", async () => {
    const line = "^\\[mail\\.isp\\.example\\]:submission username:";
    await onHost(
      lab(),
      "nas",
      `sed -i 's/\\(${line}\\).*/\\1another-password/' ${SASL} && postmap hash:${SASL}`,
    );
    expect(await onHost(lab(), "nas", `grep -c 'username:another-password$' ${SASL}`)).to.equal("1\n");
    expect((await check(withoutIsp)).code).to.equal(0);
    const withIt = await check(PASSWORDS);
    expect(withIt.code, withIt.stdout).to.equal(2);
    expect(withIt.stdout).to.include(`${SASL} content`);
  });

  it("a drifted non-secret value of the credentials table: exit 2, the host's password never shown", async () => {
    expect((await apply()).code).to.equal(0);
    // The ISP account's username, as if edited by hand; its password stays what apply wrote.
    await onHost(lab(), "nas", `sed -i 's/ username:/ someone-else:/' ${SASL} && postmap hash:${SASL}`);
    const result = await check(withoutIsp);
    const shown = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, shown).to.equal(2);
    expect(result.stdout, shown).to.match(/^nas: drift: \/etc\/postfix\/sasl_passwd content$/m);
    expect(result.stdout, shown).to.include(NOT_VERIFIED);
    expect(secretsIn(result.stdout + result.stderr)).to.deep.equal([]);
    const quiet = await check(withoutIsp, "--quiet");
    expect(quiet.code).to.equal(2);
    expect(quiet.stdout).to.match(/^nas: drift: /);
  });

  it("a drifted main.cf parameter or index mode is found without the passwords too", async () => {
    expect((await apply()).code).to.equal(0);
    await onHost(lab(), "nas", `postconf -e myorigin=drifted.example && chmod 0644 ${SASL}.db`);
    const result = await check(withoutIsp);
    expect(result.code, result.stdout).to.equal(2);
    expect(result.stdout).to.include("/etc/postfix/main.cf parameter (myorigin)");
    expect(result.stdout).to.include(`${SASL}.db mode`);
    expect((await apply()).code).to.equal(0);
    expect((await check(withoutIsp)).code).to.equal(0);
  });

  it("a check that cannot start still writes --prom-file, saying so", async () => {
    const prom = join(work, "broken.prom");
    const result = await provision(
      ["check", join(work, "no-such.yaml"), "-i", inventory, "--prom-file", prom],
      work,
    );
    expect(result.code).to.equal(1);
    const metrics = readFileSync(prom, "utf8");
    expect(metrics).to.match(/^provision_check_error 1$/m);
    expect(metrics).to.match(/^provision_up 0$/m);
  });
});
