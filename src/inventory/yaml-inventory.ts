import type { InputError } from "../errors.js";
import { validateYaml } from "../yaml/validate.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { InventoryData } from "./groups.js";
import { hostEntry, HostRangeError } from "./host-range.js";
import { yamlOrigin } from "./layer.js";
import { inventorySchema, type GroupInput } from "./schema.js";

/**
 * Reads an Ansible YAML inventory into `data`: top-level keys are groups (`all` or any other), each
 * with `hosts:`, `vars:` and `children:`, read in the order written, as Ansible's yaml plugin does.
 * A host key may be a range (`www[01:10]`) and carry a port (`nas:2222`).
 */
export function readYamlInventory(yaml: YamlFile, data: InventoryData, errors: InputError[]): void {
  const root = validateYaml(yaml, inventorySchema) ?? {};

  const add = (name: string, group: GroupInput | null, path: YamlPath): boolean => {
    if (!data.addGroup(name, yamlOrigin(yaml, path))) return false;
    for (const key of Object.keys(group ?? {})) {
      if (key === "vars" && group?.vars) {
        data.addGroupVars(name, {
          vars: raw(yaml, [...path, "vars"]),
          origin: yamlOrigin(yaml, [...path, "vars"]),
        });
      }
      for (const entry of key === "hosts" ? Object.keys(group?.hosts ?? {}) : []) {
        const hostPath = [...path, "hosts", entry];
        const origin = yamlOrigin(yaml, hostPath);
        let hosts: { names: string[]; port?: number };
        try {
          hosts = hostEntry(entry);
        } catch (error) {
          if (!(error instanceof HostRangeError)) throw error;
          errors.push(origin.error(undefined, error.message, { atKey: true }));
          continue;
        }
        const vars = raw(yaml, hostPath);
        for (const host of hosts.names) {
          if (data.addHost(host, name, origin, hosts.port)) data.addHostVars(host, { vars, origin });
        }
      }
      for (const [child, childGroup] of key === "children" ? Object.entries(group?.children ?? {}) : []) {
        const childPath = [...path, "children", child];
        if (add(child, childGroup, childPath)) data.addChild(name, child, yamlOrigin(yaml, childPath));
      }
    }
    return true;
  };
  for (const [name, group] of Object.entries(root)) add(name, group, [name]);
}

/**
 * The map at `path` as written: the schema's output converts connection values (`"2222"` to 2222),
 * but the variables keep Ansible's values; they are converted only to connect.
 */
function raw(yaml: YamlFile, path: YamlPath): Record<string, unknown> {
  let value: unknown = yaml.data;
  for (const part of path) value = (value as Record<string, unknown> | null)?.[part];
  return (value ?? {}) as Record<string, unknown>;
}
