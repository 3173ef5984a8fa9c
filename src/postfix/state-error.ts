import { InputError } from "../errors.js";

/** Where in a PostfixState a value is: ["relay", "port"], ["senders", address, "relay"], ["main", name]. */
export type StatePath = readonly string[];

/**
 * A state no host could use. `where` says which value is wrong, so the playbook loader can point at the
 * line that gave it; the message (InputError's) starts with the dotted form, e.g. "postfix.relay.port: ".
 */
export class StateError extends InputError {
  readonly where: StatePath;
  /** The message without the path in front. */
  readonly detail: string;
  /** The key at `where` is wrong (a table key, a sender address), not its value. */
  readonly atKey: boolean;

  constructor(detail: string, where: StatePath, options: { atKey?: boolean } = {}) {
    super(detail, { path: dotted(where) });
    this.where = where;
    this.detail = detail;
    this.atKey = options.atKey ?? false;
  }
}

export function dotted(where: StatePath): string {
  return ["postfix", ...where].join(".");
}

/** Runs `f`, re-throwing its InputError as a StateError at `where`, so the user sees which option is wrong. */
export function atPath<T>(where: StatePath, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError && e.path === undefined) throw new StateError(e.message, where);
    throw e;
  }
}

/** Throws a StateError at `where` when a rule (rules.ts) found a problem. */
export function check(
  problem: string | undefined,
  where: StatePath,
  options: { atKey?: boolean } = {},
): void {
  if (problem !== undefined) throw new StateError(problem, where, options);
}
