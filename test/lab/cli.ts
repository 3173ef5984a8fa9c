// Manual use of the lab:
//   npx tsx test/lab/cli.ts up [HOST...]   start hosts (default: nas pi) and relays; Ctrl-C tears down
//   npx tsx test/lab/cli.ts down           tear down a lab left behind by a crashed run
import {
  DEFAULT_LAB_DIR,
  destroyStaleLab,
  labLeftovers,
  labUnavailableReason,
  SOHO_RELAYS,
  startLab,
  type Lab,
} from "./lab.js";

function describe(lab: Lab): string {
  const relays = SOHO_RELAYS.map(
    (r) =>
      `  ${r.name.padEnd(12)} ${r.hostname}:${r.port} (${r.tls}) at ${lab.relayAddress(r.name)}, users: ${Object.keys(r.users).join(", ")}`,
  );
  return [
    "lab is up",
    "hosts:",
    ...lab.hosts.map((h) => `  ${h.name.padEnd(12)} ${h.address}`),
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
  const lab = await startLab({ hosts: hosts.length > 0 ? hosts : ["nas", "pi"], relays: SOHO_RELAYS });
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

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "up") return up(rest);
  if (command === "down") return down();
  console.error("usage: npx tsx test/lab/cli.ts up [HOST...] | down");
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
