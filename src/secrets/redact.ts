import { MASK, type Secret } from "./secret.js";

/**
 * The last line of defence: every byte the CLI prints passes through this, and any secret value that
 * reached a message by some path we did not foresee (a remote error echoing a file, say) is masked.
 */
export function createRedactor(secrets: Iterable<Secret>): (text: string) => string {
  const values = [...new Set([...secrets].map((s) => s.reveal()).filter((v) => v.length > 0))];
  // Longest first, so a secret that contains another is masked whole.
  values.sort((a, b) => b.length - a.length);
  return (text) => values.reduce((out, value) => out.split(value).join(MASK), text);
}
