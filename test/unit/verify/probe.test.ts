import { expect } from "chai";
import type { VerifyHostFacts } from "../../../src/verify/host-facts.js";
import { sendingPaths } from "../../../src/verify/paths.js";
import { probePath, type ProbeContext } from "../../../src/verify/probe.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { debian } from "../postfix/fixtures.js";

describe("verify/probe: a path without relay, judged as the host will be once the playbook is applied", () => {
  const facts = (defaultTransport: string, relayhost: string): VerifyHostFacts => ({
    ...debian,
    saslPlugins: [],
    saslPluginDirs: [],
    myorigin: "nas.home.example",
    saslClients: ["cyrus"],
    defaultTransport,
    relayhost,
    helo: "nas",
    addresses: new Map(),
    getent: true,
  });
  const probe = (main: PostfixState["main"], host: VerifyHostFacts) => {
    const [path] = sendingPaths({ tableType: "auto", main }, debian, host.myorigin, host);
    const context: ProbeContext = {
      hostName: "nas",
      facts: host,
      forward: () => Promise.reject(new Error("a direct path opens no connection")),
      helo: "nas",
      timeoutMs: 1000,
    };
    return probePath(path!, context);
  };

  it("Debian's default_transport = error, kept by the playbook: no mail leaves", async () => {
    const result = await probe({}, facts("error", ""));
    expect(result.ok).to.equal(false);
    expect(result.problem?.kind).to.equal("no-delivery");
  });

  it("a playbook whose main: sets default_transport: smtp is not refused for the host's value before apply", async () => {
    const result = await probe({ default_transport: "smtp" }, facts("error", ""));
    expect(result).to.include({ ok: true, probed: false });
    expect(result.notes.join()).to.include("direct delivery to each recipient domain's mail exchanger");
  });

  it("a relayhost the playbook keeps: the path is not direct, and the note says so and what to do", async () => {
    const kept = await probe({ default_transport: "smtp" }, facts("error", "[mail.isp.example]:submission"));
    expect(kept).to.include({ ok: true, probed: false });
    expect(kept.notes).to.deep.equal([
      "not direct: with this playbook applied nas has relayhost = [mail.isp.example]:submission, so " +
        "Postfix hands every message to it instead of each recipient domain's MX; declare it as relay: " +
        "to have it proven, or remove it with main: { relayhost: null }",
    ]);
    const removed = await probe({ relayhost: null }, facts("smtp", "[mail.isp.example]:submission"));
    expect(removed.notes.join()).to.include("direct delivery to each recipient domain's mail exchanger");
  });
});
