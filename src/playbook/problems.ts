import { InputError, type SourceLocation } from "../errors.js";
import { formatPath, type YamlFile, type YamlPath } from "../yaml/yaml-file.js";

/**
 * Problems found while resolving a playbook for many hosts. The same mistake seen for several hosts
 * (an undefined variable, say) is reported once, naming all of them. Warnings (nothing stops) too.
 */
export class Problems {
  readonly #found = new Map<
    string,
    { location: SourceLocation; path: string; message: string; hosts: string[] }
  >();
  readonly #warnings = new Set<string>();

  /** A warning `file:line:column: path: message`, shown once however many hosts it concerns. */
  warn(yaml: YamlFile, path: YamlPath, message: string, options: { atKey?: boolean } = {}): void {
    const { file, line, column } = options.atKey ? yaml.locateKey(path) : yaml.locate(path);
    this.#warnings.add(`${file}:${line}:${column}: ${formatPath(path)}: ${message}`);
  }

  get warnings(): string[] {
    return [...this.#warnings];
  }

  add(
    yaml: YamlFile,
    path: YamlPath,
    message: string,
    options: { host?: string; atKey?: boolean } = {},
  ): void {
    const location = options.atKey ? yaml.locateKey(path) : yaml.locate(path);
    const dotted = formatPath(path);
    const key = JSON.stringify([location, dotted, message]);
    const entry = this.#found.get(key) ?? { location, path: dotted, message, hosts: [] };
    if (options.host !== undefined && !entry.hosts.includes(options.host)) entry.hosts.push(options.host);
    this.#found.set(key, entry);
  }

  get size(): number {
    return this.#found.size;
  }

  toErrors(): InputError[] {
    return [...this.#found.values()].map(({ location, path, message, hosts }) => {
      const forHosts = hosts.length === 0 ? "" : ` (host${hosts.length > 1 ? "s" : ""} ${hosts.join(", ")})`;
      return new InputError(message + forHosts, { location, path });
    });
  }
}
