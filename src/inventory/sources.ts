import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { InputError, InputErrors, type SourceLocation } from "../errors.js";
import { readInputFile } from "../yaml/read.js";
import { YamlFile } from "../yaml/yaml-file.js";
import type { InventoryData } from "./groups.js";
import { splitPort } from "./host-range.js";
import { readIniInventory } from "./ini.js";
import { readYamlInventory } from "./yaml-inventory.js";

/** What reading one `-i` value gave, besides the hosts and groups added to the inventory. */
export interface SourceRead {
  /** Where this source's group_vars/ and host_vars/ are; none for a host list. */
  varsDir?: string;
  /** Where to point, and what to say, should the inventories list no host at all. */
  noHosts: { location?: SourceLocation; hint: string };
}

const YAML_HINT = "expected `all:` with `hosts:` (or groups with `hosts:` under `children:`)";
const INI_HINT = "expected host names, one a line, under [group] sections";

/**
 * Reads one `-i` value as Ansible does: a comma-separated host list (`nas,pi,` - a value with a
 * comma that names no file), a directory of inventories, or an inventory file in YAML or INI.
 */
export function readSource(source: string, data: InventoryData, errors: InputError[]): SourceRead {
  if (source.includes(",") && !existsSync(source)) {
    readHostList(source, data);
    return { noHosts: { hint: `-i ${source} names no host` } };
  }
  if (existsSync(source) && statSync(source).isDirectory()) {
    const reads = inventoryFiles(source).map((file) => readInventoryFile(file, data, errors));
    const where = reads[0]?.noHosts ?? { hint: `the directory ${source} holds no inventory file` };
    return { varsDir: source, noHosts: where };
  }
  return { varsDir: dirname(source), noHosts: readInventoryFile(source, data, errors).noHosts };
}

function readHostList(source: string, data: InventoryData) {
  const origin = {
    error: (_: unknown, message: string) => new InputError(`-i ${source}: ${message}`),
    locate: () => ({ file: `-i ${source}`, line: 0, column: 0 }),
  };
  for (const entry of source.split(",").map((h) => h.trim())) {
    // As Ansible: `name:port` gives the port, no ranges here, and a host seen before is left alone.
    const { pattern: host, port } = splitPort(entry);
    if (entry !== "" && !data.hasHost(host)) data.addHost(host, "ungrouped", origin, port);
  }
}

// Ansible skips these in an inventory directory (INVENTORY_IGNORE_EXTS, IGNORED_ALWAYS), `.ini` too.
const IGNORED_NAMES = /^\.|^(host_vars|group_vars|vars_plugins)$/;
const IGNORED_EXTENSIONS = /(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;

function inventoryFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .filter((name) => !IGNORED_NAMES.test(name) && !IGNORED_EXTENSIONS.test(name))
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? inventoryFiles(path) : [path];
    });
}

const NOT_SUPPORTED =
  "provision reads YAML and INI inventories; `ansible-inventory -i THIS --list -y > hosts.yaml` writes one from it";

function readInventoryFile(file: string, data: InventoryData, errors: InputError[]) {
  return readInventoryText(readInputFile(file, "inventory"), file, data, errors);
}

/** One inventory file's text: YAML or INI, told apart as Ansible does (see the end). */
export function readInventoryText(
  text: string,
  file: string,
  data: InventoryData,
  errors: InputError[],
): { noHosts: SourceRead["noHosts"] } {
  const start = { file, line: 1, column: 1 };
  const refuse = (what: string) => {
    errors.push(new InputError(`${what} is not supported: ${NOT_SUPPORTED}`, { location: start }));
    return { noHosts: { hint: "" } };
  };
  if (text.startsWith("$ANSIBLE_VAULT;")) {
    errors.push(
      new InputError("the file is encrypted with ansible-vault, which is not supported: decrypt it", {
        location: start,
      }),
    );
    return { noHosts: { hint: "" } };
  }
  if (text.startsWith("#!")) return refuse("an inventory script");
  if (extname(file) === ".toml") return refuse("a TOML inventory");
  if (extname(file) === ".ini") {
    readIniInventory(text, file, data, errors);
    return { noHosts: { location: start, hint: INI_HINT } };
  }

  let yaml: YamlFile | undefined;
  let yamlErrors: InputError[] = [];
  try {
    yaml = YamlFile.parse(text, file);
  } catch (error) {
    if (error instanceof InputErrors) yamlErrors = error.errors;
    else if (error instanceof InputError) yamlErrors = [error];
    else throw error;
  }
  const parsed = yaml?.data;
  if (yaml && (parsed === null || typeof parsed === "object")) {
    if (parsed !== null && !Array.isArray(parsed) && "plugin" in parsed) {
      return refuse(`an inventory plugin configuration (plugin: ${String(parsed.plugin)})`);
    }
    readYamlInventory(yaml, data, errors);
    return { noHosts: { location: yaml.locate([]), hint: YAML_HINT } };
  }

  // Not a YAML map: INI, as Ansible falls back to it. If INI fails too, report whichever the
  // text looks like (a `[section]` line is INI; `key:` lines are YAML).
  const iniErrors: InputError[] = [];
  readIniInventory(text, file, data, iniErrors);
  const looksLikeYaml = !/^\s*\[[^\]]+\]\s*$/m.test(text) && /^\s*[^\s#;=[][^=]*:(\s|$)/m.test(text);
  errors.push(...(iniErrors.length > 0 && yamlErrors.length > 0 && looksLikeYaml ? yamlErrors : iniErrors));
  return { noHosts: { location: start, hint: INI_HINT } };
}
