import { expect } from "chai";
import { ERASE_LINE, liveLine, RunProgress } from "../../../src/cli/progress.js";
import type { HostStep } from "../../../src/engine/host-run.js";
import type { HostOutcome } from "../../../src/engine/outcome.js";
import { hostText, summaryText } from "../../../src/report/text.js";

/** The live progress line and the report printed host by host (cli/progress.ts). */

/**
 * Just enough of a terminal to see what ends up on the screen: stdout and stderr both write to it, "\r"
 * returns to the start of the line, ESC [2K erases the line, anything else is written at the cursor.
 */
class Screen {
  private readonly lines: string[] = [""];
  private column = 0;

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (text.startsWith(ERASE_LINE.slice(1), i)) {
        this.lines[this.lines.length - 1] = "";
        i += ERASE_LINE.length - 2;
      } else if (text[i] === "\r") this.column = 0;
      else if (text[i] === "\n") {
        this.lines.push("");
        this.column = 0;
      } else {
        const line = this.lines[this.lines.length - 1]!.padEnd(this.column);
        this.lines[this.lines.length - 1] =
          line.slice(0, this.column) + text[i] + line.slice(this.column + 1);
        this.column += 1;
      }
    }
  }

  get text(): string {
    return this.lines.join("\n");
  }

  get currentLine(): string {
    return this.lines[this.lines.length - 1]!;
  }
}

function outcome(name: string, status: HostOutcome["status"]): HostOutcome {
  return {
    name,
    address: `${name}.lan`,
    status,
    changes:
      status === "drift"
        ? [{ path: "/etc/postfix/main.cf", what: "parameter", parameters: ["myorigin"], detail: "" }]
        : [],
    steps: [],
    warnings: [],
    ...(status === "failed" ? { error: "postfix check failed: fatal: bad permissions" } : {}),
    stats: { connections: 1, commands: 1, durationMs: 5 },
  };
}

const running = (entries: [string, HostStep][]) => new Map(entries);

describe("live progress line", () => {
  it("names the hosts still running and their step, in the order they started", () => {
    expect(
      liveLine(
        running([
          ["nas", "applying"],
          ["pi", "reading facts"],
        ]),
        80,
      ),
    ).to.equal("running: nas (applying), pi (reading facts)");
    expect(liveLine(running([]), 80)).to.equal("");
  });

  it("never wraps: hosts that do not fit the terminal are counted", () => {
    const many = running(
      Array.from({ length: 12 }, (_, i): [string, HostStep] => [`host${i}`, "connecting"]),
    );
    const line = liveLine(many, 60);
    expect(line.length).to.be.at.most(59);
    expect(line).to.match(/^running: host0 \(connecting\), .* and \d+ more$/);
    expect(liveLine(many, 16)).to.have.length.at.most(15);
  });

  it("on a terminal: the line is redrawn in place and erased before each host's report; the screen ends with the report only", () => {
    const screen = new Screen();
    const write = (text: string) => screen.write(text);
    const progress = new RunProgress(
      "apply",
      { diff: false, color: false },
      { out: write, err: write, live: true, columns: () => 80 },
    );
    progress.onStep("nas", "connecting");
    progress.onStep("pi", "connecting");
    progress.onStep("nas", "reading facts");
    expect(screen.currentLine).to.equal("running: nas (reading facts), pi (connecting)");
    progress.onStep("pi", "applying");
    const pi = outcome("pi", "changed");
    progress.onDone(pi);
    expect(screen.currentLine).to.equal("running: nas (reading facts)");
    progress.notice("\nInterrupted: no more hosts are started.\n");
    expect(screen.currentLine).to.equal("running: nas (reading facts)");
    const nas = outcome("nas", "failed");
    progress.onDone(nas);
    expect(screen.currentLine).to.equal("");
    progress.finish([nas, pi]);
    const options = { diff: false, color: false };
    expect(screen.text).to.equal(
      hostText("apply", pi, options) +
        "\nInterrupted: no more hosts are started.\n" +
        hostText("apply", nas, options) +
        summaryText("apply", [nas, pi], options),
    );
    expect(screen.text).to.include("pi (pi.lan): changed\n\n\nInterrupted").and.include("RECAP");
  });

  it("not on a terminal: no live line, no escape sequence, the report as it always was (in completion order)", () => {
    let out = "";
    let err = "";
    const progress = new RunProgress(
      "check",
      { diff: false, color: false },
      { out: (t) => (out += t), err: (t) => (err += t), live: false, columns: () => 80 },
    );
    const hosts = [outcome("a", "in-sync"), outcome("b", "drift")];
    progress.onStep("a", "connecting");
    progress.onDone(hosts[1]!);
    progress.onDone(hosts[0]!);
    progress.finish(hosts);
    expect(err).to.equal("");
    expect(out).to.equal("b: drift: /etc/postfix/main.cf parameter (myorigin)\na: in sync\n");
  });

  it("--json: no report text and no line (the document comes at the end)", () => {
    let printed = "";
    const progress = new RunProgress("apply", undefined, {
      out: (t) => (printed += t),
      err: (t) => (printed += t),
      live: false,
      columns: () => 80,
    });
    progress.onDone(outcome("a", "changed"));
    progress.finish([outcome("a", "changed")]);
    expect(printed).to.equal("");
  });
});
