# shellcheck shell=sh
# The run lock, held ON the host so that a scheduled `check` and a manual `apply`, or two applies from
# different machines, never interleave. It is a kernel flock(1) on LOCK_FILE held by the remote script
# for its whole life: it cannot go stale (the kernel drops it when the script ends, however it ends) and
# /run is emptied at boot. Reads (facts for check / dry run / apply planning) take it shared; an apply
# takes it exclusive and writes who it is into the file, so a waiter can say; it empties the file again
# when it ends. `flock -n` in a loop rather than `-w`: busybox's flock has no -w.
# Where flock(1) is missing (util-linux; busybox) the run goes on unlocked, with a warning.
#
# The lock file lives in RUN_DIR, a directory only root may enter: no other local user can open the
# file, so none can hold the lock and block every run. RUN_DIR also holds, per run, the run's log (so
# that a full /etc/postfix cannot swallow the reason it failed), the result of an apply whose client
# went away, and the note that cancels a run still waiting for the lock.

RUN_DIR=/run/provision
LOCK_FILE=$RUN_DIR/lock
# Names this run in the lock file and in backups (set by every script's settings).
RUN_ID=

# A root-only RUN_DIR; notes of runs more than a day old are dropped.
run_dir() {
  if [ ! -d "$RUN_DIR" ]; then (umask 077 && mkdir -p "$RUN_DIR") || return 1; fi
  chmod 0700 "$RUN_DIR" 2>/dev/null
  find "$RUN_DIR" -type f \( -name 'cancel-*' -o -name 'result-*' \) -mmin +1440 -exec rm -f {} \; 2>/dev/null
  return 0
}

# lock_host -s|-x SECONDS WHAT: take the lock shared or exclusive, waiting up to SECONDS for another
# run's; WHAT (apply, rollback) names an exclusive holder. Gives up with a `locked` record and status 1.
lock_host() {
  run_dir || { emit error "cannot create $RUN_DIR (provision needs root on the host: log in as root or set become: true)"; return 1; }
  if ! command -v flock >/dev/null 2>&1; then
    emit warning "flock(1) is not installed on this host: running without the run lock"
    return 0
  fi
  exec 9>>"$LOCK_FILE"
  waited=0
  until flock "$1" -n 9; do
    if [ "$waited" -ge "$2" ]; then
      emit locked "$(lock_holder)"
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  if [ "$1" = -x ]; then
    printf 'provision %s (run %s, pid %s) since %s\n' "$3" "$RUN_ID" "$$" "$(date '+%Y-%m-%d %H:%M:%S')" > "$LOCK_FILE"
  fi
}

# Who holds the lock: an apply's own note; else the holders the kernel lists in /proc/locks (their
# command line while they run; a shared holder whose locking process has exited is a check or dry run).
lock_holder() {
  note=$(head -c 300 "$LOCK_FILE" 2>/dev/null | tr '\n\t' '  ')
  if [ -n "$note" ]; then printf '%s' "$note"; return 0; fi
  inode=$(stat -c %i "$LOCK_FILE" 2>/dev/null)
  who=
  # /proc/locks: "N: FLOCK ADVISORY READ|WRITE PID MAJOR:MINOR:INODE START END"
  for holder in $(awk -v ino=":$inode" '$2 == "FLOCK" && substr($6, length($6) - length(ino) + 1) == ino { print $4 ":" $5 }' /proc/locks 2>/dev/null | head -n 3); do
    pid=${holder#*:}
    if [ -r "/proc/$pid/cmdline" ]; then
      desc="pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" | head -c 200)"
    elif [ "${holder%%:*}" = READ ]; then
      desc="a provision check or dry run reading the host"
    else
      desc="a process that is not a provision run (the lock was taken by pid $pid)"
    fi
    who="${who:+$who; }$desc"
  done
  printf '%s' "${who:-unknown}"
}

# The lock goes with the process; only the holder's note is left to clear.
unlock_note() { [ ! -w "$LOCK_FILE" ] || : > "$LOCK_FILE"; }

# After a lost connection or a timeout the client asks how its apply (RUN_ID) ended. cancel_run tells
# the run to stop if it still waits for the lock (it checks the note once it has the lock, before it
# changes anything); a run in progress holds the lock, so the shared lock taken next waits for its end.
cancel_run() {
  run_dir && : > "$RUN_DIR/cancel-$RUN_ID"
}

# What the run printed, if it could not send it (its client had gone): one run_result record.
run_result() {
  result="$RUN_DIR/result-$RUN_ID"
  [ -f "$result" ] || return 0
  emit run_result "$(base64 -w0 < "$result")"
  rm -f "$result"
}
