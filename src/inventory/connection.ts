import type { InputError } from "../errors.js";
import { expandHome } from "../home-path.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { VarsLayer } from "./groups.js";
import type { ConnectionSpec } from "./host.js";
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
  return {
    address: text("address") ?? name,
    // The schema has already checked and converted port, become and hostKeyChecking.
    port: (settings.get("port")?.value as number | undefined) ?? 22,
    user: text("user") ?? defaults.user,
    ...(keyFile !== undefined && { keyFile: expandHome(keyFile, defaults.home) }),
    become: (settings.get("become")?.value as boolean | undefined) ?? false,
    ...(knownHostsFile !== undefined && { knownHostsFile: expandHome(knownHostsFile, defaults.home) }),
    ...(hostKeyChecking !== undefined && { hostKeyChecking }),
  };
}
