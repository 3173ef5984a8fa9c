# shellcheck shell=sh
# Starting, reloading and restarting Postfix. Start and restart go through the service manager where
# there is one, so that it tracks the master process (and on Debian runs configure-instance.sh, which
# refreshes the chroot copies of /etc/hosts...).

# Present when systemd runs the host.
SYSTEMD_DIR=/run/systemd/system
# Postfix's init script, for `service` (Debian's sysvinit) and OpenRC's `rc-service`.
POSTFIX_INIT=/etc/init.d/postfix

service_tool() {
  if [ -d "$SYSTEMD_DIR" ] && command -v systemctl >/dev/null 2>&1; then echo systemctl
  elif command -v service >/dev/null 2>&1 && [ -x "$POSTFIX_INIT" ]; then echo service
  elif command -v rc-service >/dev/null 2>&1 && [ -x "$POSTFIX_INIT" ]; then echo rc-service
  else echo postfix; fi
}

# pf_service start|restart
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

pf_running() {
  # master may still be starting: give it a moment before calling it dead
  for _ in 1 2 3 4 5 6 7 8 9 10; do postfix status >/dev/null 2>&1 && return 0; sleep 0.3; done
  return 1
}

# activate none|reload|restart|start: what the plan needs; Postfix must be running afterwards.
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
