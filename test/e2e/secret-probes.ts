import { expect } from "chai";
import type { Lab } from "../lab/lab.js";
import { onHost } from "./support.js";

/** Looking for secrets where they must not be: encoded in output, in processes on a host, in its files. */

/**
 * Substrings that every base64 encoding of a text containing `secret` contains, whatever the alignment
 * of the secret inside the encoded text (0, 1 or 2 bytes before it in its 3-byte group).
 */
export function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [0, 1, 2]
    .map((offset) => {
      const encoded = Buffer.concat([Buffer.alloc(offset, 0x20), bytes]).toString("base64");
      // Drop the groups that mix in the bytes before the secret or after it.
      return encoded.slice(offset === 0 ? 0 : 4, encoded.length - 4);
    })
    .filter((core) => core.length >= 8);
}

/**
 * `ps` (full command lines) and every process environment on the host, sampled every 50 ms while
 * `action` runs (bounded: at most 1200 samples, and the sampler stops as soon as `action` is done).
 */
export async function sampleProcesses<T>(
  lab: Lab,
  host: string,
  action: () => Promise<T>,
): Promise<{ result: T; samples: string[] }> {
  const stop = "/run/.provision-test-sampler-stop";
  await onHost(lab, host, `rm -f ${stop}`);
  const sampler = lab.run(
    host,
    `i=0
     while [ "$i" -lt 1200 ] && [ ! -e ${stop} ]; do
       i=$((i + 1))
       echo '=== sample'
       ps -e -ww -o args=
       echo '--- environments'
       cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'
       sleep 0.05
     done`,
    120_000,
  );
  let result: T;
  try {
    // Let the sampler take its first sample before the CLI starts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    result = await action();
  } finally {
    await onHost(lab, host, `touch ${stop}`);
  }
  const out = await sampler;
  expect(out.code, out.stderr).to.equal(0);
  return { result, samples: out.stdout.split("=== sample\n").filter((s) => s.trim() !== "") };
}

export interface FoundFile {
  path: string;
  exposed: boolean;
  why: string;
}

/**
 * Files on the host (as root: grep -rlF) under the places a secret could land that contain any of
 * `secrets`, with whether a non-root user could read them: the file is root's and has no group/other
 * read bit, or some directory above it is root's and not traversable by group and others.
 */
export async function filesHolding(lab: Lab, host: string, secrets: string[]): Promise<FoundFile[]> {
  const patterns = "/var/log/.provision-test-patterns";
  const encoded = Buffer.from(secrets.join("\n") + "\n").toString("base64");
  const dirs = [
    "/etc/postfix",
    "/tmp",
    "/var/tmp",
    "/root",
    "/home",
    "/var/backups",
    "/run",
    "/var/spool/postfix",
    "/var/lib/postfix",
    "/var/log",
    "/var/mail",
  ];
  const out = await onHost(
    lab,
    host,
    `umask 077
     printf '%s' '${encoded}' | base64 -d > ${patterns}
     grep -rlF -f ${patterns} ${dirs.join(" ")} 2>/dev/null | grep -vxF ${patterns} | while read -r f; do
       echo "=== $f"
       p="$f"
       while :; do
         stat -c '%a %U %n' -- "$p"
         [ "$p" = / ] && break
         p=$(dirname -- "$p")
       done
     done
     rm -f ${patterns}`,
  );
  return out
    .split("=== ")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const [path = "", ...chain] = block.trim().split("\n");
      const stats = chain.map((line) => {
        const [mode = "", owner = "", ...name] = line.split(" ");
        return { mode: parseInt(mode, 8), owner, name: name.join(" ") };
      });
      const [file, ...parents] = stats;
      const fileClosed = file !== undefined && file.owner === "root" && (file.mode & 0o044) === 0;
      const closedParent = parents.find((d) => d.owner === "root" && (d.mode & 0o011) === 0);
      return {
        path,
        exposed: !fileClosed && closedParent === undefined,
        why: chain.join("; "),
      };
    });
}
