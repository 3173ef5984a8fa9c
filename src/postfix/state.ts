import type { Secret } from "../secrets/secret.js";

/**
 * The desired Postfix state of ONE host: the merge of every play that matches it, with `{{ vars }}`
 * substituted and secrets resolved. This is the contract between the playbook loader and the Postfix
 * domain; it is plain data.
 */

/** A relay next-hop as the user wrote it: host, optional port (number or service name), MX lookup. */
export interface NextHop {
  host: string;
  /** Number or service name (e.g. "submission"); undefined = Postfix's default, 25. */
  port?: string | number;
  /** false (default) = written in [brackets]: no MX lookup. */
  mx: boolean;
}

export interface RelaySpec extends NextHop {
  username?: string;
  password?: Secret;
  /** smtp_tls_security_level; default "encrypt" when credentials are set. */
  tls?: string;
  /** -> smtp_sasl_mechanism_filter, e.g. ["plain", "login"]. */
  mechanisms?: string[];
  /** -> smtp_sasl_security_options and smtp_sasl_tls_security_options; default ["noanonymous"]. */
  securityOptions?: string[];
}

export interface SenderSpec {
  relay: NextHop;
  username?: string;
  password?: Secret;
}

/** Any other lookup table: /etc/postfix/NAME, referenced by `parameter`. */
export interface ExtraTableSpec {
  /** Table type, or "auto"/undefined for the play's table_type. */
  type?: string;
  parameter: string;
  entries: Record<string, string>;
}

export interface PostfixState {
  /** "auto" = the host's default_database_type, or an explicit type such as "hash", "lmdb". */
  tableType: string;
  /** main.cf parameters this state owns; null = remove the parameter. */
  main: Record<string, string | null>;
  generic?: Record<string, string>;
  canonical?: Record<string, string>;
  virtual?: Record<string, string>;
  relay?: RelaySpec;
  senders?: Record<string, SenderSpec>;
  tables?: Record<string, ExtraTableSpec>;
}
