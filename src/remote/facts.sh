# shellcheck shell=sh
# Reading a host: every fact the planner needs, as records (src/facts/parse.ts builds the facts).
# Used by the facts script and by the apply script, which re-reads the facts at its end.

# Where libsasl2 may load its plugins from (Debian's multiarch directory included) and where the
# distribution says what it is. The unit tests point them elsewhere.
SASL_PLUGIN_DIRS='/usr/lib/sasl2 /usr/lib64/sasl2 /usr/lib/*/sasl2 /usr/local/lib/sasl2'
OS_RELEASE=/etc/os-release

# postfix_facts: version, default and supported table types, whether Postfix runs, `postconf -n`.
# Without a Postfix to ask, it says so and ends the script.
postfix_facts() {
  if ! command -v postconf >/dev/null 2>&1; then emit no-postfix 1; exit 0; fi
  # A main.cf Postfix cannot parse makes every postconf fail: say what Postfix says.
  if ! out=$(postconf -h mail_version 2>&1); then
    emit postconf_error "$(printf '%s' "$out" | grep -v ': warning: ' | head -n 3 | tr '\n' ' ')"
    exit 0
  fi
  emit version "$(postconf -h mail_version 2>/dev/null)"
  emit default_type "$(postconf -h default_database_type 2>/dev/null)"
  emit types "$(postconf -m 2>/dev/null | tr '\n' ' ')"
  if postfix status >/dev/null 2>&1; then emit running 1; else emit running 0; fi
  emit postconf_n "$(postconf -n 2>/dev/null | base64 -w0)"
}

# file_fact PATH content|stat: mode, owner, group and mtime, and with `content` the bytes (base64, so
# any byte survives); `missing` when there is no such file; `link TARGET` for a symbolic link.
file_fact() {
  if [ -L "$1" ]; then
    printf 'file\t%s\tlink\t%s\n' "$1" "$(readlink -- "$1" | tr '\t\n' '  ')"
  elif [ -e "$1" ]; then
    printf 'file\t%s\t%s' "$1" "$(stat -c '%a %U %G %.9Y' -- "$1")"
    if [ "$2" = content ]; then printf '\t'; base64 -w0 < "$1"; fi
    printf '\n'
  else
    printf 'file\t%s\tmissing\n' "$1"
  fi
}

# sasl_facts: what the diagnoses need to know beyond Postfix itself: the Cyrus SASL mechanism plugins
# the host has (the file names in every directory libsasl2 may load them from; an empty list when there
# are none, "No worthy mechs found") and the distribution (/etc/os-release ID and ID_LIKE), to name the
# package that brings them. Each directory that exists is named too (`verify` says where it looked).
sasl_facts() {
  plugins=""
  # Unquoted: the list is split into words and /usr/lib/*/sasl2 expanded (multiarch directories).
  # shellcheck disable=SC2086
  for dir in $SASL_PLUGIN_DIRS; do
    [ -d "$dir" ] || continue
    emit sasl_plugin_dir "$dir"
    for f in "$dir"/lib*.so*; do
      if [ -e "$f" ]; then plugins="$plugins ${f##*/}"; fi
    done
  done
  emit sasl_plugins "$plugins"
  if [ -r "$OS_RELEASE" ]; then
    id=$(sed -n 's/^ID=//p' "$OS_RELEASE" | tr -d "\"'")
    like=$(sed -n 's/^ID_LIKE=//p' "$OS_RELEASE" | tr -d "\"'")
    printf 'distro\t%s\t%s\n' "$id" "$like"
  fi
}

# unknown_parameters NAME...: the names Postfix does not know (a typo, say): `postconf -h` only warns
# about them. It reads and writes nothing else, so a dry run can ask it.
unknown_parameters() {
  postconf -h -- "$@" 2>&1 >/dev/null |
    sed -n 's/^postconf: warning: \([A-Za-z0-9_]*\): unknown parameter$/\1/p' |
    while read -r name; do emit unknown_parameter "$name"; done
}
