import { expect } from "chai";
import { join } from "node:path";
import { labPlaybook, modeOwner, onHost, provision, sendMail, useLab, writeInventory } from "./support.js";

interface JsonHost {
  name: string;
  status: string;
  error?: string;
}
const statuses = (stdout: string) =>
  Object.fromEntries((JSON.parse(stdout) as { hosts: JsonHost[] }).hosts.map((h) => [h.name, h.status]));

/** Several machines at once: one down must not stop the others; `become` gives the same result as root. */
describe("a fleet of hosts", function () {
  this.timeout(300_000);
  const { lab, work } = useLab(["nas", "pi", "laptop", "router"]);
  let playbook: string;

  before(function () {
    playbook = labPlaybook(join(work, "site.yaml"), "site.yaml");
  });

  it("applies to every reachable host and reports the down one unreachable (exit 3)", async () => {
    const l = lab();
    const inventory = writeInventory(l, join(work, "three.yaml"), ["nas", "pi", "laptop"]);
    await l.stopHost("pi");
    try {
      const result = await provision(["apply", playbook, "-i", inventory, "--json"], work);
      expect(result.code, result.stderr).to.equal(3);
      expect(statuses(result.stdout)).to.deep.equal({ nas: "changed", pi: "unreachable", laptop: "changed" });
      const check = await provision(["check", playbook, "-i", inventory, "--limit", "home:!pi"], work);
      expect(check.code, check.stdout).to.equal(0);
    } finally {
      await l.startHost("pi");
    }
    const again = await provision(["apply", playbook, "-i", inventory, "--json"], work);
    expect(again.code, again.stderr).to.equal(0);
    expect(statuses(again.stdout)).to.deep.equal({ nas: "in-sync", pi: "changed", laptop: "in-sync" });
  });

  it("a host whose network is gone times out without holding up the others", async () => {
    const l = lab();
    const inventory = writeInventory(l, join(work, "two.yaml"), ["nas", "laptop"]);
    await l.stopHost("laptop", "unplug");
    try {
      const started = Date.now();
      const result = await provision(
        ["check", playbook, "-i", inventory, "--connect-timeout", "3", "--json"],
        work,
      );
      expect(result.code, result.stderr).to.equal(3);
      expect(statuses(result.stdout)).to.deep.equal({ nas: "in-sync", laptop: "unreachable" });
      expect(Date.now() - started).to.be.lessThan(20_000);
    } finally {
      await l.startHost("laptop");
    }
  });

  it("become: the sudo user applies the same configuration as root", async () => {
    const l = lab();
    const inventory = writeInventory(l, join(work, "become.yaml"), ["router"], { become: true });
    const result = await provision(["apply", playbook, "-i", inventory], work);
    expect(result.code, result.stdout + result.stderr).to.equal(0);

    const normalise = (text: string) => text.replace(/^(myhostname|mydestination) = .*\n/gm, "");
    expect(normalise(await onHost(l, "router", "postconf -n"))).to.equal(
      normalise(await onHost(l, "nas", "postconf -n")),
    );
    for (const table of ["sasl_passwd", "sender_relay", "generic"]) {
      expect(await onHost(l, "router", `sha256sum < /etc/postfix/${table}`)).to.equal(
        await onHost(l, "nas", `sha256sum < /etc/postfix/${table}`),
      );
      expect(await modeOwner(l, "router", `/etc/postfix/${table}.db`)).to.equal("600 root:root");
    }
    await sendMail(l, "router", "her@localdomain.local", "friend@elsewhere.example", "become");
    const mail = await l.waitForMessage((m) => m.data.includes("Subject: become"));
    expect([mail.authUser, mail.mailFrom]).to.deep.equal(["username", "heraccount@herisp.example"]);

    const check = await provision(["check", playbook, "-i", inventory], work);
    expect(check.code, check.stdout).to.equal(0);
  });
});
