import { shellQuote } from "../transport/shell.js";

/**
 * What the probe needs to know from the host itself, read in one remote command: its Postfix (version,
 * table types, myorigin, SASL client), the SASL plugins it has, its distribution (to name a missing
 * package), each relay name as the host resolves it (getent: the host's resolver, /etc/hosts included),
 * and, when a path asks for certificate checks, the CA certificates the host trusts.
 */

export interface VerifyHostFacts {
  version: string;
  defaultDatabaseType: string;
  supportedTypes: string[];
  /** myorigin, expanded; read from the file when it names one (Debian: /etc/mailname). */
  myorigin: string;
  /** postconf -A: the SASL client implementations ("cyrus"). */
  saslClients: string[];
  defaultTransport: string;
  /** smtp_helo_name, expanded: what Postfix says in EHLO. */
  helo: string;
  /** /etc/os-release ID and ID_LIKE words. */
  distribution: string[];
  pluginDirs: string[];
  /** Plugin stems: libplain.so -> "plain". */
  plugins: string[];
  /** name -> first address the host resolves it to; a name missing here does not resolve. */
  addresses: Map<string, string>;
  /** The host has getent; without it (a minimal system) the host's sshd resolves names itself. */
  getent: boolean;
  /** PEM of the CA certificates Postfix on the host would trust; undefined if not asked for or none. */
  caCertificates?: string;
}

/**
 * Sent on stdin as root; `names` are relay host names (validated DNS names or IPv4, quoted anyway).
 * `main` is the playbook's main.cf: its myorigin, mydomain and myhostname count even before an apply
 * (`postconf -o`, Postfix >= 2.10), so the sender probed is the one the playbook makes.
 */
export function hostFactsScript(
  names: string[],
  wantCa: boolean,
  main: Record<string, string | null>,
): string {
  const overrides = ["myorigin", "mydomain", "myhostname"]
    .filter((name) => typeof main[name] === "string")
    .map((name) => `-o ${shellQuote(`${name}=${main[name]}`)}`)
    .join(" ");
  return `
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
say() { printf '%s\\t%s\\n' "$1" "$2"; }
say version "$(postconf -h mail_version 2>/dev/null)"
say default_type "$(postconf -h default_database_type 2>/dev/null)"
say types "$(postconf -m 2>/dev/null | tr '\\n' ' ')"
origin=$(postconf ${overrides} -x -h myorigin 2>/dev/null || postconf -x -h myorigin 2>/dev/null)
case $origin in /*) origin=$(head -n 1 "$origin" 2>/dev/null) ;; esac
say myorigin "$origin"
say sasl_clients "$(postconf -A 2>/dev/null | tr '\\n' ' ')"
say default_transport "$(postconf -x -h default_transport 2>/dev/null)"
say helo "$(postconf ${overrides} -x -h smtp_helo_name 2>/dev/null || postconf -x -h smtp_helo_name 2>/dev/null)"
if [ -r /etc/os-release ]; then (. /etc/os-release; say distribution "\${ID:-} \${ID_LIKE:-}"); fi
for dir in /usr/lib/sasl2 /usr/lib64/sasl2 /usr/lib/*/sasl2 /usr/local/lib/sasl2; do
  [ -d "$dir" ] || continue
  say plugin_dir "$dir"
  for file in "$dir"/lib*.so*; do [ -e "$file" ] && say plugin "\${file##*/}"; done
done
command -v getent >/dev/null 2>&1 && say getent yes
for name in ${names.map(shellQuote).join(" ")}; do
  say address "$name $(getent ahosts "$name" 2>/dev/null | awk 'NR == 1 { print $1 }')"
done
${wantCa ? caScript() : ""}
true
`;
}

/** Postfix trusts smtp_tls_CAfile / smtp_tls_CApath; Debian's and RHEL's bundles hold what CApath holds. */
function caScript(): string {
  return `
ca=$(postconf -x -h smtp_tls_CAfile 2>/dev/null)
for file in "$ca" /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  if [ -n "$file" ] && [ -r "$file" ]; then
    base64 < "$file" | tr -d '\\n' | { printf 'ca\\t'; cat; printf '\\n'; }
    break
  fi
done`;
}

export function parseHostFacts(stdout: string): VerifyHostFacts {
  const facts: VerifyHostFacts = {
    version: "",
    defaultDatabaseType: "",
    supportedTypes: [],
    myorigin: "",
    saslClients: [],
    defaultTransport: "",
    helo: "",
    distribution: [],
    pluginDirs: [],
    plugins: [],
    addresses: new Map(),
    getent: false,
  };
  const words = (text: string) => text.split(/\s+/).filter((w) => w !== "");
  for (const line of stdout.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const key = line.slice(0, tab);
    const value = line.slice(tab + 1).trim();
    if (key === "version") facts.version = value;
    else if (key === "default_type") facts.defaultDatabaseType = value;
    else if (key === "types") facts.supportedTypes = words(value);
    else if (key === "myorigin") facts.myorigin = value;
    else if (key === "sasl_clients") facts.saslClients = words(value);
    else if (key === "default_transport") facts.defaultTransport = value;
    else if (key === "helo") facts.helo = value;
    else if (key === "distribution") facts.distribution = words(value.toLowerCase());
    else if (key === "plugin_dir") facts.pluginDirs.push(value);
    else if (key === "plugin") {
      const stem = /^lib(.+?)\.so/.exec(value)?.[1];
      if (stem && !facts.plugins.includes(stem)) facts.plugins.push(stem);
    } else if (key === "address") {
      const [name, address] = words(value);
      if (name && address) facts.addresses.set(name, address);
    } else if (key === "getent") {
      facts.getent = true;
    } else if (key === "ca" && value !== "") {
      facts.caCertificates = Buffer.from(value, "base64").toString("utf8");
    }
  }
  return facts;
}
