import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from "yaml";
import type { Document, Node, Pair, YAMLError, YAMLMap } from "yaml";
import { InputError, InputErrors, type SourceLocation } from "../errors.js";

/** Where a value sits inside a YAML document: map keys and list indexes from the root. */
export type YamlPath = readonly (string | number)[];

/** `0.postfix.main.myorigin`; keys that are not plain words are quoted: `generic["@example.com"]`. */
export function formatPath(path: YamlPath): string {
  return path
    .map((part, i) => {
      if (typeof part === "number" || /^[A-Za-z0-9_-]+$/.test(part))
        return i === 0 ? String(part) : `.${part}`;
      return `[${JSON.stringify(part)}]`;
    })
    .join("");
}

/**
 * A parsed YAML file that still knows where every value came from, so that checks made long after
 * parsing (schema, templating, merging, secrets) can report `file:line:column: path: message`.
 */
export class YamlFile {
  readonly file: string;
  /** The document as plain JavaScript data (maps as objects). */
  readonly data: unknown;
  readonly #doc: Document;
  readonly #lines: LineCounter;
  readonly #text: string;
  /** Each map's pairs by key, built on first use: positions are looked up once per reported value. */
  readonly #pairs = new WeakMap<YAMLMap, Map<string, Pair>>();

  private constructor(file: string, text: string, doc: Document, lines: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.#text = text;
    this.data = doc.toJS({ maxAliasCount: 1000 });
  }

  /** Parses YAML 1.2 with unique keys and `<<` merge keys (Ansible files use them). */
  static parse(text: string, file: string): YamlFile {
    const lines = new LineCounter();
    // The library's own unique-key check compares each key with every earlier key of its map: minutes
    // for a 100,000-entry table. #duplicateKeys does the same check in one pass.
    const doc = parseDocument(text, {
      lineCounter: lines,
      uniqueKeys: false,
      merge: true,
      prettyErrors: false,
    });
    // Warnings are errors too: an unresolved tag such as Ansible's `!vault` would otherwise load as a
    // meaningless string.
    const problems = [...doc.errors, ...doc.warnings];
    const yaml = new YamlFile(file, text, doc, lines);
    const errors = [
      ...problems.map((problem) => ({ offset: problem.pos[0], error: yaml.#syntaxError(problem) })),
      ...yaml.#duplicateKeys(),
    ];
    if (errors.length > 0) {
      throw new InputErrors(errors.sort((a, b) => a.offset - b.offset).map(({ error }) => error));
    }
    // YAML 1.1 would silently change what values mean: `yes`/`no`/`on` become booleans (even as map
    // keys), `0644` becomes 420 and `1:30` becomes 90. One meaning only: YAML 1.2.
    if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== "1.2") {
      throw new InputError(
        `%YAML ${doc.directives.yaml.version} is not supported: provision reads YAML 1.2, where yes/no/on/off ` +
          `are plain text (write true/false for a boolean); remove the %YAML directive`,
        { location: yaml.#position(Math.max(0, text.search(/^%YAML\b/m))) },
      );
    }
    return yaml;
  }

  /** Position of the value at `path`, or of its nearest existing ancestor. */
  locate(path: YamlPath): SourceLocation {
    return this.#position(this.#find(path).offset);
  }

  /** Position of the KEY naming the last element of `path` (for unknown or misspelt keys). */
  locateKey(path: YamlPath): SourceLocation {
    return this.#position(this.#find(path).keyOffset);
  }

  /** The source text of the scalar at `path`, e.g. `0644` for a value YAML reads as the number 644. */
  sourceText(path: YamlPath): string | undefined {
    const { node, found } = this.#find(path);
    return found && isScalar(node) && typeof node.source === "string" ? node.source : undefined;
  }

  error(path: YamlPath, message: string, options: { atKey?: boolean } = {}): InputError {
    const location = options.atKey ? this.locateKey(path) : this.locate(path);
    return new InputError(message, { location, path: formatPath(path) });
  }

  /** Every string key and scalar value with its path, for checks that apply to all of them. */
  *strings(): Generator<{ path: YamlPath; text: string; isKey: boolean }> {
    const walk = function* (
      node: unknown,
      path: YamlPath,
    ): Generator<{ path: YamlPath; text: string; isKey: boolean }> {
      if (isScalar(node) && typeof node.value === "string") yield { path, text: node.value, isKey: false };
      if (isSeq(node)) for (const [i, item] of node.items.entries()) yield* walk(item, [...path, i]);
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
          if (key === undefined) continue;
          yield { path: [...path, key], text: key, isKey: true };
          yield* walk(pair.value, [...path, key]);
        }
      }
    };
    yield* walk(this.#doc.contents, []);
  }

  #syntaxError(problem: YAMLError): InputError {
    const location = this.#position(problem.pos[0]);
    // An unclosed quote, [ or { is reported where the file ends; the mistake is where it was opened.
    const unclosed = /^Missing closing .?quote/.test(problem.message)
      ? "quoted string"
      : /^Flow (map|sequence) .* end with a [}\]]$/.test(problem.message)
        ? "flow collection"
        : undefined;
    const opened = unclosed && this.#openedAt(problem.pos[0], unclosed);
    if (opened !== undefined) {
      const [what, closer] =
        opened.char === "{" ? ["{", "}"] : opened.char === "[" ? ["[", "]"] : ["quote", opened.char];
      return new InputError(
        `YAML syntax error: this ${what} is never closed (still open at line ${location.line}); ` +
          `add the closing ${closer}`,
        { location: this.#position(opened.offset) },
      );
    }
    if (problem.code === "TAG_RESOLVE_FAILED")
      return new InputError(`${problem.message} (not supported)`, { location });
    return new InputError(`YAML syntax error: ${problem.message}`, { location });
  }

  /** The innermost quoted scalar or flow collection that runs to `offset`, where an unclosed one ends. */
  #openedAt(offset: number, kind: "quoted string" | "flow collection") {
    let opened: { offset: number; char: string } | undefined;
    const check = (node: Node) => {
      const start = node.range?.[0];
      if (start !== undefined && node.range?.[1] === offset)
        opened = { offset: start, char: this.#text[start] ?? "" };
    };
    visit(this.#doc, {
      Scalar: (_, scalar) => {
        if (kind === "quoted string" && (scalar.type === "QUOTE_DOUBLE" || scalar.type === "QUOTE_SINGLE"))
          check(scalar);
      },
      Map: (_, map) => {
        if (kind === "flow collection" && map.flow) check(map);
      },
      Seq: (_, seq) => {
        if (kind === "flow collection" && seq.flow) check(seq);
      },
    });
    return opened && /^["'[{]$/.test(opened.char) ? opened : undefined;
  }

  /** Every key given twice in one map, at the second one, naming the line of the first. */
  #duplicateKeys(): { offset: number; error: InputError }[] {
    const found: { offset: number; error: InputError }[] = [];
    const walk = (node: unknown, path: YamlPath): void => {
      if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
      if (!isMap(node)) return;
      // Keys are equal as the library compares them: the same scalar value (a merge key `<<` never is).
      const first = new Map<unknown, number>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = pair.key.value;
        const offset = start(pair.key) ?? 0;
        const earlier = first.get(key);
        if (earlier === undefined) first.set(key, offset);
        else {
          const error = new InputError(
            `duplicate key ${JSON.stringify(String(key))} (first at line ${this.#position(earlier).line}): ` +
              `a key may appear once in a map; keep one`,
            { location: this.#position(offset), path: formatPath([...path, String(key)]) },
          );
          found.push({ offset, error });
        }
        walk(pair.value, [...path, String(key)]);
      }
    };
    walk(this.#doc.contents, []);
    return found;
  }

  #position(offset: number): SourceLocation {
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  #pairOf(map: YAMLMap, key: string): Pair | undefined {
    let pairs = this.#pairs.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const pair of map.items) {
        if (isPair(pair) && isScalar(pair.key) && !pairs.has(String(pair.key.value)))
          pairs.set(String(pair.key.value), pair);
      }
      this.#pairs.set(map, pairs);
    }
    return pairs.get(key);
  }

  /** Walks `path` through the node tree, following aliases; stops at the deepest node that exists. */
  #find(path: YamlPath): { node: unknown; found: boolean; offset: number; keyOffset: number } {
    let node: unknown = this.#doc.contents;
    let offset = start(node) ?? 0;
    let keyOffset = offset;
    for (const part of path) {
      if (isAlias(node)) node = node.resolve(this.#doc);
      let next: unknown;
      if (isMap(node)) {
        const pair = this.#pairOf(node, String(part));
        if (!pair) return { node, found: false, offset, keyOffset: offset };
        keyOffset = start(pair.key) ?? offset;
        next = pair.value;
        // An empty value (`nas:`) has no position of its own worth showing: point at its key.
        offset =
          isScalar(next) && next.value === null && next.source === ""
            ? keyOffset
            : (start(next) ?? keyOffset);
      } else if (isSeq(node) && typeof part === "number" && node.items[part] !== undefined) {
        next = node.items[part];
        offset = start(next) ?? offset;
        keyOffset = offset;
      } else {
        return { node, found: false, offset, keyOffset: offset };
      }
      node = next;
    }
    return { node, found: true, offset, keyOffset };
  }
}

function start(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
