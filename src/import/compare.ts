import { configFor, MAIN_CF, octal, TABLE_MODE } from "../engine/plan.js";
import type { HostFacts } from "../facts/types.js";
import { editMainCf, mainCfValues } from "../postfix/maincf.js";
import { foldKey } from "../postfix/rules.js";
import { renderTable } from "../postfix/table.js";
import { revealText } from "../secrets/secret.js";
import { tableEntries } from "./host-config.js";
import type { Recognised } from "./recognise.js";

/**
 * What applying an imported playbook would do to the host it came from, found by planning it against
 * that host's own facts (the same derive as apply). Pure. Ideally only formats and modes; anything else
 * (a relay parameter the tool always writes, which the host leaves at Postfix's default) is named.
 */
export interface ImportEffect {
  /** main.cf parameters the apply would set or remove: `name: "old" -> "new"`. */
  mainChanges: string[];
  /** Tables whose entries would differ: must be empty for a faithful import. */
  entryChanges: string[];
  /** Tables rewritten only in provision's format (header, sorted) and/or made root:root 0600. */
  rewrites: string[];
}

export function importEffect(host: string, recognised: Recognised, facts: HostFacts): ImportEffect {
  const config = configFor(recognised.state, host, facts);
  const mainText = facts.files.get(MAIN_CF)?.content ?? "";
  const before = mainCfValues(mainText);
  const edit = editMainCf(mainText, config.main);
  const after = mainCfValues(edit.text);
  const shown = (value: string | undefined) => (value === undefined ? "(not set)" : JSON.stringify(value));
  const mainChanges = edit.changed
    .filter((name) => before.get(name) !== after.get(name))
    .map((name) => `${name}: ${shown(before.get(name))} -> ${shown(after.get(name))}`);

  const entryChanges: string[] = [];
  const rewrites: string[] = [];
  for (const table of config.tables) {
    const file = facts.files.get(table.path);
    const have = new Map(tableEntries(file?.content ?? "").map((e) => [foldKey(e.key), e.value]));
    const want = new Map(table.entries.map((e) => [foldKey(e.key), revealText(e.value)]));
    const same = have.size === want.size && [...want].every(([key, value]) => have.get(key) === value);
    // Never name a value: sasl_passwd's are passwords.
    if (!same) entryChanges.push(`${table.path}: its entries would change`);
    const what: string[] = [];
    if ((file?.content ?? "") !== renderTable(table.entries).text)
      what.push("rewritten in provision's format");
    if (file?.mode !== TABLE_MODE || file.owner !== "root" || file.group !== "root")
      what.push(`${file?.owner}:${file?.group} ${octal(file?.mode)} -> root:root 0600`);
    if (what.length > 0) rewrites.push(`${table.path}: ${what.join(", ")}`);
  }
  return { mainChanges, entryChanges, rewrites };
}
