import type { InputError } from "../errors.js";
import { validateYaml } from "../yaml/validate.js";
import type { YamlFile, YamlPath } from "../yaml/yaml-file.js";
import type { InventoryData } from "./groups.js";
import { hostEntry, HostRangeError } from "./host-range.js";
import { yamlOrigin } from "./layer.js";
import { inventorySchema } from "./schema.js";

/**
 * Reads an Ansible YAML inventory into `data`: top-level keys are groups (`all` or any other), each
 * with `hosts:`, `vars:` and `children:`, read in the order written, as Ansible's yaml plugin does.
 * A host key may be a range (`www[01:10]`) and carry a port (`nas:2222`).
 */
export function readYamlInventory(yaml: YamlFile, data: InventoryData, errors: InputError[]): void {
  // The schema checks the shape; the data is read as written (in its order, with Ansible's values:
  // the schema's output would have `"2222"` converted to 2222).
  validateYaml(yaml, inventorySchema);
  const root = (yaml.data ?? {}) as Record<string, RawGroup | null>;

  const add = (name: string, group: RawGroup | null, path: YamlPath): boolean => {
    if (!data.addGroup(name, yamlOrigin(yaml, path))) return false;
    for (const [key, value] of Object.entries(group ?? {})) {
      const at = [...path, key];
      if (key === "vars" && value) data.addGroupVars(name, { vars: value, origin: yamlOrigin(yaml, at) });
      for (const [entry, vars] of key === "hosts" ? Object.entries(value ?? {}) : []) {
        addHosts(entry, (vars ?? {}) as Record<string, unknown>, name, [...at, entry]);
      }
      for (const [child, childGroup] of key === "children" ? Object.entries(value ?? {}) : []) {
        if (add(child, childGroup as RawGroup | null, [...at, child]))
          data.addChild(name, child, yamlOrigin(yaml, [...at, child]));
      }
    }
    return true;
  };

  const addHosts = (entry: string, vars: Record<string, unknown>, group: string, path: YamlPath) => {
    const origin = yamlOrigin(yaml, path);
    let hosts: { names: string[]; port?: number };
    try {
      hosts = hostEntry(entry);
    } catch (error) {
      if (!(error instanceof HostRangeError)) throw error;
      errors.push(origin.error(undefined, error.message, { atKey: true }));
      return;
    }
    for (const host of hosts.names) {
      if (data.addHost(host, group, origin, hosts.port)) data.addHostVars(host, { vars, origin });
    }
  };

  for (const [name, group] of Object.entries(root)) add(name, group, [name]);
}

/** A group as written; its shape is what `inventorySchema` accepted. */
type RawGroup = Record<"hosts" | "vars" | "children", Record<string, unknown> | null>;
