import { MASK, type Secret } from "./secret.js";

/**
 * The last line of defence: every byte the CLI prints passes through this, and any secret value that
 * reached a message by some path we did not foresee (a remote error echoing a file, say) is masked.
 */
export function createRedactor(secrets: Iterable<Secret>): (text: string) => string {
  // Each value also in its JSON-escaped form, for a secret with " or \ inside a --json document.
  const values = [
    ...new Set(
      [...secrets]
        .flatMap((s) => [s.reveal(), JSON.stringify(s.reveal()).slice(1, -1)])
        .filter((v) => v.length > 0),
    ),
  ];
  // Longest first, so a secret that contains another is masked whole.
  values.sort((a, b) => b.length - a.length);
  return (text) => values.reduce((out, value) => out.split(value).join(MASK), text);
}
