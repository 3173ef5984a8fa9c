import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ConfigFile, ConfigSource } from "./ssh-config.js";
import { globMatch } from "./ssh-patterns.js";

/** The files an OpenSSH client configuration is read from, on this machine. */

/** `ssh -F FILE` reads only FILE; otherwise ~/.ssh/config, then /etc/ssh/ssh_config. */
export function configFiles(home: string, explicit?: string): ConfigFile[] {
  if (explicit !== undefined) return explicit === "none" ? [] : [{ path: explicit, user: true }];
  return [
    { path: join(home, ".ssh", "config"), user: true },
    { path: "/etc/ssh/ssh_config", user: false },
  ];
}

export const fileSource: ConfigSource = {
  read(path) {
    try {
      if (!statSync(path).isFile()) return undefined;
      return readFileSync(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw new Error(`cannot read ssh configuration ${path}: ${(error as Error).message}`);
    }
  },
  glob: globPaths,
};

/** glob(3) as Include uses it: `*` and `?` in any component, no match for a leading dot, sorted. */
export function globPaths(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return [pattern];
  const parts = pattern.split("/");
  let found = [parts[0] === "" ? "/" : "."];
  for (const part of parts.slice(parts[0] === "" ? 1 : 0)) {
    if (part === "") continue;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (name.startsWith(".") && !part.startsWith(".")) continue;
        if (globMatch(part, name)) next.push(join(dir, name));
      }
    }
    found = next;
  }
  return found;
}
