/** Exit codes (SPEC.md), shown by --help and used by the CLI. */
export const EXIT = { ok: 0, error: 1, drift: 2, unreachable: 3, interrupted: 130 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
    0  success; with check: every host is in sync
    1  error: bad input (nothing was contacted), or a host failed
    2  check found drift on at least one host (and nothing failed)
    3  a host was unreachable (and nothing worse happened)
  130  interrupted (Ctrl-C): the hosts in flight finished, those not started are reported skipped`;
