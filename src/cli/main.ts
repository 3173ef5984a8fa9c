import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DEFAULT_INVENTORY, load, type CommonOptions, type Loaded } from "./load.js";
import { InputError, InputErrors } from "../errors.js";
import { createRedactor, NO_REDACTION, type Redactor } from "../secrets/redact.js";
import { runAll } from "../engine/run-all.js";
import type { RunMode, RunOptions } from "../engine/host-run.js";
import { PAUSE_STEPS, type PauseStep } from "../engine/apply-script.js";
import type { HostOutcome } from "../engine/outcome.js";
import { DEFAULT_SESSION_OPTIONS } from "../transport/ssh.js";
import { jsonDocument } from "../report/json.js";
import { jsonText } from "../report/terminal.js";
import { failedCheckMetrics, prometheusMetrics, writePromFile } from "../report/prometheus.js";
import { processInterrupts, watchInterrupts, type Interrupts } from "./interrupt.js";
import { RunProgress } from "./progress.js";
import { EXIT, EXIT_CODES_HELP } from "./usage.js";
import { guardPrompts, passphraseAsker, terminalAvailable } from "./terminal.js";
import { version } from "./version.js";
import { reachLog } from "../report/reach.js";
import { hostsReport } from "./hosts-report.js";
import { registerImport } from "./import-command.js";
import { registerVerify } from "./verify-command.js";

/**
 * The command line. `run(argv)` returns the exit code instead of exiting, so tests can call it in
 * process; bin/provision.js is the only caller that touches process.exitCode.
 */

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  color: boolean;
  /** stderr is an interactive terminal: show the live progress line there (cli/progress.ts). */
  live?: boolean;
  columns?: () => number;
  /** Ctrl-C (cli/interrupt.ts); none in tests that call run() in process. */
  interrupts?: Interrupts;
}

const defaultIo = (): Io => ({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  live: Boolean(process.stderr.isTTY) && process.env.TERM !== "dumb",
  columns: () => process.stderr.columns || 80,
  interrupts: processInterrupts,
});

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  // Until secrets are loaded there is nothing to mask; afterwards everything printed passes the redactor.
  let redactor: Redactor = NO_REDACTION;
  const out = (text: string) => io.out(redactor.text(text));
  const err = (text: string) => io.err(redactor.text(text));
  const outJson = (document: object) => io.out(jsonText(redactor.json(document)));

  const program = new Command("provision")
    .description("Keep the Postfix mail setup of your machines exactly as declared, over SSH.")
    .addHelpText("after", EXIT_CODES_HELP)
    .version(version(), "--version", "print the version of provision")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .showHelpAfterError();

  const common = (command: Command) =>
    command
      .option(
        "-i, --inventory <source>",
        `inventory file (YAML or INI), directory, or host list "nas,pi,"; repeat to merge several (default: ${DEFAULT_INVENTORY})`,
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option("-l, --limit <pattern>", "only hosts matching this Ansible pattern (nas,pi  home:!pi  pi*)")
      .option("--json", "print one JSON document on stdout")
      .option("-f, --forks <n>", "hosts worked on at once", positiveInt, 10)
      .addOption(
        new Option(
          "--host-key-checking <mode>",
          "unknown host keys: refuse (strict) or record (accept-new); default: inventory host_key_checking, else strict",
        ).choices(["strict", "accept-new"]),
      )
      .option(
        "--connect-timeout <seconds>",
        "SSH connect timeout (default: ssh config ConnectTimeout, else 15)",
        positiveInt,
      )
      .option(
        "--command-timeout <seconds>",
        "give up waiting for one remote command after this long (plus --lock-timeout)",
        positiveInt,
        120,
      )
      .option("--lock-timeout <seconds>", "wait this long for another run's lock on a host", positiveInt, 60)
      .option(
        "--ssh-config <file>",
        "OpenSSH client configuration instead of ~/.ssh/config and /etc/ssh/ssh_config",
      )
      .option("-K, --ask-become-pass", "ask for the sudo password (become) once, on the terminal")
      .option(
        "-v, --verbose",
        "log the connection steps (ssh configuration, jump hosts, keys offered) on stderr",
      );

  const execute = async (mode: RunMode, playbook: string | undefined, options: CommonOptions & Extra) => {
    const promFile = mode === "check" ? options.promFile : undefined;
    const writeMetrics = (content: string) => {
      // Metrics are a by-product: failing to write them must not hide the check's own result.
      try {
        writePromFile(promFile!, content);
      } catch (error) {
        err(`error: cannot write --prom-file ${promFile}: ${(error as Error).message}\n`);
        if (exitCode === EXIT.ok) exitCode = EXIT.error;
      }
    };
    let loaded: Loaded;
    let pause: RunOptions["pause"];
    try {
      loaded = await load(mode, playbook, options);
      pause = testPause(process.env.PROVISION_TEST_PAUSE);
      redactor = createRedactor(loaded.secrets);
    } catch (error) {
      // A timer's metrics must not go stale or look healthy when the check cannot even start.
      if (promFile) writeMetrics(failedCheckMetrics());
      throw error;
    }
    if (!options.quiet) for (const warning of loaded.warnings) err(`warning: ${warning}\n`);
    if (options.verbose) for (const line of reachLog(loaded.reach)) err(`provision: ${line}\n`);
    const report = { diff: Boolean(options.diff), color: io.color, quiet: Boolean(options.quiet) };
    const live = Boolean(io.live) && !options.json && !options.quiet;
    const columns = io.columns ?? (() => 80);
    const progress = new RunProgress(mode, options.json ? undefined : report, { out, err, live, columns });
    const interrupt = watchInterrupts(mode, io.interrupts, progress);
    guardPrompts(progress);
    const outcomes = await runAll(loaded.jobs, mode, {
      ...DEFAULT_SESSION_OPTIONS,
      commandTimeoutMs: options.commandTimeout * 1000,
      hostKeyChecking: options.hostKeyChecking,
      reach: loaded.reach,
      ...(terminalAvailable() && { askPassphrase: passphraseAsker() }),
      ...(options.verbose && { log: (line: string) => err(`provision: ${line}\n`) }),
      forks: options.forks,
      lockWaitSeconds: options.lockTimeout,
      pause,
      onStep: progress.onStep,
      onDone: progress.onDone,
      stop: interrupt.signal,
    }).finally(() => {
      interrupt.dispose();
      guardPrompts(undefined);
    });
    exitCode = interrupt.signal.aborted ? EXIT.interrupted : exitCodeFor(outcomes, mode);
    progress.finish(outcomes);
    if (options.json) outJson(jsonDocument(mode, outcomes, exitCode));
    if (promFile) writeMetrics(prometheusMetrics(outcomes, new Date()));
  };

  common(program.command("apply").argument("[playbook]", "playbook file", "playbooks/site.yaml"))
    .description("make every host match the playbook (preview with --dry-run)")
    .option("-q, --quiet", QUIET_HELP)
    .option("-n, --dry-run", "show what would change and change nothing")
    .option("-d, --diff", "show a unified diff of every changed file (always on with --dry-run)")
    .action((playbook: string, options: CommonOptions & Extra) =>
      execute(options.dryRun ? "dry-run" : "apply", playbook, options),
    );

  common(program.command("check").argument("[playbook]", "playbook file", "playbooks/site.yaml"))
    .description("report drift from the playbook; never changes anything (exit 2 on drift)")
    .option("--prom-file <file>", "also write Prometheus textfile-collector metrics to this file")
    .option("-q, --quiet", QUIET_HELP)
    .action((playbook: string, options: CommonOptions & Extra) => execute("check", playbook, options));

  common(program.command("facts"))
    .description("show each host's Postfix version, table types and postconf -n")
    .action((options: CommonOptions & Extra) => execute("facts", undefined, options));

  common(program.command("hosts"))
    .description(
      "show how each host will be reached (address, port, user, jump hosts, keys, known_hosts), and why",
    )
    .action(async (options: CommonOptions & Extra) => {
      const loaded = await load("facts", undefined, options);
      redactor = createRedactor(loaded.secrets);
      for (const warning of loaded.warnings) err(`warning: ${warning}\n`);
      out(
        await hostsReport(
          loaded.jobs.map((j) => j.host),
          loaded.reach,
          Boolean(options.json),
        ),
      );
    });

  registerImport(
    program,
    { out, err, setExitCode: (code) => (exitCode = code) },
    DEFAULT_INVENTORY,
    positiveInt,
  );

  registerVerify(program, common, {
    out,
    err,
    outJson,
    color: io.color,
    setRedactor: (value) => (redactor = value),
    setExitCode: (code) => (exitCode = code),
    load: (playbook, options) => load("dry-run", playbook, options),
    positiveInt,
  });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    if (error instanceof InputError || error instanceof InputErrors) {
      err(`error: ${error.message}\nNothing was changed on any host.\n`);
      return EXIT.error;
    }
    err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.error;
  }
  return exitCode;
}

interface Extra {
  dryRun?: boolean;
  diff?: boolean;
  promFile?: string;
  quiet?: boolean;
}

const QUIET_HELP = "print only drift and failures (for cron): nothing for hosts in sync or changed";

/**
 * Fault-injection hook for the end-to-end tests only: PROVISION_TEST_PAUSE=STEP:SECONDS makes the apply
 * script sleep at STEP (before-lock, after-upload, after-postmap, before-reload) so a test can cut the
 * connection or change the host there. It only delays; it cannot change what is written.
 */
function testPause(value: string | undefined): RunOptions["pause"] {
  if (!value) return undefined;
  const [step, seconds] = value.split(":");
  if (!PAUSE_STEPS.includes(step as PauseStep) || !/^\d+$/.test(seconds ?? "")) {
    throw new InputError(
      `PROVISION_TEST_PAUSE must be STEP:SECONDS with STEP one of ${PAUSE_STEPS.join(", ")}`,
    );
  }
  return { step: step as PauseStep, seconds: Number(seconds) };
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

export function exitCodeFor(outcomes: HostOutcome[], mode: RunMode): number {
  if (outcomes.some((o) => o.status === "failed")) return EXIT.error;
  if (outcomes.some((o) => o.status === "unreachable")) return EXIT.unreachable;
  if (mode === "check" && outcomes.some((o) => o.status === "drift")) return EXIT.drift;
  return EXIT.ok;
}
