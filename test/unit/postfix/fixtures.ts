import type { PostfixHostInfo } from "../../../src/postfix/host-info.js";

/** Lookup table types every Postfix build here has (postconf -m), besides the indexed ones. */
const COMMON_TYPES = [
  "cidr",
  "environ",
  "fail",
  "inline",
  "internal",
  "memcache",
  "pipemap",
  "proxy",
  "randmap",
  "regexp",
  "socketmap",
  "static",
  "tcp",
  "texthash",
  "unionmap",
  "unix",
];

/** Debian bookworm's postfix 3.7.11: `postconf -m` with postfix-lmdb etc. not installed. */
export const debian: PostfixHostInfo = {
  name: "nas",
  version: "3.7.11",
  defaultDatabaseType: "hash",
  supportedTypes: [...COMMON_TYPES, "btree", "hash", "nis"].sort(),
};

/** AlmaLinux 10 / Alpine: lmdb is the default and there is no Berkeley DB (no hash). */
export const alma: PostfixHostInfo = {
  name: "pi",
  version: "3.8.5",
  defaultDatabaseType: "lmdb",
  supportedTypes: [...COMMON_TYPES, "lmdb", "pcre"].sort(),
};

export function hostWithVersion(version: string): PostfixHostInfo {
  return { ...debian, name: "oldbox", version };
}

/** The error `f` throws; fails the test when it throws nothing. */
export function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}
