import { expect } from "chai";
import type { HostOutcome } from "../../../src/engine/outcome.js";
import { failedCheckMetrics, prometheusMetrics } from "../../../src/report/prometheus.js";
import { hostText, summaryText, textReport } from "../../../src/report/text.js";

/** What the text report says per host and at the end: --quiet, hosts not started, check's warnings. */

function outcome(name: string, status: HostOutcome["status"], warnings: string[] = []): HostOutcome {
  return {
    name,
    address: `${name}.lan`,
    status,
    changes:
      status === "drift" || status === "changed"
        ? [{ path: "/etc/postfix/main.cf", what: "parameter", parameters: ["myorigin"], detail: "" }]
        : [],
    steps: [],
    warnings,
    ...(status === "failed" ? { error: "postfix check failed: fatal: bad permissions" } : {}),
    stats: { connections: status === "skipped" ? 0 : 1, commands: 1, durationMs: 1500 },
  };
}

const plain = { diff: false, color: false };
const quiet = { ...plain, quiet: true };

describe("text report", () => {
  it("check shows each host's warnings under its line", () => {
    const warning = "password for [mail.isp.example]:submission in /etc/postfix/sasl_passwd not verified: x";
    expect(textReport("check", [outcome("nas", "in-sync", [warning])], plain)).to.equal(
      `nas: in sync\n  warning: ${warning}\n`,
    );
  });

  it("--quiet check: only drift and failures, nothing when all is in sync", () => {
    const hosts = [outcome("a", "in-sync", ["not verified"]), outcome("b", "drift"), outcome("c", "failed")];
    expect(textReport("check", hosts, quiet)).to.equal(
      "b: drift: /etc/postfix/main.cf parameter (myorigin)\nc: failed: postfix check failed: fatal: bad permissions\n",
    );
    expect(textReport("check", [outcome("a", "in-sync")], quiet)).to.equal("");
  });

  it("--quiet apply: nothing for hosts in sync or changed, and the recap only when something is wrong", () => {
    const good = [outcome("a", "in-sync"), outcome("b", "changed")];
    expect(textReport("apply", good, quiet)).to.equal("");
    const bad = [...good, outcome("c", "unreachable")];
    const text = textReport("apply", bad, quiet);
    expect(text).to.match(/^c \(c\.lan\): UNREACHABLE\n\nRECAP\n/);
    expect(text).to.include("  b     changed      changes=1");
    expect(hostText("apply", outcome("b", "changed"), quiet)).to.equal("");
  });

  it("--quiet dry run: the hosts that would change, and the recap", () => {
    const text = textReport("dry-run", [outcome("a", "in-sync"), outcome("b", "drift")], quiet);
    expect(text).to.match(/^b \(b\.lan\): would change\n/);
    expect(text).to.not.match(/^a \(/m);
    expect(text).to.match(/Dry run: nothing was changed on any host\.\n$/);
  });

  it("a host never started (interrupted) is reported as not started, also with --quiet", () => {
    const skipped = outcome("pi", "skipped");
    expect(hostText("apply", skipped, quiet)).to.equal("pi (pi.lan): not started (interrupted)\n\n");
    expect(hostText("check", skipped, plain)).to.equal("pi: not started (interrupted)\n");
    expect(hostText("facts", skipped, plain)).to.equal("pi (pi.lan): not started (interrupted)\n");
    expect(summaryText("apply", [skipped], plain)).to.include("  pi    skipped      changes=0");
  });
});

describe("Prometheus metrics", () => {
  const now = new Date(1_800_000_000_000);

  it("per host, and provision_check_error 0; a host not started is not up", () => {
    const metrics = prometheusMetrics([outcome("nas", "drift"), outcome("pi", "skipped")], now);
    expect(metrics).to.match(/^provision_check_error 0$/m);
    expect(metrics).to.match(/^provision_drift\{host="nas"\} 1$/m);
    expect(metrics).to.match(/^provision_up\{host="nas"\} 1$/m);
    expect(metrics).to.match(/^provision_up\{host="pi"\} 0$/m);
    expect(metrics).to.match(/^provision_last_check_timestamp_seconds\{host="nas"\} 1800000000$/m);
  });

  it("a check that failed before any host: the error, provision_up 0, and no per-host series", () => {
    const metrics = failedCheckMetrics();
    expect(metrics).to.match(/^provision_check_error 1$/m);
    expect(metrics).to.match(/^provision_up 0$/m);
    expect(metrics).to.not.include("{host=");
    for (const name of ["provision_check_error", "provision_up"])
      expect(metrics).to.match(new RegExp(`^# TYPE ${name} gauge$`, "m"));
  });
});
