import { expect } from "chai";
import { HostError, InputError } from "../../../src/errors.js";
import { deriveConfig, settleImplied, type DesiredConfig } from "../../../src/postfix/derive.js";
import { editMainCf, mainCfValues } from "../../../src/postfix/maincf.js";
import type { PostfixState, RelaySpec } from "../../../src/postfix/state.js";
import { renderTable } from "../../../src/postfix/table.js";
import { Secret } from "../../../src/secrets/secret.js";
import { alma, catchError, debian, hostWithVersion } from "./fixtures.js";

const PASSWORD = "Pa55:w#rd with spaces";
const password = (value = PASSWORD) => new Secret(value, "env ISP_PASSWORD");

function state(partial: Partial<PostfixState> = {}): PostfixState {
  return { tableType: "auto", main: {}, ...partial };
}

function table(config: DesiredConfig, name: string) {
  const found = config.tables.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name}`);
  return found;
}

/** The lines of a rendered table below its header. */
function lines(config: DesiredConfig, name: string): string[] {
  return renderTable(table(config, name).entries).text.split("\n").slice(1, -1);
}

const ispRelay = (extra: Partial<RelaySpec> = {}): RelaySpec => ({
  host: "mail.isp.example",
  mx: false,
  username: "username",
  password: password(),
  ...extra,
});

/** Every relay/SASL/TLS-client parameter the tool owns once relay: or senders: is declared. */
const RELAY_SET = [
  "relayhost",
  "default_transport",
  "relay_transport",
  "smtp_sasl_auth_enable",
  "smtp_sasl_password_maps",
  "smtp_sasl_security_options",
  "smtp_sasl_tls_security_options",
  "smtp_sasl_mechanism_filter",
  "smtp_tls_security_level",
  "smtp_tls_wrappermode",
  "smtp_sender_dependent_authentication",
  "sender_dependent_relayhost_maps",
];

describe("postfix/derive", () => {
  describe("scenario 1: standalone Internet host", () => {
    it("passes main: through and touches nothing else", () => {
      const main = {
        myorigin: "$mydomain",
        proxy_interfaces: "1.2.3.4",
        mynetworks_style: "host",
        relay_domains: "",
      };
      expect(deriveConfig(state({ main }), debian)).to.deep.equal({
        main,
        implied: {},
        tables: [],
        retired: [],
      });
    });

    it("passes null (remove) through", () => {
      const main = { mynetworks: "192.168.1.0/28", relay_domains: "", proxy_interfaces: null };
      expect(deriveConfig(state({ main }), debian).main).to.deep.equal(main);
    });

    it("rejects a bad parameter name or value in main:", () => {
      expect(() => deriveConfig(state({ main: { "bad name": "x" } }), debian)).to.throw(InputError, /main/);
      expect(() => deriveConfig(state({ main: { relayhost: "x\ny = z" } }), debian)).to.throw(
        InputError,
        /postfix\.main\.relayhost/,
      );
    });
  });

  describe("scenario 2: a host without a real Internet hostname", () => {
    const generic = {
      "his@localdomain.local": "hisaccount@hisisp.example",
      "her@localdomain.local": "heraccount@herisp.example",
      "@localdomain.local": "hisaccount+local@hisisp.example",
    };

    it("Postfix >= 2.2: generic table + smtp_generic_maps, no relay parameters touched", () => {
      const config = deriveConfig(state({ generic }), debian);
      expect(config.main).to.deep.equal({ smtp_generic_maps: "hash:/etc/postfix/generic" });
      expect(config.tables).to.have.length(1);
      const { entries, ...rest } = table(config, "generic");
      expect(rest).to.deep.equal({
        name: "generic",
        path: "/etc/postfix/generic",
        type: "hash",
        parameter: "smtp_generic_maps",
        secret: false,
        postmap: true,
        indexPaths: ["/etc/postfix/generic.db"],
      });
      expect(entries).to.have.length(3);
      expect(lines(config, "generic")).to.deep.equal([
        "@localdomain.local hisaccount+local@hisisp.example",
        "her@localdomain.local heraccount@herisp.example",
        "his@localdomain.local hisaccount@hisisp.example",
      ]);
    });

    it("Postfix <= 2.1: generic is refused, naming host, version and the canonical alternative", () => {
      const error = catchError(() => deriveConfig(state({ generic }), hostWithVersion("2.1.5")));
      expect(error).to.be.instanceOf(HostError);
      expect(error.message).to.include("oldbox").and.include("2.1.5").and.include("canonical");
    });

    it("Postfix <= 2.1: canonical + virtual with myhostname/mydomain", () => {
      const config = deriveConfig(
        state({
          main: { myhostname: "hostname.localdomain", mydomain: "localdomain" },
          canonical: { "your-login-name": "your-account@your-isp.com" },
          virtual: { "your-account@your-isp.com": "your-login-name" },
        }),
        hostWithVersion("2.1.5"),
      );
      expect(config.main).to.deep.equal({
        canonical_maps: "hash:/etc/postfix/canonical",
        virtual_alias_maps: "hash:/etc/postfix/virtual",
        myhostname: "hostname.localdomain",
        mydomain: "localdomain",
      });
      expect(config.tables.map((t) => t.name)).to.deep.equal(["canonical", "virtual"]);
      expect(lines(config, "canonical")).to.deep.equal(["your-login-name your-account@your-isp.com"]);
      expect(lines(config, "virtual")).to.deep.equal(["your-account@your-isp.com your-login-name"]);
    });

    it("rejects a table entry postmap would misread, naming the table and key", () => {
      expect(() => deriveConfig(state({ generic: { "a b@x": "y" } }), debian)).to.throw(
        InputError,
        /generic.*"a b@x"/,
      );
    });
  });

  describe("scenario 3: SASL authentication to the ISP's relay", () => {
    it("relayhost, sasl_passwd keyed by the same next-hop, SASL and TLS parameters", () => {
      const config = deriveConfig(state({ relay: ispRelay() }), debian);
      expect(config.main).to.deep.equal({
        relayhost: "[mail.isp.example]",
        default_transport: null,
        relay_transport: null,
        smtp_sasl_auth_enable: "yes",
        smtp_sasl_password_maps: "hash:/etc/postfix/sasl_passwd",
        smtp_sasl_security_options: "noanonymous",
        smtp_sasl_tls_security_options: null,
        smtp_sasl_mechanism_filter: null,
        smtp_tls_security_level: "encrypt",
        smtp_tls_wrappermode: null,
        smtp_sender_dependent_authentication: null,
        sender_dependent_relayhost_maps: null,
      });
      const sasl = table(config, "sasl_passwd");
      expect(sasl).to.include({
        secret: true,
        postmap: true,
        type: "hash",
        path: "/etc/postfix/sasl_passwd",
      });
      expect(lines(config, "sasl_passwd")).to.deep.equal([`[mail.isp.example] username:${PASSWORD}`]);
      expect(renderTable(sasl.entries).display).not.to.include(PASSWORD);
    });

    const ports: [string | number, string][] = [
      ["submission", "[mail.isp.example]:submission"],
      [587, "[mail.isp.example]:587"],
      ["25", "[mail.isp.example]:25"],
    ];
    for (const [port, nexthop] of ports) {
      it(`port ${port}: relayhost and sasl_passwd key are both ${nexthop}`, () => {
        const config = deriveConfig(state({ relay: ispRelay({ port }) }), debian);
        expect(config.main.relayhost).to.equal(nexthop);
        expect(table(config, "sasl_passwd").entries.map((e) => e.key)).to.deep.equal([nexthop]);
        expect(config.main.smtp_tls_wrappermode).to.equal(null);
      });
    }

    it("mx: true drops the brackets in relayhost and key alike", () => {
      const config = deriveConfig(state({ relay: ispRelay({ mx: true, port: 587 }) }), debian);
      expect(config.main.relayhost).to.equal("mail.isp.example:587");
      expect(table(config, "sasl_passwd").entries[0]?.key).to.equal("mail.isp.example:587");
    });

    for (const port of [465, "smtps", "submissions"]) {
      it(`port ${port}: wrapper mode with encrypt`, () => {
        const config = deriveConfig(state({ relay: ispRelay({ port }) }), debian);
        expect(config.main).to.include({ smtp_tls_wrappermode: "yes", smtp_tls_security_level: "encrypt" });
      });
    }

    it("port 465 accepts a stronger TLS level and refuses a weaker one", () => {
      const strong = deriveConfig(state({ relay: ispRelay({ port: 465, tls: "secure" }) }), debian);
      expect(strong.main.smtp_tls_security_level).to.equal("secure");
      expect(() => deriveConfig(state({ relay: ispRelay({ port: 465, tls: "may" }) }), debian)).to.throw(
        InputError,
        /465.*encrypt/,
      );
    });

    it("port 465 needs Postfix >= 3.0", () => {
      const error = catchError(() =>
        deriveConfig(state({ relay: ispRelay({ port: 465 }) }), hostWithVersion("2.11.3")),
      );
      expect(error).to.be.instanceOf(HostError);
      expect(error.message).to.include("oldbox").and.include("2.11.3").and.include("3.0").and.include("587");
    });

    it("switching from 465 to 587 removes smtp_tls_wrappermode from main.cf", () => {
      const at465 = editMainCf(
        "biff = no\n",
        deriveConfig(state({ relay: ispRelay({ port: 465 }) }), debian).main,
      );
      expect(mainCfValues(at465.text).get("smtp_tls_wrappermode")).to.equal("yes");
      const at587 = editMainCf(
        at465.text,
        deriveConfig(state({ relay: ispRelay({ port: 587 }) }), debian).main,
      );
      expect(mainCfValues(at587.text).has("smtp_tls_wrappermode")).to.equal(false);
      expect(at587.changed).to.deep.equal(["relayhost", "smtp_tls_wrappermode"]);
    });

    it("removes Debian's `error` transports, unless main: sets them", () => {
      const debianLocalOnly = "default_transport = error\nrelay_transport = error\n";
      const config = deriveConfig(state({ relay: ispRelay() }), debian);
      const { text } = editMainCf(debianLocalOnly, config.main);
      expect(mainCfValues(text).has("default_transport")).to.equal(false);
      expect(mainCfValues(text).has("relay_transport")).to.equal(false);

      const own = deriveConfig(state({ relay: ispRelay(), main: { default_transport: "smtp" } }), debian);
      expect(own.main).to.include({ default_transport: "smtp", relay_transport: null });
    });

    it("security_options and mechanisms go to their parameters", () => {
      const config = deriveConfig(
        state({
          relay: ispRelay({
            securityOptions: ["noanonymous", "noplaintext"],
            mechanisms: ["plain", "login"],
          }),
        }),
        debian,
      );
      expect(config.main).to.include({
        smtp_sasl_security_options: "noanonymous, noplaintext",
        smtp_sasl_tls_security_options: null,
        smtp_sasl_mechanism_filter: "plain, login",
      });
      // TLS sessions get them through Postfix's default, $smtp_sasl_security_options.
      expect(config.implied).to.deep.equal({ smtp_sasl_tls_security_options: "noanonymous, noplaintext" });
    });

    it("smtp_sasl_tls_security_options: a host line saying the same list stays, any other goes", () => {
      const config = deriveConfig(state({ relay: ispRelay() }), debian);
      const settled = (value: string) =>
        settleImplied(config, new Map([["smtp_sasl_tls_security_options", value]])).main
          .smtp_sasl_tls_security_options;
      expect(settled("noanonymous")).to.equal("noanonymous");
      expect(settled("noanonymous,")).to.equal("noanonymous");
      expect(settled("noanonymous, noplaintext")).to.equal(null);
      expect(settleImplied(config, new Map()).main.smtp_sasl_tls_security_options).to.equal(null);
    });

    it("main: may give TLS sessions options of their own; other relay parameters stay the relay's", () => {
      const config = deriveConfig(
        state({
          relay: ispRelay({ securityOptions: ["noanonymous", "noplaintext"] }),
          main: { smtp_sasl_tls_security_options: "noanonymous" },
        }),
        debian,
      );
      expect(config.main.smtp_sasl_tls_security_options).to.equal("noanonymous");
      expect(() =>
        deriveConfig(
          state({ relay: ispRelay(), main: { smtp_sasl_security_options: "noplaintext" } }),
          debian,
        ),
      ).to.throw(
        InputError,
        /smtp_sasl_security_options is controlled by the playbook option relay: security_options/,
      );
    });

    it("a relay without credentials: no SASL, opportunistic TLS, no sasl_passwd", () => {
      const config = deriveConfig(state({ relay: { host: "smtp.lan", mx: false } }), debian);
      expect(config.tables).to.deep.equal([]);
      expect(config.main).to.include({
        relayhost: "[smtp.lan]",
        smtp_sasl_auth_enable: null,
        smtp_sasl_password_maps: null,
        smtp_tls_security_level: "may",
      });
    });

    const badRelays: [string, RelaySpec, RegExp][] = [
      ["username without password", { host: "h", mx: false, username: "u" }, /password is missing/],
      ["password without username", { host: "h", mx: false, password: password() }, /username is missing/],
      ["a colon in the username", ispRelay({ username: "a:b" }), /relay\.username.*":"/],
      ["an empty username", ispRelay({ username: "" }), /username is empty/],
      [
        "a newline in the password",
        ispRelay({ password: password(PASSWORD + "\n") }),
        /env ISP_PASSWORD.*line break/,
      ],
      ["trailing whitespace in the password", ispRelay({ password: password(PASSWORD + " ") }), /whitespace/],
      ["leading whitespace in the password", ispRelay({ password: password(" " + PASSWORD) }), /whitespace/],
      ["an empty password", ispRelay({ password: password("") }), /empty/],
      ["an unknown port", ispRelay({ port: "imaps" }), /postfix\.relay\.port: unknown relay port "imaps"/],
      ["an unknown TLS level", ispRelay({ tls: "required" }), /unknown TLS level "required"/],
      ["a bad mechanism", ispRelay({ mechanisms: ["plain;rm"] }), /mechanisms/],
      ["options without credentials", { host: "h", mx: false, mechanisms: ["plain"] }, /only applies with/],
      ["a host with brackets", ispRelay({ host: "[x]" }), /brackets/],
    ];
    for (const [title, relay, message] of badRelays) {
      it(`rejects ${title}`, () => {
        expect(() => deriveConfig(state({ relay }), debian)).to.throw(InputError, message);
      });
    }
  });

  describe("scenario 4: sender-dependent SASL authentication", () => {
    const scenario4 = () =>
      state({
        relay: ispRelay(),
        senders: {
          "user1@example.com": {
            relay: { host: "mail.example.com", port: "submission", mx: false },
            username: "username2",
            password: new Secret("password2", "env EXAMPLE_COM_PASSWORD"),
          },
          "user2@example.net": {
            relay: { host: "mail.example.net", mx: false },
            username: "username2",
            password: new Secret("password2", "file example-net.pass"),
          },
        },
      });

    it("gives exactly the SOHO guide's main.cf and tables", () => {
      const config = deriveConfig(scenario4(), debian);
      expect(config.main).to.include({
        smtp_sender_dependent_authentication: "yes",
        sender_dependent_relayhost_maps: "hash:/etc/postfix/sender_relay",
        smtp_sasl_auth_enable: "yes",
        smtp_sasl_password_maps: "hash:/etc/postfix/sasl_passwd",
        relayhost: "[mail.isp.example]",
      });
      expect(config.tables.map((t) => t.name)).to.deep.equal(["sasl_passwd", "sender_relay"]);
      expect(lines(config, "sasl_passwd")).to.deep.equal([
        `[mail.isp.example] username:${PASSWORD}`,
        "user1@example.com username2:password2",
        "user2@example.net username2:password2",
      ]);
      expect(lines(config, "sender_relay")).to.deep.equal([
        "user1@example.com [mail.example.com]:submission",
        "user2@example.net [mail.example.net]",
      ]);
      expect(table(config, "sender_relay").secret).to.equal(false);
    });

    it("needs Postfix >= 2.3: on 2.2.10 the error names host and version", () => {
      const error = catchError(() => deriveConfig(scenario4(), hostWithVersion("2.2.10")));
      expect(error).to.be.instanceOf(HostError);
      expect(error.message)
        .to.include("oldbox")
        .and.include("2.2.10")
        .and.include("2.3")
        .and.include("senders:");
    });

    it("sets SASL up when only a sender has credentials; no relay means no relayhost", () => {
      const config = deriveConfig(
        state({
          senders: {
            "@example.org": {
              relay: { host: "mail.example.org", port: 587, mx: false },
              username: "u",
              password: password(),
            },
          },
        }),
        debian,
      );
      expect(config.main).to.include({
        relayhost: null,
        smtp_sasl_auth_enable: "yes",
        smtp_sasl_password_maps: "hash:/etc/postfix/sasl_passwd",
        smtp_tls_security_level: "encrypt",
      });
      expect(lines(config, "sasl_passwd")).to.deep.equal([`@example.org u:${PASSWORD}`]);
    });

    for (const sender of ["example.com", "a@b@c", "user @x", "user@", "@", "@bad domain"]) {
      it(`rejects the sender key ${JSON.stringify(sender)}`, () => {
        const senders = { [sender]: { relay: { host: "m", mx: false } } };
        expect(() => deriveConfig(state({ senders }), debian)).to.throw(
          InputError,
          /user@domain or a domain @domain/,
        );
      });
    }

    it("refuses mixing port 465 with STARTTLS relays and explains why", () => {
      const mixed = state({
        relay: ispRelay({ port: 465 }),
        senders: { "a@b.example": { relay: { host: "mail.b.example", port: "submission", mx: false } } },
      });
      expect(() => deriveConfig(mixed, debian)).to.throw(InputError, /465.*smtp_tls_wrappermode/);
    });
  });

  describe("scenario 6: the translator's setup", () => {
    it("gives his main.cf and tables (sasl_passwd under the SOHO guide's name)", () => {
      const config = deriveConfig(
        state({
          relay: {
            host: "foo.bar.com",
            port: 587,
            mx: false,
            username: "hoge",
            password: new Secret("piyopiyo", "env FOO_PASSWORD"),
            mechanisms: ["plain, login"],
            securityOptions: ["noanonymous"],
          },
          generic: { "@linux.myhome.net": "hoge@foo.bar.com" },
        }),
        debian,
      );
      expect(config.main).to.include({
        relayhost: "[foo.bar.com]:587",
        smtp_sasl_auth_enable: "yes",
        smtp_sasl_password_maps: "hash:/etc/postfix/sasl_passwd",
        smtp_sasl_security_options: "noanonymous",
        smtp_sasl_mechanism_filter: "plain, login",
        smtp_generic_maps: "hash:/etc/postfix/generic",
      });
      expect(lines(config, "sasl_passwd")).to.deep.equal(["[foo.bar.com]:587 hoge:piyopiyo"]);
      expect(lines(config, "generic")).to.deep.equal(["@linux.myhome.net hoge@foo.bar.com"]);
      expect(JSON.stringify(config)).not.to.include("piyopiyo");
    });
  });

  describe("table types", () => {
    const withTables = (tableType: string) =>
      state({ tableType, generic: { "@x.local": "a@b.example" }, relay: ispRelay() });

    it("auto -> hash on Debian, with .db indexes", () => {
      const config = deriveConfig(withTables("auto"), debian);
      expect(config.tables.map((t) => [t.type, t.indexPaths])).to.deep.equal([
        ["hash", ["/etc/postfix/generic.db"]],
        ["hash", ["/etc/postfix/sasl_passwd.db"]],
      ]);
    });

    it("auto -> lmdb where that is the default, in every parameter", () => {
      const config = deriveConfig(withTables("auto"), alma);
      expect(config.main).to.include({
        smtp_generic_maps: "lmdb:/etc/postfix/generic",
        smtp_sasl_password_maps: "lmdb:/etc/postfix/sasl_passwd",
      });
      expect(table(config, "sasl_passwd").indexPaths).to.deep.equal(["/etc/postfix/sasl_passwd.lmdb"]);
    });

    it("an explicit type the host lacks is a HostError naming type and host", () => {
      expect(() => deriveConfig(withTables("hash"), alma)).to.throw(HostError, /"hash".*pi/);
    });

    it("texthash needs no postmap", () => {
      const config = deriveConfig(withTables("texthash"), debian);
      expect(table(config, "generic")).to.include({ postmap: false });
      expect(table(config, "generic").indexPaths).to.deep.equal([]);
    });

    it("a type whose files are not key-value lists is refused", () => {
      expect(() => deriveConfig(withTables("regexp"), debian)).to.throw(InputError, /"regexp".*hash/);
    });

    it("an unsupported table_type does not matter when no table is declared", () => {
      expect(deriveConfig(state({ tableType: "hash", main: { biff: "no" } }), alma).main).to.deep.equal({
        biff: "no",
      });
    });
  });

  describe("tables:", () => {
    it("adds any other table, with the play type for auto and its own type otherwise", () => {
      const config = deriveConfig(
        state({
          tableType: "btree",
          tables: {
            transport: { parameter: "transport_maps", entries: { "example.com": "smtp:[10.0.0.1]" } },
            access: { type: "hash", parameter: "smtpd_sender_restrictions", entries: { "spam@x": "REJECT" } },
          },
        }),
        debian,
      );
      expect(config.tables.map((t) => [t.name, t.type, t.parameter])).to.deep.equal([
        ["access", "hash", "smtpd_sender_restrictions"],
        ["transport", "btree", "transport_maps"],
      ]);
      expect(config.main).to.deep.equal({
        smtpd_sender_restrictions: "hash:/etc/postfix/access",
        transport_maps: "btree:/etc/postfix/transport",
      });
    });

    it("checks a table's own type against the host", () => {
      const tables = { t: { type: "cdb", parameter: "transport_maps", entries: {} } };
      expect(() => deriveConfig(state({ tables }), debian)).to.throw(HostError, /"cdb"/);
    });

    const badNames = [
      "",
      ".hidden",
      "../x",
      "a/b",
      "main.cf",
      "master.cf",
      "dynamicmaps.cf",
      "generic",
      "canonical",
      "virtual",
      "sasl_passwd",
      "sender_relay",
      "transport.db",
      "x.lmdb",
    ];
    for (const name of badNames) {
      it(`rejects the table name ${JSON.stringify(name)}`, () => {
        const tables = { [name]: { parameter: "transport_maps", entries: {} } };
        expect(() => deriveConfig(state({ tables }), debian)).to.throw(InputError, /tables\./);
      });
    }

    it("refuses a parameter another option already sets", () => {
      const tables = { mine: { parameter: "smtp_generic_maps", entries: {} } };
      expect(() => deriveConfig(state({ generic: {}, tables }), debian)).to.throw(InputError, /generic:/);
      const two = {
        a: { parameter: "transport_maps", entries: {} },
        b: { parameter: "transport_maps", entries: {} },
      };
      expect(() => deriveConfig(state({ tables: two }), debian)).to.throw(InputError, /tables\.a/);
    });
  });

  describe("main: against derived parameters", () => {
    it("an equal value is fine; a different one names the controlling option", () => {
      const same = state({
        relay: ispRelay(),
        main: { relayhost: "[mail.isp.example]", smtp_sasl_auth_enable: "yes" },
      });
      expect(deriveConfig(same, debian).main.relayhost).to.equal("[mail.isp.example]");

      const cases: [Partial<PostfixState>, RegExp][] = [
        [{ relay: ispRelay(), main: { relayhost: "[other]" } }, /relayhost.*relay:/],
        [{ relay: ispRelay(), main: { smtp_tls_wrappermode: "yes" } }, /smtp_tls_wrappermode.*port/],
        [{ generic: {}, main: { smtp_generic_maps: null } }, /smtp_generic_maps.*generic:/],
        [{ senders: {}, relay: ispRelay(), main: { smtp_sasl_mechanism_filter: "plain" } }, /mechanisms/],
      ];
      for (const [partial, message] of cases) {
        expect(() => deriveConfig(state(partial), debian)).to.throw(InputError, message);
      }
    });

    it("without relay: or senders:, main: manages relay parameters by hand", () => {
      const main = { relayhost: "[hand.made]", smtp_sasl_auth_enable: "yes", default_transport: "error" };
      expect(deriveConfig(state({ main }), debian).main).to.deep.equal(main);
    });

    it("orders main: derived parameters first, in a fixed order, then the user's", () => {
      const config = deriveConfig(
        state({
          main: { myorigin: "$mydomain", biff: "no" },
          relay: ispRelay(),
          senders: { "a@b.example": { relay: { host: "mail.b.example", mx: false } } },
          virtual: {},
          generic: {},
        }),
        debian,
      );
      expect(Object.keys(config.main)).to.deep.equal([
        "smtp_generic_maps",
        "virtual_alias_maps",
        ...RELAY_SET,
        "myorigin",
        "biff",
      ]);
    });
  });

  describe("secrets", () => {
    it("no error message ever contains a password", () => {
      const broken: Partial<PostfixState>[] = [
        { relay: ispRelay({ password: password(PASSWORD + "\n") }) },
        { relay: ispRelay({ password: password(PASSWORD + " ") }) },
        { relay: ispRelay({ password: password("\t" + PASSWORD) }) },
        { relay: ispRelay({ password: password(PASSWORD + "\u0000") }) },
        { relay: ispRelay({ username: "x:y" }) },
        { relay: ispRelay({ port: 465, tls: "may" }) },
        { relay: ispRelay(), main: { relayhost: "[x]" } },
        { relay: ispRelay({ port: 465 }), senders: { "a@b.c": { relay: { host: "m", mx: false } } } },
        { senders: { "a@b.c": { relay: { host: "m", mx: false }, password: password() } } },
        {
          senders: {
            "A@b.c": { relay: { host: "m", mx: false }, username: "u", password: password() },
            "a@b.c": { relay: { host: "m", mx: false }, username: "u", password: password() },
          },
        },
      ];
      for (const partial of broken) {
        const error = catchError(() => deriveConfig(state(partial), debian));
        expect(error.message).not.to.include(PASSWORD.trim());
        expect(error.message).not.to.include("Pa55");
      }
      for (const host of [hostWithVersion("2.2"), hostWithVersion("2.11"), alma]) {
        const error = catchError(() =>
          deriveConfig(state({ tableType: "hash", relay: ispRelay({ port: 465 }), senders: {} }), host),
        );
        expect(error.message).not.to.include("Pa55");
      }
    });

    it("the derived config masks passwords when printed or serialised", () => {
      const config = deriveConfig(state({ relay: ispRelay() }), debian);
      expect(JSON.stringify(config)).not.to.include(PASSWORD);
      expect(renderTable(table(config, "sasl_passwd").entries).text).to.include(PASSWORD);
    });
  });
});
