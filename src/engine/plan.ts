import { deriveConfig, settleImplied, type DesiredConfig, type DesiredTable } from "../postfix/derive.js";
import type { PostfixState } from "../postfix/state.js";
import { editMainCf, mainCfValues } from "../postfix/maincf.js";
import { ALL_INDEX_SUFFIXES } from "../postfix/tabletypes.js";
import { maskTableText, renderTable, unresolvedPasswords, withHostPasswords } from "../postfix/table.js";
import type { HostFacts, RemoteFile } from "../facts/types.js";
import { Secret } from "../secrets/secret.js";

/**
 * plan(desired, facts): what must happen on one host to make it match the desired configuration.
 * Pure. Dry run, drift check and apply all use the same plan; they differ only in what they do with it.
 */

export const MAIN_CF = "/etc/postfix/main.cf";
/** main.cf must stay world-readable: sendmail/postdrop run by ordinary users read it. */
export const MAIN_CF_MODE = 0o644;
export const TABLE_MODE = 0o600;

export type ChangeKind = "content" | "mode" | "owner" | "missing" | "stale-index" | "parameter" | "service";

/** One way the host differs from the desired state, as reported to the user (no secrets). */
export interface Change {
  path: string;
  what: ChangeKind;
  /** For main.cf: the parameter names whose value changes. */
  parameters?: string[];
  detail: string;
}

export interface FileWrite {
  path: string;
  mode: number;
  /** The whole new file; a Secret so that it can only be revealed by the code writing it to the host. */
  content: Secret;
  /** Masked views for diffs: null when the file does not exist yet. */
  before: string | null;
  after: string;
}

export interface Postmap {
  /** `TYPE:/etc/postfix/NAME`, always typed (untyped postmap uses default_database_type). */
  map: string;
  indexPaths: string[];
}

export type ServiceAction = "none" | "reload" | "restart" | "start";

export interface Plan {
  changes: Change[];
  /** Tables first, main.cf last: a table is in place before the main.cf that refers to it. */
  writes: FileWrite[];
  /** Files whose content is right but whose owner or mode is not: chown root:root + chmod. */
  attributeFixes: { path: string; mode: number }[];
  postmaps: Postmap[];
  /** Credential tables no longer declared: removed, and their copies purged from older backup sets. */
  retired?: string[];
  /** Files to delete after main.cf no longer refers to them: stale indexes, retired tables. */
  removals: string[];
  service: ServiceAction;
}

/** Parameters that only take effect after a full stop + start of Postfix. */
const RESTART_PARAMETERS = new Set(["inet_interfaces", "inet_protocols"]);

/** The desired configuration of one host, settled against its main.cf (see DesiredConfig.implied). */
export function configFor(state: PostfixState, name: string, facts: HostFacts): DesiredConfig {
  const config = deriveConfig(state, { name, ...facts });
  return settleImplied(config, mainCfValues(facts.files.get(MAIN_CF)?.content ?? ""));
}

export function makePlan(config: DesiredConfig, facts: HostFacts): Plan {
  const plan: Plan = {
    changes: [],
    writes: [],
    attributeFixes: [],
    postmaps: [],
    removals: [],
    service: "none",
  };
  const currentMain = mainCfValues(facts.files.get(MAIN_CF)?.content ?? "");
  for (const table of config.tables) planTable(plan, table, facts, currentMain.get(table.parameter));
  for (const path of config.retired) planRetired(plan, path, facts);
  const mainParams = planMainCf(plan, config, facts);

  if (!facts.running) {
    plan.changes.push({ path: "postfix", what: "service", detail: "Postfix is not running" });
    plan.service = "start";
  } else if (plan.writes.length > 0 || plan.postmaps.length > 0 || plan.removals.length > 0) {
    plan.service = mainParams.some((p) => RESTART_PARAMETERS.has(p)) ? "restart" : "reload";
  }
  return plan;
}

/**
 * What a plan of `config` cannot compare, one warning each: the passwords `check` could not resolve,
 * naming the credential and why (never a value). Everything else of their table is compared.
 */
export function unverifiedPasswords(config: DesiredConfig): string[] {
  return config.tables.flatMap((table) =>
    unresolvedPasswords(table.entries).map(
      ({ key, secret }) => `password for ${key} in ${table.path} not verified: ${secret.unresolved}`,
    ),
  );
}

/** Index files next to a source that are not the ones its type builds: left from an earlier type. */
function strayIndexes(source: string, keep: string[], facts: HostFacts): string[] {
  return ALL_INDEX_SUFFIXES.map((suffix) => source + suffix).filter(
    (path) => !keep.includes(path) && facts.files.get(path)?.exists,
  );
}

/** A table the state no longer needs but owns (old credentials): remove it and its indexes. */
function planRetired(plan: Plan, source: string, facts: HostFacts): void {
  const files = [source, ...strayIndexes(source, [], facts)].filter((path) => facts.files.get(path)?.exists);
  if (files.length === 0) return;
  plan.changes.push({
    path: source,
    what: "content",
    detail: "no longer declared (it holds old credentials): remove",
  });
  plan.removals.push(...files);
  plan.retired = [...(plan.retired ?? []), source];
}

function planTable(plan: Plan, table: DesiredTable, facts: HostFacts, currentRef: string | undefined): void {
  const remote = facts.files.get(table.path);
  const unresolved = unresolvedPasswords(table.entries);
  // Without a password, compare against the host's own for that key: all else is compared exactly.
  const entries =
    unresolved.length > 0 ? withHostPasswords(table.entries, remote?.content ?? "") : table.entries;
  const rendered = renderTable(entries);
  const desired = {
    ...rendered,
    // What a write would put there is not known: a Secret without a value, which cannot be written.
    ...(unresolved.length > 0 && {
      content: Secret.unresolvedFrom(table.path, "a password was not resolved"),
    }),
  };
  const showRemote = (text: string) => (table.secret ? maskTableText(text, entries) : text);
  const rewrite = planFile(plan, table.path, TABLE_MODE, desired, remote, showRemote);
  const strays = strayIndexes(table.path, table.indexPaths, facts);
  if (strays.length > 0) {
    plan.changes.push({
      path: table.path,
      what: "stale-index",
      detail: `index of another type: ${strays.join(", ")}`,
    });
    plan.removals.push(...strays);
  }
  if (!table.postmap) return;

  const indexes = table.indexPaths.map((path) => ({ path, file: facts.files.get(path) }));
  let stale: string | undefined = rewrite ? "source rewritten" : undefined;
  // Same entries, new type (hash -> btree share NAME.db): the index must be rebuilt in the new format.
  const ref = `${table.type}:${table.path}`;
  if (!stale && currentRef !== undefined && currentRef !== ref)
    stale = `main.cf refers to it as ${currentRef}, now ${ref}`;
  for (const { path, file } of indexes) {
    if (stale) break;
    if (!file?.exists) stale = `${path} is missing`;
    else if ((file.mtime ?? 0) < (remote?.mtime ?? 0)) stale = `${path} is older than ${table.path}`;
  }
  if (stale) {
    plan.postmaps.push({ map: `${table.type}:${table.path}`, indexPaths: table.indexPaths });
    if (!rewrite) plan.changes.push({ path: table.path, what: "stale-index", detail: stale });
    // The rebuilt index gets root 0600 (apply.sh pmap), but a loose mode now is still drift to report.
    for (const { path, file } of indexes)
      if (file?.exists) planAttributes(plan, path, TABLE_MODE, file, true);
    return;
  }
  // The index is current: only its owner and mode may need fixing (postmap rewrites an existing .db in
  // place and keeps its old mode, so a 0644 index would stay world-readable).
  for (const { path, file } of indexes) if (file) planAttributes(plan, path, TABLE_MODE, file);
}

/** main.cf is edited, never replaced: every line the play does not own stays as it is. */
function planMainCf(plan: Plan, config: DesiredConfig, facts: HostFacts): string[] {
  const remote = facts.files.get(MAIN_CF);
  const edit = editMainCf(remote?.content ?? "", config.main);
  const desired = { text: edit.text, display: edit.text };
  const rewrite = planFile(plan, MAIN_CF, MAIN_CF_MODE, desired, remote, (text) => text, edit.changed);
  return rewrite ? edit.changed : [];
}

/**
 * Compare one managed file with its desired text and attributes; add a write (content) or an attribute
 * fix to the plan. Returns whether the file is (re)written.
 */
function planFile(
  plan: Plan,
  path: string,
  mode: number,
  desired: { text: string; display: string; content?: Secret },
  remote: RemoteFile | undefined,
  showRemote: (remoteText: string) => string,
  parameters?: string[],
): boolean {
  const content = desired.content ?? new Secret(desired.text, path);
  const write = (before: string | null) =>
    plan.writes.push({ path, mode, content, before, after: desired.display });
  if (!remote?.exists) {
    plan.changes.push({ path, what: "missing", detail: "does not exist yet" });
    write(null);
    return true;
  }
  const remoteText = remote.content ?? "";
  const rewrite = remoteText !== desired.text;
  if (rewrite) {
    plan.changes.push(
      parameters && parameters.length > 0
        ? { path, what: "parameter", parameters, detail: `parameters ${parameters.join(", ")}` }
        : { path, what: "content", detail: "content differs" },
    );
    write(showRemote(remoteText));
  }
  planAttributes(plan, path, mode, remote, rewrite);
  return rewrite;
}

/** Owner/mode drift. A rewritten file gets owner and mode from the write itself, so no fix is queued. */
function planAttributes(plan: Plan, path: string, mode: number, file: RemoteFile, rewritten = false): void {
  let fix = false;
  if (file.mode !== mode) {
    plan.changes.push({ path, what: "mode", detail: `mode ${octal(file.mode)}, should be ${octal(mode)}` });
    fix = true;
  }
  if (file.owner !== "root" || file.group !== "root") {
    plan.changes.push({
      path,
      what: "owner",
      detail: `owner ${file.owner}:${file.group}, should be root:root`,
    });
    fix = true;
  }
  if (fix && !rewritten) plan.attributeFixes.push({ path, mode });
}

export function octal(mode: number | undefined): string {
  return mode === undefined ? "?" : `0${mode.toString(8).padStart(3, "0")}`;
}
