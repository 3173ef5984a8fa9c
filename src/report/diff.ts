import { createTwoFilesPatch } from "diff";
import type { FileWrite } from "../engine/plan.js";

/** A unified diff of one planned write, built from the masked views only (never the real content). */
export function fileDiff(write: FileWrite): string {
  const before = write.before ?? "";
  const oldName = write.before === null ? "/dev/null" : `${write.path} (host)`;
  return createTwoFilesPatch(oldName, `${write.path} (desired)`, before, write.after, undefined, undefined, {
    context: 3,
  })
    .split("\n")
    .slice(1) // drop the "====" header line
    .join("\n");
}
