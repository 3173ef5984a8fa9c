/** Quote one argument for POSIX sh: the only way a value enters a remote script. */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("a NUL byte cannot be passed to a remote shell");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
