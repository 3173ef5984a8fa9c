import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LAB_PASSWORDS } from "../lab/lab.js";
import {
  hostSnapshot,
  LAB_PLAY,
  labPlaybook,
  modeOwner,
  onHost,
  provision,
  useLab,
  writeInventory,
} from "./support.js";

/**
 * `provision import` adopts a hand-made setup without changing it, and the diagnoses stop a playbook that
 * cannot send mail before anything is written. Real hosts, real Postfix.
 */
describe("import a hand-made setup; diagnoses before any write", function () {
  this.timeout(900_000);
  const { lab, work } = useLab(["adopt", "diag"]);
  let inventory: string;
  const secrets = Object.values(LAB_PASSWORDS);

  before(function () {
    inventory = writeInventory(lab(), join(work, "hosts.yaml"), ["adopt", "diag"]);
  });

  /** The guide's ritual on the host: postconf -e, table files 0644 (sasl_passwd 0600), postmap, reload. */
  async function handConfigure(params: string[], tables: Record<string, string>, remove: string[] = []) {
    const l = lab();
    await l.resetHost("adopt");
    let script = "set -e\ncd /etc/postfix\n";
    for (const [name, content] of Object.entries(tables)) {
      const mode = /passw/.test(name) ? "600" : "644";
      script += `printf '%s' '${content.replace(/'/g, "'\\''")}' > ${name}\nchmod ${mode} ${name}\npostmap hash:/etc/postfix/${name}\n`;
    }
    script += `postconf -e ${params.map((p) => `'${p}'`).join(" ")}\n`;
    if (remove.length > 0) script += `postconf -X ${remove.join(" ")}\n`;
    script += "postfix reload\n";
    await onHost(l, "adopt", script);
  }

  /** What must not change: postconf -n, every effective value (postconf -x), every table's entries. */
  async function truth(tables: string[]) {
    const l = lab();
    const entries: Record<string, string> = {};
    for (const name of tables)
      entries[name] = await onHost(l, "adopt", `postmap -s hash:/etc/postfix/${name} | LC_ALL=C sort`);
    return {
      postconfN: await onHost(l, "adopt", "postconf -n"),
      effective: await onHost(l, "adopt", "postconf -x 2>/dev/null | grep -v '^process_id = '"),
      entries,
    };
  }

  /** Import, check the output holds no secret, then dry-run and apply the result with the passwords. */
  async function roundTrip(tables: string[], env: Record<string, string> = {}) {
    const before = await truth(tables);
    const imported = await provision(["import", "adopt", "-i", inventory], work, {});
    expect(imported.code, imported.stderr).to.equal(0);
    for (const secret of secrets) {
      expect(imported.stdout).to.not.include(secret);
      expect(imported.stderr).to.not.include(secret);
    }
    const playbook = join(work, "imported.yaml");
    writeFileSync(playbook, imported.stdout);
    const dry = await provision(
      ["apply", "--dry-run", playbook, "-i", inventory, "--limit", "adopt"],
      work,
      env,
    );
    expect(dry.code, dry.stdout + dry.stderr).to.equal(0);
    const applied = await provision(["apply", playbook, "-i", inventory, "--limit", "adopt"], work, env);
    expect(applied.code, applied.stdout + applied.stderr).to.equal(0);
    const after = await truth(tables);
    expect(after.postconfN, "postconf -n").to.equal(before.postconfN);
    expect(after.entries).to.deep.equal(before.entries);
    const changed = (a: string, b: string) => a.split("\n").filter((line) => !b.split("\n").includes(line));
    expect(changed(after.effective, before.effective), "effective values (postconf -x)").to.deep.equal([]);
    for (const name of tables)
      expect(await modeOwner(lab(), "adopt", `/etc/postfix/${name}`)).to.equal("600 root:root");
    const again = await provision(["check", playbook, "-i", inventory, "--limit", "adopt"], work, env);
    expect(again.code, again.stdout).to.equal(0);
    return { imported, dry, before, after };
  }

  it("standalone host: the imported playbook changes nothing at all", async () => {
    await handConfigure(
      [
        "myorigin = $mydomain",
        "mydomain = home.example",
        "mynetworks_style = host",
        "relay_domains =",
        "smtp_host_lookup = native",
      ],
      {},
    );
    const { imported, dry, before, after } = await roundTrip([]);
    expect(imported.stdout).to.include("myorigin: $mydomain").and.include("mynetworks_style: host");
    expect(imported.stdout).to.not.include("biff");
    expect(imported.stderr).to.include("changes no main.cf value and no table entry");
    expect(dry.stdout).to.match(/adopt \(.*\): ok/);
    expect(after.postconfN).to.equal(before.postconfN);
  });

  it("generic, canonical and virtual: same entries, tables only rewritten in provision's format and made 0600", async () => {
    await handConfigure(
      [
        "smtp_generic_maps = hash:/etc/postfix/generic",
        "canonical_maps = hash:/etc/postfix/canonical",
        "virtual_alias_maps = hash:/etc/postfix/virtual",
        "smtp_host_lookup = native",
      ],
      {
        generic:
          "his@localdomain.local   hisaccount@hisisp.example\nher@localdomain.local   heraccount@herisp.example\n@localdomain.local      hisaccount+local@hisisp.example\n",
        canonical: "your-login-name  your-account@your-isp.com\n",
        virtual: "your-account@your-isp.com  your-login-name\n",
      },
    );
    const { imported, dry, before, after } = await roundTrip(["generic", "canonical", "virtual"]);
    expect(imported.stdout)
      .to.match(/^ {4}generic:$/m)
      .and.match(/^ {4}canonical:$/m)
      .and.match(/^ {4}virtual:$/m);
    expect(imported.stderr).to.include("changes no main.cf value and no table entry");
    expect(imported.stderr).to.include(
      "/etc/postfix/generic: rewritten in provision's format, root:root 0644 -> root:root 0600",
    );
    // The dry run says exactly that: the three tables, their modes, no main.cf parameter.
    expect(dry.stdout).to.not.match(/parameter +\/etc\/postfix\/main.cf/);
    expect(dry.stdout).to.include("would write /etc/postfix/generic (root:root 0600)");
    expect(after.postconfN).to.equal(before.postconfN);
  });

  it("relay and sender-dependent relays: passwords become { env: NAME }, nothing secret printed, entries kept", async () => {
    const isp = `username:${LAB_PASSWORDS.isp}`;
    await handConfigure(
      [
        "relayhost = [mail.isp.example]:submission",
        "smtp_sasl_auth_enable = yes",
        "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd",
        "smtp_sasl_security_options = noanonymous",
        "smtp_tls_security_level = encrypt",
        "smtp_sender_dependent_authentication = yes",
        "sender_dependent_relayhost_maps = hash:/etc/postfix/sender_relay",
        "smtp_host_lookup = native",
      ],
      {
        sasl_passwd: `user1@example.com username2:${LAB_PASSWORDS.exampleCom}\n[mail.isp.example]:submission ${isp}\n`,
        sender_relay: "user1@example.com [mail.example.com]:submission\n",
      },
      ["default_transport", "relay_transport"],
    );
    const env = {
      MAIL_ISP_EXAMPLE_PASSWORD: LAB_PASSWORDS.isp,
      USER1_EXAMPLE_COM_PASSWORD: LAB_PASSWORDS.exampleCom,
    };
    const { imported, dry, after } = await roundTrip(["sasl_passwd", "sender_relay"], env);
    expect(imported.stdout).to.include("password: { env: MAIL_ISP_EXAMPLE_PASSWORD }");
    expect(imported.stderr).to.include(
      "MAIL_ISP_EXAMPLE_PASSWORD  password of username for [mail.isp.example]:submission",
    );
    expect(imported.stderr).to.include("changes no main.cf value and no table entry");
    expect(dry.stdout).to.not.match(/parameter +\/etc\/postfix\/main.cf/);
    expect(after.postconfN).to.include("smtp_sasl_security_options = noanonymous");
  });

  it("port 465 with options of its own for TLS sessions: main.cf and the tables stay as they are", async () => {
    await handConfigure(
      [
        "relayhost = [mail.isp.example]:465",
        "smtp_sasl_auth_enable = yes",
        "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd",
        "smtp_sasl_security_options = noanonymous, noplaintext",
        "smtp_sasl_tls_security_options = noanonymous",
        "smtp_tls_wrappermode = yes",
        "smtp_tls_security_level = encrypt",
        "smtp_host_lookup = native",
      ],
      { sasl_passwd: `[mail.isp.example]:465 username:${LAB_PASSWORDS.isp}\n` },
      ["default_transport", "relay_transport"],
    );
    const { imported, dry, after } = await roundTrip(["sasl_passwd"], {
      MAIL_ISP_EXAMPLE_PASSWORD: LAB_PASSWORDS.isp,
    });
    expect(imported.stdout).to.match(/^ {6}port: 465$/m);
    expect(imported.stdout).to.include("smtp_sasl_tls_security_options: noanonymous");
    expect(dry.stdout).to.not.match(/parameter +\/etc\/postfix\/main.cf/);
    expect(after.postconfN).to.include("smtp_tls_wrappermode = yes");
  });

  it("the translator's smtp_passwd stays as it is: nothing changes, its password is never printed", async () => {
    await handConfigure(
      [
        "relayhost = [foo.bar.com]:587",
        "smtp_sasl_auth_enable = yes",
        "smtp_sasl_password_maps = hash:/etc/postfix/smtp_passwd",
        "smtp_sasl_security_options = noanonymous",
        "smtp_sasl_mechanism_filter = plain, login",
        "smtp_generic_maps = hash:/etc/postfix/generic",
        "smtp_host_lookup = native",
      ],
      {
        smtp_passwd: `[foo.bar.com]:587 hoge:${LAB_PASSWORDS.fooBar}\n`,
        generic: "@linux.myhome.net hoge@foo.bar.com\n",
      },
      ["default_transport", "relay_transport"],
    );
    const { imported, before, after } = await roundTrip(["generic"]);
    expect(imported.stderr).to.include("holds passwords and is left as it is");
    expect(after.postconfN).to.equal(before.postconfN);
  });

  describe("diagnoses", () => {
    const dryRun = (playbook: string, env: Record<string, string> = { ISP_PASSWORD: LAB_PASSWORDS.isp }) =>
      provision(["apply", "--dry-run", playbook, "-i", inventory, "--limit", "diag"], work, env);
    const play = (file: string, postfix: string) => {
      writeFileSync(join(work, file), `- hosts: diag\n  postfix:\n${postfix}${LAB_PLAY}`);
      return join(work, file);
    };
    const relay = (extra: string) => `    relay:
      host: mail.isp.example
      port: submission
      username: username
      password: { env: ISP_PASSWORD }
${extra}`;

    it("a main.cf typo is refused by the dry run, and nothing is written", async () => {
      const before = await hostSnapshot(lab(), "diag");
      const typo = play("typo.yaml", "    main:\n      smtp_helo_timout: 30s\n");
      const result = await dryRun(typo);
      expect(result.code, result.stdout).to.equal(1);
      expect(result.stdout).to.match(/diag \(.*\): FAILED/);
      expect(result.stdout).to.include(
        "Postfix does not know the parameter smtp_helo_timout (main: smtp_helo_timout;",
      );
      const applied = await provision(["apply", typo, "-i", inventory, "--limit", "diag"], work, {});
      expect(applied.code).to.equal(1);
      expect(await hostSnapshot(lab(), "diag")).to.equal(before);
    });

    it("noplaintext with only PLAIN and LOGIN allowed: an error before apply; without a filter a warning", async () => {
      const before = await hostSnapshot(lab(), "diag");
      const refused = play(
        "noplaintext.yaml",
        relay("      security_options: [noplaintext, noanonymous]\n      mechanisms: [plain, login]\n"),
      );
      for (const args of [["apply", "--dry-run"], ["apply"], ["check"]]) {
        const result = await provision([...args, refused, "-i", inventory, "--limit", "diag"], work, {
          ISP_PASSWORD: LAB_PASSWORDS.isp,
        });
        expect(result.code, `${args.join(" ")}: ${result.stdout}`).to.equal(1);
        expect(result.stdout).to.include(
          'security options "noplaintext, noanonymous" refuse every mechanism the mechanism filter allows (PLAIN, LOGIN)',
        );
      }
      expect(await hostSnapshot(lab(), "diag")).to.equal(before);
      const warned = await dryRun(
        play("noplaintext-warn.yaml", relay("      security_options: [noplaintext, noanonymous]\n")),
      );
      expect(warned.code, warned.stdout).to.equal(0);
      expect(warned.stdout).to.include(
        'warning: the security options "noplaintext, noanonymous" refuse PLAIN and LOGIN',
      );
    });

    it("SASL plugins missing on the host: diagnosed with the package to install", async () => {
      const l = lab();
      const sasl = labPlaybook(join(work, "sasl.yaml"), "sasl-relay.yaml").replace(
        /sasl\.yaml$/,
        "sasl.yaml",
      );
      // Hidden in this lab host's own mount namespace only.
      await onHost(l, "diag", "mount -t tmpfs -o size=1m provision-e2e /usr/lib/x86_64-linux-gnu/sasl2");
      try {
        const result = await provision(
          ["apply", "--dry-run", sasl, "-i", inventory, "--limit", "diag"],
          work,
          {
            ISP_PASSWORD: LAB_PASSWORDS.isp,
          },
        );
        expect(result.code, result.stdout).to.equal(1);
        expect(result.stdout).to.include(
          "no SASL plugin for PLAIN or LOGIN is installed on this host (plugins found: none)",
        );
        expect(result.stdout).to.include("Install libsasl2-modules on the host");
      } finally {
        await onHost(l, "diag", "umount /usr/lib/x86_64-linux-gnu/sasl2");
      }
      const fine = await provision(["apply", "--dry-run", sasl, "-i", inventory, "--limit", "diag"], work, {
        ISP_PASSWORD: LAB_PASSWORDS.isp,
      });
      expect(fine.code, fine.stdout).to.equal(0);
    });

    it("Local only transports with no relay, and a submission relay without login: warnings", async () => {
      const result = await dryRun(play("local.yaml", "    main:\n      myorigin: $mydomain\n"));
      expect(result.code, result.stdout).to.equal(0);
      expect(result.stdout).to.include(
        'default_transport = error and relay_transport = error (Debian\'s "Local only" setup)',
      );
      const open = await dryRun(
        play("open.yaml", "    relay:\n      host: mail.isp.example\n      port: submission\n"),
      );
      expect(open.code, open.stdout).to.equal(0);
      expect(open.stdout).to.include(
        "relay sends to [mail.isp.example]:submission (port 587, a submission port) without username and password",
      );
    });
  });
});
