// `npm run demo`: the tool's main job, start to end, on local lab hosts (real OpenSSH + real Debian
// Postfix in network namespaces, real SMTP relays that demand AUTH). Needs root on Linux.
//
//   npm run demo                          lab demo: dry run, apply, verify, apply again, drift, check, repair
//   npm run demo -- -i INVENTORY [PLAYBOOK]  your own machines: facts and a dry run only (changes nothing)
import { spawn } from "node:child_process";
import { relative } from "node:path";
import pc from "picocolors";
import { labUnavailableReason, SOHO_RELAYS, startLab, type Lab } from "../test/lab/lab.js";
import { BIN, labWorkspace } from "./lab-workspace.js";

function say(text: string): void {
  console.log(`\n${pc.bold(pc.cyan("==> " + text))}`);
}

/** Run the real CLI with inherited output, echoing the command line as the user would type it. */
function provision(args: string[], env: Record<string, string> = {}): Promise<number> {
  const shown = args.map((a) => (a.startsWith("/") ? relative(process.cwd(), a) || a : a)).join(" ");
  console.log(pc.dim(`$ provision ${shown}`));
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: "inherit",
      env: { ...process.env, ...env },
    });
    child.on("exit", (code) => {
      console.log(pc.dim(`(exit code ${code})`));
      done(code ?? 1);
    });
  });
}

async function onHost(lab: Lab, host: string, command: string): Promise<string> {
  console.log(pc.dim(`[on ${host}] # ${command}`));
  const result = await lab.run(host, command);
  if (result.stdout.trim()) console.log(result.stdout.trimEnd());
  return result.stdout;
}

async function ownMachines(args: string[]): Promise<void> {
  // `facts` takes no playbook: pass it only the inventory and --limit options.
  const factArgs: string[] = [];
  args.forEach((arg, i) => {
    if (["-i", "--inventory", "-l", "--limit"].includes(arg)) factArgs.push(arg, args[i + 1] ?? "");
  });
  say("Your machines: facts, then a dry run (nothing is changed)");
  await provision(["facts", ...factArgs]);
  await provision(["apply", "--dry-run", ...args]);
}

async function labDemo(): Promise<void> {
  const reason = labUnavailableReason();
  if (reason) {
    console.error(`The demo runs on local lab hosts and ${reason}.`);
    console.error("Run it as root on Linux, or point it at your own machines: npm run demo -- -i INVENTORY");
    process.exitCode = 1;
    return;
  }
  say("Starting two lab hosts (nas, pi): sshd + a fresh Debian 'Local only' Postfix each, plus SMTP relays");
  const lab = await startLab({ hosts: ["nas", "pi"], relays: SOHO_RELAYS });
  try {
    const { env, inventory, playbook } = labWorkspace(lab, "demo");
    console.log(
      `inventory: ${relative(process.cwd(), inventory)}\nplaybook:  ${relative(process.cwd(), playbook)}`,
    );
    console.log("(playbooks/site.yaml, the sender-dependent example, plus one lab-only parameter)");

    say("What is on the hosts now?");
    await provision(["facts", "-i", inventory, "--limit", "nas"], env);

    say("Preview: apply --dry-run shows every change as a diff (passwords masked) and changes nothing");
    await provision(["apply", "--dry-run", playbook, "-i", inventory, "--limit", "nas"], env);

    say("Apply to both hosts (in parallel, one SSH connection each)");
    await provision(["apply", playbook, "-i", inventory], env);
    await onHost(lab, "nas", "postconf -n | grep -E '^(relayhost|smtp_sasl|smtp_generic|sender_dep)'");
    await onHost(
      lab,
      "nas",
      "ls -l /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db /etc/postfix/main.cf",
    );

    say(
      "Real mail: cron on nas sends as his@localdomain.local; the ISP relay sees the login and the rewritten sender",
    );
    await onHost(
      lab,
      "nas",
      "printf 'Subject: logwatch\\n\\nall quiet\\n' | sendmail -f his@localdomain.local admin@elsewhere.example",
    );
    const mail = await lab.waitForMessage((m) => m.data.includes("Subject: logwatch"), 60_000);
    console.log(
      `relay ${mail.relay}: AUTH as '${mail.authUser}', MAIL FROM:<${mail.mailFrom}>, RCPT TO:<${mail.rcptTo.join(", ")}>`,
    );

    say(
      "verify: each sending path proven from the host itself (TLS, AUTH, sender, recipient), stopping before DATA",
    );
    await provision(["verify", playbook, "-i", inventory, "--limit", "nas"], env);
    console.log(`(the relays received ${lab.messages().length} message(s): still only the logwatch mail)`);

    say("Apply again: nothing to do, no postmap, no reload");
    await provision(["apply", playbook, "-i", inventory], env);

    say("Someone edits the host by hand: a line added to generic, sasl_passwd.db made world-readable");
    await onHost(lab, "pi", "echo 'root@localdomain.local someone@else.example' >> /etc/postfix/generic");
    await onHost(lab, "pi", "chmod 0644 /etc/postfix/sasl_passwd.db");

    say("The scheduled drift check finds it (exit code 2)");
    await provision(["check", playbook, "-i", inventory], env);

    say("Apply repairs it; the next check is clean (exit code 0)");
    await provision(["apply", "--diff", playbook, "-i", inventory, "--limit", "pi"], env);
    await provision(["check", playbook, "-i", inventory], env);
  } finally {
    say("Tearing the lab down");
    await lab.down();
  }
}

const args = process.argv.slice(2);
(args.length > 0 ? ownMachines(args) : labDemo()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
