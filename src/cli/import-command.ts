import type { Command } from "commander";
import { Option } from "commander";
import { HostError, InputError, UnreachableError } from "../errors.js";
import { importEffect } from "../import/compare.js";
import { readHostSetup } from "../import/read-host.js";
import { recognise } from "../import/recognise.js";
import { renderPlaybook } from "../import/render.js";
import { loadInventory, selectHosts } from "../inventory/index.js";
import { createSecretResolver } from "../secrets/resolve.js";
import { createRedactor } from "../secrets/redact.js";
import { DEFAULT_SESSION_OPTIONS, openSession } from "../transport/ssh.js";
import { reachAll } from "./reach-hosts.js";
import { passphraseAsker, terminalAvailable } from "./terminal.js";
import type { CommonOptions } from "./load.js";
import { EXIT } from "./usage.js";

/**
 * `provision import HOST`: print (stdout) a playbook that reproduces HOST's current Postfix setup; on
 * stderr the environment variables its passwords are read from, what stays unmanaged, and what applying
 * it to HOST would do. Nothing on the host is changed, and no password is ever printed.
 */

type ImportOptions = Omit<CommonOptions, "limit" | "json" | "forks">;

export interface ImportIo {
  out: (text: string) => void;
  err: (text: string) => void;
  setExitCode: (code: number) => void;
}

export function registerImport(
  program: Command,
  io: ImportIo,
  defaultInventory: string,
  seconds: (v: string) => number,
): void {
  program
    .command("import")
    .argument("<host>", "the inventory host to read")
    .description("print a playbook that reproduces a host's current Postfix setup (changes nothing)")
    .option(
      "-i, --inventory <source>",
      `inventory (default: ${defaultInventory}); repeat to merge several`,
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option(
        "--host-key-checking <mode>",
        "unknown host keys: refuse (strict) or record (accept-new)",
      ).choices(["strict", "accept-new"]),
    )
    .option("--connect-timeout <seconds>", "SSH connect timeout", seconds)
    .option(
      "--command-timeout <seconds>",
      "give up waiting for one remote command after this long",
      seconds,
      120,
    )
    .option("--lock-timeout <seconds>", "wait this long for another run's lock on the host", seconds, 60)
    .option(
      "--ssh-config <file>",
      "OpenSSH client configuration instead of ~/.ssh/config and /etc/ssh/ssh_config",
    )
    .option("-K, --ask-become-pass", "ask for the sudo password (become) once, on the terminal")
    .option("-v, --verbose", "log the connection steps on stderr")
    .action(async (pattern: string, options: ImportOptions) =>
      io.setExitCode(await importHost(pattern, options, io, defaultInventory)),
    );
}

async function importHost(
  pattern: string,
  options: ImportOptions,
  io: ImportIo,
  defaultInventory: string,
): Promise<number> {
  const inventory = loadInventory(options.inventory ?? [defaultInventory]);
  const selected = selectHosts(inventory, pattern);
  if (selected.length !== 1)
    throw new InputError(
      `import reads one host; ${JSON.stringify(pattern)} matches ${selected.length}: ${selected.join(", ")}`,
    );
  const host = inventory.hosts.find((h) => h.name === selected[0])!;
  const reached = await reachAll([host], options, createSecretResolver());
  for (const warning of reached.warnings) io.err(`warning: ${warning}\n`);
  let redactor = createRedactor(reached.secrets);
  const err = (text: string) => io.err(redactor.text(text));
  let facts;
  const session = await openSession(host.name, host.connection, {
    ...DEFAULT_SESSION_OPTIONS,
    commandTimeoutMs: (options.commandTimeout + options.lockTimeout) * 1000,
    reach: reached.reach,
    ...(options.hostKeyChecking && { hostKeyChecking: options.hostKeyChecking }),
    ...(terminalAvailable() && { askPassphrase: passphraseAsker() }),
    ...(options.verbose && { log: (line: string) => err(`provision: ${line}\n`) }),
  }).catch((error: unknown) => failed(error, host.name, err));
  if (typeof session === "number") return session;
  try {
    facts = await readHostSetup(session, host.name, options.lockTimeout);
  } catch (error) {
    return failed(error, host.name, err);
  } finally {
    session.close();
  }
  const recognised = recognise(facts);
  // From here on the host's passwords are in memory: mask them in anything printed, as a last defence.
  redactor = createRedactor([...reached.secrets, ...recognised.passwords.map((p) => p.secret)]);
  const effect = importEffect(host.name, recognised, facts);
  const header = [
    `Imported from ${host.name} (Postfix ${facts.version}) by provision import.`,
    ...(recognised.passwords.length > 0
      ? [
          "Passwords are read from the environment: " +
            recognised.passwords.map((p) => p.env).join(", ") +
            ".",
        ]
      : []),
  ];
  io.out(redactor.text(renderPlaybook(host.name, header, recognised.state, recognised.passwords)));
  err(effectText(host.name, recognised, effect));
  return EXIT.ok;
}

function effectText(
  host: string,
  recognised: ReturnType<typeof recognise>,
  effect: ReturnType<typeof importEffect>,
): string {
  const lines: string[] = [];
  if (recognised.passwords.length > 0) {
    lines.push(
      "Set these environment variables before apply (the passwords now in /etc/postfix/sasl_passwd):",
    );
    for (const p of recognised.passwords) lines.push(`  ${p.env}  password of ${p.what}`);
  }
  for (const note of recognised.notes) lines.push(`note: ${note}`);
  const changes = [...effect.mainChanges.map((c) => `main.cf ${c}`), ...effect.entryChanges];
  if (changes.length === 0) {
    lines.push(`Applying this playbook to ${host} changes no main.cf value and no table entry.`);
  } else {
    lines.push(`Applying this playbook to ${host} would also change:`);
    for (const change of changes) lines.push(`  ${change}`);
  }
  if (effect.rewrites.length > 0) {
    lines.push("It rewrites these tables (same entries):");
    for (const rewrite of effect.rewrites) lines.push(`  ${rewrite}`);
  }
  return lines.join("\n") + "\n";
}

function failed(error: unknown, host: string, err: (text: string) => void): number {
  const message = error instanceof Error ? error.message : String(error);
  err(`error: ${host}: ${message}\n`);
  if (error instanceof UnreachableError) return EXIT.unreachable;
  if (error instanceof HostError) return EXIT.error;
  throw error;
}
