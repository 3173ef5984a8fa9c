import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Lab } from "../lab/lab.js";
import { LAB_PLAY, postconf, provision, sendMail, useLab } from "./support.js";

/**
 * Inventories as Ansible users have them drive a real apply: an INI inventory and a YAML one, whose
 * hosts have no address, key or known_hosts in the inventory file itself. All of it comes from
 * group_vars/ and host_vars/ directories (and the relay from group_vars/ beside the playbook), so a
 * host reached and a mail relayed prove those files were read.
 */
describe("Ansible inventories with group_vars/ and host_vars/", function () {
  this.timeout(300_000);
  const { lab, work } = useLab(["nas", "pi"]);

  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
  };
  const address = (l: Lab, name: string) => l.hosts.find((h) => h.name === name)?.address ?? "";
  // No `vars:`: `isp` must come from the inventory's files, or the play fails as undefined.
  const playbook = `- name: Relay through the ISP the inventory names
  hosts: home
  postfix:
    main:
      mydomain: "{{ mydomain }}"
      myorigin: $mydomain
      mynetworks_style: host
    relay:
      host: "{{ isp }}"
      port: submission
      mx: false
      username: username
      password: { env: ISP_PASSWORD }
${LAB_PLAY}`;
  const statuses = (stdout: string) =>
    Object.fromEntries(
      (JSON.parse(stdout) as { hosts: { name: string; status: string }[] }).hosts.map((h) => [
        h.name,
        h.status,
      ]),
    );

  async function relaysThroughIsp(l: Lab, host: string) {
    expect(await postconf(l, host, "relayhost")).to.equal("[mail.isp.example]:submission");
    expect(await postconf(l, host, "mydomain")).to.equal("home.example");
    await sendMail(l, host, `root@${host}.home.example`, "friend@elsewhere.example", `inventory ${host}`);
    const mail = await l.waitForMessage((m) => m.data.includes(`Subject: inventory ${host}`));
    expect([mail.relay, mail.authUser]).to.deep.equal(["isp", "username"]);
  }

  before(() => {
    const l = lab();
    const ssh = `ansible_user: root\nansible_ssh_private_key_file: ${l.sshKey}\nssh_known_hosts: ${l.knownHosts}\n`;
    write("ini/hosts.ini", "# Only names here.\n[home]\nnas\n\n[home:vars]\nmydomain=home.example\n");
    write("ini/group_vars/all/ssh.yml", ssh);
    write("ini/group_vars/home/relay.yml", "isp: mail.isp.example\n");
    write("ini/host_vars/nas.yml", `ansible_host: ${address(l, "nas")}\n`);
    write("ini/play/relay.yaml", playbook);

    write("yaml/hosts.yml", "all:\n  children:\n    home:\n      hosts:\n        pi:\n");
    write("yaml/group_vars/all/10-ssh.yml", ssh);
    write("yaml/group_vars/all/20-domain.yaml", "mydomain: home.example\n");
    write("yaml/host_vars/pi/address.yml", `ansible_host: ${address(l, "pi")}\n`);
    write("yaml/play/group_vars/home.yml", "isp: mail.isp.example\n");
    write("yaml/play/relay.yaml", playbook);
  });

  it("an INI inventory: address from host_vars/, key and known_hosts from group_vars/all/", async () => {
    const l = lab();
    const result = await provision(["apply", "ini/play/relay.yaml", "-i", "ini/hosts.ini"], work);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    await relaysThroughIsp(l, "nas");
    const check = await provision(["check", "ini/play/relay.yaml", "-i", "ini/hosts.ini"], work);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });

  // nas was applied by the case above: merged with the YAML inventory, its state must be the same.
  it("a YAML inventory merged with the INI one by a second -i; the relay from the playbook's group_vars/", async () => {
    const l = lab();
    const args = ["yaml/play/relay.yaml", "-i", "ini/hosts.ini", "-i", "yaml/hosts.yml", "--json"];
    const result = await provision(["apply", ...args], work);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(statuses(result.stdout)).to.deep.equal({ nas: "in-sync", pi: "changed" });
    await relaysThroughIsp(l, "pi");
    const check = await provision(["check", ...args], work);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });
});
