import { expect } from "chai";
import { applyScript } from "../../../src/engine/apply-script.js";
import type { Plan } from "../../../src/engine/plan.js";
import { Secret } from "../../../src/secrets/secret.js";

const PASSWORD = "s3cr3t-Pa55word";

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    changes: [{ path: "/etc/postfix/sasl_passwd", what: "missing", detail: "" }],
    writes: [
      {
        path: "/etc/postfix/main.cf",
        mode: 0o644,
        content: new Secret("relayhost = [mail.isp.example]\n", "m"),
        before: "",
        after: "",
      },
      {
        path: "/etc/postfix/sasl_passwd",
        mode: 0o600,
        content: new Secret(`[mail.isp.example] username:${PASSWORD}\n`, "s"),
        before: null,
        after: "",
      },
    ],
    attributeFixes: [],
    postmaps: [{ map: "hash:/etc/postfix/sasl_passwd", indexPaths: ["/etc/postfix/sasl_passwd.db"] }],
    service: "reload",
    ...overrides,
  };
}

const refacts = { contents: ["/etc/postfix/main.cf"], stats: [] };

describe("apply script", () => {
  it("puts tables in place and indexes them before writing the main.cf that refers to them", () => {
    const lines = applyScript(plan(), refacts).split("\n");
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix) && !l.includes("() {"));
    expect(at("put '/etc/postfix/sasl_passwd' 600")).to.be.greaterThan(-1);
    expect(at("pmap 'hash:/etc/postfix/sasl_passwd'")).to.be.greaterThan(
      at("put '/etc/postfix/sasl_passwd'"),
    );
    expect(at("fix '/etc/postfix/sasl_passwd.db' 600")).to.be.greaterThan(at("pmap "));
    expect(at("put '/etc/postfix/main.cf' 644")).to.be.greaterThan(at("fix '/etc/postfix/sasl_passwd.db'"));
    expect(at("pf_reload")).to.be.greaterThan(at("put '/etc/postfix/main.cf'"));
    // ...and re-reads the facts in the same round trip.
    expect(at("file_fact '/etc/postfix/main.cf' content")).to.be.greaterThan(at("pf_reload"));
  });

  it("carries file contents encoded, never as readable text, and creates temp files with umask 077", () => {
    const script = applyScript(plan(), refacts);
    expect(script).to.not.include(PASSWORD);
    expect(script).to.include(Buffer.from(`[mail.isp.example] username:${PASSWORD}\n`).toString("base64"));
    expect(script).to.match(/^umask 077$/m);
  });

  it("does not touch the service when the plan says none", () => {
    const script = applyScript(plan({ service: "none" }), refacts);
    expect(script).to.not.match(/^pf_(reload|restart|start)$/m);
  });

  it("wraps the whole script in braces so the shell reads it fully before running any of it", () => {
    const script = applyScript(plan(), refacts);
    expect(script.startsWith("{\n")).to.equal(true);
    expect(script.trimEnd().endsWith("}")).to.equal(true);
  });
});
