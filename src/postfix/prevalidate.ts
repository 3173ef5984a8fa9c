import { InputError } from "../errors.js";
import { deriveConfig } from "./derive.js";
import type { PostfixState } from "./state.js";
import { KEY_VALUE_TYPES } from "./tabletypes.js";

/**
 * Catch every mistake that does not depend on the host (bad relay port, conflicting parameters, bad
 * table entries) BEFORE any connection: derive the configuration against an imaginary host that has
 * every feature and table type. What remains to fail later is only host-specific (version, types).
 * The error is a StateError (state-error.ts) when it can say which value of the state is wrong.
 */
export function findStateProblem(host: string, state: PostfixState): InputError | undefined {
  const anyHost = {
    name: host,
    version: "999",
    defaultDatabaseType: "hash",
    supportedTypes: [...KEY_VALUE_TYPES],
  };
  try {
    deriveConfig(state, anyHost);
    return undefined;
  } catch (error) {
    // Anything else (a HostError) depends on the real host and is reported when it is known.
    return error instanceof InputError ? error : undefined;
  }
}
