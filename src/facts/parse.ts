import { createHash } from "node:crypto";
import { HostError } from "../errors.js";
import { parseRecords, type FileRecord, type RemoteRecord } from "../remote/records.js";
import type { HostFacts, RemoteFile } from "./types.js";

/** The facts a facts script (or the end of an apply script) printed (pure; tested with recorded output). */
export function factsFromRecords(host: string, records: RemoteRecord[]): HostFacts {
  const facts: HostFacts = {
    warnings: [],
    version: "",
    defaultDatabaseType: "",
    supportedTypes: [],
    running: false,
    postconfN: "",
    files: new Map(),
  };
  for (const record of records) {
    switch (record.kind) {
      case "locked":
        throw new HostError(
          host,
          `another provision run holds the host's run lock (${record.holder.trim() || "holder unknown"}); ` +
            `waited for it in vain, try again later or raise --lock-timeout`,
        );
      case "no-postfix":
        throw new HostError(
          host,
          "Postfix is not installed (no postconf in PATH); install the postfix package first",
        );
      case "postconf_error":
        throw new HostError(host, `Postfix cannot read its configuration: ${record.message.trim()}`);
      case "error":
        throw new HostError(host, record.message);
      case "warning":
        facts.warnings.push(record.message);
        break;
      case "version":
        facts.version = record.version;
        break;
      case "default_type":
        facts.defaultDatabaseType = record.type;
        break;
      case "types":
        facts.supportedTypes = record.types;
        break;
      case "running":
        facts.running = record.running;
        break;
      case "postconf_n":
        facts.postconfN = record.text;
        break;
      case "sasl_plugins":
        facts.saslPlugins = pluginNames(record.files);
        break;
      case "distro":
        facts.distro = { id: record.id, like: record.like };
        break;
      case "unknown_parameter":
        facts.unknownParameters = [...(facts.unknownParameters ?? []), record.name];
        break;
      case "file":
        if (record.link !== undefined) throw new HostError(host, linkRefused(record.path, record.link));
        facts.files.set(record.path, remoteFile(record));
        break;
      default:
        break; // the apply script's records: see engine/apply.ts
    }
  }
  if (facts.version === "") {
    throw new HostError(
      host,
      "could not read the Postfix version (postconf -h mail_version printed nothing)",
    );
  }
  return facts;
}

/** libplain.so.2.0.25 -> plain; each plugin once, sorted. */
function pluginNames(files: string[]): string[] {
  const names = files.map((file) => /^lib(.+?)\.so(\.|$)/.exec(file)?.[1]).filter((n) => n !== undefined);
  return [...new Set(names)].sort();
}

/** Facts from a facts script's whole output. */
export function parseFacts(host: string, output: string): HostFacts {
  return factsFromRecords(host, parseRecords(output));
}

/**
 * A file provision manages must be a regular file: writing through a link would change a file elsewhere
 * (maybe one Postfix is not meant to read), replacing it would break the owner's setup. So such a host
 * is refused, never changed, until the owner decides.
 */
function linkRefused(path: string, target: string): string {
  return (
    `${path} is a symbolic link (to ${target}); provision manages only regular files and neither writes ` +
    `through a link nor replaces it. Make it a regular file (cp --remove-destination "$(readlink -f ${path})" ` +
    `${path}) and run again`
  );
}

function remoteFile({ path, stat, content }: FileRecord): RemoteFile {
  if (!stat) return { path, exists: false };
  return { path, exists: true, ...stat, ...(content !== undefined ? decodeContent(content) : {}) };
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
