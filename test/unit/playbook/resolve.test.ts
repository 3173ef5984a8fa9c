import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadInventory, parseInventory, type Inventory } from "../../../src/inventory/index.js";
import { loadPlaybook, parsePlaybook, resolveDesired } from "../../../src/playbook/index.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { createSecretResolver, type SecretRef, type SecretResolver } from "../../../src/secrets/resolve.js";
import { Secret } from "../../../src/secrets/secret.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const defaults = { user: "me", home: "/home/me" };
const home = loadInventory(fixture("inventory/home.yaml"), defaults);
const allHosts = ["nas", "pi", "laptop"];

/** Resolves `{ env: X }` to "pw-X" and records what was asked. */
function fakeSecrets(): SecretResolver & { asked: SecretRef[] } {
  const asked: SecretRef[] = [];
  return {
    asked,
    resolve: async (ref) => {
      asked.push(ref);
      return new Secret(
        `pw-${Object.values(ref).join()}`,
        `${Object.keys(ref).join()} ${Object.values(ref).join()}`,
      );
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function resolveText(
  text: string,
  inventory: Inventory = home,
  hosts = allHosts,
  secrets: SecretResolver = fakeSecrets(),
) {
  return resolveDesired(parsePlaybook(text, "site.yaml"), inventory, hosts, secrets);
}

describe("desired state resolution", () => {
  it("turns the SPEC.md playbook and inventory into the expected PostfixState", async () => {
    const dir = mkdtempSync(join(tmpdir(), "provision-home-"));
    try {
      mkdirSync(join(dir, ".config", "provision"), { recursive: true });
      writeFileSync(join(dir, ".config", "provision", "example-net.pass"), "net-pw\n");
      const secrets = createSecretResolver({
        env: { ISP_PASSWORD: "isp-pw", EXAMPLE_COM_PASSWORD: "com-pw" },
        home: dir,
      });
      const playbook = loadPlaybook(fixture("playbook/site.yaml"));
      const { states, warnings } = await resolveDesired(playbook, home, allHosts, secrets);

      const passFile = join(dir, ".config", "provision", "example-net.pass");
      const expected: PostfixState = {
        tableType: "auto",
        main: { myorigin: "$mydomain", mynetworks_style: "host", relay_domains: "", proxy_interfaces: null },
        generic: {
          "his@localdomain.local": "hisaccount@hisisp.example",
          "her@localdomain.local": "heraccount@herisp.example",
          "@localdomain.local": "hisaccount+local@hisisp.example",
        },
        relay: {
          host: "mail.isp.example",
          port: "submission",
          mx: false,
          username: "username",
          password: new Secret("isp-pw", "env ISP_PASSWORD"),
        },
        senders: {
          "user1@example.com": {
            relay: { host: "mail.example.com", port: "submission", mx: false },
            username: "username2",
            password: new Secret("com-pw", "env EXAMPLE_COM_PASSWORD"),
          },
          "user2@example.net": {
            relay: { host: "mail.example.net", mx: false },
            username: "username2",
            password: new Secret("net-pw", `file ${passFile}`),
          },
        },
      };
      expect([...states.keys()]).to.deep.equal(allHosts);
      expect(states.get("pi")).to.deep.equal(expected);
      expect(warnings).to.deep.equal([]);
      const pi = states.get("pi");
      expect(pi?.relay?.password?.reveal()).to.equal("isp-pw");
      expect(pi?.senders?.["user1@example.com"]?.password?.reveal()).to.equal("com-pw");
      expect(pi?.senders?.["user2@example.net"]?.password?.reveal()).to.equal("net-pw");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("{{ var }} substitution", () => {
    const inventory = parseInventory(
      `all:
  vars: { domain: example.org }
  children:
    home:
      vars:
        mydomain: home.example
        relay: { host: mail.home.example, port: 587 }
      hosts:
        nas: { login: nasadmin }
        pi: { login: pi }
`,
      "hosts.yaml",
      defaults,
    );
    const playbook = `- hosts: home
  vars:
    mydomain: play.example
    fallback: from-play
    pw_var: ISP_PW
  postfix:
    main:
      myorigin: $mydomain
      mydomain: "{{ mydomain }}"
      note: "{{fallback}}"
      message_size_limit: 0100
      smtputf8_enable: false
    generic:
      "{{ login }}@localdomain.local": "{{ login }}+{{ inventory_hostname }}@{{ domain }}"
    relay:
      host: "{{ relay.host }}"
      port: "{{ relay.port }}"
      username: "{{ login }}"
      password: { env: "{{ pw_var }}" }
      mechanisms: plain, login
`;

    it("substitutes values and keys; inventory vars win, play vars fill in; $mydomain stays", async () => {
      const { states } = await resolveText(playbook, inventory, ["nas", "pi"]);
      expect(states.get("nas")).to.deep.equal({
        tableType: "auto",
        main: {
          myorigin: "$mydomain",
          mydomain: "home.example",
          note: "from-play",
          message_size_limit: "0100",
          smtputf8_enable: "no",
        },
        generic: { "nasadmin@localdomain.local": "nasadmin+nas@example.org" },
        relay: {
          host: "mail.home.example",
          port: 587,
          mx: false,
          username: "nasadmin",
          password: new Secret("pw-ISP_PW", "env ISP_PW"),
          mechanisms: ["plain", "login"],
        },
      });
      expect(states.get("pi")?.generic).to.deep.equal({ "pi@localdomain.local": "pi+pi@example.org" });
    });

    it("reports an undefined variable at its value, naming the variable and the hosts", async () => {
      const file = fixture("playbook/undefined-var.yaml");
      const message = await failure(resolveDesired(loadPlaybook(file), home, allHosts, fakeSecrets()));
      expect(message).to.equal(
        `${file}:5:13: 0.postfix.relay.host: undefined variable "isp_relay" (hosts nas, pi, laptop)`,
      );
    });

    it("reports undefined variables in keys at the key, and non-scalar variables", async () => {
      const text = `- hosts: nas
  postfix:
    generic:
      "{{ who }}@local": x@example.org
    relay:
      host: "{{ relay }}"
`;
      expect(await failure(resolveText(text, inventory, ["nas"]))).to.equal(
        [
          'site.yaml:4:7: 0.postfix.generic["{{ who }}@local"]: undefined variable "who" (host nas)',
          'site.yaml:6:13: 0.postfix.relay.host: variable "relay" is a map, not a string or a number (host nas)',
        ].join("\n"),
      );
    });
  });

  describe("address maps", () => {
    it("accept a bare key as Postfix does (a local user), warning at its line when it looks like a domain", async () => {
      const text = `- hosts: nas
  postfix:
    generic:
      localdomain.local: a@isp.example
      root: b@isp.example
    canonical:
      home.lan: c@isp.example
    virtual:
      example.org: anything
`;
      const { states, warnings } = await resolveText(text, home, ["nas"]);
      expect(states.get("nas")?.generic).to.deep.equal({
        "localdomain.local": "a@isp.example",
        root: "b@isp.example",
      });
      const why =
        'has no "@", so Postfix reads it as a local user name, not a domain; for every address of the domain write';
      expect(warnings).to.deep.equal([
        `site.yaml:4:7: 0.postfix.generic["localdomain.local"]: generic key "localdomain.local" ${why} "@localdomain.local"`,
        `site.yaml:7:7: 0.postfix.canonical["home.lan"]: canonical key "home.lan" ${why} "@home.lan"`,
      ]);
    });

    it("refuse, at the line, characters Postfix would read as part of a word", async () => {
      const text =
        '- hosts: nas\n  postfix:\n    generic:\n      "a\\u00a0b@x": c@y\n      d@x: "e@y,\\u3000f@y"\n';
      const message = await failure(resolveText(text, home, ["nas"]));
      expect(message.split("\n")).to.deep.equal([
        'site.yaml:4:7: 0.postfix.generic["a\u00a0b@x"]: key "a\u00a0b@x" contains U+00A0 (no-break space), which Postfix reads as part of the text, not as a space or line break; use a plain space (host nas)',
        'site.yaml:5:12: 0.postfix.generic["d@x"]: the value contains U+3000 (ideographic space), which Postfix reads as part of the text, not as a space or line break; use a plain space (host nas)',
      ]);
    });
  });

  describe("merging plays", () => {
    it("merges the states of every play matching a host", async () => {
      const { states } = await resolveDesired(
        loadPlaybook(fixture("playbook/merge.yaml")),
        home,
        allHosts,
        fakeSecrets(),
      );
      expect(states.get("nas")).to.deep.equal({
        tableType: "auto",
        main: { mynetworks_style: "host" },
        generic: { "@localdomain.local": "admin@isp.example" },
      });
      // The same key in another case with the same value is no conflict: Postfix lowercases keys.
      expect(states.get("pi")).to.deep.equal({
        tableType: "lmdb",
        main: { mynetworks_style: "host", inet_interfaces: "loopback-only" },
        generic: { "@localdomain.local": "admin@isp.example", "pi@localdomain.local": "pi@isp.example" },
      });
    });

    it("names both plays and both positions when they disagree", async () => {
      const file = fixture("playbook/conflict.yaml");
      const message = await failure(resolveDesired(loadPlaybook(file), home, allHosts, fakeSecrets()));
      expect(message).to.equal(
        `${file}:12:17: 1.postfix.main.myorigin: play 1 ("Pi origin") and play 0 ("Origin") give main.cf parameter ` +
          `"myorigin" different values: "$myhostname" here, "$mydomain" at ${file}:5:17 (0.postfix.main.myorigin) (host pi)`,
      );
    });

    it("reports conflicting table types, relays and table keys", async () => {
      const text = `- name: A
  hosts: all
  postfix:
    table_type: hash
    relay: { host: mail.isp.example, port: 587, username: u, password: { env: A } }
    canonical: { root: admin@example.org }
- hosts: nas
  postfix:
    table_type: lmdb
    relay: { host: mail.isp.example, port: submission, username: u, password: { env: B } }
    canonical: { ROOT: other@example.org }
`;
      expect(await failure(resolveText(text))).to.equal(
        [
          'site.yaml:9:17: 1.postfix.table_type: play 1 and play 0 ("A") give table_type different values: "lmdb" here, "hash" at site.yaml:4:17 (0.postfix.table_type) (host nas)',
          'site.yaml:11:24: 1.postfix.canonical.ROOT: play 1 and play 0 ("A") give canonical key "ROOT" different values: "other@example.org" here, "admin@example.org" at site.yaml:6:24 (0.postfix.canonical.root) (host nas)',
          'site.yaml:10:12: 1.postfix.relay: play 1 and play 0 ("A") give relay different values: they differ in port, password; the other is at site.yaml:5:12 (0.postfix.relay) (host nas)',
        ].join("\n"),
      );
    });

    it("accepts the same relay from two plays, and keys differing only in case within one play are an error", async () => {
      const same = `- hosts: all
  postfix: { relay: { host: h, username: u, password: { env: A } } }
- hosts: nas
  postfix: { relay: { host: h, username: u, password: { env: A } } }
`;
      const { states } = await resolveText(same);
      expect(states.get("nas")?.relay?.host).to.equal("h");
      const twice = "- hosts: nas\n  postfix:\n    virtual:\n      a@x: b\n      A@X: c\n";
      expect(await failure(resolveText(twice))).to.equal(
        'site.yaml:5:7: 0.postfix.virtual["A@X"]: key "A@X" is the same as "a@x" (Postfix lowercases table keys) (host nas)',
      );
    });
  });

  describe("hosts", () => {
    it("reports a play whose pattern names nothing, at its hosts line", async () => {
      const text =
        "- hosts: all\n  postfix: {}\n- hosts: hoem\n  postfix: {}\n- hosts: home:&ungrouped\n  postfix: {}\n";
      expect(await failure(resolveText(text))).to.equal(
        [
          `site.yaml:3:10: 1.hosts: host pattern term "hoem" matches no host or group of ${home.file}; did you mean "home"?`,
          `site.yaml:5:10: 2.hosts: host pattern "home:&ungrouped" selects no host of ${home.file}`,
        ].join("\n"),
      );
    });

    it("leaves out selected hosts no play matches, with a warning", async () => {
      const { states, warnings } = await resolveText("- hosts: nas\n  postfix: { main: { a: b } }\n", home, [
        "nas",
        "pi",
      ]);
      expect([...states.keys()]).to.deep.equal(["nas"]);
      expect(warnings).to.deep.equal(["host pi: no play of site.yaml applies to it; it is left alone"]);
    });

    it("resolves only the secrets of the selected hosts", async () => {
      const text = `- hosts: nas
  postfix: { relay: { host: h, username: u, password: { env: NAS } } }
- hosts: pi
  postfix: { relay: { host: h, username: u, password: { command: "pass show pi" } } }
`;
      const secrets = fakeSecrets();
      await resolveText(text, home, ["nas"], secrets);
      expect(secrets.asked).to.deep.equal([{ env: "NAS" }]);
    });
  });

  describe("secrets", () => {
    it("warns about a literal password, once per place", async () => {
      const text = "- hosts: home\n  postfix:\n    relay: { host: h, username: u, password: hunter2 }\n";
      const { states, warnings } = await resolveText(text);
      expect(states.get("nas")?.relay?.password?.reveal()).to.equal("hunter2");
      expect(warnings).to.deep.equal([
        'site.yaml:3:46: 0.postfix.relay.password: literal password in play 0; use { env: NAME }, { file: PATH } or { command: "..." }',
      ]);
    });

    it("never quotes a literal password in a template error", async () => {
      const text = "- hosts: nas\n  postfix:\n    relay: { host: h, username: u, password: 'pa{{ss' }\n";
      expect(await failure(resolveText(text))).to.equal(
        "site.yaml:3:46: 0.postfix.relay.password: invalid {{ }} template in a literal password (host nas)",
      );
    });

    it("reports secrets that cannot be resolved, at their reference, never with a value", async () => {
      const text = `- hosts: home
  postfix:
    relay: { host: h, username: u, password: { env: ISP_PASSWORD } }
    senders:
      a@example.org:
        relay: { host: h2 }
        username: u
        password: { command: "echo leaked; exit 3" }
`;
      const message = await failure(resolveText(text, home, allHosts, createSecretResolver({ env: {} })));
      expect(message).to.equal(
        [
          "site.yaml:3:46: 0.postfix.relay.password: environment variable ISP_PASSWORD is not set",
          'site.yaml:8:19: 0.postfix.senders["a@example.org"].password: command "echo leaked; exit 3" failed (exit code 3)',
        ].join("\n"),
      );
    });
  });
});
