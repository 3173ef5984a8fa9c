import { inspect } from "node:util";

/** What a secret looks like everywhere except in the file written to the host. */
export const MASK = "********";

/**
 * A secret value (an ISP password). It renders as MASK in every string, JSON and inspect path, so it
 * cannot leak into diffs, logs or errors by accident; only `reveal()` gives the value, and only the
 * code that writes a file to the host calls it.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from, e.g. "env ISP_PASSWORD"; safe to show. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/** Text made of plain parts and secrets, e.g. ["username:", Secret]. */
export type SecretText = readonly (string | Secret)[];

export function revealText(text: SecretText): string {
  return text.map((part) => (typeof part === "string" ? part : part.reveal())).join("");
}

export function maskText(text: SecretText): string {
  return text.map((part) => (typeof part === "string" ? part : MASK)).join("");
}
