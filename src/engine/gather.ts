import { managedTables } from "../postfix/rules.js";
import { ALL_INDEX_SUFFIXES } from "../postfix/tabletypes.js";
import type { PostfixState } from "../postfix/state.js";
import { factsScript, type FactRequest, type LockOptions } from "../facts/script.js";
import { parseFacts } from "../facts/parse.js";
import type { HostFacts } from "../facts/types.js";
import { HostError } from "../errors.js";
import type { RemoteSession } from "../transport/ssh.js";
import { MAIN_CF } from "./plan.js";

/** Reading a host: which files to ask about, and the one facts command. */

export async function gatherFacts(
  session: RemoteSession,
  host: string,
  request: FactRequest,
  lock: LockOptions,
): Promise<HostFacts> {
  const result = await session.runScript(factsScript(request, lock), "gathering facts");
  if (result.code !== 0) {
    throw new HostError(host, `gathering facts failed (exit ${result.code}): ${firstLine(result.stderr)}`);
  }
  return parseFacts(host, result.stdout);
}

/** Files to read: main.cf, every managed table source, and every index file it could have. */
export function factRequest(state: PostfixState | undefined): FactRequest {
  const names = state ? managedTables(state) : [];
  const sources = names.map((name) => `/etc/postfix/${name}`);
  return {
    contents: [MAIN_CF, ...sources],
    stats: sources.flatMap((source) => ALL_INDEX_SUFFIXES.map((suffix) => source + suffix)),
    parameters: state ? parametersSet(state) : [],
  };
}

/** The parameter names the playbook sets itself (derived ones are Postfix's own), to catch typos. */
function parametersSet(state: PostfixState): string[] {
  const names = Object.entries(state.main)
    .filter(([, value]) => value !== null)
    .map(([name]) => name);
  names.push(...Object.values(state.tables ?? {}).map((table) => table.parameter));
  return [...new Set(names)].sort();
}

export function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
