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
  /**
   * Why the value could not be had ("environment variable ISP_PASSWORD is not set"), for a password a
   * `check` goes on without (playbook/resolve.ts); undefined for every real secret. Such a Secret has no
   * value: `reveal()` throws, so it can never be written to a host.
   */
  readonly unresolved?: string;

  constructor(value: string, source: string, unresolved?: string) {
    this.#value = value;
    this.source = source;
    if (unresolved !== undefined) this.unresolved = unresolved;
  }

  /** A password `check` could not resolve: it compares everything but this value. */
  static unresolvedFrom(source: string, reason: string): Secret {
    return new Secret("", source, reason);
  }

  reveal(): string {
    if (this.unresolved !== undefined)
      throw new Error(
        `internal error: the password from ${this.source} was not resolved (${this.unresolved})`,
      );
    return this.#value;
  }

  equals(other: Secret): boolean {
    return this.reveal() === other.reveal();
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
