import { stringify } from "yaml";
import type { NextHop, PostfixState } from "../postfix/state.js";
import type { Secret } from "../secrets/secret.js";
import type { PasswordRef } from "./recognise.js";

/**
 * The imported state as a playbook (YAML 1.2, as the loader reads it). Passwords are written only as
 * { env: NAME }: the state's Secrets are never revealed here.
 */
export function renderPlaybook(
  host: string,
  header: string[],
  state: PostfixState,
  passwords: readonly PasswordRef[],
): string {
  const password = (secret: Secret) => {
    const ref = passwords.find((p) => p.secret === secret);
    if (!ref) throw new Error("internal error: a password without its environment variable");
    return { env: ref.env };
  };
  const hop = (h: NextHop) => ({
    host: h.host,
    ...(h.port !== undefined && { port: h.port }),
    ...(h.mx && { mx: true }),
  });
  const senders = Object.entries(state.senders ?? {});
  const relayDoc = state.relay && {
    ...hop(state.relay),
    ...(state.relay.username !== undefined && { username: state.relay.username }),
    ...(state.relay.password !== undefined && { password: password(state.relay.password) }),
    ...(state.relay.tls !== undefined && { tls: state.relay.tls }),
    ...(state.relay.mechanisms && { mechanisms: state.relay.mechanisms.join(", ") }),
    ...(state.relay.securityOptions && { security_options: state.relay.securityOptions.join(", ") }),
  };
  const sendersDoc =
    senders.length > 0
      ? Object.fromEntries(
          senders.map(([address, spec]) => [
            address,
            {
              relay: hop(spec.relay),
              ...(spec.username !== undefined && { username: spec.username }),
              ...(spec.password !== undefined && { password: password(spec.password) }),
            },
          ]),
        )
      : undefined;
  const postfix = {
    ...(state.tableType !== "auto" && { table_type: state.tableType }),
    ...(Object.keys(state.main).length > 0 && { main: state.main }),
    ...(state.generic && { generic: state.generic }),
    ...(state.canonical && { canonical: state.canonical }),
    ...(state.virtual && { virtual: state.virtual }),
    ...(relayDoc && { relay: relayDoc }),
    ...(sendersDoc && { senders: sendersDoc }),
    ...(state.tables && { tables: state.tables }),
  };
  const play = { name: `Postfix of ${host}, as found on the host`, hosts: host, postfix };
  const comments = header.map((line) => `# ${line}\n`).join("");
  // `password: { env: NAME }` on one line, as the README writes it (NAME is [A-Z0-9_] only).
  const text = stringify([play], { lineWidth: 0 }).replace(
    /password:\n +env: ([A-Z0-9_]+)$/gm,
    "password: { env: $1 }",
  );
  return comments + text;
}
