import { expect } from "chai";
import type { HostOutcome } from "../../../src/engine/outcome.js";
import { jsonDocument } from "../../../src/report/json.js";
import { escapeControls, jsonText } from "../../../src/report/terminal.js";
import { textReport } from "../../../src/report/text.js";
import { Secret } from "../../../src/secrets/secret.js";

/** Sequences a hostile host could send: screen clear, cursor up, OSC 52 clipboard write, 8-bit CSI, RLO. */
const CLEAR = "\u001b[2J";
const UP = "\u001b[1A";
const OSC52 = "\u001b]52;c;dG91Y2ggUFdORUQ=\u0007";
const CSI8 = "\u009b2J";
const RLO = "\u202e";
const HOSTILE = `${CLEAR}${UP}${OSC52}${CSI8}${RLO}\r`;

/** What may reach a terminal: printable text, tab and line feed (ESC only from our own colours). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function hostileOutcome(status: HostOutcome["status"]): HostOutcome {
  return {
    name: "nas",
    address: "192.0.2.10",
    status,
    changes: [
      { path: "/etc/postfix/main.cf", what: "parameter", parameters: [`myorigin${CLEAR}`], detail: "" },
    ],
    plan: {
      changes: [],
      writes: [
        {
          path: "/etc/postfix/main.cf",
          mode: 0o644,
          content: new Secret("myorigin = example.org\n", "test"),
          before: `myorigin = evil${HOSTILE}\nsmtpd_banner = ${OSC52}\n`,
          after: "myorigin = example.org\nsmtpd_banner = ok\n",
        },
      ],
      attributeFixes: [],
      postmaps: [],
      removals: [],
      service: "reload",
    },
    steps: [{ kind: "wrote", path: `/etc/postfix/x${CLEAR}` }],
    backup: `/var/backups/provision/x${CLEAR}`,
    warnings: [`new main.cf: ${HOSTILE} unused parameter`],
    error: status === "failed" ? `Postfix says ${HOSTILE}\nnas: in sync` : undefined,
    facts: {
      version: `3.7.11${CLEAR}`,
      defaultDatabaseType: "hash",
      supportedTypes: ["hash", `lmdb${CSI8}`],
      running: true,
      postconfN: `myorigin = evil${HOSTILE}\nsmtpd_banner = ${OSC52}\n`,
    },
    stats: { connections: 1, commands: 1, durationMs: 10 },
  };
}

describe("host text on the terminal", () => {
  it("escapes C0 (but tab and line feed), DEL, C1 and bidi controls visibly", () => {
    expect(escapeControls(`a${CLEAR}b\tc\nd\u007fe${CSI8}f${RLO}g\u2066h\r`)).to.equal(
      "a\\x1b[2Jb\tc\nd\\x7fe\\x9b2Jf\\u202eg\\u2066h\\x0d",
    );
    expect(escapeControls("plain text, ümlaut, 😀")).to.equal("plain text, ümlaut, 😀");
  });

  for (const mode of ["apply", "dry-run", "check", "facts"] as const) {
    for (const status of ["changed", "drift", "failed"] as const) {
      it(`${mode} report of a ${status} host carries no control character from the host`, () => {
        for (const color of [false, true]) {
          const text = textReport(mode, [hostileOutcome(status)], { diff: true, color });
          // Our own colours are the only escape sequences, and only when asked for.
          // eslint-disable-next-line no-control-regex -- removing our own SGR colour sequences
          const withoutColours = text.replace(/\u001b\[[0-9;]*m/g, "");
          expect(withoutColours).to.not.match(UNSAFE);
          if (!color) expect(text).to.not.include("\u001b");
        }
      });
    }
  }

  it("shows what was escaped, and a host line break cannot start a line of its own", () => {
    const facts = textReport("facts", [hostileOutcome("in-sync")], { diff: false, color: false });
    expect(facts).to.include(
      "myorigin = evil\\x1b[2J\\x1b[1A\\x1b]52;c;dG91Y2ggUFdORUQ=\\x07\\x9b2J\\u202e\\x0d",
    );
    const check = textReport("check", [hostileOutcome("failed")], { diff: false, color: false });
    expect(check.split("\n")).to.not.include("nas: in sync");
    expect(check).to.include("\n  nas: in sync");
    const dry = textReport("dry-run", [hostileOutcome("drift")], { diff: true, color: false });
    expect(dry).to.include("-myorigin = evil\\x1b[2J");
  });

  it("JSON escapes C0 (JSON.stringify), and also DEL, C1 and the bidi controls; parsing gives the text back", () => {
    const outcome = hostileOutcome("failed");
    const text = jsonText(jsonDocument("facts", [outcome], 1));
    expect(text).to.not.match(UNSAFE);
    expect(text).to.include("\\u001b[2J").and.include("\\u009b2J").and.include("\\u202e");
    const parsed = JSON.parse(text) as { hosts: { error: string; facts: { postconfN: string } }[] };
    expect(parsed.hosts[0]?.error).to.equal(outcome.error);
    expect(parsed.hosts[0]?.facts.postconfN).to.equal(outcome.facts?.postconfN);
  });
});
