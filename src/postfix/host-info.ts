/** What the Postfix domain needs to know about one host: facts gathered by `postconf`. Plain data. */
export interface PostfixHostInfo {
  /** Inventory name, used in error messages. */
  name: string;
  /** `postconf -h mail_version`, e.g. "3.7.11". */
  version: string;
  /** `postconf -h default_database_type`, e.g. "hash" (Debian) or "lmdb" (RHEL, Alpine, openSUSE). */
  defaultDatabaseType: string;
  /** `postconf -m`: the lookup table types this Postfix was built with. */
  supportedTypes: string[];
}
