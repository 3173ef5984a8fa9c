# shellcheck shell=sh
# Backups of the files a run changes, and rolling back to them. A backup set is a directory
# BACKUP_ROOT/TIME-RUNID holding `files/` (copies under their full paths) and `manifest`: one line per
# file the run may touch, `saved<TAB>PATH` or `absent<TAB>PATH` (rolling back removes it again).

BACKUP_ROOT=/var/backups/provision
# Backup sets kept per host.
BACKUPS_KEPT=5

begin_backup() {
  { mkdir -p "$BACKUP_ROOT" && chmod 0700 "$BACKUP_ROOT"; } || die "cannot create the backup directory $BACKUP_ROOT"
  BACKUP="$BACKUP_ROOT/$(printf '%08d' "$(($(last_sequence) + 1))")-$(date +%Y%m%dT%H%M%S)-$RUN_ID"
  out=$(mkdir -m 0700 "$BACKUP" 2>&1) || die "cannot create the backup directory $BACKUP: $(oneline "$out")"
  OWN_BACKUP=$BACKUP
  : > "$BACKUP/manifest"
}

# The highest sequence number of the backup sets (0 when none). Sets are ordered by it, not by the
# time in their names: a host's clock can be behind (no clock battery) or jump.
last_sequence() {
  last=0
  for dir in "$BACKUP_ROOT"/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-*/; do
    [ -d "$dir" ] || continue
    n=${dir#"$BACKUP_ROOT"/}; n=${n%%-*}
    n=$(printf '%s' "$n" | sed 's/^0*//'); n=${n:-0}
    [ "$n" -le "$last" ] || last=$n
  done
  printf '%s' "$last"
}

# Every file is saved and the manifest complete: a rollback trusts only a complete manifest.
end_backup() {
  printf 'complete\t\n' >> "$BACKUP/manifest" || die "cannot write the backup manifest"
}

# save PATH: into the backup set, or noted absent.
save() {
  if [ -e "$1" ]; then
    { mkdir -p "$BACKUP/files$(dirname "$1")" && cp -p "$1" "$BACKUP/files$1"; } || die "cannot back up $1"
    printf 'saved\t%s\n' "$1" >> "$BACKUP/manifest" || die "cannot write the backup manifest"
  else
    printf 'absent\t%s\n' "$1" >> "$BACKUP/manifest" || die "cannot write the backup manifest"
  fi
}

# The run is done: its backup set is the one a rollback after the final verification may restore.
emit_backup() {
  printf '%s\n' "$RUN_ID" > "$BACKUP_ROOT/last"
  emit backup "$BACKUP"
}

# Keep the newest BACKUPS_KEPT sets, and always this run's. Oldest first: sets named by an earlier
# version (TIME-RUNID, no sequence number) in name order, then numbered sets in sequence order.
prune_backups() {
  sets=$( {
    for dir in "$BACKUP_ROOT"/*/; do
      [ -d "$dir" ] || continue
      case ${dir#"$BACKUP_ROOT"/} in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-*) ;; *) printf '%s\n' "$dir" ;; esac
    done
    for dir in "$BACKUP_ROOT"/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-*/; do [ ! -d "$dir" ] || printf '%s\n' "$dir"; done
  })
  n=$(printf '%s\n' "$sets" | grep -c .)
  for old in $sets; do
    [ "$n" -gt "$BACKUPS_KEPT" ] || break
    [ "${old%/}" = "$BACKUP" ] || rm -rf "$old"
    n=$((n - 1))
  done
}

# purge_saved SOURCE: the credentials table SOURCE is retired (no credentials declared any more): remove
# its copies, and its indexes', from every older backup set, so old passwords do not linger in them.
# This run's own set keeps them until it is pruned: a rollback of this run must be able to restore them.
purge_saved() {
  for dir in "$BACKUP_ROOT"/*/; do
    if [ ! -d "$dir/files" ] || [ "${dir%/}" = "$BACKUP" ]; then continue; fi
    for copy in "$dir/files$1" "$dir/files$1".*; do
      [ ! -e "$copy" ] || rm -f "$copy"
    done
  done
}

# restore_file PATH: a copy next to it, then an atomic rename.
restore_file() {
  tmp=$(mktemp "$(dirname "$1")/.provision-restore.XXXXXX") && cp -p "$BACKUP/files$1" "$tmp" && mv -f "$tmp" "$1"
}

# rollback REASON: restore every file of the manifest, bring the service back to the previous
# configuration, say how that went (`rolledback`, or an error naming what could not be restored), end.
rollback() {
  STATE=rolling-back
  failed=
  if ! grep -q '^complete' "$BACKUP/manifest" 2>/dev/null; then
    emit error "ROLLBACK INCOMPLETE: the backup set $BACKUP is missing or incomplete, so nothing was restored; the host keeps the files this run wrote"
    STATE=rolled-back
    finish
  fi
  while IFS="$(printf '\t')" read -r kind path; do
    case $kind in
      saved) restore_file "$path" || failed="$failed $path" ;;
      absent) rm -f "$path" || failed="$failed $path" ;;
    esac
  done < "$BACKUP/manifest"
  down=
  if [ "$WAS_RUNNING" = 1 ] || [ "$PLANNED" != none ]; then
    if [ "$PLANNED" = restart ] || ! postfix status >/dev/null 2>&1; then out=$(pf_restart 2>&1)
    else out=$(postfix reload 2>&1 </dev/null); fi
    pf_running || down=" Postfix is NOT running with the previous configuration either: $(oneline "$out")"
  fi
  if [ -n "$failed" ]; then emit error "ROLLBACK INCOMPLETE, could not restore:$failed (backup in $BACKUP).$down"
  elif [ -n "$down" ]; then emit error "files restored from $BACKUP, but$down"
  else emit rolledback "$BACKUP"; fi
  STATE=rolled-back
  finish
}

# rollback_run BACKUP SERVICE: the final verification of this run failed; restore its backup set,
# unless another run changed the host since (then that run's state stays).
rollback_run() {
  BACKUP=$1
  [ "$(cat "$BACKUP_ROOT/last" 2>/dev/null)" = "$RUN_ID" ] || die "another run changed the host after this one; not rolling back over it"
  STATE=installing
  PLANNED=$2
  rollback "final verification failed"
}
