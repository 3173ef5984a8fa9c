import { InputError, InputErrors } from "../errors.js";
import type { InventoryHost, SecretSetting } from "../inventory/host.js";
import type { SecretResolver } from "../secrets/resolve.js";
import { Secret } from "../secrets/secret.js";
import { reachHost, type ReachFlags } from "../transport/reach.js";
import type { HostReach } from "../transport/ssh.js";
import { askSecret, terminalAvailable } from "./terminal.js";

/**
 * Before any host is contacted: how every selected host is reached (inventory + ssh configuration) and
 * the secrets that takes (become_password, ssh_key_passphrase, --ask-become-pass). A mistake in any of
 * them is an input error naming its file and line.
 */

export interface ReachAll {
  reach: Map<string, HostReach>;
  secrets: Secret[];
  warnings: string[];
}

/** The command line options this needs. */
export interface ReachOptions {
  sshConfig?: string;
  hostKeyChecking?: ReachFlags["hostKeyChecking"];
  connectTimeout?: number;
  /** --ask-become-pass: asked once, used by hosts whose inventory gives no become_password. */
  askBecomePass?: boolean;
}

export async function reachAll(
  hosts: readonly InventoryHost[],
  options: ReachOptions,
  resolver: SecretResolver,
): Promise<ReachAll> {
  const flags: ReachFlags = {
    ...(options.sshConfig !== undefined && { sshConfig: options.sshConfig }),
    ...(options.hostKeyChecking && { hostKeyChecking: options.hostKeyChecking }),
    ...(options.connectTimeout !== undefined && { connectTimeoutSeconds: options.connectTimeout }),
  };
  const askedBecomePassword = options.askBecomePass ? await askBecomePassword() : undefined;
  const reach = new Map<string, HostReach>();
  const secrets: Secret[] = askedBecomePassword ? [askedBecomePassword] : [];
  const warnings: string[] = [];
  const errors: InputError[] = [];
  const secret = async (setting: SecretSetting | undefined, what: string): Promise<Secret | undefined> => {
    if (!setting) return undefined;
    if ("literal" in setting.ref) {
      const where = `${setting.site.location.file}:${setting.site.location.line}`;
      const warning = `${where}: ${setting.site.path}: the ${what} is written in the inventory; use { env: NAME }, { file: PATH } or { command: "..." }`;
      if (!warnings.includes(warning)) warnings.push(warning);
      return new Secret(setting.ref.literal, `literal in ${setting.site.location.file}`);
    }
    return resolver.resolve(setting.ref, setting.site);
  };
  for (const host of hosts) {
    try {
      const reached = reachHost(host.name, host.connection, flags, undefined, host.origins);
      const becomePassword =
        (await secret(host.connection.becomePassword, "become password")) ?? askedBecomePassword;
      const keyPassphrase = await secret(host.connection.keyPassphrase, "key passphrase");
      for (const s of [becomePassword, keyPassphrase]) if (s && !secrets.includes(s)) secrets.push(s);
      reach.set(host.name, {
        target: reached.target,
        ...(becomePassword && { becomePassword }),
        ...(keyPassphrase && { keyPassphrase }),
      });
      for (const warning of reached.warnings) if (!warnings.includes(warning)) warnings.push(warning);
    } catch (error) {
      if (error instanceof InputError) errors.push(error);
      else if (error instanceof InputErrors) errors.push(...error.errors);
      else errors.push(new InputError(`${(error as Error).message} (host ${host.name})`));
    }
  }
  if (errors.length > 0) throw new InputErrors(errors);
  return { reach, secrets, warnings };
}

async function askBecomePassword(): Promise<Secret> {
  if (!terminalAvailable())
    throw new InputError(
      "--ask-become-pass needs a terminal; use become_password: { env | file | command } in the inventory",
    );
  const secret = await askSecret("BECOME password: ", "--ask-become-pass");
  if (!secret) throw new InputError("no become password was given");
  return secret;
}
