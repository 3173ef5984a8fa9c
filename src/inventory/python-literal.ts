/**
 * Ansible types every INI inventory value with Python's `ast.literal_eval`, keeping the text as it is
 * when that fails: `2222` is a number, `True` a boolean, `[1, 2]` a list, `'05'` the text 05, and
 * `yes`, `a b` or `05` stay text. This is that evaluation for the literals an inventory holds: strings
 * (with prefixes, escapes, triple quotes, adjacent ones joined), ints (decimal, 0x, 0o, 0b, `_`),
 * floats, True/False/None, lists, tuples (`1, 2` too), dicts and sets (both become JSON-like data),
 * one leading sign, parentheses and `# comments`.
 *
 * Deliberately kept as text (where Python would give a value JSON cannot hold): complex numbers,
 * `...`, `\N{name}` escapes, integers beyond 2^53 and floats that overflow to infinity.
 */
export function pythonLiteral(text: string): unknown {
  try {
    const parser = new Parser(text);
    const value = parser.expression();
    parser.end();
    return value;
  } catch (error) {
    if (error instanceof NotLiteral) return text;
    throw error;
  }
}

class NotLiteral extends Error {}

const fail = (): never => {
  throw new NotLiteral();
};

const DIGITS = { 2: "[01]", 8: "[0-7]", 10: "[0-9]", 16: "[0-9a-fA-F]" } as const;
const digitPart = (d: string) => `${d}(?:_?${d})*`;
const DEC = digitPart(DIGITS[10]);
const EXPONENT = `[eE][+-]?${DEC}`;
const FLOAT = new RegExp(
  `(?:(?:${DEC})?\\.${DEC}(?:${EXPONENT})?|${DEC}\\.(?:${EXPONENT})?|${DEC}${EXPONENT})`,
  "y",
);
const INT = new RegExp(
  `(?:0[xX](?:_?${DIGITS[16]})+|0[oO](?:_?${DIGITS[8]})+|0[bB](?:_?${DIGITS[2]})+|[1-9]${"(?:_?[0-9])*"}|0+(?:_?0)*)`,
  "y",
);
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const STRING_START = /([rRuUbB]|[bB][rR]|[rR][bB])?("""|'''|"|')/y;

class Parser {
  #pos = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  /** Top level: a value, or a tuple without parentheses (`1, 2`). */
  expression(): unknown {
    this.#space();
    const first = this.#value();
    if (!this.#peek(",")) return first;
    const items = [first];
    while (this.#eat(",")) {
      if (this.#atEnd() || this.#peek(")")) break;
      items.push(this.#value());
    }
    return items;
  }

  end(): void {
    this.#space();
    if (!this.#atEnd()) fail();
  }

  #value(): unknown {
    this.#space();
    const sign = this.#eat("-") ? -1 : this.#eat("+") ? 1 : 0;
    const { value, isNumber } = this.#atom();
    if (sign === 0) return value;
    // Python allows one sign, on a number only (not on True, not twice).
    if (!isNumber) fail();
    return sign * (value as number) || 0;
  }

  #atom(): { value: unknown; isNumber?: boolean } {
    this.#space();
    const char = this.#text[this.#pos];
    if (char === "[") return { value: this.#sequence("]") };
    if (char === "{") return { value: this.#braces() };
    if (char === "(") {
      this.#pos++;
      if (this.#eat(")")) return { value: [] };
      const start = this.#pos;
      const inner = this.expression();
      if (!this.#eat(")")) fail();
      // `-(5)` is -5 (parentheses alone make no tuple), but `-(-5)` is a second sign.
      const signed = /^[\s(]*[-+]/.test(this.#text.slice(start));
      return { value: inner, isNumber: typeof inner === "number" && !signed };
    }
    STRING_START.lastIndex = this.#pos;
    if (STRING_START.test(this.#text)) return { value: this.#strings() };
    if (/[0-9.]/.test(char ?? "")) return { value: this.#number(), isNumber: true };
    NAME.lastIndex = this.#pos;
    const name = NAME.exec(this.#text)?.[0];
    if (name === "True" || name === "False" || name === "None") {
      this.#pos += name.length;
      return { value: name === "None" ? null : name === "True" };
    }
    return fail();
  }

  /** The items of a list or set up to `close`; the opening bracket is already read. */
  #sequence(close: string, items: unknown[] = []): unknown[] {
    if (items.length === 0) {
      this.#pos++;
      if (this.#eat(close)) return items;
      items.push(this.#value());
    }
    while (this.#eat(",")) {
      if (this.#peek(close)) break;
      items.push(this.#value());
    }
    if (!this.#eat(close)) fail();
    return items;
  }

  /** `{}` and `{k: v}` are dicts, `{a, b}` a set (a list here, as JSON has no sets). */
  #braces(): unknown {
    this.#pos++;
    if (this.#eat("}")) return {};
    const first = this.#value();
    if (!this.#eat(":")) return this.#sequence("}", [first]);
    const dict: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      dict[jsonKey(key)] = this.#value();
      if (!this.#eat(",") || this.#peek("}")) break;
      key = this.#value();
      if (!this.#eat(":")) fail();
    }
    if (!this.#eat("}")) fail();
    return dict;
  }

  /** One string literal or several adjacent ones (`'a' 'b'` is "ab"); bytes and text do not mix. */
  #strings(): string {
    let result = "";
    let bytes: boolean | undefined;
    for (;;) {
      this.#space();
      STRING_START.lastIndex = this.#pos;
      const match = STRING_START.exec(this.#text);
      if (!match) return result;
      const prefix = (match[1] ?? "").toLowerCase();
      const isBytes = prefix.includes("b");
      if (bytes !== undefined && bytes !== isBytes) fail();
      bytes = isBytes;
      this.#pos += match[0].length;
      const body = this.#stringBody(match[2] ?? "'", prefix.includes("r"), isBytes);
      // Ansible decodes bytes as UTF-8; the body holds one character per byte.
      result += isBytes ? Buffer.from(body, "latin1").toString("utf8") : body;
    }
  }

  #stringBody(quote: string, raw: boolean, bytes: boolean): string {
    let body = "";
    for (;;) {
      if (this.#text.startsWith(quote, this.#pos)) {
        this.#pos += quote.length;
        return body;
      }
      const char = this.#text[this.#pos++];
      if (char === undefined || (char === "\n" && quote.length === 1)) return fail();
      if (bytes && char.charCodeAt(0) > 127) fail();
      if (char !== "\\") body += char;
      else if (raw) body += char + (this.#text[this.#pos++] ?? fail());
      else body += this.#escape(bytes);
    }
  }

  #escape(bytes: boolean): string {
    const char = this.#text[this.#pos++] ?? fail();
    const simple: Record<string, string> = {
      "\n": "",
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
    };
    if (simple[char] !== undefined) return simple[char];
    if (/[0-7]/.test(char)) {
      const octal = /[0-7]{1,3}/y;
      octal.lastIndex = this.#pos - 1;
      const digits = octal.exec(this.#text)?.[0] ?? char;
      this.#pos += digits.length - 1;
      return String.fromCodePoint(parseInt(digits, 8));
    }
    const hexLength = char === "x" ? 2 : bytes ? 0 : char === "u" ? 4 : char === "U" ? 8 : 0;
    if (hexLength > 0) {
      const digits = this.#text.slice(this.#pos, this.#pos + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(digits)) fail();
      this.#pos += hexLength;
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) fail();
      return String.fromCodePoint(code);
    }
    if (char === "N" && !bytes) fail(); // \N{name}: kept as text, see above
    return `\\${char}`;
  }

  #number(): number {
    for (const [pattern, isFloat] of [
      [INT, false],
      [FLOAT, true],
    ] as const) {
      pattern.lastIndex = this.#pos;
      const match = pattern.exec(this.#text)?.[0];
      if (match === undefined) continue;
      const after = this.#text[this.#pos + match.length] ?? "";
      // A longer float (`1.5`, `1e3`), an imaginary `1j` or a name glued to the number: not an int.
      if (!isFloat && /[.eEjJ0-9_]/.test(after)) continue;
      if (/[A-Za-z0-9_.]/.test(after)) fail();
      this.#pos += match.length;
      const clean = match.replace(/_/g, "");
      const value = isFloat ? Number(clean) : parseInteger(clean);
      if (!Number.isFinite(value) || (!isFloat && !Number.isSafeInteger(value))) fail();
      return value;
    }
    return fail();
  }

  #space(): void {
    for (;;) {
      const char = this.#text[this.#pos];
      if (char === " " || char === "\t" || char === "\f") this.#pos++;
      else if (char === "#") this.#pos = this.#text.length;
      else return;
    }
  }

  #peek(token: string): boolean {
    this.#space();
    return this.#text.startsWith(token, this.#pos);
  }

  #eat(token: string): boolean {
    if (!this.#peek(token)) return false;
    this.#pos += token.length;
    return true;
  }

  #atEnd(): boolean {
    this.#space();
    return this.#pos >= this.#text.length;
  }
}

function parseInteger(text: string): number {
  const base = /^0[xX]/.test(text) ? 16 : /^0[oO]/.test(text) ? 8 : /^0[bB]/.test(text) ? 2 : 10;
  return parseInt(base === 10 ? text : text.slice(2), base);
}

/** Keys as Python's json.dumps writes them: True -> "true", None -> "null", 1 -> "1". */
function jsonKey(key: unknown): string {
  if (key === null) return "null";
  if (typeof key === "object") return fail(); // a list or dict is no dict key in Python
  return String(key);
}
