# shellcheck shell=sh
# What `provision verify` reads on a host and does there, as records (src/verify/host-facts.ts and
# send-test.ts read them). Postfix's version and tables, the SASL plugins and the distribution come from
# facts.sh (postfix_facts, sasl_facts): the same facts the planner and the diagnoses use. The mail log
# position is service.sh's log_mark.

# The system CA bundles of Debian and of RHEL (the unit tests point them elsewhere).
CA_BUNDLE_DEBIAN=/etc/ssl/certs/ca-certificates.crt
CA_BUNDLE_RHEL=/etc/pki/tls/certs/ca-bundle.crt

# sender_identity NAME=VALUE...: the names Postfix says itself with (myorigin, the EHLO name), the
# default transport and the SASL client implementations. The arguments are the playbook's myorigin,
# mydomain and myhostname: they count before any apply (postconf -o, Postfix >= 2.10; an older postconf
# refuses -o, then the host's own values are read).
sender_identity() {
  # Each NAME=VALUE becomes `-o NAME=VALUE`: "$@" is the only list POSIX sh has.
  n=$#
  while [ "$n" -gt 0 ]; do
    set -- "$@" -o "$1"
    shift
    n=$((n - 1))
  done
  origin=$(postconf "$@" -x -h myorigin 2>/dev/null || postconf -x -h myorigin 2>/dev/null)
  # myorigin may name a file holding the name (Debian: /etc/mailname).
  case $origin in /*) origin=$(head -n 1 "$origin" 2>/dev/null) ;; esac
  emit myorigin "$origin"
  emit helo "$(postconf "$@" -x -h smtp_helo_name 2>/dev/null || postconf -x -h smtp_helo_name 2>/dev/null)"
  emit default_transport "$(postconf -x -h default_transport 2>/dev/null)"
  emit sasl_clients "$(oneline "$(postconf -A 2>/dev/null)")"
}

# resolve_names NAME...: the first address the host resolves each relay name to, by its own resolver
# (getent: /etc/hosts included), as Postfix would. An empty address: the name does not resolve. Without
# getent (a minimal system) no `getent` record: the host's sshd then resolves the names itself.
resolve_names() {
  if command -v getent >/dev/null 2>&1; then emit getent yes; fi
  for name; do
    printf 'address\t%s\t%s\n' "$name" "$(getent ahosts "$name" 2>/dev/null | awk 'NR == 1 { print $1 }')"
  done
}

# trusted_cas: the CA certificates Postfix's SMTP client would trust (smtp_tls_CAfile, else the system
# bundle of Debian or RHEL, which holds what smtp_tls_CApath holds), base64: a PEM is many lines.
trusted_cas() {
  for file in "$(postconf -x -h smtp_tls_CAfile 2>/dev/null)" "$CA_BUNDLE_DEBIAN" "$CA_BUNDLE_RHEL"; do
    if [ -n "$file" ] && [ -r "$file" ]; then
      emit ca "$(base64 -w0 < "$file")"
      return 0
    fi
  done
}

# log_start: where the mail log stands before the test messages, so that only what they cause is read
# back (read_log): the file and its size, and the time for a host that logs to the journal only.
log_start() {
  log_mark
  printf 'log_start\t%s\t%s\t%s\n' "$LOG_SINCE" "${LOG_OFFSET:-0}" "$LOG_FILE"
}

# send_message SENDER RECIPIENT MESSAGE_ID TEXT: hand one message to the host's own Postfix, so that it
# takes the route real mail takes. A message sendmail refuses outright is said at once (`refused`).
# -N never: a test message that bounces sends no notice back to its sender (through the relay).
send_message() {
  if ! out=$(printf '%s' "$4" | sendmail -N never -f "$1" -- "$2" 2>&1); then
    printf 'refused\t%s\t%s\n' "$3" "$(oneline "$out")"
  fi
}

# read_log SINCE OFFSET FILE: what the mail log gained since log_start (its three fields), base64.
read_log() {
  LOG_SINCE=$1 LOG_OFFSET=$2 LOG_FILE=$3
  emit mail_log "$(log_since | base64 -w0)"
}

# flush_messages QUEUE_ID...: deliver these now; qmgr may be waiting out a backoff.
flush_messages() {
  for id; do postqueue -i "$id" >/dev/null 2>&1; done
  return 0
}

# drop_messages QUEUE_ID...: delete test messages given up on, so they neither retry for days nor bounce.
drop_messages() {
  for id; do postsuper -d "$id" >/dev/null 2>&1; done
  return 0
}
