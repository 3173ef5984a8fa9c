import type { Command } from "commander";
import { InputError } from "../errors.js";
import { reachLog } from "../report/reach.js";
import { createRedactor, type Redactor } from "../secrets/redact.js";
import { DEFAULT_SESSION_OPTIONS } from "../transport/ssh.js";
import { hostVerificationText, summaryLine, verifyJson } from "../verify/report.js";
import { verifyAll, type HostVerification } from "../verify/run.js";
import type { CommonOptions, Loaded } from "./load.js";
import { passphraseAsker, terminalAvailable } from "./terminal.js";
import { EXIT } from "./usage.js";

/** What `verify` needs from the command line (main.ts): output, the redactor, the loader, the exit code. */
export interface VerifyCli {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Prints a JSON document through the redactor's JSON masking. */
  outJson: (document: object) => void;
  color: boolean;
  setRedactor: (redactor: Redactor) => void;
  setExitCode: (code: number) => void;
  load: (playbook: string, options: CommonOptions) => Promise<Loaded>;
  positiveInt: (value: string) => number;
}

interface VerifyFlags extends CommonOptions {
  rcpt?: string;
  sendTest?: string;
  wait: number;
  smtpTimeout: number;
}

export function registerVerify(
  program: Command,
  common: (command: Command) => Command,
  cli: VerifyCli,
): void {
  common(program.command("verify").argument("[playbook]", "playbook file", "playbooks/site.yaml"))
    .description(
      "prove every sending path from each host: TLS, AUTH, sender and recipient accepted by the relay; stops before DATA",
    )
    .option("--rcpt <address>", "recipient for RCPT TO (default: each path's own rewritten sender)")
    .option(
      "--send-test <address>",
      "also send one real message per path through the host's Postfix and report its fate",
    )
    .option(
      "--wait <seconds>",
      "how long --send-test waits for the first delivery attempts",
      cli.positiveInt,
      60,
    )
    .option(
      "--smtp-timeout <seconds>",
      "give up on a relay that does not answer within this long",
      cli.positiveInt,
      20,
    )
    .action(async (playbook: string, options: VerifyFlags) => {
      for (const [flag, value] of [
        ["--rcpt", options.rcpt],
        ["--send-test", options.sendTest],
      ] as const) {
        if (value !== undefined && !ADDRESS.test(value)) {
          throw new InputError(`${flag} ${JSON.stringify(value)} is not an email address (user@domain)`);
        }
      }
      const loaded = await cli.load(playbook, options);
      cli.setRedactor(createRedactor(loaded.secrets));
      for (const warning of loaded.warnings) cli.err(`warning: ${warning}\n`);
      if (options.verbose) for (const line of reachLog(loaded.reach)) cli.err(`provision: ${line}\n`);
      const hosts = await verifyAll(loaded.jobs, {
        ...DEFAULT_SESSION_OPTIONS,
        commandTimeoutMs: options.commandTimeout * 1000,
        hostKeyChecking: options.hostKeyChecking,
        reach: loaded.reach,
        ...(terminalAvailable() && { askPassphrase: passphraseAsker() }),
        ...(options.verbose && { log: (line: string) => cli.err(`provision: ${line}\n`) }),
        forks: options.forks,
        ...(options.rcpt !== undefined && { rcpt: options.rcpt }),
        ...(options.sendTest !== undefined && { sendTest: options.sendTest }),
        waitSeconds: options.wait,
        smtpTimeoutMs: options.smtpTimeout * 1000,
        ...(!options.json && { onDone: (host) => cli.out(hostVerificationText(host, cli.color)) }),
      });
      const exitCode = verifyExitCode(hosts);
      cli.setExitCode(exitCode);
      if (options.json) cli.outJson(verifyJson(hosts, exitCode));
      else cli.out(summaryLine(hosts));
    });
}

/** An address as Postfix takes it on a command line: user@domain, no spaces or angle brackets. */
const ADDRESS = /^[^\s<>@"]+@[^\s<>@"]+$/;

/** 1 when a path fails (or a host's facts could not be read), else 3 when a host is unreachable, else 0. */
export function verifyExitCode(hosts: HostVerification[]): number {
  if (hosts.some((h) => h.status === "failed")) return EXIT.error;
  if (hosts.some((h) => h.status === "unreachable")) return EXIT.unreachable;
  return EXIT.ok;
}
