/**
 * What every remote script prints: one record per line, `KIND<TAB>FIELD...`, from the shell's `emit`
 * and `file_fact` (src/remote/*.sh). This is the only reader of that output; facts and apply results
 * are built from the typed records. Lines of any other kind are ignored: after its lock an apply
 * script's output also carries what the programs it ran printed (its log).
 */

export type RemoteRecord =
  // Any script
  | { kind: "locked"; holder: string } // gave up waiting for the run lock; the holder as it wrote itself
  | { kind: "warning"; message: string }
  // Facts
  | { kind: "no-postfix" }
  | { kind: "postconf_error"; message: string }
  | { kind: "version"; version: string }
  | { kind: "default_type"; type: string }
  | { kind: "types"; types: string[] }
  | { kind: "running"; running: boolean }
  | { kind: "postconf_n"; text: string }
  | { kind: "sasl_plugins"; files: string[] } // file names in the SASL plugin directories
  | { kind: "distro"; id: string; like: string[] } // /etc/os-release ID and ID_LIKE
  | { kind: "sasl_plugin_dir"; dir: string } // a SASL plugin directory that exists
  | { kind: "unknown_parameter"; name: string } // a parameter name Postfix does not know
  // Verify (src/remote/verify.sh)
  | { kind: "myorigin"; value: string } // expanded; the first line of the file it names
  | { kind: "helo"; value: string } // smtp_helo_name, expanded
  | { kind: "default_transport"; value: string }
  | { kind: "sasl_clients"; clients: string[] } // postconf -A
  | { kind: "getent" } // the host has getent
  | { kind: "address"; name: string; address: string } // empty: the name does not resolve
  | { kind: "ca"; pem: string } // the CA certificates Postfix's SMTP client trusts
  | { kind: "log_start"; since: number; offset: number; file: string } // file "": the journal only
  | { kind: "refused"; messageId: string; reason: string } // sendmail refused a test message
  | { kind: "mail_log"; text: string } // what the mail log gained since log_start
  | FileRecord
  // Apply and rollback
  | { kind: "wrote"; path: string }
  | { kind: "fixed"; path: string }
  | { kind: "removed"; path: string }
  | { kind: "postmap"; map: string }
  | { kind: "service"; action: string }
  | { kind: "changed"; path: string } // the file changed since the facts were read; nothing was touched
  | { kind: "error"; message: string }
  | { kind: "backup"; backup: string } // the run completed; its previous files are in this backup set
  | { kind: "rolledback"; backup: string } // restored from this backup set
  | { kind: "cancelled"; message: string } // the run stopped before changing anything (its client left)
  // Follow-up after a lost connection
  | { kind: "run_result"; output: string }; // what the run printed, kept on the host since no one read it

export interface FileRecord {
  kind: "file";
  path: string;
  /** Undefined when the file does not exist. */
  stat?: { mode: number; owner: string; group: string; mtime: number };
  /** The exact bytes, for files whose content was asked for. */
  content?: Buffer;
  /** Where a symbolic link points (the file is then the link; nothing else is read). */
  link?: string;
}

type Reader<K extends RemoteRecord["kind"]> = (fields: string[]) => Extract<RemoteRecord, { kind: K }>;

/** Free text may itself hold tabs (command output): everything after the kind is the value. */
const text = (fields: string[]) => fields.join("\t");
const words = (value: string) => value.split(" ").filter((w) => w !== "");
const base64Text = (field = "") => Buffer.from(field, "base64").toString("utf8");

const READERS: { [K in RemoteRecord["kind"]]: Reader<K> } = {
  locked: (f) => ({ kind: "locked", holder: text(f) }),
  warning: (f) => ({ kind: "warning", message: text(f) }),
  "no-postfix": () => ({ kind: "no-postfix" }),
  postconf_error: (f) => ({ kind: "postconf_error", message: text(f) }),
  version: (f) => ({ kind: "version", version: text(f) }),
  default_type: (f) => ({ kind: "default_type", type: text(f) }),
  types: (f) => ({ kind: "types", types: words(text(f)) }),
  running: (f) => ({ kind: "running", running: f[0] === "1" }),
  postconf_n: (f) => ({ kind: "postconf_n", text: base64Text(f[0]) }),
  sasl_plugins: (f) => ({ kind: "sasl_plugins", files: words(text(f)) }),
  distro: ([id = "", like = ""]) => ({ kind: "distro", id, like: words(like) }),
  sasl_plugin_dir: (f) => ({ kind: "sasl_plugin_dir", dir: text(f) }),
  unknown_parameter: (f) => ({ kind: "unknown_parameter", name: text(f) }),
  myorigin: (f) => ({ kind: "myorigin", value: text(f).trim() }),
  helo: (f) => ({ kind: "helo", value: text(f).trim() }),
  default_transport: (f) => ({ kind: "default_transport", value: text(f).trim() }),
  sasl_clients: (f) => ({ kind: "sasl_clients", clients: words(text(f)) }),
  getent: () => ({ kind: "getent" }),
  address: ([name = "", address = ""]) => ({ kind: "address", name, address: address.trim() }),
  ca: (f) => ({ kind: "ca", pem: base64Text(f[0]) }),
  log_start: ([since = "", offset = "", file = ""]) => ({
    kind: "log_start",
    since: Number(since) || 0,
    offset: Number(offset) || 0,
    file,
  }),
  refused: ([messageId = "", ...reason]) => ({ kind: "refused", messageId, reason: text(reason).trim() }),
  mail_log: (f) => ({ kind: "mail_log", text: base64Text(f[0]) }),
  file: readFile,
  wrote: (f) => ({ kind: "wrote", path: text(f) }),
  fixed: (f) => ({ kind: "fixed", path: text(f) }),
  removed: (f) => ({ kind: "removed", path: text(f) }),
  postmap: (f) => ({ kind: "postmap", map: text(f) }),
  service: (f) => ({ kind: "service", action: text(f) }),
  changed: (f) => ({ kind: "changed", path: text(f) }),
  error: (f) => ({ kind: "error", message: text(f) }),
  backup: (f) => ({ kind: "backup", backup: text(f) }),
  rolledback: (f) => ({ kind: "rolledback", backup: text(f) }),
  cancelled: (f) => ({ kind: "cancelled", message: text(f) }),
  run_result: (f) => ({ kind: "run_result", output: base64Text(f[0]) }),
};

/**
 * `file PATH missing`, `file PATH link TARGET` or `file PATH MODE OWNER GROUP MTIME [BASE64]` (no
 * BASE64: metadata only).
 */
function readFile([path = "", meta = "", content]: string[]): FileRecord {
  if (meta === "missing") return { kind: "file", path };
  if (meta === "link") return { kind: "file", path, link: content ?? "" };
  const [mode = "0", owner = "", group = "", mtime = "0"] = meta.split(" ");
  return {
    kind: "file",
    path,
    stat: { mode: parseInt(mode, 8), owner, group, mtime: Number(mtime) },
    ...(content !== undefined ? { content: Buffer.from(content, "base64") } : {}),
  };
}

export function parseRecords(output: string): RemoteRecord[] {
  const records: RemoteRecord[] = [];
  for (const line of output.split("\n")) {
    const [kind = "", ...fields] = line.split("\t");
    if (!Object.hasOwn(READERS, kind)) continue;
    records.push((READERS[kind as RemoteRecord["kind"]] as Reader<RemoteRecord["kind"]>)(fields));
  }
  return records;
}

/** The first record of a kind, typed. */
export function findRecord<K extends RemoteRecord["kind"]>(
  records: RemoteRecord[],
  kind: K,
): Extract<RemoteRecord, { kind: K }> | undefined {
  return records.find((r): r is Extract<RemoteRecord, { kind: K }> => r.kind === kind);
}
