import type { InventoryHost } from "../inventory/host.js";
import { reachJson, reachText } from "../report/reach.js";
import { agentKeys } from "../transport/auth.js";
import type { HostReach } from "../transport/ssh.js";

/** `provision hosts`: the report, with the keys of every ssh-agent a host or jump host would use. */
export async function hostsReport(
  hosts: readonly InventoryHost[],
  reach: Map<string, HostReach>,
  json: boolean,
): Promise<string> {
  const sockets = new Set(
    [...reach.values()].flatMap(({ target }) => [target, ...target.jumps].map((t) => t.identityAgent.value)),
  );
  const agents = new Map<string, string[]>();
  for (const socket of sockets) if (socket) agents.set(socket, await agentKeys(socket));
  const rows = hosts.map((host) => ({
    agentKeys: agents,
    name: host.name,
    become: host.connection.become,
    becomeFrom: host.origins?.become ?? "default",
    reach: reach.get(host.name)!,
  }));
  return json ? reachJson(rows) : reachText(rows);
}
