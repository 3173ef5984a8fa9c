import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  hostSnapshot,
  LAB_PLAY,
  labPlaybook,
  modeOwner,
  onHost,
  PASSWORDS,
  postconf,
  provision,
  reloadCount,
  sendMail,
  labTargets,
  useLab,
  writeInventory,
} from "./support.js";

interface JsonHost {
  name: string;
  status: string;
  changes: { path: string; what: string; parameters?: string[] }[];
  error?: string;
}
const hostsOf = (stdout: string): JsonHost[] => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts;

/**
 * The life of one machine: preview, apply, apply again, drift by hand, check, repair. site.yaml (the
 * sender-dependent example of SPEC.md) on a fresh Debian "Local only" Postfix.
 */
for (const target of labTargets()) {
  describe(`dry run, apply, idempotence and drift on ${target.title}`, function () {
    this.timeout(300_000);
    const { lab, work } = useLab(["nas"], target);
    let inventory: string;
    let playbook: string;
    const run = (...args: string[]) => provision([...args, playbook, "-i", inventory], work);
    const allSecrets = Object.values(PASSWORDS);
    const expectNoSecrets = (text: string) => {
      for (const secret of allSecrets) expect(text).to.not.include(secret);
    };

    let debianComments: string[];

    before(async function () {
      inventory = writeInventory(lab(), join(work, "hosts.yaml"), ["nas"]);
      playbook = labPlaybook(join(work, "site.yaml"), "site.yaml");
      const mainCf = await onHost(lab(), "nas", "cat /etc/postfix/main.cf");
      debianComments = mainCf.split("\n").filter((line) => line.startsWith("#"));
    });

    it("dry run shows masked diffs and changes nothing on the host", async () => {
      const l = lab();
      const before = await hostSnapshot(l, "nas");
      const reloads = await reloadCount(l, "nas");
      const result = await run("apply", "--dry-run");
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include("+relayhost = [mail.isp.example]:submission");
      expect(result.stdout).to.include("+[mail.isp.example]:submission username:********");
      expect(result.stdout).to.include("+user1@example.com [mail.example.com]:submission");
      expect(result.stdout).to.include("would run postmap hash:/etc/postfix/sasl_passwd");
      expect(result.stdout).to.include("Dry run: nothing was changed");
      expectNoSecrets(result.stdout + result.stderr);
      expect(await hostSnapshot(l, "nas")).to.equal(before);
      expect(await reloadCount(l, "nas")).to.equal(reloads);
    });

    it("apply makes postconf -n show the declared values, with root 0600 tables and a 0644 main.cf", async () => {
      const l = lab();
      const result = await run("apply");
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.match(/nas \(.*\): changed/);
      expectNoSecrets(result.stdout + result.stderr);
      expect(await postconf(l, "nas", "relayhost")).to.equal("[mail.isp.example]:submission");
      expect(await postconf(l, "nas", "smtp_sasl_auth_enable")).to.equal("yes");
      expect(await postconf(l, "nas", "smtp_tls_security_level")).to.equal("encrypt");
      expect(await postconf(l, "nas", "myorigin")).to.equal("$mydomain");
      expect(await onHost(l, "nas", "postconf -n")).to.not.match(/^(default_transport|relay_transport) /m);
      for (const table of [
        "sasl_passwd",
        "sasl_passwd.db",
        "generic",
        "generic.db",
        "sender_relay",
        "sender_relay.db",
      ]) {
        expect(await modeOwner(l, "nas", `/etc/postfix/${table}`), table).to.equal("600 root:root");
      }
      expect(await modeOwner(l, "nas", "/etc/postfix/main.cf")).to.equal("644 root:root");
      // Debian's own lines (of this release's main.cf) survive the edit.
      expect(debianComments.length).to.be.greaterThan(0);
      const edited = (await onHost(l, "nas", "cat /etc/postfix/main.cf")).split("\n");
      expect(edited).to.include.members(debianComments);
      expect(await onHost(l, "nas", "ls -a /etc/postfix")).to.not.include(".provision.");
    });

    it("a second apply changes nothing: no write, no postmap, no reload or restart", async () => {
      const l = lab();
      const before = await hostSnapshot(l, "nas");
      const reloads = await reloadCount(l, "nas");
      const result = await run("apply", "--json");
      expect(result.code, result.stderr).to.equal(0);
      const [host] = hostsOf(result.stdout);
      expect(host).to.include({ name: "nas", status: "in-sync" });
      expect(host?.changes).to.deep.equal([]);
      expect(host).to.not.have.property("steps");
      expect(await hostSnapshot(l, "nas")).to.equal(before);
      expect(await reloadCount(l, "nas")).to.equal(reloads);
    });

    it("check exits 0 on a host in sync", async () => {
      const result = await run("check");
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout.trim()).to.equal("nas: in sync");
    });

    const drifts: {
      name: string;
      make: string;
      expect: { path: string; what: string; parameters?: string[] };
    }[] = [
      {
        name: "a hand edit of a table",
        make: "echo 'root@localdomain.local attacker@evil.example' >> /etc/postfix/generic && postmap hash:/etc/postfix/generic",
        expect: { path: "/etc/postfix/generic", what: "content" },
      },
      {
        name: "chmod 0644 on sasl_passwd.db",
        make: "chmod 0644 /etc/postfix/sasl_passwd.db",
        expect: { path: "/etc/postfix/sasl_passwd.db", what: "mode" },
      },
      {
        name: "a table edited without postmap",
        make: "sed -i 's/mail.example.net/mail.example.org/' /etc/postfix/sender_relay",
        expect: { path: "/etc/postfix/sender_relay", what: "content" },
      },
      {
        name: "an index older than its source (source saved again, postmap forgotten)",
        make: "touch -d '-1 hour' /etc/postfix/generic.db",
        expect: { path: "/etc/postfix/generic", what: "stale-index" },
      },
      {
        name: "a removed main.cf parameter",
        make: "postconf -X relayhost",
        expect: { path: "/etc/postfix/main.cf", what: "parameter", parameters: ["relayhost"] },
      },
    ];
    for (const drift of drifts) {
      it(`drift: ${drift.name} -> check exits 2 and names it; apply repairs; check exits 0`, async () => {
        const l = lab();
        await onHost(l, "nas", drift.make);
        const check = await run("check", "--json");
        expect(check.code, check.stdout + check.stderr).to.equal(2);
        const [host] = hostsOf(check.stdout);
        expect(host?.status).to.equal("drift");
        expect(
          host?.changes.map((c) => ({
            path: c.path,
            what: c.what,
            ...(c.parameters ? { parameters: c.parameters } : {}),
          })),
        ).to.deep.include(drift.expect);
        expectNoSecrets(check.stdout + check.stderr);

        const text = await run("check");
        expect(text.stdout).to.include(`nas: drift: ${drift.expect.path} ${drift.expect.what}`);

        const repair = await run("apply");
        expect(repair.code, repair.stdout + repair.stderr).to.equal(0);
        expect((await run("check")).code).to.equal(0);
      });
    }

    it("drift: a no-break space in a main.cf list (Postfix reads it as part of a name) -> check exits 2; apply repairs", async () => {
      const l = lab();
      const extra =
        "- name: local domains\n  hosts: home\n  postfix:\n    main:\n      mydestination: $myhostname, localhost\n";
      const local = labPlaybook(join(work, "mydestination.yaml"), "site.yaml", extra);
      const runLocal = (...args: string[]) => provision([...args, local, "-i", inventory], work);
      const applied = await runLocal("apply");
      expect(applied.code, applied.stdout + applied.stderr).to.equal(0);

      await onHost(
        l,
        "nas",
        `nbsp=$(printf '\\302\\240'); sed -i "s/^mydestination = .*/mydestination = \\$myhostname,\${nbsp}localhost/" /etc/postfix/main.cf`,
      );
      // Postfix's own reading: "<NBSP>localhost" is one name, so localhost is no longer a local domain.
      expect(await postconf(l, "nas", "mydestination")).to.equal("$myhostname,\u00a0localhost");

      const check = await runLocal("check", "--json");
      expect(check.code, check.stdout + check.stderr).to.equal(2);
      expect(hostsOf(check.stdout)[0]?.changes).to.deep.include({
        path: "/etc/postfix/main.cf",
        what: "parameter",
        parameters: ["mydestination"],
        detail: "parameters mydestination",
      });

      const repair = await runLocal("apply");
      expect(repair.code, repair.stdout + repair.stderr).to.equal(0);
      expect(await postconf(l, "nas", "mydestination")).to.equal("$myhostname, localhost");
      expect((await runLocal("check")).code).to.equal(0);
    });

    it("check --prom-file writes drift metrics atomically", async () => {
      const file = join(work, "provision.prom");
      const result = await provision(["check", playbook, "-i", inventory, "--prom-file", file], work);
      expect(result.code).to.equal(0);
      const metrics = readFileSync(file, "utf8");
      expect(metrics).to.include('provision_drift{host="nas"} 0');
      expect(metrics).to.include('provision_up{host="nas"} 1');
      expect(metrics).to.match(/provision_last_check_timestamp_seconds\{host="nas"\} \d+/);
    });

    it("facts shows the host's Postfix version, table types and postconf -n", async () => {
      const result = await provision(["facts", "-i", inventory], work);
      expect(result.code).to.equal(0);
      expect(result.stdout).to.match(/postfix version:\s+3\.\d+\.\d+ \(running\)/);
      expect(result.stdout).to.match(/default table type:\s+hash/);
      expect(result.stdout).to.include("relayhost = [mail.isp.example]:submission");
    });

    it("changing only the table type (hash -> btree) rebuilds every index in the new format; mail still flows", async () => {
      const l = lab();
      const btree = labPlaybook(join(work, "btree.yaml"), "site.yaml");
      writeFileSync(btree, readFileSync(btree, "utf8").replace("table_type: auto", "table_type: btree"));
      const result = await provision(["apply", btree, "-i", inventory], work);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.include("ran postmap btree:/etc/postfix/sasl_passwd");
      expect(await postconf(l, "nas", "smtp_sasl_password_maps")).to.equal("btree:/etc/postfix/sasl_passwd");
      expect(await onHost(l, "nas", "postmap -q user1@example.com btree:/etc/postfix/sasl_passwd")).to.match(
        /^username2:/,
      );
      await sendMail(l, "nas", "his@localdomain.local", "friend@elsewhere.example", "btree");
      const mail = await l.waitForMessage((m) => m.data.includes("Subject: btree"));
      expect([mail.authUser, mail.mailFrom]).to.deep.equal(["username", "hisaccount@hisisp.example"]);
      expect((await provision(["check", btree, "-i", inventory], work)).code).to.equal(0);
    });

    it("switching to lmdb builds .lmdb indexes (root 0600) and removes the old .db files; mail still flows", async () => {
      const l = lab();
      const lmdb = labPlaybook(join(work, "lmdb.yaml"), "site.yaml");
      writeFileSync(lmdb, readFileSync(lmdb, "utf8").replace("table_type: auto", "table_type: lmdb"));
      const result = await provision(["apply", lmdb, "-i", inventory], work);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.include("removed /etc/postfix/sasl_passwd.db");
      const files = await onHost(l, "nas", "ls /etc/postfix");
      expect(files).to.not.match(/\.db$/m);
      for (const table of ["sasl_passwd", "generic", "sender_relay"]) {
        expect(await modeOwner(l, "nas", `/etc/postfix/${table}.lmdb`), table).to.equal("600 root:root");
      }
      await sendMail(l, "nas", "user1@example.com", "friend@elsewhere.example", "lmdb");
      const mail = await l.waitForMessage((m) => m.data.includes("Subject: lmdb"));
      expect([mail.relay, mail.authUser]).to.deep.equal(["example-com", "username2"]);
      expect((await provision(["check", lmdb, "-i", inventory], work)).code).to.equal(0);
    });

    it("a relay without credentials any more: sasl_passwd and its index, holding old passwords, are removed", async () => {
      const l = lab();
      const noAuth = join(work, "no-auth.yaml");
      writeFileSync(
        noAuth,
        `- hosts: home\n  postfix:\n    relay: { host: mail.isp.example, port: submission }\n` + LAB_PLAY,
      );
      const result = await provision(["apply", noAuth, "-i", inventory], work);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.include("removed /etc/postfix/sasl_passwd");
      expect(await onHost(l, "nas", "ls /etc/postfix")).to.not.match(/sasl_passwd/);
      expect(await onHost(l, "nas", "postconf -n")).to.not.match(/^smtp_sasl_/m);
      // Old passwords do not linger in older backup sets; only this run's own set keeps them (to roll back).
      const own = /saved in (\/var\/backups\/provision\/\S+)/.exec(result.stdout)?.[1];
      expect(own, result.stdout).to.be.a("string");
      const copies = await onHost(
        l,
        "nas",
        `find /var/backups/provision -path '*/files/etc/postfix/sasl_passwd*' ! -path '${own}/*' | wc -l`,
      );
      expect(Number(copies)).to.equal(0);
      // and back, so the suite leaves the host as site.yaml says
      expect((await run("apply")).code).to.equal(0);
    });
  });
}
