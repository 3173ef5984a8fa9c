/**
 * `npm run lint` for the shell: `sh -n` on every .sh file, and shellcheck (POSIX sh) on the remote
 * libraries joined in the order a remote script holds them (src/remote/script.ts): they share
 * variables and functions, so a file alone would not check. Findings name FILE:LINE.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SHELL_FILES } from "../src/remote/script.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const remote = SHELL_FILES.map(({ file }) => fileURLToPath(file));
const others = ["src", "test", "scripts"]
  .flatMap((dir) => shellFiles(join(root, dir)))
  .filter((file) => !remote.includes(file));
const problems: string[] = [];

for (const file of [...remote, ...others]) {
  const check = spawnSync("sh", ["-n", file], { encoding: "utf8" });
  if (check.status !== 0) problems.push(`${relative(root, file)}: sh -n: ${check.stderr.trim()}`);
}
shellcheck(remote);
for (const file of others) shellcheck([file]);

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}

/** Files joined as one script; each finding is mapped back to its file and line. */
function shellcheck(files: string[]): void {
  const texts = files.map((file) => readFileSync(file, "utf8"));
  const run = spawnSync("shellcheck", ["--shell=sh", "--format=gcc", "-"], {
    input: texts.join(""),
    encoding: "utf8",
  });
  if (run.error) {
    problems.push(`shellcheck: ${run.error.message} (install it: apt-get install shellcheck)`);
    return;
  }
  for (const line of run.stdout.split("\n").filter((l) => l !== "")) {
    const [, at = "0", rest = line] = /^-:(\d+):(.*)$/.exec(line) ?? [];
    let lineNo = Number(at);
    const index = texts.findIndex((text) => {
      const lines = text.split("\n").length - 1;
      if (lineNo <= lines) return true;
      lineNo -= lines;
      return false;
    });
    problems.push(`${relative(root, files[index] ?? "-")}:${lineNo}:${rest}`);
  }
  if (run.status !== 0 && problems.length === 0) problems.push(`shellcheck failed: ${run.stderr.trim()}`);
}

function shellFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return shellFiles(path);
    return entry.name.endsWith(".sh") ? [path] : [];
  });
}
