import type { PostfixHostInfo } from "../../../src/postfix/host-info.js";

/** Debian bookworm's postfix 3.7.11: `postconf -m` with postfix-lmdb etc. not installed. */
export const debian: PostfixHostInfo = {
  name: "nas",
  version: "3.7.11",
  defaultDatabaseType: "hash",
  supportedTypes: [
    "btree",
    "cidr",
    "environ",
    "fail",
    "hash",
    "inline",
    "internal",
    "memcache",
    "nis",
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
  ],
};

/** AlmaLinux 10 / Alpine: lmdb is the default and there is no Berkeley DB (no hash). */
export const alma: PostfixHostInfo = {
  name: "pi",
  version: "3.8.5",
  defaultDatabaseType: "lmdb",
  supportedTypes: [
    "cidr",
    "environ",
    "fail",
    "inline",
    "internal",
    "lmdb",
    "memcache",
    "pcre",
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
  ],
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
