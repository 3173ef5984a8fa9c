// What `npm run demo` and `npm run bench` share: the built CLI, and a working folder on a running lab
// with the CLI's HOME (holding site.yaml's file secret), an inventory of every lab host and site.yaml.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "../test/lab/lab.js";
import { labHome, REPO, writeLabInventory, writeLabPlaybook } from "../test/lab/workspace.js";

export const BIN = join(REPO, "bin", "provision.js");

export interface LabWorkspace {
  /** Environment to run the CLI with: HOME and the secrets site.yaml reads. */
  env: Record<string, string>;
  inventory: string;
  playbook: string;
}

export function labWorkspace(lab: Lab, name: string): LabWorkspace {
  const dir = join(lab.dir, name);
  mkdirSync(dir, { recursive: true });
  return {
    env: labHome(dir),
    inventory: writeLabInventory(lab, join(dir, "hosts.yaml")),
    playbook: writeLabPlaybook(join(dir, "site.yaml"), "site.yaml"),
  };
}
