# shellcheck shell=sh
# Carrying out a plan: the steps of the apply protocol. src/engine/apply-script.ts lists, per run, which
# steps run in which order and with which (quoted) arguments. A failing step calls `die`: before
# STATE=installing it just stops (nothing on the host changed), after it the run rolls back (backup.sh).

# Where Postfix's configuration lives. The run's work directory is made in it: staged files are then on
# the same file system as their targets, so installing them is an atomic rename.
POSTFIX_DIR=/etc/postfix
# Test hook for fault injection: sleep PAUSE_SECONDS at step PAUSE_STEP (see pause_point).
PAUSE_MARK=/run/provision.paused
PAUSE_STEP=
PAUSE_SECONDS=0
# main.cf parameters the playbook sets, with a space before and after each name.
OWNED=' '
# checking -> installing -> done; or rolling-back -> rolled-back.
STATE=checking
# What activate was asked to do to the service (none, reload, restart, start).
PLANNED=none

# From here on, all output goes to the run's log (in RUN_DIR, not in /etc/postfix, which may be full)
# and hang-ups are ignored, so a lost connection does not stop the script halfway: it finishes (or
# rolls back) on its own; `finish` sends the log. A run whose client gave up on it while it waited for
# the lock (a cancel note, see follow_up) stops here, before it changes anything.
start_work() {
  umask 077
  LOG="$RUN_DIR/log-$RUN_ID"
  if ! : > "$LOG"; then emit error "cannot write the run's log in $RUN_DIR"; exit 0; fi
  exec 3>&1 >"$LOG" 2>&1
  trap '' HUP PIPE
  if [ -e "$RUN_DIR/cancel-$RUN_ID" ]; then
    rm -f "$RUN_DIR/cancel-$RUN_ID"
    emit cancelled "the client lost its connection while this run waited for the run lock"
    finish
  fi
  if ! WORK=$(mktemp -d "$POSTFIX_DIR/.provision-run.XXXXXX" 2>&1); then
    out=$WORK; WORK=
    die "cannot create a work directory in $POSTFIX_DIR: $(oneline "$out")$(space_note "$POSTFIX_DIR")"
  fi
  if postfix status >/dev/null 2>&1; then WAS_RUNNING=1; else WAS_RUNNING=0; fi
}

# The log goes back to the client. If it cannot be sent (the client went away), it stays in RUN_DIR as
# the run's result for the client's follow-up (follow_up) to read. A run that stopped before changing
# anything leaves no backup set behind.
finish() {
  case $STATE in
    done) prune_backups ;;
    checking) [ -z "${OWN_BACKUP:-}" ] || rm -rf "$OWN_BACKUP" ;;
  esac
  [ -z "${WORK:-}" ] || rm -rf "$WORK"
  if cat "$LOG" >&3 2>/dev/null; then rm -f "$LOG"; else mv -f "$LOG" "$RUN_DIR/result-$RUN_ID"; fi
  unlock_note
  exit 0
}

die() {
  emit error "$1"
  if [ "$STATE" = installing ]; then rollback "$1"; fi
  finish
}

# space_note DIR: " (DIR is full: N KiB free)" when its file system is (nearly) full.
space_note() {
  df -Pk "$1" 2>/dev/null | awk -v dir="$1" 'NR == 2 && $4 < 1024 { printf " (%s is full: %s KiB free on %s)", dir, $4, $6 }'
}

# expect_file PATH SHA256|absent: the file is still as the facts saw it, else nothing is done. A link
# is never written through nor replaced (the facts refuse such a host; this holds if one appears since).
expect_file() {
  if [ -L "$1" ]; then die "$1 is a symbolic link; provision does not write through links nor replace them. Nothing was changed"; fi
  if [ "$2" = absent ]; then
    [ -e "$1" ] || return 0
  elif [ -f "$1" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$2" ]; then
    return 0
  fi
  emit changed "$1"
  die "$1 changed after it was read (another provision run or a hand edit); nothing was changed, run again"
}

# stage N MODE BASE64: the new content of file N, created 0600 under umask 077 (never readable by
# others, even for an instant), then synced, owned by root and given its mode.
stage() {
  if ! out=$( { printf '%s' "$3" | base64 -d > "$WORK/stage.$1"; } 2>&1); then
    die "cannot write a staged file in $POSTFIX_DIR: $(oneline "$out")$(space_note "$POSTFIX_DIR")"
  fi
  { sync "$WORK/stage.$1" && chown root:root "$WORK/stage.$1" && chmod "$2" "$WORK/stage.$1"; } \
    || die "cannot prepare a staged file"
}

# validate_main N: Postfix must accept staged file N as main.cf; warnings are passed on.
validate_main() {
  { mkdir "$WORK/conf" && cp -p "$WORK/stage.$1" "$WORK/conf/main.cf"; } || die "cannot stage main.cf"
  [ ! -f "$POSTFIX_DIR/master.cf" ] || cp -p "$POSTFIX_DIR/master.cf" "$WORK/conf/master.cf"
  if ! out=$(postconf -c "$WORK/conf" -n 2>&1 >/dev/null); then
    die "Postfix rejects the new main.cf (nothing was changed): $(printf '%s' "$out" | grep -v ': warning: ' | tr '\n' ' ')"
  fi
  warnings=$(printf '%s\n' "$out" | grep ': warning: ' | sed "s|$WORK/conf/|$POSTFIX_DIR/|g" | sort -u)
  # "unused parameter" = Postfix does not know it: for a parameter the playbook sets, that is a typo.
  for name in $(printf '%s\n' "$warnings" | sed -n 's/.*unused parameter: \([^=]*\)=.*/\1/p'); do
    case "$OWNED" in *" $name "*) die "Postfix does not know the parameter $name (postconf: unused parameter); check its spelling. Nothing was changed" ;; esac
  done
  printf '%s\n' "$warnings" | while IFS= read -r line; do
    [ -z "$line" ] || emit warning "new main.cf: ${line#*warning: }"
  done
}

# install N PATH: staged file N replaces PATH (atomic rename).
install() {
  mv -f "$WORK/stage.$1" "$2" || die "cannot install $2"
  emit wrote "$2"
}

remove() {
  rm -f "$1" || die "cannot remove $1"
  emit removed "$1"
}

# fix PATH MODE: root:root and MODE.
fix() {
  { chown root:root "$1" && chmod "$2" "$1"; } || die "cannot set owner and mode of $1"
  emit fixed "$1"
}

# pmap TYPE:PATH INDEX...: build the index in the run's work directory, which no one else may enter
# (postmap gives a new index mode 0644, and rewrites an existing one in place, where a reader holding
# it open would see the new content), make each index file root 0600, then rename it into place.
pmap() {
  map=$1; type=${1%%:*}; source=${1#*:}; shift
  built="$WORK/index/${source##*/}"
  { mkdir -p "$WORK/index" && cp "$source" "$built"; } || die "cannot prepare the index of $source$(space_note "$POSTFIX_DIR")"
  out=$(postmap "$type:$built" 2>&1 </dev/null) \
    || die "postmap $map failed: $(oneline "$out" | sed "s|$WORK/index/|${source%/*}/|g")$(space_note "$POSTFIX_DIR")"
  [ -z "$out" ] || emit warning "postmap $map: $(oneline "$out" | sed "s|$WORK/index/|${source%/*}/|g")"
  for index in "$@"; do
    file="$WORK/index/${index##*/}"
    { [ -f "$file" ] && chown root:root "$file" && chmod 600 "$file" && mv -f "$file" "$index"; } \
      || die "cannot install $index (postmap $map did not build it, or it cannot be moved into place)"
  done
  rm -f "$built"
  emit postmap "$map"
}

pause_point() {
  [ "$PAUSE_STEP" = "$1" ] || return 0
  : > "$PAUSE_MARK-$1"
  sleep "$PAUSE_SECONDS"
  rm -f "$PAUSE_MARK-$1"
}

postfix_check() {
  log_mark
  if ! out=$(postfix check 2>&1 </dev/null); then
    # Postfix 3.5-3.7 print a fatal error of the postfix command only to a terminal (else to syslog,
    # which a host may not run): ask once more on one. `postfix check` changes nothing.
    if [ -z "$out" ] && command -v script >/dev/null 2>&1; then
      out=$(script -qec "postfix check" /dev/null 2>&1 </dev/null | tr -d '\r')
    fi
    die "postfix check failed: $(because "$out")"
  fi
  # main.cf warnings were reported by validate_main already; postfix check repeats them many times
  out=$(printf '%s\n' "$out" | grep -v 'unused parameter: ' | sort -u)
  [ -z "$out" ] || emit warning "postfix check: $(oneline "$out")"
}
