import { FACT_FUNCTIONS, SCRIPT_PRELUDE, factCommands, type FactRequest } from "../facts/script.js";
import { shellQuote } from "../transport/shell.js";
import type { Plan } from "./plan.js";

/**
 * The remote half of apply: ONE POSIX sh script that carries out a plan and then re-reads the facts,
 * so an apply costs a single extra round trip. File contents are embedded base64-encoded and reach
 * `base64 -d` through the shell's builtin printf: they travel on stdin of the ssh channel and never on
 * any command line. Progress is printed as records (`wrote`, `postmap`, `service`, `error`) that
 * engine/apply.ts reads back.
 */
export function applyScript(plan: Plan, refacts: FactRequest): string {
  const steps: string[] = [];
  for (const write of plan.writes.filter((w) => w.path !== MAIN_CF_PATH)) steps.push(putStep(write));
  for (const fix of plan.attributeFixes) steps.push(`fix ${shellQuote(fix.path)} ${mode(fix.mode)}`);
  for (const postmap of plan.postmaps) {
    steps.push(`pmap ${shellQuote(postmap.map)}`);
    // postmap keeps the owner and mode of an existing hash/btree index: set them every time.
    for (const index of postmap.indexPaths) steps.push(`fix ${shellQuote(index)} 600`);
  }
  // main.cf last: every table it refers to is in place (and indexed) before it does.
  for (const write of plan.writes.filter((w) => w.path === MAIN_CF_PATH)) steps.push(putStep(write));
  steps.push(SERVICE_STEPS[plan.service]);

  return `{\n${SCRIPT_PRELUDE}\n${FACT_FUNCTIONS}\n${APPLY_FUNCTIONS}\n${steps.join("\n")}\n${factCommands(refacts)}\n}\n`;
}

const MAIN_CF_PATH = "/etc/postfix/main.cf";

function mode(value: number): string {
  return value.toString(8);
}

function putStep(write: Plan["writes"][number]): string {
  const encoded = Buffer.from(write.content.reveal(), "utf8").toString("base64");
  return `put ${shellQuote(write.path)} ${mode(write.mode)} '${encoded}'`;
}

/**
 * put: temp file created 0600 in /etc/postfix (umask 077, so never readable by others even for an
 * instant), content, fsync, owner and mode, then rename over the target (atomic on one filesystem).
 */
const APPLY_FUNCTIONS = `umask 077
fail() { printf 'error\\t%s\\n' "$1"; exit 1; }
put() {
  tmp=$(mktemp /etc/postfix/.provision.XXXXXX) || fail "cannot create a temporary file in /etc/postfix"
  if ! printf '%s' "$3" | base64 -d > "$tmp"; then rm -f "$tmp"; fail "cannot write $1"; fi
  sync "$tmp" || { rm -f "$tmp"; fail "cannot sync $1"; }
  if ! { chown root:root "$tmp" && chmod "$2" "$tmp" && mv -f "$tmp" "$1"; }; then rm -f "$tmp"; fail "cannot install $1"; fi
  emit wrote "$1"
}
fix() {
  chown root:root "$1" && chmod "$2" "$1" || fail "cannot set owner and mode of $1"
  emit fixed "$1"
}
pmap() {
  out=$(postmap "$1" 2>&1 </dev/null) || fail "postmap $1 failed: $out"
  [ -z "$out" ] || emit warning "postmap $1: $(printf '%s' "$out" | tr '\\n' ' ')"
  emit postmap "$1"
}
has_service() { command -v service >/dev/null 2>&1 && [ -x /etc/init.d/postfix ]; }
pf_start() {
  if has_service; then out=$(service postfix start 2>&1 </dev/null); else out=$(postfix start 2>&1 </dev/null); fi \\
    || fail "starting Postfix failed: $out"
  emit service start
}
pf_reload() {
  if ! postfix status >/dev/null 2>&1; then pf_start; return; fi
  out=$(postfix reload 2>&1 </dev/null) || fail "postfix reload failed: $out"
  emit service reload
}
pf_restart() {
  if has_service; then out=$(service postfix restart 2>&1 </dev/null); else out=$( (postfix stop; postfix start) 2>&1 </dev/null); fi \\
    || fail "restarting Postfix failed: $out"
  emit service restart
}`;

const SERVICE_STEPS: Record<Plan["service"], string> = {
  none: ":",
  reload: "pf_reload",
  restart: "pf_restart",
  start: "pf_start",
};
