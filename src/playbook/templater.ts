import { controlCharacterProblem } from "../characters.js";
import type { InventoryHost } from "../inventory/host.js";
import { renderTemplate, TemplateError, type Vars } from "../inventory/template.js";
import {
  addressKeyProblem,
  bareDomainKeyWarning,
  foldKey,
  listItems,
  sameKeyProblem,
  tableKeyProblem,
  tableValueProblem,
} from "../postfix/rules.js";
import type { NextHop } from "../postfix/state.js";
import { shellInserter } from "../secrets/command-template.js";
import type { SecretRef } from "../secrets/resolve.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { Play } from "./playbook.js";
import type { Problems } from "./problems.js";
import type { SecretRefInput } from "./schema.js";

/** Where a value was written: the play and its path in the playbook. */
export interface Origin {
  play: Play;
  path: YamlPath;
}

/** A value with its (substituted) key and where it came from. */
export interface Owned<T> {
  key: string;
  value: T;
  origin: Origin;
}

export type MapKind = "generic" | "canonical" | "virtual";

/**
 * Substitutes one host's variables into a play's values and checks them against the Postfix rules
 * (postfix/rules.ts), recording every problem at its position instead of stopping at the first.
 */
export class Templater {
  readonly #scopes: readonly Vars[];

  constructor(
    readonly play: Play,
    readonly host: InventoryHost,
    readonly yaml: YamlFile,
    readonly problems: Problems,
  ) {
    // Inventory variables win; the play's vars only fill what the inventory leaves undefined.
    this.#scopes = [host.vars, play.vars];
  }

  problem(path: YamlPath, message: string, atKey = false): void {
    this.problems.add(this.yaml, path, message, { host: this.host.name, atKey });
  }

  /** Records `problem` (from a rule) when there is one; true when there was. */
  check(path: YamlPath, problem: string | undefined, atKey = false): boolean {
    if (problem !== undefined) this.problem(path, problem, atKey);
    return problem !== undefined;
  }

  render(
    text: string,
    path: YamlPath,
    options: { atKey?: boolean; secret?: boolean; shell?: boolean } = {},
  ): string | number | undefined {
    try {
      return renderTemplate(text, this.#scopes, options.shell ? shellInserter(text) : undefined);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      // Some template messages quote the text; a literal password must not end up in one.
      const message =
        options.secret && !error.aboutVariable
          ? "invalid {{ }} template in a literal password"
          : error.message;
      this.problem(path, message, options.atKey);
      return undefined;
    }
  }

  text(
    text: string,
    path: YamlPath,
    options: { secret?: boolean; shell?: boolean } = {},
  ): string | undefined {
    const value = this.render(text, path, options);
    return value === undefined ? undefined : this.#clean(String(value), path, false);
  }

  key(text: string, path: YamlPath): string | undefined {
    const value = this.render(text, path, { atKey: true });
    return value === undefined ? undefined : this.#clean(String(value), path, true);
  }

  /** A lookup table key: one word that Postfix will not read as a comment. */
  tableKey(text: string, path: YamlPath): string | undefined {
    const key = this.key(text, path);
    if (key === undefined || this.check(path, tableKeyProblem(key), true)) return undefined;
    return key;
  }

  /**
   * A lookup table's entries. Keys differing only in case clash: Postfix lowercases them. In an address
   * map (generic, canonical, virtual) a key with "@" must be an address; so must a generic or canonical
   * value (virtual values may be lists). A bare generic or canonical key that looks like a domain is
   * warned about (virtual reads a bare domain key as a virtual alias domain, on purpose).
   */
  entries(
    entries: Record<string, string>,
    path: YamlPath,
    options: { addresses?: MapKind } = {},
  ): Owned<string>[] {
    const owned = new Map<string, Owned<string>>();
    const { addresses } = options;
    for (const [rawKey, rawValue] of Object.entries(entries)) {
      const entryPath = [...path, rawKey];
      const key = this.tableKey(rawKey, entryPath);
      const value = this.text(rawValue, entryPath);
      if (value === undefined || this.check(entryPath, tableValueProblem(value))) continue;
      if (key === undefined) continue;
      if (addresses) {
        if (this.check(entryPath, addressKeyProblem(key, "key"), true)) continue;
        if (addresses !== "virtual") {
          if (this.check(entryPath, addressKeyProblem(value, "value"))) continue;
          const warning = bareDomainKeyWarning(key);
          if (warning) this.problems.warn(this.yaml, entryPath, `${addresses} ${warning}`, { atKey: true });
        }
      }
      const same = owned.get(foldKey(key));
      if (same) {
        this.problem(entryPath, sameKeyProblem(key, same.key), true);
        continue;
      }
      owned.set(foldKey(key), { key, value, origin: { play: this.play, path: entryPath } });
    }
    return [...owned.values()];
  }

  nextHop(hop: { host: string; port?: string | number; mx?: boolean }, path: YamlPath): NextHop {
    const host = this.text(hop.host, [...path, "host"]) ?? "";
    if (/[\s[\]]/.test(host)) {
      this.problem(
        [...path, "host"],
        `write the host name alone: no [brackets] (they come from mx: false), no spaces`,
      );
    }
    const port = typeof hop.port === "string" ? this.render(hop.port, [...path, "port"]) : hop.port;
    if (typeof port === "string" && !/^[A-Za-z0-9_-]+$/.test(port)) {
      this.problem([...path, "port"], `invalid port "${port}": expected a number or a service name`);
    }
    return { host, ...(port !== undefined && { port }), mx: hop.mx ?? false };
  }

  /** A comma-separated string or a list, as items ("plain, login" -> ["plain", "login"]). */
  list(value: string | string[], path: YamlPath): string[] | undefined {
    const items = (typeof value === "string" ? [value] : value).map((item, i) =>
      this.text(item, typeof value === "string" ? path : [...path, i]),
    );
    if (items.some((item) => item === undefined)) return undefined;
    return items.flatMap((item) => listItems(item ?? ""));
  }

  secretRef(ref: SecretRefInput, path: YamlPath): SecretRef | { literal: string } | undefined {
    if (typeof ref === "string") {
      const literal = this.text(ref, path, { secret: true });
      return literal === undefined ? undefined : { literal };
    }
    const [kind, raw] =
      "env" in ref
        ? (["env", ref.env] as const)
        : "file" in ref
          ? (["file", ref.file] as const)
          : (["command", ref.command] as const);
    // A password command runs in sh: substituted values are quoted as data (command-template.ts).
    const value = this.text(raw, [...path, kind], { shell: kind === "command" });
    if (value === undefined) return undefined;
    return { [kind]: value } as SecretRef;
  }

  /** Substituted values are checked like written ones: no line breaks or control characters. */
  #clean(value: string, path: YamlPath, atKey: boolean): string | undefined {
    const problem = controlCharacterProblem(value);
    if (problem === undefined) return value;
    this.problem(path, `the substituted ${atKey ? "key" : "value"} ${problem}`, atKey);
    return undefined;
  }
}
