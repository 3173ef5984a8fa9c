import { expect } from "chai";
import { readFileSync } from "node:fs";
import { makePlan, MAIN_CF, type Plan } from "../../../src/engine/plan.js";
import { deriveConfig } from "../../../src/postfix/derive.js";
import { editMainCf } from "../../../src/postfix/maincf.js";
import { renderTable } from "../../../src/postfix/table.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import type { HostFacts, RemoteFile } from "../../../src/facts/types.js";
import { parseFacts } from "../../../src/facts/parse.js";
import { Secret } from "../../../src/secrets/secret.js";

const PASSWORD = "piyopiyo-Secret";
const debianFacts = () =>
  parseFacts(
    "nas",
    readFileSync(new URL("../../fixtures/facts/debian-local-only.txt", import.meta.url), "utf8"),
  );
const running = (facts: HostFacts): HostFacts => ({ ...facts, running: true });

/** The translator's setup (MISSION.md scenario 6). */
const translator: PostfixState = {
  tableType: "auto",
  main: {},
  relay: {
    host: "foo.bar.com",
    port: 587,
    mx: false,
    username: "hoge",
    password: new Secret(PASSWORD, "env SMTP_PASSWORD"),
    mechanisms: ["plain", "login"],
    securityOptions: ["noanonymous"],
  },
  generic: { "@linux.myhome.net": "hoge@foo.bar.com" },
};

const info = {
  name: "nas",
  version: "3.7.11",
  defaultDatabaseType: "hash",
  supportedTypes: ["hash", "btree"],
};

/** The host as it looks right after a successful apply of `state`. */
function syncedFacts(state: PostfixState): HostFacts {
  const config = deriveConfig(state, info);
  const facts = running(debianFacts());
  const files = new Map(facts.files);
  const main = files.get(MAIN_CF)!;
  files.set(MAIN_CF, { ...main, content: editMainCf(main.content!, config.main).text });
  for (const table of config.tables) {
    files.set(table.path, file(table.path, 0o600, 1000, renderTable(table.entries).text));
    for (const index of table.indexPaths) files.set(index, file(index, 0o600, 1001));
  }
  return { ...facts, files };
}

function file(path: string, mode: number, mtime: number, content?: string): RemoteFile {
  return {
    path,
    exists: true,
    mode,
    owner: "root",
    group: "root",
    mtime,
    ...(content !== undefined ? { content } : {}),
  };
}

function withFile(facts: HostFacts, path: string, change: Partial<RemoteFile>): HostFacts {
  const files = new Map(facts.files);
  files.set(path, { ...files.get(path)!, ...change });
  return { ...facts, files };
}

const summary = (plan: Plan) => ({
  changes: plan.changes.map((c) => `${c.what} ${c.path}${c.parameters ? ` ${c.parameters.join(",")}` : ""}`),
  writes: plan.writes.map((w) => `${w.path} ${w.mode.toString(8)}`),
  fixes: plan.attributeFixes.map((f) => `${f.path} ${f.mode.toString(8)}`),
  postmaps: plan.postmaps.map((p) => p.map),
  removals: plan.removals,
  service: plan.service,
});

describe("planner", () => {
  const config = deriveConfig(translator, info);

  it("on a fresh Debian host: writes tables, then main.cf, indexes both tables, reloads Postfix", () => {
    expect(summary(makePlan(config, debianFacts()))).to.deep.equal({
      changes: [
        "missing /etc/postfix/generic",
        "missing /etc/postfix/sasl_passwd",
        "parameter /etc/postfix/main.cf default_transport,relay_transport,relayhost,smtp_generic_maps," +
          "smtp_sasl_auth_enable,smtp_sasl_mechanism_filter,smtp_sasl_password_maps,smtp_sasl_security_options," +
          "smtp_tls_security_level",
      ],
      writes: ["/etc/postfix/generic 600", "/etc/postfix/sasl_passwd 600", "/etc/postfix/main.cf 644"],
      fixes: [],
      postmaps: ["hash:/etc/postfix/generic", "hash:/etc/postfix/sasl_passwd"],
      removals: [],
      service: "reload",
    });
  });

  it("has nothing to do on a host that matches", () => {
    const plan = makePlan(config, syncedFacts(translator));
    expect(summary(plan)).to.deep.equal({
      changes: [],
      writes: [],
      fixes: [],
      postmaps: [],
      removals: [],
      service: "none",
    });
  });

  it("reloads a running Postfix after a change, and restarts it when inet_interfaces changes", () => {
    const facts = withFile(syncedFacts(translator), "/etc/postfix/generic", { content: "# hand edit\n" });
    expect(makePlan(config, facts).service).to.equal("reload");
    const inet = deriveConfig({ ...translator, main: { inet_interfaces: "all" } }, info);
    expect(makePlan(inet, syncedFacts(translator)).service).to.equal("restart");
  });

  const drifts: { name: string; facts: (f: HostFacts) => HostFacts; expected: ReturnType<typeof summary> }[] =
    [
      {
        name: "a hand-edited table is rewritten and re-indexed",
        facts: (f) =>
          withFile(f, "/etc/postfix/generic", { content: "@linux.myhome.net root@example.org\n" }),
        expected: {
          changes: ["content /etc/postfix/generic"],
          writes: ["/etc/postfix/generic 600"],
          fixes: [],
          postmaps: ["hash:/etc/postfix/generic"],
          removals: [],
          service: "reload",
        },
      },
      {
        name: "a world-readable sasl_passwd.db gets root 0600 back without postmap or reload",
        facts: (f) => withFile(f, "/etc/postfix/sasl_passwd.db", { mode: 0o644 }),
        expected: {
          changes: ["mode /etc/postfix/sasl_passwd.db"],
          writes: [],
          fixes: ["/etc/postfix/sasl_passwd.db 600"],
          postmaps: [],
          removals: [],
          service: "none",
        },
      },
      {
        name: "a table edited without postmap (index older than source) is re-indexed",
        facts: (f) => withFile(f, "/etc/postfix/generic.db", { mtime: 999 }),
        expected: {
          changes: ["stale-index /etc/postfix/generic"],
          writes: [],
          fixes: [],
          postmaps: ["hash:/etc/postfix/generic"],
          removals: [],
          service: "reload",
        },
      },
      {
        name: "a missing index is rebuilt",
        facts: (f) => withFile(f, "/etc/postfix/sasl_passwd.db", { exists: false }),
        expected: {
          changes: ["stale-index /etc/postfix/sasl_passwd"],
          writes: [],
          fixes: [],
          postmaps: ["hash:/etc/postfix/sasl_passwd"],
          removals: [],
          service: "reload",
        },
      },
      {
        name: "a table owned by another user is chowned back",
        facts: (f) => withFile(f, "/etc/postfix/generic", { owner: "admin" }),
        expected: {
          changes: ["owner /etc/postfix/generic"],
          writes: [],
          fixes: ["/etc/postfix/generic 600"],
          postmaps: [],
          removals: [],
          service: "none",
        },
      },
      {
        name: "a removed main.cf parameter is put back",
        facts: (f) =>
          withFile(f, MAIN_CF, {
            content: f.files.get(MAIN_CF)!.content!.replace(/^relayhost = .*\n/m, ""),
          }),
        expected: {
          changes: ["parameter /etc/postfix/main.cf relayhost"],
          writes: ["/etc/postfix/main.cf 644"],
          fixes: [],
          postmaps: [],
          removals: [],
          service: "reload",
        },
      },
      {
        name: "Postfix not running is drift, and apply starts it",
        facts: (f) => ({ ...f, running: false }),
        expected: {
          changes: ["service postfix"],
          writes: [],
          fixes: [],
          postmaps: [],
          removals: [],
          service: "start",
        },
      },
    ];
  for (const drift of drifts) {
    it(drift.name, () => {
      expect(summary(makePlan(config, drift.facts(syncedFacts(translator))))).to.deep.equal(drift.expected);
    });
  }

  it("shows a changed password in the diff only as masked text", () => {
    const facts = withFile(syncedFacts(translator), "/etc/postfix/sasl_passwd", {
      content: "[foo.bar.com]:587 hoge:old-password\n",
    });
    const plan = makePlan(config, facts);
    const write = plan.writes.find((w) => w.path === "/etc/postfix/sasl_passwd")!;
    expect(write.before).to.include("hoge:******** (differs)").and.not.include("old-password");
    expect(write.after).to.include("[foo.bar.com]:587 hoge:********").and.not.include(PASSWORD);
    expect(JSON.stringify(plan)).to.not.include(PASSWORD);
    expect(write.content.reveal()).to.include(`hoge:${PASSWORD}`);
  });

  it("keeps every main.cf line it does not own", () => {
    const plan = makePlan(config, debianFacts());
    const main = plan.writes.find((w) => w.path === MAIN_CF)!;
    expect(main.after).to.include("# appending .domain is the MUA's job.\nappend_dot_mydomain = no\n");
    expect(main.after).to.match(/^relayhost = \[foo\.bar\.com\]:587$/m);
    expect(main.after).to.not.match(/^default_transport/m);
  });

  it("rebuilds an index whose type changes even when the entries do not (hash -> btree share NAME.db)", () => {
    const btree = deriveConfig({ ...translator, tableType: "btree" }, info);
    const plan = makePlan(btree, syncedFacts(translator));
    expect(plan.postmaps.map((p) => p.map)).to.deep.equal([
      "btree:/etc/postfix/generic",
      "btree:/etc/postfix/sasl_passwd",
    ]);
    expect(plan.changes.map((c) => c.what)).to.include("stale-index");
  });

  it("removes an index left from another table type", () => {
    const facts = syncedFacts(translator);
    facts.files.set("/etc/postfix/generic.lmdb", file("/etc/postfix/generic.lmdb", 0o644, 900));
    const plan = makePlan(config, facts);
    expect(plan.removals).to.deep.equal(["/etc/postfix/generic.lmdb"]);
    expect(plan.changes).to.deep.include({
      path: "/etc/postfix/generic",
      what: "stale-index",
      detail: "index of another type: /etc/postfix/generic.lmdb",
    });
  });

  it("removes sasl_passwd and its index when the relay no longer has credentials (old passwords)", () => {
    const noAuth: PostfixState = { ...translator, relay: { host: "foo.bar.com", port: 587, mx: false } };
    const plan = makePlan(deriveConfig(noAuth, info), syncedFacts(translator));
    expect(plan.removals).to.deep.equal(["/etc/postfix/sasl_passwd", "/etc/postfix/sasl_passwd.db"]);
    expect(plan.service).to.equal("reload");
  });
});
