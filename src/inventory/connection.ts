import type { InputError } from "../errors.js";
import { expandHome } from "../home-path.js";
import type { SecretRef } from "../secrets/resolve.js";
import { formatPath, type YamlFile, type YamlPath } from "../yaml/yaml-file.js";
import type { VarsLayer } from "./groups.js";
import type { ConnectionSpec, SecretSetting } from "./host.js";
import { CONNECTION_VARS } from "./schema.js";
import { renderTemplate, TemplateError, type Vars } from "./template.js";

type Field = keyof typeof CONNECTION_VARS;

interface Setting {
  value: unknown;
  path: YamlPath;
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
  yaml: YamlFile,
  errors: InputError[],
): ConnectionSpec {
  const settings = collectSettings(layers, yaml, errors);
  const text = (field: Field): string | undefined => {
    const setting = settings.get(field);
    if (typeof setting?.value !== "string") return undefined;
    try {
      return String(renderTemplate(setting.value, [vars]));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.push(yaml.error(setting.path, `${error.message} (host ${name})`));
      return undefined;
    }
  };
  const keyFile = text("keyFile");
  const knownHostsFile = text("knownHostsFile");
  const hostKeyChecking = settings.get("hostKeyChecking")?.value as ConnectionSpec["hostKeyChecking"];
  const sshConfig = text("sshConfig");
  const jump = text("jump");
  const origins = connectionOrigins(layers, yaml);
  const sshArgs = (["sshCommonArgs", "sshExtraArgs"] as const).flatMap((field) => {
    const value = text(field);
    const setting = settings.get(field);
    return value && setting
      ? [{ variable: String(setting.path.at(-1)), text: value, origin: origins[field]! }]
      : [];
  });
  const secret = (field: "keyPassphrase" | "becomePassword"): SecretSetting | undefined => {
    const setting = settings.get(field);
    if (setting === undefined) return undefined;
    const location = yaml.locate(setting.path);
    const site = { location, path: formatPath(setting.path) };
    if (typeof setting.value !== "string") return { ref: setting.value as SecretRef, site };
    const literal = text(field);
    return literal === undefined ? undefined : { ref: { literal }, site };
  };
  const keyPassphrase = secret("keyPassphrase");
  const becomePassword = secret("becomePassword");
  return {
    address: text("address") ?? name,
    // The schema has already checked and converted port, become and hostKeyChecking.
    port: (settings.get("port")?.value as number | undefined) ?? 22,
    user: text("user") ?? defaults.user,
    ...(keyFile !== undefined && { keyFile: expandHome(keyFile, defaults.home) }),
    become: (settings.get("become")?.value as boolean | undefined) ?? false,
    ...(knownHostsFile !== undefined && { knownHostsFile: expandHome(knownHostsFile, defaults.home) }),
    ...(hostKeyChecking !== undefined && { hostKeyChecking }),
    ...(sshConfig !== undefined && { sshConfig: expandHome(sshConfig, defaults.home) }),
    ...(jump !== undefined && { jump }),
    ...(sshArgs.length > 0 && { sshArgs }),
    ...(keyPassphrase && { keyPassphrase }),
    ...(becomePassword && { becomePassword }),
  };
}

/** The last setting of each field over the layers; a map giving two synonyms differently is an error. */
function collectSettings(
  layers: readonly VarsLayer[],
  yaml: YamlFile,
  errors: InputError[],
): Map<Field, Setting> {
  const settings = new Map<Field, Setting>();
  for (const layer of layers) {
    for (const [field, names] of Object.entries(CONNECTION_VARS) as [Field, readonly string[]][]) {
      const given = names.filter((n) => layer.vars[n] !== undefined);
      const [first, ...others] = given;
      if (first === undefined) continue;
      for (const other of others) {
        if (layer.vars[other] !== layer.vars[first]) {
          errors.push(
            yaml.error([...layer.path, other], `conflicts with ${first} in the same map`, { atKey: true }),
          );
        }
      }
      settings.set(field, { value: layer.vars[first], path: [...layer.path, first] });
    }
  }

  return settings;
}

/** FILE:LINE of every connection setting a host's layers give, by field (absent = not given). */
export function connectionOrigins(layers: readonly VarsLayer[], yaml: YamlFile): Record<string, string> {
  const origins: Record<string, string> = {};
  for (const [field, { path }] of collectSettings(layers, yaml, [])) {
    const { file, line } = yaml.locate(path);
    origins[field] = `${file}:${line}`;
  }
  return origins;
}
