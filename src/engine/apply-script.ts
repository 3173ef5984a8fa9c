import {
  FACT_FUNCTIONS,
  SCRIPT_PRELUDE,
  factCommands,
  type FactRequest,
  type LockOptions,
} from "../facts/script.js";
import { LOCK_FUNCTIONS } from "../facts/host-lock.js";
import { shellQuote } from "../transport/shell.js";
import { MAIN_CF, type Plan } from "./plan.js";

/**
 * The remote half of apply: ONE POSIX sh script that carries out a plan safely and then re-reads the
 * facts, so an apply costs one round trip after the facts.
 *
 *  1. takes the host's run lock (exclusive) and checks that every file it will change is still as the
 *     facts saw it: another run or a hand edit in between stops it before anything is touched;
 *  2. saves the current version of every file it will change (a backup set per run, the last few kept);
 *  3. stages the new files next to their targets and has Postfix parse the new main.cf
 *     (`postconf -c STAGE -n`): rejected = stop, nothing changed; warnings are passed on;
 *  4. installs: tables (atomic rename), postmap, index owner/mode, then main.cf; `postfix check`;
 *     reload / restart / start;
 *  5. any failure in 4 restores the saved files and indexes and re-activates the previous configuration.
 *
 * After step 1 all output goes to a log file and SIGHUP/SIGPIPE are ignored, so a lost connection does
 * not stop the script halfway: it finishes (or rolls back) on its own; the log is sent at the end.
 * File contents are embedded base64-encoded and reach `base64 -d` through the shell's builtin printf:
 * they travel on the ssh channel's stdin, never on a command line.
 */

export interface ApplyOptions extends LockOptions {
  /** Expected SHA-256 (hex) of each file the plan changes, or null where it must not exist. */
  expected: Map<string, string | null>;
  /** main.cf parameters the playbook sets: Postfix not knowing one of them refuses the apply. */
  ownedParameters: string[];
  pause?: Pause;
}

export const PAUSE_STEPS = ["before-lock", "after-upload", "after-postmap", "before-reload"] as const;
export type PauseStep = (typeof PAUSE_STEPS)[number];
/** Test hook for fault injection: sleep at a named step. */
export interface Pause {
  step: PauseStep;
  seconds: number;
}

export const BACKUP_ROOT = "/var/backups/provision";
/** Backup sets kept per host. */
export const BACKUPS_KEPT = 5;

export function applyScript(plan: Plan, refacts: FactRequest, options: ApplyOptions): string {
  const tables = plan.writes.filter((w) => w.path !== MAIN_CF);
  const mains = plan.writes.filter((w) => w.path === MAIN_CF);
  const touched = [
    ...plan.writes.map((w) => w.path),
    ...plan.attributeFixes.map((f) => f.path),
    ...plan.postmaps.flatMap((p) => p.indexPaths),
    ...plan.removals,
  ];
  const q = shellQuote;
  const steps: string[] = [
    ...[...options.expected].map(([path, sha]) => `expect_file ${q(path)} ${sha ?? "absent"}`),
    "begin_backup",
    ...[...new Set(touched)].map((path) => `save ${q(path)}`),
    ...plan.writes.map((w, i) => `stage ${i} ${w.mode.toString(8)} '${encode(w.content.reveal())}'`),
    ...mains.map((w) => `validate_main ${plan.writes.indexOf(w)}`),
    "STATE=installing",
    ...tables.map((w) => `install ${plan.writes.indexOf(w)} ${q(w.path)}`),
    ...plan.attributeFixes.map((f) => `fix ${q(f.path)} ${f.mode.toString(8)}`),
    "pause_point after-upload",
    ...plan.postmaps.flatMap((p) => [
      `pmap ${q(p.map)}`,
      // postmap keeps the owner and mode of an existing hash/btree index: set them every time.
      ...p.indexPaths.map((index) => `fix ${q(index)} 600`),
    ]),
    "pause_point after-postmap",
    // main.cf last: every table it refers to is in place (and indexed) before it does.
    ...mains.map((w) => `install ${plan.writes.indexOf(w)} ${q(w.path)}`),
    // Only now does main.cf no longer refer to what goes: stale indexes, retired tables.
    ...plan.removals.map((path) => `remove ${q(path)}`),
    "postfix_check",
    "pause_point before-reload",
    `activate ${plan.service}`,
    "STATE=done",
    "emit_backup",
  ];

  return [
    "{",
    SCRIPT_PRELUDE,
    `RUN_ID=${q(options.runId)}`,
    `PAUSE_STEP=${q(options.pause?.step ?? "")}`,
    `PAUSE_SECONDS=${options.pause?.seconds ?? 0}`,
    `BACKUP_ROOT=${BACKUP_ROOT}`,
    `BACKUPS_KEPT=${BACKUPS_KEPT}`,
    `OWNED=${q(` ${options.ownedParameters.join(" ")} `)}`,
    FACT_FUNCTIONS,
    LOCK_FUNCTIONS,
    APPLY_FUNCTIONS,
    "pause_point before-lock",
    `lock_host -x ${options.waitSeconds} apply || exit 0`,
    "start_work",
    ...steps,
    factCommands(refacts),
    "finish",
    "}",
    "",
  ].join("\n");
}

/** A separate round trip, used when the final verification of an apply fails: restore its backup. */
export function rollbackScript(backupDir: string, service: Plan["service"], options: LockOptions): string {
  return [
    "{",
    SCRIPT_PRELUDE,
    `RUN_ID=${shellQuote(options.runId)}`,
    `BACKUP_ROOT=${BACKUP_ROOT}`,
    "PAUSE_STEP=",
    FACT_FUNCTIONS,
    LOCK_FUNCTIONS,
    APPLY_FUNCTIONS,
    `lock_host -x ${options.waitSeconds} rollback || exit 0`,
    "start_work",
    `BACKUP=${shellQuote(backupDir)}`,
    `[ "$(cat "$BACKUP_ROOT/last" 2>/dev/null)" = "$RUN_ID" ] || die "another run changed the host after this one; not rolling back over it"`,
    "STATE=installing",
    `PLANNED=${service}`,
    `rollback "final verification failed"`,
    "}",
    "",
  ].join("\n");
}

function encode(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * STATE: "checking" (nothing on the host changed yet: a failure just stops), "installing" (a failure
 * rolls back), "done". Records on the channel: wrote, fixed, postmap, service, warning, backup, error,
 * changed (the host changed since the facts were read), rolledback.
 */
const APPLY_FUNCTIONS = `
STATE=checking
PLANNED=none
start_work() {
  umask 077
  WORK=$(mktemp -d /etc/postfix/.provision-run.XXXXXX) || { emit error "cannot create a work directory in /etc/postfix"; exit 0; }
  exec 3>&1 >"$WORK/log" 2>&1
  trap '' HUP PIPE
  if postfix status >/dev/null 2>&1; then WAS_RUNNING=1; else WAS_RUNNING=0; fi
}
finish() {
  if [ "$STATE" = done ]; then prune_backups; fi
  cat "$WORK/log" >&3
  rm -rf "$WORK"
  unlock_note
  exit 0
}
die() {
  emit error "$1"
  if [ "$STATE" = installing ]; then rollback "$1"; fi
  finish
}
expect_file() {
  if [ "$2" = absent ]; then
    [ -e "$1" ] || return 0
  elif [ -f "$1" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$2" ]; then
    return 0
  fi
  emit changed "$1"
  die "$1 changed after it was read (another provision run or a hand edit); nothing was changed, run again"
}
begin_backup() {
  BACKUP="$BACKUP_ROOT/$(date +%Y%m%dT%H%M%S)-$RUN_ID"
  mkdir -p -m 0700 "$BACKUP_ROOT" && chmod 0700 "$BACKUP_ROOT" && mkdir -m 0700 "$BACKUP" \\
    || die "cannot create the backup directory $BACKUP"
  : > "$BACKUP/manifest"
}
save() {
  if [ -e "$1" ]; then
    mkdir -p "$BACKUP/files$(dirname "$1")" && cp -p "$1" "$BACKUP/files$1" || die "cannot back up $1"
    printf 'saved\\t%s\\n' "$1" >> "$BACKUP/manifest" || die "cannot write the backup manifest"
  else
    printf 'absent\\t%s\\n' "$1" >> "$BACKUP/manifest" || die "cannot write the backup manifest"
  fi
}
stage() {
  if ! printf '%s' "$3" | base64 -d > "$WORK/stage.$1"; then die "cannot write a staged file"; fi
  sync "$WORK/stage.$1" && chown root:root "$WORK/stage.$1" && chmod "$2" "$WORK/stage.$1" \\
    || die "cannot prepare a staged file"
}
validate_main() {
  mkdir "$WORK/conf" && cp -p "$WORK/stage.$1" "$WORK/conf/main.cf" || die "cannot stage main.cf"
  [ ! -f /etc/postfix/master.cf ] || cp -p /etc/postfix/master.cf "$WORK/conf/master.cf"
  if ! out=$(postconf -c "$WORK/conf" -n 2>&1 >/dev/null); then
    die "Postfix rejects the new main.cf (nothing was changed): $(printf '%s' "$out" | grep -v ': warning: ' | tr '\\n' ' ')"
  fi
  warnings=$(printf '%s\\n' "$out" | grep ': warning: ' | sed "s|$WORK/conf/|/etc/postfix/|g" | sort -u)
  # "unused parameter" = Postfix does not know it: for a parameter the playbook sets, that is a typo.
  for name in $(printf '%s\\n' "$warnings" | sed -n 's/.*unused parameter: \\([^=]*\\)=.*/\\1/p'); do
    case "$OWNED" in *" $name "*) die "Postfix does not know the parameter $name (postconf: unused parameter); check its spelling. Nothing was changed" ;; esac
  done
  printf '%s\\n' "$warnings" | while IFS= read -r line; do
    [ -z "$line" ] || emit warning "new main.cf: \${line#*warning: }"
  done
}
install() {
  mv -f "$WORK/stage.$1" "$2" || die "cannot install $2"
  emit wrote "$2"
}
remove() {
  rm -f "$1" || die "cannot remove $1"
  emit removed "$1"
}
fix() {
  chown root:root "$1" && chmod "$2" "$1" || die "cannot set owner and mode of $1"
  emit fixed "$1"
}
pmap() {
  out=$(postmap "$1" 2>&1 </dev/null) || die "postmap $1 failed: $(printf '%s' "$out" | tr '\\n' ' ')"
  [ -z "$out" ] || emit warning "postmap $1: $(printf '%s' "$out" | tr '\\n' ' ')"
  emit postmap "$1"
}
pause_point() {
  [ "$PAUSE_STEP" = "$1" ] || return 0
  : > "/run/provision.paused-$1"
  sleep "$PAUSE_SECONDS"
  rm -f "/run/provision.paused-$1"
}
postfix_check() {
  out=$(postfix check 2>&1 </dev/null) || die "postfix check failed: $(printf '%s' "$out" | sort -u | tr '\\n' ' ')"
  # main.cf warnings were reported by validate_main already; postfix check repeats them many times
  out=$(printf '%s\\n' "$out" | grep -v 'unused parameter: ' | sort -u)
  [ -z "$out" ] || emit warning "postfix check: $(printf '%s' "$out" | tr '\\n' ' ')"
}
# Start and restart through the service manager where there is one, so that it tracks the master
# process (and on Debian runs configure-instance.sh, which refreshes the chroot copies of /etc/hosts...).
service_tool() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemctl
  elif command -v service >/dev/null 2>&1 && [ -x /etc/init.d/postfix ]; then echo service
  elif command -v rc-service >/dev/null 2>&1 && [ -x /etc/init.d/postfix ]; then echo rc-service
  else echo postfix; fi
}
pf_service() {
  case $(service_tool) in
    systemctl) systemctl "$1" postfix </dev/null ;;
    service) service postfix "$1" </dev/null ;;
    rc-service) rc-service postfix "$1" </dev/null ;;
    *) if [ "$1" = restart ]; then postfix stop </dev/null; postfix start </dev/null; else postfix "$1" </dev/null; fi ;;
  esac
}
pf_start() { pf_service start; }
pf_restart() { pf_service restart; }
oneline() { printf '%s' "$1" | tr '\\n' ' '; }
pf_running() {
  # master may still be starting: give it a moment before calling it dead
  for i in 1 2 3 4 5 6 7 8 9 10; do postfix status >/dev/null 2>&1 && return 0; sleep 0.3; done
  return 1
}
activate() {
  PLANNED=$1
  case $1 in
    none) return 0 ;;
    reload)
      if [ "$WAS_RUNNING" = 1 ]; then out=$(postfix reload 2>&1 </dev/null) || die "postfix reload failed: $(oneline "$out")"
      else out=$(pf_start 2>&1) || die "starting Postfix failed: $(oneline "$out")"; fi ;;
    restart) out=$(pf_restart 2>&1) || die "restarting Postfix failed: $(oneline "$out")" ;;
    start) out=$(pf_start 2>&1) || die "starting Postfix failed: $(oneline "$out")" ;;
  esac
  pf_running || die "Postfix is not running after $1: $(oneline "$out")"
  emit service "$1"
}
emit_backup() {
  printf '%s\\n' "$RUN_ID" > "$BACKUP_ROOT/last"
  emit backup "$BACKUP"
}
prune_backups() {
  n=$(ls -1d "$BACKUP_ROOT"/*/ 2>/dev/null | wc -l)
  ls -1d "$BACKUP_ROOT"/*/ 2>/dev/null | sort | while IFS= read -r old; do
    [ "$n" -gt "$BACKUPS_KEPT" ] || break
    rm -rf "$old"; n=$((n - 1))
  done
}
restore_file() {
  tmp=$(mktemp "$(dirname "$1")/.provision-restore.XXXXXX") && cp -p "$BACKUP/files$1" "$tmp" && mv -f "$tmp" "$1"
}
rollback() {
  STATE=rolling-back
  failed=
  while IFS="$(printf '\\t')" read -r kind path; do
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
`;
