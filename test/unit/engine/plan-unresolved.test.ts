import { expect } from "chai";
import { readFileSync } from "node:fs";
import { makePlan, MAIN_CF, unverifiedPasswords } from "../../../src/engine/plan.js";
import { parseFacts } from "../../../src/facts/parse.js";
import type { HostFacts, RemoteFile } from "../../../src/facts/types.js";
import { deriveConfig } from "../../../src/postfix/derive.js";
import { editMainCf } from "../../../src/postfix/maincf.js";
import { findStateProblem } from "../../../src/postfix/prevalidate.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { renderTable } from "../../../src/postfix/table.js";
import { Secret } from "../../../src/secrets/secret.js";

/**
 * `check` without a password (a timer has no secrets): the planner compares everything of sasl_passwd
 * but the password it could not resolve, which "matches whatever the host has for that key" as long as
 * the rest of the entry (the username) is the playbook's and the host's value could be a password.
 */

const SASL = "/etc/postfix/sasl_passwd";
const RELAY_PASSWORD = "relay-Secret-1";
const SENDER_PASSWORD = "sender-Secret-2";
const MISSING = "environment variable SMTP_PASSWORD is not set";

const state = (relayPassword: Secret): PostfixState => ({
  tableType: "auto",
  main: {},
  relay: { host: "foo.bar.com", port: 587, mx: false, username: "hoge", password: relayPassword },
  senders: {
    "me@example.com": {
      relay: { host: "mail.example.com", port: 587, mx: false },
      username: "me",
      password: new Secret(SENDER_PASSWORD, "env SENDER_PASSWORD"),
    },
  },
});
const withPassword = state(new Secret(RELAY_PASSWORD, "env SMTP_PASSWORD"));
const withoutPassword = state(Secret.unresolvedFrom("env SMTP_PASSWORD", MISSING));

const info = { name: "nas", version: "3.7.11", defaultDatabaseType: "hash", supportedTypes: ["hash"] };
const fresh = (): HostFacts => ({
  ...parseFacts(
    "nas",
    readFileSync(new URL("../../fixtures/facts/debian-local-only.txt", import.meta.url), "utf8"),
  ),
  running: true,
});

/** The host as apply left it, with the real passwords (which check does not have). */
function applied(): HostFacts {
  const config = deriveConfig(withPassword, info);
  const facts = fresh();
  const files = new Map(facts.files);
  const main = files.get(MAIN_CF)!;
  files.set(MAIN_CF, { ...main, content: editMainCf(main.content!, config.main).text });
  for (const table of config.tables) {
    files.set(table.path, file(table.path, renderTable(table.entries).text, 1000));
    for (const index of table.indexPaths) files.set(index, file(index, undefined, 1001));
  }
  return { ...facts, files };
}

function file(path: string, content: string | undefined, mtime: number): RemoteFile {
  return {
    path,
    exists: true,
    mode: 0o600,
    owner: "root",
    group: "root",
    mtime,
    ...(content !== undefined && { content }),
  };
}

/** The applied host with sasl_passwd's text edited. */
function saslEdited(edit: (text: string) => string, facts = applied()): HostFacts {
  const files = new Map(facts.files);
  const current = files.get(SASL)!;
  files.set(SASL, { ...current, content: edit(current.content!) });
  return { ...facts, files };
}

const changes = (facts: HostFacts) =>
  makePlan(deriveConfig(withoutPassword, info), facts).changes.map((c) => `${c.what} ${c.path}`);

describe("planner: check without a password", () => {
  it("a host as apply left it is in sync, and the credential is named as not verified", () => {
    const config = deriveConfig(withoutPassword, info);
    expect(makePlan(config, applied()).changes).to.deep.equal([]);
    expect(unverifiedPasswords(config)).to.deep.equal([
      `password for [foo.bar.com]:587 in ${SASL} not verified: ${MISSING}`,
    ]);
    expect(unverifiedPasswords(deriveConfig(withPassword, info))).to.deep.equal([]);
  });

  it("another password on the host for that key still counts as in sync: it cannot be compared", () => {
    expect(
      changes(saslEdited((t) => t.replace(`hoge:${RELAY_PASSWORD}`, "hoge:another-password"))),
    ).to.deep.equal([]);
  });

  const drifts: [string, (text: string) => string][] = [
    ["another username for that key", (t) => t.replace(`hoge:${RELAY_PASSWORD}`, `root:${RELAY_PASSWORD}`)],
    ["the key missing", (t) => t.replace(`[foo.bar.com]:587 hoge:${RELAY_PASSWORD}\n`, "")],
    ["the key renamed", (t) => t.replace("[foo.bar.com]:587", "[foo.bar.com]:25")],
    ["a key the playbook does not have", (t) => `${t}[old.relay]:587 hoge:old-password\n`],
    ["another password for a credential it does have", (t) => t.replace(SENDER_PASSWORD, "sender-other")],
    ["no password at all", (t) => t.replace(`hoge:${RELAY_PASSWORD}`, "hoge:")],
    ["a value that cannot be a password (too short)", (t) => t.replace(`hoge:${RELAY_PASSWORD}`, "hoge:abc")],
    [
      "a value that cannot be a password (a leading space)",
      (t) => t.replace(`hoge:${RELAY_PASSWORD}`, "hoge: x-password"),
    ],
    ["CRLF line ends", (t) => t.replaceAll("\n", "\r\n")],
    ["a comment added by hand", (t) => `${t}# note\n`],
  ];
  for (const [what, edit] of drifts) {
    it(`a host table with ${what} is drift`, () => {
      expect(changes(saslEdited(edit))).to.deep.equal([`content ${SASL}`]);
    });
  }

  it("modes, owners, indexes and main.cf are compared as always", () => {
    const facts = applied();
    const files = new Map(facts.files);
    files.set(SASL, { ...files.get(SASL)!, mode: 0o644 });
    files.delete(`${SASL}.db`);
    const main = files.get(MAIN_CF)!;
    files.set(MAIN_CF, {
      ...main,
      content: main.content!.replace("relayhost = [foo.bar.com]:587", "relayhost ="),
    });
    expect(changes({ ...facts, files })).to.deep.equal([
      `mode ${SASL}`,
      `stale-index ${SASL}`,
      `parameter ${MAIN_CF}`,
    ]);
  });

  it("never shows the host's password, and what it would write cannot be written", () => {
    const hostPassword = "host-only-password";
    const plan = makePlan(
      deriveConfig(withoutPassword, info),
      saslEdited((t) => t.replace(`hoge:${RELAY_PASSWORD}`, `root:${hostPassword}`)),
    );
    const write = plan.writes.find((w) => w.path === SASL)!;
    expect(write.before).to.include("[foo.bar.com]:587 root:******** (differs)");
    expect(JSON.stringify(plan)).to.not.include(hostPassword);
    expect(() => write.content.reveal()).to.throw(/not resolved/);
  });

  it("the derivation and the checks before any host accept the missing password (they have no value to check)", () => {
    expect(findStateProblem("nas", withoutPassword)).to.equal(undefined);
    expect(() => withoutPassword.relay!.password!.reveal()).to.throw(/was not resolved/);
  });
});
