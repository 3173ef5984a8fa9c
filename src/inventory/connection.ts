import type { InputError } from "../errors.js";
import { expandHome } from "../home-path.js";
import type { SecretRef } from "../secrets/resolve.js";
import type { ConnectionSpec, SecretSetting } from "./host.js";
import type { VarsLayer, VarsOrigin } from "./layer.js";
import { CONNECTION_TYPES, CONNECTION_VARS } from "./schema.js";
import { renderTemplate, TemplateError, type Vars } from "./template.js";

type Field = keyof typeof CONNECTION_VARS;

interface Setting {
  value: unknown;
  name: string;
  origin: VarsOrigin;
}

export interface ConnectionDefaults {
  /** ssh_user when none is set: the local user, as ssh does. */
  user: string;
  home: string;
}

/**
 * The connection of one host from its variable layers (lowest precedence first). Our names and
 * Ansible's synonyms are interchangeable; one map giving both with different values is an error.
 * String settings may use `{{ var }}` (e.g. `ansible_host: "{{ inventory_hostname }}.lan"`).
 */
export function connectionFor(
  name: string,
  layers: readonly VarsLayer[],
  vars: Vars,
  defaults: ConnectionDefaults,
  errors: InputError[],
): ConnectionSpec {
  const settings = collectSettings(layers, errors);
  const text = (field: Field): string | undefined => {
    const setting = settings.get(field);
    if (typeof setting?.value !== "string") return undefined;
    try {
      return String(renderTemplate(setting.value, [vars]));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(setting.origin.error(setting.name, `${error.message} (host ${name})`));
      return undefined;
    }
  };
  const keyFile = text("keyFile");
  const knownHostsFile = text("knownHostsFile");
  // Each layer's values were checked against these types where they were read; here they are converted.
  const port = CONNECTION_TYPES.port.safeParse(settings.get("port")?.value).data;
  const become = CONNECTION_TYPES.become.safeParse(settings.get("become")?.value).data;
  const hostKeyChecking = CONNECTION_TYPES.hostKeyChecking.safeParse(
    settings.get("hostKeyChecking")?.value,
  ).data;
  const sshConfig = text("sshConfig");
  const jump = text("jump");
  const sshArgs = (["sshCommonArgs", "sshExtraArgs"] as const).flatMap((field) => {
    const value = text(field);
    const setting = settings.get(field);
    return value && setting ? [{ variable: setting.name, text: value, origin: where(setting) }] : [];
  });
  const secret = (field: "keyPassphrase" | "becomePassword"): SecretSetting | undefined => {
    const setting = settings.get(field);
    if (setting === undefined) return undefined;
    const site = { location: setting.origin.locate(setting.name), path: setting.name };
    if (typeof setting.value !== "string") return { ref: setting.value as SecretRef, site };
    const literal = text(field);
    return literal === undefined ? undefined : { ref: { literal }, site };
  };
  const keyPassphrase = secret("keyPassphrase");
  const becomePassword = secret("becomePassword");
  return {
    address: text("address") ?? name,
    port: port ?? 22,
    user: text("user") ?? defaults.user,
    ...(keyFile !== undefined && { keyFile: expandHome(keyFile, defaults.home) }),
    become: become ?? false,
    ...(knownHostsFile !== undefined && { knownHostsFile: expandHome(knownHostsFile, defaults.home) }),
    ...(hostKeyChecking !== undefined && { hostKeyChecking }),
    ...(sshConfig !== undefined && { sshConfig: expandHome(sshConfig, defaults.home) }),
    ...(jump !== undefined && { jump }),
    ...(sshArgs.length > 0 && { sshArgs }),
    ...(keyPassphrase && { keyPassphrase }),
    ...(becomePassword && { becomePassword }),
  };
}

/** FILE:LINE of every connection setting a host's layers give, by field (absent = not given). */
export function connectionOrigins(layers: readonly VarsLayer[]): Record<string, string> {
  const origins: Record<string, string> = {};
  for (const [field, setting] of collectSettings(layers, [])) origins[field] = where(setting);
  return origins;
}

function where(setting: Setting): string {
  const { file, line } = setting.origin.locate(setting.name);
  return line > 0 ? `${file}:${line}` : file;
}

/** The last setting of each field over the layers; a map giving two synonyms differently is an error. */
function collectSettings(layers: readonly VarsLayer[], errors: InputError[]): Map<Field, Setting> {
  const settings = new Map<Field, Setting>();
  for (const layer of layers) {
    for (const [field, names] of Object.entries(CONNECTION_VARS) as [Field, readonly string[]][]) {
      const given = names.filter((n) => layer.vars[n] !== undefined);
      const [first, ...others] = given;
      if (first === undefined) continue;
      for (const other of others) {
        if (layer.vars[other] !== layer.vars[first]) {
          errors.push(layer.origin.error(other, `conflicts with ${first} in the same map`, { atKey: true }));
        }
      }
      settings.set(field, { value: layer.vars[first], name: first, origin: layer.origin });
    }
  }
  return settings;
}
