# shellcheck shell=sh
# Reading a host: every fact the planner needs, as records (src/facts/parse.ts builds the facts).
# Used by the facts script and by the apply script, which re-reads the facts at its end.

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
