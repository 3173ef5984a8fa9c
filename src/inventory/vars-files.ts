import { existsSync, readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { InputError, InputErrors } from "../errors.js";
import { readInputFile } from "../yaml/read.js";
import { YamlFile } from "../yaml/yaml-file.js";
import { checkLayer, yamlOrigin, type VarsLayer } from "./layer.js";

export type VarsKind = "group_vars" | "host_vars";

const EXTENSIONS = [".yml", ".yaml", ".json"];

/**
 * group_vars/NAME and host_vars/NAME beside an inventory or a playbook, found as Ansible's
 * host_group_vars plugin finds them: the first of `NAME` (a file, or a directory), `NAME.yml`,
 * `NAME.yaml`, `NAME.json`; in a directory every file with one of those extensions or none, in
 * lexical order, subdirectories included, hidden files and `~` backups skipped. Each file is read
 * once; empty files count as no variables.
 */
export class VarsFiles {
  readonly #errors: InputError[];
  readonly #cache = new Map<string, VarsLayer[]>();
  readonly #notDirectories = new Set<string>();

  constructor(errors: InputError[]) {
    this.#errors = errors;
  }

  layers(dir: string, kind: VarsKind, name: string): VarsLayer[] {
    const key = JSON.stringify([dir, kind, name]);
    let layers = this.#cache.get(key);
    if (!layers) {
      layers = this.#find(join(dir, kind), name).flatMap((file) => this.#read(file));
      this.#cache.set(key, layers);
    }
    return layers;
  }

  #find(base: string, name: string): string[] {
    if (!existsSync(base)) return [];
    if (!statSync(base).isDirectory()) {
      if (!this.#notDirectories.has(base)) {
        this.#notDirectories.add(base);
        this.#errors.push(
          new InputError(`${base} is not a directory: make it one, holding files of variables`),
        );
      }
      return [];
    }
    for (const candidate of ["", ...EXTENSIONS].map((ext) => join(base, name + ext))) {
      if (!existsSync(candidate)) continue;
      return statSync(candidate).isDirectory() ? filesIn(candidate) : [candidate];
    }
    return [];
  }

  #read(file: string): VarsLayer[] {
    const text = readInputFile(file, "variables file");
    const start = { location: { file, line: 1, column: 1 } };
    if (text.startsWith("$ANSIBLE_VAULT;")) {
      this.#errors.push(
        new InputError("the file is encrypted with ansible-vault, which is not supported: decrypt it", start),
      );
      return [];
    }
    try {
      const yaml = YamlFile.parse(text, file);
      const vars = yaml.data;
      if (vars === null) return [];
      if (typeof vars !== "object" || Array.isArray(vars)) {
        this.#errors.push(yaml.error([], "expected a map of variables (name: value)"));
        return [];
      }
      const layer = { vars: vars as Record<string, unknown>, origin: yamlOrigin(yaml, []) };
      this.#errors.push(...checkLayer(layer));
      return Object.keys(layer.vars).length === 0 ? [] : [layer];
    } catch (error) {
      if (error instanceof InputErrors) this.#errors.push(...error.errors);
      else if (error instanceof InputError) this.#errors.push(error);
      else throw error;
      return [];
    }
  }
}

function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith(".") && !name.endsWith("~"))
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      const ext = extname(name);
      if (statSync(path).isDirectory()) return ext === "" ? filesIn(path) : [];
      return ext === "" || EXTENSIONS.includes(ext) ? [path] : [];
    });
}
