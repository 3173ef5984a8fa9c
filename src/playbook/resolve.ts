import { InputError, InputErrors } from "../errors.js";
import type { InventoryHost } from "../inventory/host.js";
import type { Inventory } from "../inventory/inventory.js";
import { matchHostPattern, unmatchedMessage } from "../inventory/pattern.js";
import { StateError } from "../postfix/state-error.js";
import { findStateProblem } from "../postfix/prevalidate.js";
import type { PostfixState } from "../postfix/state.js";
import { literalSecret, SecretUnavailableError, type SecretResolver } from "../secrets/resolve.js";
import { Secret } from "../secrets/secret.js";
import { formatPath, type YamlPath } from "../yaml/yaml-file.js";
import { buildDraft, type Draft, type SecretSlot } from "./draft.js";
import { mergeDrafts } from "./merge.js";
import { describePlay, type Playbook } from "./playbook.js";
import { Problems } from "./problems.js";
import type { Owned } from "./templater.js";

export interface DesiredStates {
  /** One entry per selected host that at least one play matches. */
  states: Map<string, PostfixState>;
  warnings: string[];
}

export interface ResolveOptions {
  /**
   * Go on without a password that cannot be had (environment variable not set, file unreadable, command
   * failing): it becomes a Secret without a value (Secret.unresolved), which `check` compares as
   * "whatever the host has" and `apply` could never write. For `check` only.
   */
  allowUnresolved?: boolean;
}

/**
 * The desired Postfix state of each of `hostNames`, in four passes, each reporting all its problems
 * before the next starts: host patterns, `{{ var }}` substitution and value checks, secrets (the
 * only pass with side effects: environment, files, commands; only for the selected hosts), merging.
 */
export async function resolveDesired(
  playbook: Playbook,
  inventory: Inventory,
  hostNames: readonly string[],
  secrets: SecretResolver,
  options: ResolveOptions = {},
): Promise<DesiredStates> {
  const { yaml } = playbook;
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  const hosts = hostNames.map((name) => {
    const host = byName.get(name);
    if (!host) throw new InputError(`host "${name}" is not in ${inventory.file}`);
    return host;
  });

  const problems = new Problems();
  const playHosts = playbook.plays.map((play) => {
    const { hosts: matched, unmatched } = matchHostPattern(inventory, play.hosts);
    const path = [play.index, "hosts"];
    if (unmatched.length > 0) problems.add(yaml, path, unmatchedMessage(inventory, unmatched));
    else if (matched.length === 0)
      problems.add(yaml, path, `host pattern "${play.hosts}" selects no host of ${inventory.file}`);
    return new Set(matched);
  });
  throwIfAny(problems);

  const drafts = new Map<InventoryHost, Draft[]>();
  for (const host of hosts) {
    const plays = playbook.plays.filter((play) => playHosts[play.index]?.has(host.name));
    if (plays.length > 0)
      drafts.set(
        host,
        plays.map((play) => buildDraft(play, host, yaml, problems)),
      );
  }
  throwIfAny(problems);

  const slots = [...drafts.values()].flat().flatMap((d) => d.secrets);
  literalPasswordWarnings(playbook, slots, problems);
  await fillSecrets(playbook, slots, secrets, options);

  const states = new Map<string, PostfixState>();
  for (const [host, hostDrafts] of drafts)
    states.set(host.name, mergeDrafts(host.name, hostDrafts, yaml, problems));
  throwIfAny(problems);

  // What the Postfix domain refuses whatever the host (an unknown relay port, a parameter main: sets
  // against relay:, a regexp table...), placed at the playbook value that caused it.
  for (const [host, hostDrafts] of drafts) {
    const state = states.get(host.name);
    const problem = state && findStateProblem(host.name, state);
    if (!problem) continue;
    if (problem instanceof StateError) {
      const { path, atKey } = yamlPathOf(problem, hostDrafts);
      problems.add(yaml, path, problem.detail, { host: host.name, atKey });
    } else {
      problems.add(yaml, [hostDrafts[0]?.play.index ?? 0, "postfix"], problem.message, { host: host.name });
    }
  }
  throwIfAny(problems);

  const warnings = problems.warnings;
  for (const host of hosts) {
    if (!drafts.has(host))
      warnings.push(`host ${host.name}: no play of ${playbook.file} applies to it; it is left alone`);
  }
  return { states, warnings };
}

/**
 * The playbook position of a value of a merged state (["relay", "port"], ["main", name], ...): where the
 * first play that gave it wrote it. Falls back to the section, then to the first play's `postfix:`.
 */
function yamlPathOf(error: StateError, drafts: readonly Draft[]): { path: YamlPath; atKey: boolean } {
  const { where } = error;
  const [section = "", name, ...rest] = where;
  for (const draft of drafts) {
    const base = [draft.play.index, "postfix", section];
    const keyed: readonly Owned<unknown>[] | undefined =
      section === "main"
        ? draft.main
        : section === "senders"
          ? draft.senders
          : section === "tables"
            ? draft.tables
            : section === "generic" || section === "canonical" || section === "virtual"
              ? draft.maps[section]
              : undefined;
    if (keyed) {
      if (name === undefined) return { path: base, atKey: false };
      const owned = keyed.find((o) => o.key === name);
      // A sender address or a table name itself is wrong: point at the key, not at its map.
      const keyOfSection = rest.length === 0 && (section === "senders" || section === "tables");
      if (owned) return { path: [...owned.origin.path, ...rest], atKey: error.atKey || keyOfSection };
    } else if (section === "relay" && draft.relay) {
      return { path: [...draft.relay.origin.path, ...where.slice(1)], atKey: false };
    } else if (section === "table_type" && draft.tableType) {
      return { path: draft.tableType.origin.path, atKey: false };
    }
  }
  return { path: [drafts[0]?.play.index ?? 0, "postfix"], atKey: false };
}

function throwIfAny(problems: Problems): void {
  if (problems.size > 0) throw new InputErrors(problems.toErrors());
}

/** Resolves every slot, one at a time (a `command` may prompt), and reports all failures together. */
async function fillSecrets(
  playbook: Playbook,
  slots: readonly SecretSlot[],
  resolver: SecretResolver,
  options: ResolveOptions,
): Promise<void> {
  const errors: InputError[] = [];
  for (const slot of slots) {
    const { ref, origin } = slot;
    const site = { location: playbook.yaml.locate(origin.path), path: formatPath(origin.path) };
    try {
      slot.secret =
        "literal" in ref
          ? literalSecret(ref.literal, `literal in ${playbook.file}`, site)
          : await resolver.resolve(ref, site);
    } catch (error) {
      if (options.allowUnresolved && error instanceof SecretUnavailableError) {
        slot.secret = Secret.unresolvedFrom(error.source, error.reason);
        continue;
      }
      if (!(error instanceof InputError)) throw error;
      if (!errors.some((e) => e.message === error.message)) errors.push(error);
    }
  }
  if (errors.length > 0) throw new InputErrors(errors);
}

function literalPasswordWarnings(playbook: Playbook, slots: readonly SecretSlot[], problems: Problems): void {
  for (const { ref, origin } of slots) {
    if (!("literal" in ref)) continue;
    problems.warn(
      playbook.yaml,
      origin.path,
      `literal password in ${describePlay(origin.play)}; use { env: NAME }, { file: PATH } or { command: "..." }`,
    );
  }
}
