import { expect } from "chai";
import { diagnose, type Diagnosis } from "../../../src/diagnose/diagnose.js";
import { pluginPackage } from "../../../src/diagnose/sasl.js";
import type { HostFacts } from "../../../src/facts/types.js";
import { deriveConfig } from "../../../src/postfix/derive.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { Secret } from "../../../src/secrets/secret.js";

/** The diagnoses a user sees before any write: desired state + host facts -> findings. */

const LOCAL_ONLY_MAIN = "myhostname = nas\ndefault_transport = error\nrelay_transport = error\n";
const DEBIAN_PLUGINS = ["anonymous", "crammd5", "digestmd5", "login", "ntlm", "plain", "sasldb", "scram"];

function facts(more: Partial<HostFacts> = {}, mainCf = "myhostname = nas\n"): HostFacts {
  return {
    warnings: [],
    version: "3.7.11",
    defaultDatabaseType: "hash",
    supportedTypes: ["hash", "btree"],
    running: true,
    postconfN: "",
    files: new Map([
      ["/etc/postfix/main.cf", { path: "/etc/postfix/main.cf", exists: true, content: mainCf }],
    ]),
    saslPlugins: DEBIAN_PLUGINS,
    distro: { id: "debian", like: [] },
    ...more,
  };
}

const relayState = (relay: Partial<PostfixState["relay"]> = {}): PostfixState => ({
  tableType: "auto",
  main: {},
  relay: {
    host: "mail.isp.example",
    port: "submission",
    mx: false,
    username: "me",
    password: new Secret("s3cret-password", "test"),
    ...relay,
  },
});

function run(state: PostfixState, host: HostFacts): Diagnosis[] {
  return diagnose(state, deriveConfig(state, { name: "nas", ...host }), host);
}
const errors = (found: Diagnosis[]) => found.filter((d) => d.level === "error").map((d) => d.message);
const warnings = (found: Diagnosis[]) => found.filter((d) => d.level === "warning").map((d) => d.message);

describe("diagnoses before any write", () => {
  it("a working relay setup on a host with the plugins: nothing to say", () => {
    expect(run(relayState(), facts())).to.deep.equal([]);
  });

  describe("SASL plugins", () => {
    it("none on a Debian host: an error naming libsasl2-modules", () => {
      const [error, ...rest] = errors(run(relayState(), facts({ saslPlugins: [] })));
      expect(rest).to.deep.equal([]);
      expect(error).to.include(
        "no SASL plugin for PLAIN or LOGIN is installed on this host (plugins found: none)",
      );
      expect(error).to.include("No worthy mechs found");
      expect(error).to.include("Install libsasl2-modules on the host");
    });

    it("on Fedora/RHEL the package is cyrus-sasl-plain; only the filtered mechanisms count", () => {
      const host = facts({
        saslPlugins: ["anonymous", "sasldb"],
        distro: { id: "almalinux", like: ["rhel", "centos", "fedora"] },
      });
      const [error] = errors(run(relayState({ mechanisms: ["plain", "login"] }), host));
      expect(error).to.include("Install cyrus-sasl-plain on the host");
      // CRAM-MD5 is there but the filter allows PLAIN only: still no usable mechanism.
      const filtered = facts({ saslPlugins: ["crammd5"] });
      expect(errors(run(relayState({ mechanisms: ["plain"] }), filtered))[0]).to.include(
        "no SASL plugin for PLAIN",
      );
    });

    it("an unknown distribution gets both families' package names", () => {
      expect(pluginPackage(undefined, ["PLAIN"]))
        .to.include("libsasl2-modules")
        .and.include("cyrus-sasl-plain");
    });

    it("facts recorded before plugins were read (undefined): no plugin diagnosis", () => {
      expect(errors(run(relayState(), facts({ saslPlugins: undefined })))).to.deep.equal([]);
    });

    it("a relay without credentials needs no SASL at all", () => {
      const state = relayState({ username: undefined, password: undefined, port: 25 });
      expect(run(state, facts({ saslPlugins: [] }))).to.deep.equal([]);
    });
  });

  describe("security options", () => {
    it("noplaintext with a filter of plain, login refuses everything: an error", () => {
      const state = relayState({
        securityOptions: ["noplaintext", "noanonymous"],
        mechanisms: ["plain", "login"],
      });
      const [error] = errors(run(state, facts()));
      expect(error).to.include(
        'security options "noplaintext, noanonymous" refuse every mechanism the mechanism filter allows (PLAIN, LOGIN)',
      );
      expect(error).to.include("security_options: [noanonymous]");
    });

    it("noplaintext on a host with only the PLAIN and LOGIN plugins: an error", () => {
      const state = relayState({ securityOptions: ["noplaintext", "noanonymous"] });
      const [error] = errors(run(state, facts({ saslPlugins: ["login", "plain"] })));
      expect(error).to.include("refuse every mechanism this host has a plugin for (PLAIN, LOGIN)");
    });

    it("noplaintext with other plugins installed: a warning (the relay may offer CRAM-MD5 or SCRAM)", () => {
      const found = run(relayState({ securityOptions: ["noplaintext", "noanonymous"] }), facts());
      expect(errors(found)).to.deep.equal([]);
      expect(warnings(found)[0]).to.include("refuse PLAIN and LOGIN").and.include("SCRAM-SHA-256");
    });

    it("a filter that excludes with !name: only the mechanisms it lets through count", () => {
      const main = (filter: string) =>
        `smtp_sasl_auth_enable = yes\nsmtp_sasl_security_options = noplaintext\nsmtp_sasl_mechanism_filter = ${filter}\n`;
      const state: PostfixState = { tableType: "auto", main: {} };
      // !plain decides for PLAIN before plain could: LOGIN alone is let through, and noplaintext refuses it.
      expect(errors(run(state, facts({}, main("!plain, plain, login"))))[0]).to.include(
        "refuse every mechanism the mechanism filter allows (LOGIN)",
      );
      expect(errors(run(state, facts({}, main("!plain, cram-md5"))))).to.deep.equal([]);
      // A mechanism no pattern names is excluded: a filter of exclusions alone lets nothing through.
      expect(errors(run(state, facts({}, main("!gssapi"))))[0]).to.include(
        'the mechanism filter "!gssapi" allows no mechanism',
      );
    });

    it("the host's own hand-set options count for parameters the playbook does not own", () => {
      const state: PostfixState = { tableType: "auto", main: { myorigin: "$mydomain" } };
      const main = "smtp_sasl_auth_enable = yes\nsmtp_sasl_mechanism_filter = plain\n";
      // Postfix's default options are noplaintext, noanonymous.
      expect(errors(run(state, facts({}, main)))[0]).to.include(
        "refuse every mechanism the mechanism filter allows (PLAIN)",
      );
    });
  });

  describe("Debian's Local only transports", () => {
    it("left on a host whose playbook declares no relay: a warning saying what to do", () => {
      const state: PostfixState = { tableType: "auto", main: { myorigin: "$mydomain" } };
      const [warning] = warnings(run(state, facts({}, LOCAL_ONLY_MAIN)));
      expect(warning).to.include("default_transport = error and relay_transport = error");
      expect(warning).to.include("declare relay:");
    });

    it("no warning once the playbook owns them or declares a relay", () => {
      const owned: PostfixState = {
        tableType: "auto",
        main: { default_transport: "error", relay_transport: "error" },
      };
      expect(run(owned, facts({}, LOCAL_ONLY_MAIN))).to.deep.equal([]);
      expect(run(relayState(), facts({}, LOCAL_ONLY_MAIN))).to.deep.equal([]);
    });
  });

  describe("submission ports without a login", () => {
    it("a relay or a sender's relay on 587 or 465 without credentials: a warning each", () => {
      const state: PostfixState = {
        tableType: "auto",
        main: {},
        relay: { host: "mail.isp.example", port: 587, mx: false },
        senders: { "me@example.net": { relay: { host: "mail.example.net", port: "smtps", mx: false } } },
      };
      const found = warnings(diagnose(state, { main: {}, implied: {}, tables: [], retired: [] }, facts()));
      expect(found).to.have.length(2);
      expect(found[0]).to.include(
        "relay sends to [mail.isp.example]:587 (port 587, a submission port) without username and password",
      );
      expect(found[1]).to.include("senders.me@example.net sends to [mail.example.net]:smtps (port 465");
    });

    it("port 25 without credentials is fine", () => {
      const state = relayState({ username: undefined, password: undefined, port: undefined });
      expect(run(state, facts())).to.deep.equal([]);
    });
  });

  describe("unknown parameters", () => {
    it("a typo the host's Postfix does not know: an error naming it and where it is set", () => {
      const state: PostfixState = { tableType: "auto", main: { smtp_helo_timout: "30s" } };
      const [error] = errors(run(state, facts({ unknownParameters: ["smtp_helo_timout"] })));
      expect(error).to.equal(
        "Postfix does not know the parameter smtp_helo_timout (main: smtp_helo_timout; Postfix 3.7.11 on this host): " +
          "check its spelling (postconf -d lists every parameter). Nothing was written",
      );
    });

    it("an admin's own parameter that another value refers to ($name) is accepted", () => {
      const state: PostfixState = {
        tableType: "auto",
        main: { my_relays: "[a.example]", relayhost: "$my_relays" },
      };
      expect(errors(run(state, facts({ unknownParameters: ["my_relays"] })))).to.deep.equal([]);
    });
  });
});
