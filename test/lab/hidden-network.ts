// A second lab network that the machine running the tests has no route to: hosts moved onto it are
// reachable only through a jump host plugged into both networks, as machines behind a bastion are.
// It is x.x.254.0/24 in the other lab slot's half of the RFC 2544 benchmarking range (198.19.254.0/24
// for slot 0), far above that slot's host addresses. The root namespace gets no address on this bridge,
// and an `unreachable` route for it: connecting from the machine fails at once with EHOSTUNREACH, and
// no packet for it ever follows the default route off the machine.
import { exec, must } from "./exec.js";
import type { Lab } from "./lab.js";
import { NET, netnsName, PREFIX, vethName } from "./network.js";

export const HIDDEN_BRIDGE = `${PREFIX}1`;
const HIDDEN_NET = NET === "198.18" ? "198.19.254" : "198.18.254";

/** The address a host gets on the hidden network: <HIDDEN_NET>.<its index + 1>. */
export function hiddenAddress(lab: Lab, host: string): string {
  const index = lab.hosts.findIndex((h) => h.name === host);
  if (index < 0 || index > 250) throw new Error(`no lab host ${host} that fits the hidden network`);
  return `${HIDDEN_NET}.${index + 1}`;
}

export async function createHiddenNetwork(): Promise<void> {
  await removeHiddenNetwork();
  await must("ip", ["link", "add", HIDDEN_BRIDGE, "type", "bridge"]);
  await must("ip", ["link", "set", HIDDEN_BRIDGE, "up"]);
  await must("ip", ["route", "add", "unreachable", `${HIDDEN_NET}.0/24`]);
}

/** Takes the host off the lab network and puts it on the hidden one, with its own sshd listening there. */
export async function hideHost(lab: Lab, host: string): Promise<string> {
  const index = lab.hosts.findIndex((h) => h.name === host);
  const address = hiddenAddress(lab, host);
  await must("ip", ["link", "set", vethName(index), "nomaster"]);
  await must("ip", ["link", "set", vethName(index), "master", HIDDEN_BRIDGE]);
  await must("ip", ["-n", netnsName(host), "addr", "add", `${address}/24`, "dev", "eth0"]);
  await startSshd(lab, host, address);
  return address;
}

/** Plugs the host into the hidden network too (a second interface), so it can serve as the jump host. */
export async function bridgeHost(lab: Lab, host: string): Promise<string> {
  const index = lab.hosts.findIndex((h) => h.name === host);
  const address = hiddenAddress(lab, host);
  const veth = `${PREFIX}j${index}`;
  await must("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth1", "netns", netnsName(host)]);
  await must("ip", ["link", "set", veth, "master", HIDDEN_BRIDGE, "up"]);
  await must("ip", ["-n", netnsName(host), "addr", "add", `${address}/24`, "dev", "eth1"]);
  await must("ip", ["-n", netnsName(host), "link", "set", "eth1", "up"]);
  return address;
}

/** The bridge and any jump-host veth left behind; the hosts' own links go with their namespaces. */
export async function removeHiddenNetwork(): Promise<void> {
  const links = await exec("ip", ["-o", "link", "show"]);
  for (const name of links.stdout.split("\n").map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? "")) {
    if (name === HIDDEN_BRIDGE || new RegExp(`^${PREFIX}j\\d+$`).test(name))
      await exec("ip", ["link", "del", name]);
  }
  await exec("ip", ["route", "del", "unreachable", `${HIDDEN_NET}.0/24`]);
}

async function startSshd(lab: Lab, host: string, address: string): Promise<void> {
  const r = await lab.run(
    host,
    `/usr/sbin/sshd -o ListenAddress=${address}:22 -o PidFile=/run/sshd-hidden.pid -E /var/log/sshd-hidden.log`,
  );
  if (r.code !== 0) throw new Error(`sshd on ${host} (${address}): ${r.stderr}`);
}
