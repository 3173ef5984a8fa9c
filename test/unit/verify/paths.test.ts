import { expect } from "chai";
import { Secret } from "../../../src/secrets/secret.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { rewriteSender, sendingPaths } from "../../../src/verify/paths.js";
import { debian } from "../postfix/fixtures.js";

describe("verify/paths: the sending paths a playbook declares", () => {
  const password = new Secret("isp-Pa55:with#hash", "environment variable ISP_PASSWORD");
  const base: PostfixState = { tableType: "auto", main: {} };
  const postfixDefaults = { defaultTransport: "smtp", relayhost: "" };

  it("no relay and no senders: one direct path, sender root@myorigin", () => {
    expect(sendingPaths(base, debian, "home.example", postfixDefaults)).to.deep.equal([
      {
        kind: "direct",
        sender: "root@home.example",
        mailFrom: "root@home.example",
        transport: postfixDefaults,
      },
    ]);
  });

  it("the default relay and each sender, with the parameters apply would set", () => {
    const state: PostfixState = {
      ...base,
      generic: { "@localdomain.local": "hisaccount+local@hisisp.example" },
      relay: { host: "mail.isp.example", port: "submission", mx: false, username: "username", password },
      senders: {
        "user1@example.com": {
          relay: { host: "mail.example.com", port: 465, mx: false },
          username: "username2",
          password,
        },
        "@example.net": { relay: { host: "mx.example.net", mx: true } },
      },
    };
    // 587 with 465 on one host is refused by apply; the probe derives the same way and refuses too.
    expect(() => sendingPaths(state, debian, "localdomain.local", postfixDefaults)).to.throw(/port 465/);

    const senders = {
      ...state.senders!,
      "user1@example.com": {
        ...state.senders!["user1@example.com"]!,
        relay: { host: "mail.example.com", port: "submission", mx: false },
      },
    };
    const paths = sendingPaths({ ...state, senders }, debian, "localdomain.local", postfixDefaults);
    expect(paths.map((p) => [p.kind, p.sender, p.mailFrom, p.relay?.nexthop, p.relay?.port])).to.deep.equal([
      [
        "relay",
        "root@localdomain.local",
        "hisaccount+local@hisisp.example",
        "[mail.isp.example]:submission",
        587,
      ],
      ["sender", "user1@example.com", "user1@example.com", "[mail.example.com]:submission", 587],
      ["sender", "postmaster@example.net", "postmaster@example.net", "mx.example.net", 25],
    ]);
    const relay = paths[0]!.relay!;
    expect(relay).to.include({ tls: "encrypt", implicitTls: false, mx: false });
    expect(relay.securityOptions).to.deep.equal(["noanonymous"]);
    expect(relay.mechanisms).to.deep.equal([]);
    expect(relay.login?.username).to.equal("username");
    expect(paths[2]!.relay!.login, "a sender without credentials logs in to nothing").to.equal(undefined);
  });

  it("port 465 means TLS from the first byte; mechanisms and security options come from relay:", () => {
    const [path] = sendingPaths(
      {
        ...base,
        relay: {
          host: "smtps.isp.example",
          port: "smtps",
          mx: false,
          username: "u",
          password,
          mechanisms: ["plain, login"],
          securityOptions: ["noplaintext", "noanonymous", "someday_option"],
        },
      },
      debian,
      "x.example",
      postfixDefaults,
    );
    expect(path!.relay).to.include({ implicitTls: true, port: 465, tls: "encrypt" });
    expect(path!.relay!.mechanisms).to.deep.equal(["plain", "login"]);
    expect(path!.relay!.securityOptions, "unknown options are left to Postfix").to.deep.equal([
      "noplaintext",
      "noanonymous",
    ]);
    expect(path!.relay!.tlsSecurityOptions, "TLS sessions follow them by default").to.deep.equal([
      "noplaintext",
      "noanonymous",
    ]);
  });

  it("main: smtp_sasl_tls_security_options sets what counts once TLS is up", () => {
    const [path] = sendingPaths(
      {
        ...base,
        main: { smtp_sasl_tls_security_options: "noanonymous" },
        relay: {
          host: "mail.isp.example",
          mx: false,
          username: "u",
          password,
          securityOptions: ["noplaintext"],
        },
      },
      debian,
      "x.example",
      postfixDefaults,
    );
    expect(path!.relay!.securityOptions).to.deep.equal(["noplaintext"]);
    expect(path!.relay!.tlsSecurityOptions).to.deep.equal(["noanonymous"]);
  });

  it("only senders: the default path is direct delivery", () => {
    const paths = sendingPaths(
      { ...base, senders: { "a@b.example": { relay: { host: "mail.b.example", mx: false } } } },
      debian,
      "home.example",
      postfixDefaults,
    );
    expect(paths.map((p) => p.kind)).to.deep.equal(["direct", "sender"]);
  });

  it("direct delivery: default_transport and relayhost as the host will have them once the playbook is applied", () => {
    const localOnly = { defaultTransport: "error", relayhost: "[hand.made]:587" };
    const transport = (state: Partial<PostfixState>) =>
      sendingPaths({ ...base, ...state }, debian, "home.example", localOnly)[0]!.transport;
    expect(transport({}), "no relay: the playbook owns neither, the host keeps both").to.deep.equal(
      localOnly,
    );
    expect(transport({ main: { default_transport: "smtp", relayhost: null } })).to.deep.equal({
      defaultTransport: "smtp",
      relayhost: "",
    });
    expect(transport({ main: { default_transport: null } })).to.deep.equal({
      defaultTransport: "smtp",
      relayhost: "[hand.made]:587",
    });
    const senders = { "a@b.example": { relay: { host: "mail.b.example", mx: false } } };
    expect(transport({ senders }), "senders: apply removes both").to.deep.equal({
      defaultTransport: "smtp",
      relayhost: "",
    });
    expect(transport({ senders, main: { default_transport: "error" } })!.defaultTransport).to.equal("error");
  });

  describe("rewriteSender: canonical, then generic, as Postfix looks addresses up", () => {
    const cases: [Pick<PostfixState, "canonical" | "generic">, string, string][] = [
      [
        { generic: { "his@localdomain.local": "hisaccount@hisisp.example" } },
        "His@LocalDomain.local",
        "hisaccount@hisisp.example",
      ],
      [
        { generic: { "@localdomain.local": "catch@isp.example" } },
        "root@localdomain.local",
        "catch@isp.example",
      ],
      [{ generic: { "@localdomain.local": "@isp.example" } }, "root@localdomain.local", "root@isp.example"],
      [
        { generic: { "@other.example": "x@isp.example" } },
        "root@localdomain.local",
        "root@localdomain.local",
      ],
      [
        { canonical: { "root@box.lan": "admin@box.lan" }, generic: { "admin@box.lan": "me@isp.example" } },
        "root@box.lan",
        "me@isp.example",
      ],
    ];
    for (const [tables, from, to] of cases) {
      it(`${from} -> ${to}`, () => expect(rewriteSender(from, tables)).to.equal(to));
    }
  });
});
