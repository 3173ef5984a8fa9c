import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";

/** Reads an input file (inventory, playbook); a missing or unreadable file is the user's to fix. */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(error);
    throw new InputError(`cannot read ${what} ${path}: ${reason}`);
  }
}
