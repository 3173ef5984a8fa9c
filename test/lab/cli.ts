// Manual use of the lab:
//   npx tsx test/lab/cli.ts up [HOST[:RELEASE]...]   start hosts (default: nas pi) and relays; Ctrl-C
//                                          tears down; HOST:13 is a Debian 13 systemd host (also 12, 11)
//   npx tsx test/lab/cli.ts down           tear down a lab left behind by a crashed run
//   npx tsx test/lab/cli.ts rootfs [13 12 11]  build (or find cached) the systemd hosts' root filesystems
import { ensureRootfs, isRelease, RELEASES } from "./rootfs.js";
import {
  DEFAULT_LAB_DIR,
  destroyStaleLab,
  labLeftovers,
  labUnavailableReason,
  SOHO_RELAYS,
  startLab,
  type Lab,
  type LabHostSpec,
} from "./lab.js";

function describe(lab: Lab): string {
  const relays = SOHO_RELAYS.map(
    (r) =>
      `  ${r.name.padEnd(12)} ${r.hostname}:${r.port} (${r.tls}) at ${lab.relayAddress(r.name)}, users: ${Object.keys(r.users).join(", ")}`,
  );
  return [
    "lab is up",
    "hosts:",
    ...lab.hosts.map((h) => `  ${h.name.padEnd(12)} ${h.address.padEnd(15)} ${h.kind}`),
    "relays:",
    ...relays,
    `ssh key:     ${lab.sshKey}`,
    `known_hosts: ${lab.knownHosts}`,
    `sudo user:   ${lab.sudoUser}`,
    `try:         ssh -i ${lab.sshKey} -o UserKnownHostsFile=${lab.knownHosts} root@${lab.hosts[0]?.address} postconf -n`,
    "relayed messages are printed below; Ctrl-C tears the lab down",
  ].join("\n");
}

async function up(hosts: string[]): Promise<void> {
  const reason = labUnavailableReason();
  if (reason) throw new Error(reason);
  const started = Date.now();
  const specs = hosts.map((arg): LabHostSpec => {
    const [name = "", release] = arg.split(":");
    if (release === undefined) return name;
    if (!isRelease(release)) throw new Error(`${arg}: unknown release (known: ${RELEASES.join(", ")})`);
    return { name, release };
  });
  const lab = await startLab({ hosts: specs.length > 0 ? specs : ["nas", "pi"], relays: SOHO_RELAYS });
  console.log(describe(lab));
  console.log(`(started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  let shown = 0;
  let failuresShown = 0;
  const timer = setInterval(() => {
    for (const m of lab.messages().slice(shown)) {
      console.log(`[${m.relay}] auth=${m.authUser} from=<${m.mailFrom}> to=${m.rcptTo.join(",")}`);
    }
    for (const f of lab.authFailures().slice(failuresShown))
      console.log(`[${f.relay}] AUTH FAILED for '${f.username}'`);
    shown = lab.messages().length;
    failuresShown = lab.authFailures().length;
  }, 500);

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  clearInterval(timer);
  console.log("tearing down...");
  await lab.down();
  console.log("lab is down");
}

async function down(): Promise<void> {
  await destroyStaleLab(DEFAULT_LAB_DIR);
  const left = await labLeftovers();
  if (left.length > 0) throw new Error(`still there: ${left.join(", ")}`);
  console.log("no lab left on this machine");
}

/** Needs no lab lock: it only writes the cache. Builds in parallel, which is what a cold CI run wants. */
async function rootfs(releases: string[]): Promise<void> {
  const bad = releases.find((r) => !isRelease(r));
  if (bad) throw new Error(`unknown release '${bad}' (known: ${RELEASES.join(", ")})`);
  const chosen = releases.length > 0 ? releases.filter(isRelease) : [...RELEASES];
  const started = Date.now();
  const trees = await Promise.all(chosen.map((r) => ensureRootfs(r, (msg) => console.log(msg))));
  for (const t of trees) console.log(`Debian ${t.release}: Postfix ${t.postfixVersion} in ${t.tree}`);
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "up") return up(rest);
  if (command === "down") return down();
  if (command === "rootfs") return rootfs(rest);
  console.error("usage: npx tsx test/lab/cli.ts up [HOST[:RELEASE]...] | down | rootfs [RELEASE...]");
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
