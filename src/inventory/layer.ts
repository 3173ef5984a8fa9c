import { InputError, type SourceLocation } from "../errors.js";
import { controlCharacterProblem } from "../characters.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import { CONNECTION_TYPES, CONNECTION_VARS } from "./schema.js";

/** Where a map of variables was written, so that a bad value is reported at its place. */
export interface VarsOrigin {
  /** An error at `key` of the map (at the map itself when undefined), as `file:line:column: ...`. */
  error(key: string | undefined, message: string, options?: { atKey?: boolean }): InputError;
  /** Where the value of `key` is (for `provision hosts` and secret references). */
  locate(key: string): SourceLocation;
}

/**
 * One map of variables as written (a group's `vars:`, an INI host line, a group_vars file). The
 * values are exactly what Ansible reads; connection variables are typed only when used.
 */
export interface VarsLayer {
  vars: Record<string, unknown>;
  origin: VarsOrigin;
}

export function yamlOrigin(yaml: YamlFile, path: YamlPath): VarsOrigin {
  return {
    error: (key, message, options) => yaml.error(key === undefined ? path : [...path, key], message, options),
    locate: (key) => yaml.locate([...path, key]),
  };
}

/** Variables of a line-oriented file (INI): the line, and each key at its own column. */
export function lineOrigin(
  location: SourceLocation,
  keys: ReadonlyMap<string, SourceLocation> = new Map(),
): VarsOrigin {
  return {
    error: (key, message) =>
      new InputError(message, {
        location: (key !== undefined && keys.get(key)) || location,
        ...(key !== undefined && { path: key }),
      }),
    locate: (key) => keys.get(key) ?? location,
  };
}

/**
 * Checks a layer that no schema has seen (INI, group_vars/host_vars files): connection variables must
 * have the type the connection needs and be one line. Other variables are free; a line break in one
 * is reported where a playbook puts it into a Postfix file (see playbook/draft.ts).
 */
export function checkLayer(layer: VarsLayer): InputError[] {
  const errors: InputError[] = [];
  for (const [field, names] of Object.entries(CONNECTION_VARS)) {
    for (const name of names) {
      const value = layer.vars[name];
      if (value === undefined) continue;
      const result = CONNECTION_TYPES[field as keyof typeof CONNECTION_TYPES].safeParse(value);
      const problem = typeof value === "string" ? controlCharacterProblem(value) : undefined;
      if (!result.success)
        errors.push(layer.origin.error(name, result.error.issues[0]?.message ?? "invalid"));
      else if (problem) errors.push(layer.origin.error(name, `value ${problem}; write it on one line`));
    }
  }
  return errors;
}
