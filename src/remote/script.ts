import { readFileSync } from "node:fs";
import { shellQuote } from "../transport/shell.js";

/**
 * Every remote script is assembled here from the POSIX sh in this folder: the prelude, the libraries
 * the script needs, its settings, then its per-run body (made by facts/script.ts, engine/apply-script.ts,
 * verify/host-facts.ts and verify/send-test.ts from quoted arguments). The .sh files are read once, from next to this module (`npm run build` copies
 * them into dist/remote).
 */

export const LIBRARIES = ["lock", "facts", "apply", "backup", "service", "verify"] as const;
export type Library = (typeof LIBRARIES)[number];

/** The shell sources in the order a script holds them (also what `npm run lint` checks). */
export const SHELL_FILES = ["prelude", ...LIBRARIES].map((name) => ({
  name,
  file: new URL(`${name}.sh`, import.meta.url),
}));

const SOURCE = new Map(SHELL_FILES.map(({ name, file }) => [name, readFileSync(file, "utf8")]));

export interface ScriptParts {
  libraries: Library[];
  /**
   * Variables, set after the libraries' defaults: per-run values (RUN_ID...), and in the unit tests of
   * the shell the places the libraries use (PATH, LOCK_FILE, BACKUP_ROOT...). Quoted here.
   */
  settings: Record<string, string | number>;
  /** Commands, their arguments already quoted. */
  body: string[];
}

/**
 * The one wrapper of every remote script. In { } so the shell reads all of it before running any of
 * it: a script cut off in transfer runs nothing.
 */
export function remoteScript({ libraries, settings, body }: ScriptParts): string {
  const variables = Object.entries(settings).map(([name, value]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${name}`);
    if (typeof value === "string") return `${name}=${shellQuote(value)}`;
    if (!Number.isInteger(value)) throw new Error(`${name} must be a whole number, not ${value}`);
    return `${name}=${value}`;
  });
  const sources = ["prelude", ...LIBRARIES.filter((l) => libraries.includes(l))].map((name) =>
    SOURCE.get(name),
  );
  return ["{", ...sources, ...variables, ...body, "}", ""].join("\n");
}
