import { expect } from "chai";
import { createHmac } from "node:crypto";
import {
  fingerprint,
  hostToken,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
  recordedKeyTypes,
  removeKeyCommand,
  verifyHostKey,
} from "../../../src/transport/known-hosts.js";

// Real ed25519 public key blobs (from ssh-keygen), so type parsing and fingerprints are checked.
const KEY_A = Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIAoPjwm2EJj5uxwOfnyMrOKiW/PQ64nZJwS4tUPCjN3K", "base64");
const KEY_B = Buffer.from("AAAAC3NzaC1lZDI1NTE5AAAAIBp8m8b0n2R0D9m4YV0cO2vKxXk0oUj3y3zJ0b5kQ5mJ", "base64");
const line = (host: string, key: Buffer) => `${host} ssh-ed25519 ${key.toString("base64")}`;

function hashed(token: string, key: Buffer): string {
  const salt = Buffer.from("0123456789abcdefghij");
  const hash = createHmac("sha1", salt).update(token).digest();
  return `|1|${salt.toString("base64")}|${hash.toString("base64")} ssh-ed25519 ${key.toString("base64")}`;
}

describe("known_hosts verification", () => {
  it("reads the key type from the key blob and prints ssh-keygen's fingerprint", () => {
    expect(keyTypeOf(KEY_A)).to.equal("ssh-ed25519");
    expect(fingerprint(KEY_A)).to.equal("SHA256:Wd90+I4qlWmWLM9r0WjBk24ywU2FCwXDXG7pYbCLLL8");
  });

  it("accepts the recorded key of a plain entry and refuses another key as changed", () => {
    const entries = parseKnownHosts(`# comment\n${line("198.18.1.2,nas", KEY_A)}\n`);
    expect(verifyHostKey(entries, "198.18.1.2", 22, KEY_A)).to.deep.equal({ status: "known", line: 2 });
    expect(verifyHostKey(entries, "nas", 22, KEY_B).status).to.equal("changed");
  });

  it("treats a host with no entry as unknown", () => {
    const entries = parseKnownHosts(line("198.18.1.2", KEY_A));
    expect(verifyHostKey(entries, "198.18.1.3", 22, KEY_A).status).to.equal("unknown");
  });

  it("matches hashed entries (|1|salt|hash) as ssh-keygen -H writes them", () => {
    const entries = parseKnownHosts(hashed("198.18.1.2", KEY_A));
    expect(verifyHostKey(entries, "198.18.1.2", 22, KEY_A).status).to.equal("known");
    expect(verifyHostKey(entries, "198.18.1.9", 22, KEY_A).status).to.equal("unknown");
  });

  it("keys a non-standard port as [host]:port, and port 22 as the bare host", () => {
    expect(hostToken("pi.lan", 22)).to.equal("pi.lan");
    expect(hostToken("pi.lan", 2222)).to.equal("[pi.lan]:2222");
    const entries = parseKnownHosts(line("[pi.lan]:2222", KEY_A));
    expect(verifyHostKey(entries, "pi.lan", 2222, KEY_A).status).to.equal("known");
    expect(verifyHostKey(entries, "pi.lan", 22, KEY_A).status).to.equal("unknown");
    expect(knownHostsLine("pi.lan", 2222, KEY_A)).to.equal(line("[pi.lan]:2222", KEY_A));
  });

  it("refuses a key marked @revoked even when it is also recorded as valid", () => {
    const entries = parseKnownHosts(
      `${line("nas", KEY_A)}\n@revoked * ssh-ed25519 ${KEY_A.toString("base64")}\n`,
    );
    expect(verifyHostKey(entries, "nas", 22, KEY_A).status).to.equal("revoked");
  });

  it("honours wildcards and negated patterns", () => {
    const entries = parseKnownHosts(line("*.lan,!evil.lan", KEY_A));
    expect(verifyHostKey(entries, "pi.lan", 22, KEY_A).status).to.equal("known");
    expect(verifyHostKey(entries, "evil.lan", 22, KEY_A).status).to.equal("unknown");
  });

  it("lists the recorded key types so only verifiable host key algorithms are negotiated", () => {
    const entries = parseKnownHosts(`${line("nas", KEY_A)}\nnas ssh-rsa AAAAB3NzaC1yc2E=\n`);
    expect(recordedKeyTypes(entries, "nas", 22)).to.deep.equal(["ssh-ed25519", "ssh-rsa"]);
  });
});

describe("the changed-host-key hint", () => {
  const home = "/home/me/.ssh/known_hosts";

  it("names the host alone on port 22 and the default file", () => {
    expect(removeKeyCommand("nas.lan", 22, home, home)).to.equal("ssh-keygen -R nas.lan");
  });

  it("uses OpenSSH's [host]:port name for other ports, quoted for the shell", () => {
    expect(removeKeyCommand("192.0.2.1", 2222, home, home)).to.equal("ssh-keygen -R '[192.0.2.1]:2222'");
  });

  it("adds -f FILE when the inventory's ssh_known_hosts is not the default file", () => {
    expect(removeKeyCommand("nas.lan", 22, "/srv/fleet/known_hosts", home)).to.equal(
      "ssh-keygen -f /srv/fleet/known_hosts -R nas.lan",
    );
    expect(removeKeyCommand("192.0.2.1", 2222, "/srv/my fleet/known hosts", home)).to.equal(
      "ssh-keygen -f '/srv/my fleet/known hosts' -R '[192.0.2.1]:2222'",
    );
  });
});
