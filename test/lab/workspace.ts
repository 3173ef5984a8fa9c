// What the CLI needs to work on lab hosts, shared by the end-to-end tests, the demo and the benchmark:
// an inventory of lab hosts, the repository's playbooks plus the one lab-only parameter, and a HOME
// holding the file secret and the environment secrets the lab relays accept.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LAB_PASSWORDS, type Lab } from "./lab.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The lab has no DNS server: Postfix must find the relays through /etc/hosts. */
export const LAB_PLAY = `
# The lab has no DNS server: Postfix finds the relays through /etc/hosts.
- name: lab name resolution
  hosts: all
  postfix:
    main:
      smtp_host_lookup: native
`;

/** The secrets the repository's playbooks ask for, as the lab relays accept them. */
export const LAB_ENV = {
  ISP_PASSWORD: LAB_PASSWORDS.isp,
  EXAMPLE_COM_PASSWORD: LAB_PASSWORDS.exampleCom,
  SMTP_PASSWORD: LAB_PASSWORDS.fooBar,
};

export interface InventoryOptions {
  /** Connect as the lab's sudo user with become instead of root. */
  become?: boolean;
}

/** An inventory of lab hosts (default: all) in group `home`, with the lab's key and known_hosts. */
export function writeLabInventory(
  lab: Lab,
  file: string,
  hosts?: string[],
  options: InventoryOptions = {},
): string {
  const chosen = hosts ?? lab.hosts.map((h) => h.name);
  const lines = chosen.map((name) => {
    const host = lab.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no lab host ${name}`);
    return `        ${name}: { address: ${host.address} }`;
  });
  const user = options.become ? `ssh_user: ${lab.sudoUser}\n    become: true` : "ssh_user: root";
  writeFileSync(
    file,
    `all:
  vars:
    ${user}
    ssh_key: ${lab.sshKey}
    ssh_known_hosts: ${lab.knownHosts}
  children:
    home:
      vars:
        mydomain: home.example
      hosts:
${lines.join("\n")}
`,
  );
  return file;
}

/** A repository playbook (playbooks/NAME) plus the lab play, written to `file`. */
export function writeLabPlaybook(file: string, name: string, extra = ""): string {
  writeFileSync(file, readFileSync(join(REPO, "playbooks", name), "utf8") + LAB_PLAY + extra);
  return file;
}

/**
 * A HOME for the CLI under `dir` with the file secret site.yaml reads
 * (~/.config/provision/example-net.pass); returns the environment to run the CLI with.
 */
export function labHome(dir: string): Record<string, string> {
  const home = join(dir, "home");
  mkdirSync(join(home, ".config", "provision"), { recursive: true });
  writeFileSync(join(home, ".config", "provision", "example-net.pass"), `${LAB_PASSWORDS.exampleNet}\n`, {
    mode: 0o600,
  });
  return { ...LAB_ENV, HOME: home };
}
