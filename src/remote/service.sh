# shellcheck shell=sh
# Starting, reloading and restarting Postfix. Start and restart go through the service manager where
# there is one, so that it tracks the master process (and on Debian runs configure-instance.sh, which
# refreshes the chroot copies of /etc/hosts...). A restart is proven, not assumed: afterwards a new
# master process runs (only a new master reads the settings that need a restart, e.g. inet_interfaces).

# Present when systemd runs the host.
SYSTEMD_DIR=/run/systemd/system
# Postfix's init script, for `service` (Debian's sysvinit) and OpenRC's `rc-service`.
POSTFIX_INIT=/etc/init.d/postfix
# Where Postfix logs when main.cf sets no maillog_file (Debian's rsyslog); else the journal is read.
MAIL_LOG=/var/log/mail.log

service_tool() {
  if [ -d "$SYSTEMD_DIR" ] && command -v systemctl >/dev/null 2>&1; then echo systemctl
  elif command -v service >/dev/null 2>&1 && [ -x "$POSTFIX_INIT" ]; then echo service
  elif command -v rc-service >/dev/null 2>&1 && [ -x "$POSTFIX_INIT" ]; then echo rc-service
  else echo postfix; fi
}

# The master's PID from its pid file ("" when unknown).
master_pid() {
  queue=$(postconf -h queue_directory 2>/dev/null)
  [ -n "$queue" ] && [ -r "$queue/pid/master.pid" ] && tr -dc '0-9' < "$queue/pid/master.pid"
}

# A master started by hand (`postfix start`) on a systemd host runs outside Postfix's unit; the unit
# then cannot start its own master ("already running", Debian 11/12) and a restart through it changes
# nothing. True when the running master is in no postfix unit's cgroup.
outside_unit() {
  pid=$(master_pid)
  [ -n "$pid" ] && [ -r "/proc/$pid/cgroup" ] && ! grep -q 'postfix' "/proc/$pid/cgroup"
}

# pf_service start|restart
pf_service() {
  case $(service_tool) in
    systemctl)
      if outside_unit; then postfix stop </dev/null; fi
      systemctl "$1" postfix </dev/null ;;
    service) service postfix "$1" </dev/null ;;
    rc-service) rc-service postfix "$1" </dev/null ;;
    *) if [ "$1" = restart ]; then postfix stop </dev/null; postfix start </dev/null; else postfix "$1" </dev/null; fi ;;
  esac
}
pf_start() { pf_service start; }
pf_restart() { pf_service restart; }

pf_running() {
  # master may still be starting: give it a moment before calling it dead
  for _ in 1 2 3 4 5 6 7 8 9 10; do postfix status >/dev/null 2>&1 && return 0; sleep 0.3; done
  return 1
}

# Postfix writes the reason of some failures (postfix check, a master that does not start) only to its
# log when stderr is no terminal: remember where the log ends before acting, to quote what it adds.
log_mark() {
  LOG_FILE=$(postconf -h maillog_file 2>/dev/null)
  [ -n "$LOG_FILE" ] || LOG_FILE=$MAIL_LOG
  if [ -f "$LOG_FILE" ]; then LOG_OFFSET=$(wc -c < "$LOG_FILE"); else LOG_FILE=; fi
  LOG_SINCE=$(date +%s)
}

# What the log gained since log_mark: from the log file, else (a host logging to the journal only) from
# the journal.
log_since() {
  if [ -n "${LOG_FILE:-}" ] && [ -f "$LOG_FILE" ]; then
    tail -c +"$((LOG_OFFSET + 1))" "$LOG_FILE" 2>/dev/null
  elif command -v journalctl >/dev/null 2>&1 && [ -n "${LOG_SINCE:-}" ]; then
    journalctl -q --no-pager -o cat --since "@$LOG_SINCE" 2>/dev/null
  fi
  return 0
}

# The error lines Postfix and the service manager logged since log_mark, on one line.
log_reason() {
  lines=$(log_since)
  printf '%s\n' "$lines" | grep -E '(fatal|error|panic|warning): |[Ff]ailed' | sed 's/^.*postfix[^ ]*: //' \
    | awk '!seen[$0]++' | tail -n 5 | tr '\n' ' ' | sed 's/ *$//'
}

# because OUTPUT: why a command failed: what it printed, else what the log says; never empty.
because() {
  reason=$(printf '%s' "$1" | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ *$//')
  case $reason in "" | *"See \"systemctl status"* | *"journalctl -xe"*) reason="$reason $(log_reason)" ;; esac
  reason=$(printf '%s' "$reason" | sed 's/^ *//; s/ *$//')
  printf '%s' "${reason:-it gave no reason, neither on stderr nor in the mail log}"
}

# activate none|reload|restart|start: what the plan needs; Postfix must be running afterwards, and after
# a restart with a new master process.
activate() {
  PLANNED=$1
  before=
  case $1 in none) return 0 ;; esac
  log_mark
  case $1 in
    reload)
      if [ "$WAS_RUNNING" = 1 ]; then out=$(postfix reload 2>&1 </dev/null) || die "postfix reload failed: $(because "$out")"
      else out=$(pf_start 2>&1) || die "starting Postfix failed: $(because "$out")"; fi ;;
    restart)
      before=$(master_pid)
      out=$(pf_restart 2>&1) || die "restarting Postfix failed: $(because "$out")" ;;
    start) out=$(pf_start 2>&1) || die "starting Postfix failed: $(because "$out")" ;;
  esac
  pf_running || die "Postfix is not running after $1: $(because "$out")"
  if [ -n "$before" ]; then
    after=
    for _ in 1 2 3 4 5 6 7 8 9 10; do after=$(master_pid); [ -z "$after" ] || [ "$after" = "$before" ] || break; sleep 0.3; done
    [ "$after" != "$before" ] \
      || die "Postfix was not restarted: the master process (pid $before) is still the one from before, so the settings that need a restart are not live. $(log_reason)"
  fi
  if [ "$1" != reload ] && [ "$(service_tool)" = systemctl ] && outside_unit; then
    die "Postfix runs outside its systemd unit after $1 (its master was started by hand); systemd cannot manage it"
  fi
  emit service "$1"
}
