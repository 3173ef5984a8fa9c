# shellcheck shell=sh
# The run lock, held ON the host so that a scheduled `check` and a manual `apply`, or two applies from
# different machines, never interleave. It is a kernel flock(1) on LOCK_FILE held by the remote script
# for its whole life: it cannot go stale (the kernel drops it when the script ends, however it ends) and
# /run is emptied at boot. Reads (facts for check / dry run / apply planning) take it shared; an apply
# takes it exclusive and writes who it is into the file, so a waiter can say; it empties the file again
# when it ends. `flock -n` in a loop rather than `-w`: busybox's flock has no -w.
# Where flock(1) is missing (util-linux; busybox) the run goes on unlocked, with a warning.

LOCK_FILE=/run/provision.lock
# Names this run in the lock file and in backups (set by every script's settings).
RUN_ID=

# lock_host -s|-x SECONDS WHAT: take the lock shared or exclusive, waiting up to SECONDS for another
# run's; WHAT (apply, rollback) names an exclusive holder. Gives up with a `locked` record and status 1.
lock_host() {
  if ! command -v flock >/dev/null 2>&1; then
    emit warning "flock(1) is not installed on this host: running without the run lock"
    return 0
  fi
  exec 9>>"$LOCK_FILE"
  waited=0
  until flock "$1" -n 9; do
    if [ "$waited" -ge "$2" ]; then
      holder=$(head -c 300 "$LOCK_FILE" 2>/dev/null | tr '\n\t' '  ')
      emit locked "${holder:-a read-only run (check or dry run)}"
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  if [ "$1" = -x ]; then
    printf 'provision %s (run %s, pid %s) since %s\n' "$3" "$RUN_ID" "$$" "$(date '+%Y-%m-%d %H:%M:%S')" > "$LOCK_FILE"
  fi
}

# The lock goes with the process; only the holder's note is left to clear.
unlock_note() { [ ! -w "$LOCK_FILE" ] || : > "$LOCK_FILE"; }
