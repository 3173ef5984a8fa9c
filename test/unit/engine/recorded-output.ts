import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseFacts } from "../../../src/facts/parse.js";
import { deriveConfig } from "../../../src/postfix/derive.js";
import { editMainCf } from "../../../src/postfix/maincf.js";
import { renderTable } from "../../../src/postfix/table.js";
import type { PostfixState } from "../../../src/postfix/state.js";
import { MAIN_CF } from "../../../src/engine/plan.js";

/**
 * Remote script output in the record format of src/remote (the unit tests in test/unit/remote check
 * that the shell prints exactly this): the facts of a real Debian host (captured), and builders for
 * what the same host prints after an apply, a hand edit, or with another run holding its lock.
 */

/** `KIND<TAB>FIELD...`, one line. */
export const record = (kind: string, ...fields: string[]) => [kind, ...fields].join("\t");

/** The facts script's output on a fresh Debian 'Local only' Postfix, captured from a lab host. */
export const FRESH_HOST = readFileSync(
  new URL("../../fixtures/facts/debian-local-only.txt", import.meta.url),
  "utf8",
);
const fresh = parseFacts("nas", FRESH_HOST);

export interface FileView {
  content?: string;
  mode?: number;
  mtime?: number;
}

/** FRESH_HOST with some files (null: missing) and `postconf -n` replaced. */
export function factsOutput(files: Record<string, FileView | null> = {}, postconfN?: string): string {
  const replaced = FRESH_HOST.split("\n").filter((line) => {
    const [kind, path = ""] = line.split("\t");
    return !(kind === "file" && path in files) && !(kind === "postconf_n" && postconfN !== undefined);
  });
  const added = Object.entries(files).map(([path, view]) => fileRecord(path, view));
  const postconf = postconfN === undefined ? [] : [record("postconf_n", base64(postconfN))];
  return [...replaced.filter((l) => l !== ""), ...postconf, ...added, ""].join("\n");
}

function fileRecord(path: string, view: FileView | null): string {
  if (view === null) return record("file", path, "missing");
  const meta = `${(view.mode ?? 0o644).toString(8)} root root ${view.mtime ?? 1_800_000_000}`;
  return view.content === undefined
    ? record("file", path, meta)
    : record("file", path, meta, base64(view.content));
}

/** The files and `postconf -n` of this host once `state` is applied. */
export function syncedFiles(state: PostfixState): { files: Record<string, FileView>; postconfN: string } {
  const config = deriveConfig(state, { name: "nas", ...fresh });
  const files: Record<string, FileView> = {
    [MAIN_CF]: {
      content: editMainCf(fresh.files.get(MAIN_CF)!.content!, config.main).text,
      mtime: 1_800_000_100,
    },
  };
  for (const table of config.tables) {
    files[table.path] = { content: renderTable(table.entries).text, mode: 0o600, mtime: 1_800_000_100 };
    for (const index of table.indexPaths) files[index] = { mode: 0o600, mtime: 1_800_000_101 };
  }
  const kept = fresh.postconfN.split("\n").filter((line) => {
    const name = line.split(" = ")[0] ?? "";
    return line !== "" && !(name in config.main);
  });
  const set = Object.entries(config.main).flatMap(([name, value]) =>
    value === null ? [] : [`${name} = ${value}`],
  );
  return { files, postconfN: [...kept, ...set].sort().join("\n") + "\n" };
}

/** What an apply script prints: its log (records among the programs' own output), then the facts. */
export function applyOutput(records: string[], factsAfter = ""): string {
  return [...records, "postfix/postfix-script: refreshing the Postfix mail system", factsAfter].join("\n");
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
