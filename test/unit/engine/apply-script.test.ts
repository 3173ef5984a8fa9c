import { expect } from "chai";
import { applyScript, rollbackScript } from "../../../src/engine/apply-script.js";
import type { Plan } from "../../../src/engine/plan.js";
import { Secret } from "../../../src/secrets/secret.js";

const PASSWORD = "s3cr3t-Pa55word";

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    changes: [{ path: "/etc/postfix/sasl_passwd", what: "missing", detail: "" }],
    writes: [
      {
        path: "/etc/postfix/sasl_passwd",
        mode: 0o600,
        content: new Secret(`[mail.isp.example] username:${PASSWORD}\n`, "s"),
        before: null,
        after: "",
      },
      {
        path: "/etc/postfix/main.cf",
        mode: 0o644,
        content: new Secret("relayhost = [mail.isp.example]\n", "m"),
        before: "",
        after: "",
      },
    ],
    attributeFixes: [],
    postmaps: [{ map: "hash:/etc/postfix/sasl_passwd", indexPaths: ["/etc/postfix/sasl_passwd.db"] }],
    removals: [],
    service: "reload",
    ...overrides,
  };
}

const refacts = { contents: ["/etc/postfix/main.cf"], stats: [] };
const options = {
  ownedParameters: ["relayhost"],
  runId: "run1",
  waitSeconds: 30,
  expected: new Map<string, string | null>([
    ["/etc/postfix/sasl_passwd", null],
    ["/etc/postfix/main.cf", "ab".repeat(32)],
  ]),
};

describe("apply script", () => {
  const lines = applyScript(plan(), refacts, options).split("\n");
  const at = (line: string) => {
    const index = lines.findIndex((l) => l === line || l.startsWith(`${line} `));
    expect(index, line).to.be.greaterThan(-1);
    return index;
  };

  it("takes the run lock exclusively before anything else", () => {
    expect(at("lock_host -x 30 apply")).to.be.lessThan(at("start_work"));
    expect(at("start_work")).to.be.lessThan(at("expect_file"));
  });

  it("checks the host is as it was read, then backs up, then stages and validates, before installing", () => {
    expect(at("expect_file '/etc/postfix/sasl_passwd' absent")).to.be.lessThan(at("begin_backup"));
    expect(at(`expect_file '/etc/postfix/main.cf' ${"ab".repeat(32)}`)).to.be.lessThan(at("begin_backup"));
    expect(at("begin_backup")).to.be.lessThan(at("save '/etc/postfix/sasl_passwd'"));
    expect(at("save '/etc/postfix/sasl_passwd.db'")).to.be.lessThan(at("stage 0 600"));
    expect(at("stage 1 644")).to.be.lessThan(at("validate_main 1"));
    expect(at("validate_main 1")).to.be.lessThan(at("STATE=installing"));
  });

  it("puts tables in place and indexes them before installing the main.cf that refers to them", () => {
    expect(at("STATE=installing")).to.be.lessThan(at("install 0 '/etc/postfix/sasl_passwd'"));
    expect(at("install 0 '/etc/postfix/sasl_passwd'")).to.be.lessThan(
      at("pmap 'hash:/etc/postfix/sasl_passwd'"),
    );
    expect(lines).to.include("pmap 'hash:/etc/postfix/sasl_passwd' '/etc/postfix/sasl_passwd.db'");
    expect(at("pmap 'hash:/etc/postfix/sasl_passwd'")).to.be.lessThan(at("install 1 '/etc/postfix/main.cf'"));
    expect(at("install 1 '/etc/postfix/main.cf'")).to.be.lessThan(at("postfix_check"));
    expect(at("postfix_check")).to.be.lessThan(at("activate reload"));
    // ...and re-reads the facts in the same round trip.
    expect(at("activate reload")).to.be.lessThan(at("file_fact '/etc/postfix/main.cf' content"));
    expect(at("file_fact '/etc/postfix/main.cf' content")).to.be.lessThan(at("finish"));
  });

  it("carries file contents encoded, never as readable text, and works with umask 077", () => {
    const script = lines.join("\n");
    expect(script).to.not.include(PASSWORD);
    expect(script).to.include(Buffer.from(`[mail.isp.example] username:${PASSWORD}\n`).toString("base64"));
    expect(script).to.match(/^\s*umask 077$/m);
  });

  it("does not touch the service when the plan says none", () => {
    const script = applyScript(plan({ service: "none" }), refacts, options);
    expect(script).to.match(/^activate none$/m);
    expect(script).to.not.match(/^activate (reload|restart|start)$/m);
  });

  it("pauses at a named step only when the fault-injection hook asks for it", () => {
    expect(applyScript(plan(), refacts, options)).to.match(/^PAUSE_STEP=''$/m);
    const paused = applyScript(plan(), refacts, { ...options, pause: { step: "after-postmap", seconds: 4 } });
    expect(paused).to.match(/^PAUSE_STEP='after-postmap'$/m);
    expect(paused).to.match(/^PAUSE_SECONDS=4$/m);
  });

  it("wraps the whole script in braces so the shell reads it fully before running any of it", () => {
    const script = applyScript(plan(), refacts, options);
    expect(script.startsWith("{\n")).to.equal(true);
    expect(script.trimEnd().endsWith("}")).to.equal(true);
  });

  it("restores the given backup set under the exclusive lock (rollback_run: test/unit/remote)", () => {
    const script = rollbackScript("/var/backups/provision/20261127T225000-run1", "reload", {
      runId: "run1",
      waitSeconds: 30,
    });
    expect(script).to.match(/^lock_host -x 30 rollback \|\| exit 0$/m);
    expect(script).to.match(/^rollback_run '\/var\/backups\/provision\/20261127T225000-run1' reload$/m);
  });
});
