import { createHash } from "node:crypto";
import { HostError } from "../errors.js";
import type { HostFacts, RemoteFile } from "./types.js";

/** Parse the records printed by facts/script.ts (pure; tested with recorded output). */
export function parseFacts(host: string, output: string): HostFacts {
  const facts: HostFacts = {
    warnings: [],
    version: "",
    defaultDatabaseType: "",
    supportedTypes: [],
    running: false,
    postconfN: "",
    files: new Map(),
  };
  let sawVersion = false;
  for (const line of output.split("\n")) {
    if (line === "") continue;
    const fields = line.split("\t");
    const [kind, value = ""] = fields;
    switch (kind) {
      case "locked":
        throw new HostError(
          host,
          `another provision run holds the host's run lock (${value.trim() || "holder unknown"}); ` +
            `waited for it in vain, try again later or raise --lock-timeout`,
        );
      case "no-postfix":
        throw new HostError(
          host,
          "Postfix is not installed (no postconf in PATH); install the postfix package first",
        );
      case "warning":
        facts.warnings.push(value);
        break;
      case "postconf_error":
        throw new HostError(host, `Postfix cannot read its configuration: ${value.trim()}`);
      case "version":
        facts.version = value;
        sawVersion = true;
        break;
      case "default_type":
        facts.defaultDatabaseType = value;
        break;
      case "types":
        facts.supportedTypes = value.split(" ").filter((t) => t !== "");
        break;
      case "running":
        facts.running = value === "1";
        break;
      case "postconf_n":
        facts.postconfN = Buffer.from(value, "base64").toString("utf8");
        break;
      case "file": {
        const file = parseFileRecord(fields);
        facts.files.set(file.path, file);
        break;
      }
      default:
        break; // records of the apply script (step, error) are read elsewhere
    }
  }
  if (!sawVersion || facts.version === "") {
    throw new HostError(
      host,
      "could not read the Postfix version (postconf -h mail_version printed nothing)",
    );
  }
  return facts;
}

function parseFileRecord(fields: string[]): RemoteFile {
  const [, path = "", meta = "", content] = fields;
  if (meta === "missing") return { path, exists: false };
  const [mode = "0", owner, group, mtime = "0"] = meta.split(" ");
  return {
    path,
    exists: true,
    mode: parseInt(mode, 8),
    owner,
    group,
    mtime: Number(mtime),
    ...(content !== undefined ? decodeContent(Buffer.from(content, "base64")) : {}),
  };
}

/** Text for the planner, plus the checksum of the exact bytes, which the apply compares before writing. */
function decodeContent(bytes: Buffer): Pick<RemoteFile, "content" | "sha256" | "utf8"> {
  const content = bytes.toString("utf8");
  return {
    content,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    utf8: Buffer.from(content, "utf8").equals(bytes),
  };
}
