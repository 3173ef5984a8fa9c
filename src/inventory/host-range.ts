/**
 * Host entries as Ansible reads them (ansible/parsing/utils/addresses.py and the inventory plugins'
 * expand_hostname_range): an optional `:port` (`nas:2222`, `[2001:db8::1]:2222`) and ranges
 * (`www[01:10]`, `db-[a:c]`, `n[1:9:2]`, several in one name).
 */

// Ansible's own patterns (re.X removed); a range may stand in for part of an address or a label.
const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const IPV6_PART = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const IPV4_PART = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;
const IPV4 = `(?:${IPV4_PART}\\.){3}${IPV4_PART}`;
const V6 = IPV6_PART;
const IPV6_ALTERNATIVES = [
  `(?:${V6}:){7}${V6}`,
  `(?:${V6}:){1,6}:`,
  `(?:${V6}:)(?::${V6}){1,6}`,
  `(?:${V6}:){2}(?::${V6}){1,5}`,
  `(?:${V6}:){3}(?::${V6}){1,4}`,
  `(?:${V6}:){4}(?::${V6}){1,3}`,
  `(?:${V6}:){5}(?::${V6}){1,2}`,
  `(?:${V6}:){6}(?::${V6})`,
  `:(?::${V6}){1,6}`,
  `${V6}?::`,
  `(?:0:){6}(?:${V6}\\.){3}${V6}`,
  `::(?:ffff:)?(?:${V6}\\.){3}${V6}`,
];
// Python's re.match anchors only the start, and its `$` binds to the last alternative alone.
const LAST_IPV6 = `(?:0:){5}ffff:(?:${V6}\\.){3}${V6}$`;
const ADDRESS = [
  new RegExp(`^${IPV4}$`, "iu"),
  new RegExp(`^(?:${[...IPV6_ALTERNATIVES, LAST_IPV6].join("|")})`, "iu"),
  new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, "iu"),
];
const BRACKETED_PORT = /^\[(.+)\]:([0-9]+)$/;
const HOST_PORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;

/** `name` without its `:port`, and the port; a name Ansible cannot parse is kept whole, without one. */
export function splitPort(entry: string): { pattern: string; port?: number } {
  let address = entry;
  let port: number | undefined;
  for (const pattern of [BRACKETED_PORT, HOST_PORT]) {
    const match = pattern.exec(address);
    if (match) [address, port] = [match[1] ?? "", Number(match[2])];
  }
  if (!ADDRESS.some((pattern) => pattern.test(address))) return { pattern: entry };
  return port === undefined ? { pattern: address } : { pattern: address, port };
}

/** The hosts one inventory entry (`www[01:10].lan:2222`) stands for, and their port. */
export function hostEntry(entry: string): { names: string[]; port?: number } {
  const { pattern, port } = splitPort(entry);
  const names = expandHostRange(pattern);
  return port === undefined ? { names } : { names, port };
}

export class HostRangeError extends Error {
  override name = "HostRangeError";
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Every host a pattern with `[begin:end(:step)]` ranges stands for, in order. */
export function expandHostRange(pattern: string): string[] {
  const open = pattern.indexOf("[");
  if (open < 0) return [pattern];
  const close = pattern.indexOf("]", open);
  if (close < 0) throw new HostRangeError(`"[" without a closing "]"`);
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = pattern.slice(open + 1, close).split(":");
  if (bounds.length !== 2 && bounds.length !== 3)
    throw new HostRangeError(`a host range is [begin:end] or [begin:end:step], not [${bounds.join(":")}]`);
  const [begin = "", end = "", stepText = "1"] = bounds;
  const step = Number(stepText);
  if (!/^[0-9]+$/.test(stepText) || step < 1)
    throw new HostRangeError(`the step of a host range must be 1 or more`);
  if (end === "") throw new HostRangeError("a host range needs an end value");
  const from = begin === "" ? "0" : begin;

  let items: string[];
  if (LETTERS.includes(from) && LETTERS.includes(end) && from.length === 1 && end.length === 1) {
    const [i, j] = [LETTERS.indexOf(from), LETTERS.indexOf(end)];
    if (i > j)
      throw new HostRangeError(
        `the host range [${begin}:${end}] begins after it ends: write [${end}:${begin}]`,
      );
    items = [...LETTERS.slice(i, j + 1)].filter((_, k) => k % step === 0);
  } else if (/^[0-9]+$/.test(from) && /^[0-9]+$/.test(end)) {
    // A leading zero asks for zero-padded names, as wide as the begin value.
    const width = from.length > 1 && from.startsWith("0") ? from.length : 0;
    if (width > 0 && end.length !== width)
      throw new HostRangeError(
        `a zero-padded host range needs begin and end of equal width: [${begin}:${end}]`,
      );
    const [i, j] = [Number(from), Number(end)];
    // Ansible silently yields no host here; a range that lists nothing is surely a mistake.
    if (i > j)
      throw new HostRangeError(
        `the host range [${begin}:${end}] begins after it ends: write [${end}:${begin}]`,
      );
    items = [];
    for (let n = i; n <= j; n += step) items.push(String(n).padStart(width, "0"));
  } else {
    throw new HostRangeError(
      `[${begin}:${end}] is no host range: use numbers ([01:10]) or single letters ([a:f])`,
    );
  }
  return items.flatMap((item) => expandHostRange(head + item + tail));
}
