/** What one round trip learns about a host (see facts/script.ts). Plain data. */

export interface RemoteFile {
  path: string;
  exists: boolean;
  /** Permission bits, e.g. 0o600. */
  mode?: number;
  owner?: string;
  group?: string;
  /** Modification time, seconds since the epoch (fractional). */
  mtime?: number;
  /** Content, for files whose content was asked for (main.cf and table sources). */
  content?: string;
  /** SHA-256 of the content as stored (hex), to tell later whether the file changed since it was read. */
  sha256?: string;
  /** False when the bytes are not valid UTF-8 (content then holds replacement characters). */
  utf8?: boolean;
}

export interface HostFacts {
  /** Warnings the remote script printed (e.g. no flock on the host). */
  warnings: string[];
  /** `postconf -h mail_version`, e.g. "3.7.11". */
  version: string;
  defaultDatabaseType: string;
  /** `postconf -m`. */
  supportedTypes: string[];
  running: boolean;
  /** `postconf -n` as printed. */
  postconfN: string;
  files: Map<string, RemoteFile>;
  /**
   * Names of the Cyrus SASL plugins the host has ("plain", "login", ...); undefined when the facts did
   * not say (output recorded before this fact existed).
   */
  saslPlugins?: string[];
  /** /etc/os-release ID and ID_LIKE, to name packages; undefined when the host has no os-release. */
  distro?: { id: string; like: string[] };
  /** Of the parameter names asked about (FactRequest.parameters), those Postfix does not know. */
  unknownParameters?: string[];
}

/** What reports keep of a host's facts (no file contents). */
export type FactsSummary = Omit<
  HostFacts,
  "warnings" | "files" | "saslPlugins" | "distro" | "unknownParameters"
>;

export function factsSummary(facts: HostFacts): FactsSummary {
  return {
    version: facts.version,
    defaultDatabaseType: facts.defaultDatabaseType,
    supportedTypes: facts.supportedTypes,
    running: facts.running,
    postconfN: facts.postconfN,
  };
}
