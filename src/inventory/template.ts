/**
 * `{{ name }}` substitution with a host's variables. Deliberately not Jinja: only a variable name,
 * optionally followed by `.key` steps into maps (or `.0` into lists); no filters, no expressions.
 * `$name` and `${name}` are Postfix's own syntax and are never touched.
 */

export type Vars = Readonly<Record<string, unknown>>;

/** A template problem without a position; the caller knows where the text came from. */
export class TemplateError extends Error {
  override name = "TemplateError";
  /** The message names a variable but does not quote the template text. */
  readonly aboutVariable: boolean;

  constructor(message: string, aboutVariable = false) {
    super(message);
    this.aboutVariable = aboutVariable;
  }
}

const EXPRESSION = /\{\{([^{}]*)\}\}/g;
const WHOLE = /^\{\{([^{}]*)\}\}$/;
const REFERENCE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;

/** Only `{{` starts a template: a lone `}}` is valid Postfix (`${name?{${other}}}`). */
export function hasTemplate(text: string): boolean {
  return text.includes("{{");
}

/**
 * Replaces every `{{ ref }}` in `text`, looking each variable up in `scopes` (the first scope that
 * defines it wins). Variable values may contain `{{ }}` themselves. When the whole text is one
 * reference to a number, the number itself is returned (so `port: "{{ port }}"` stays a number).
 * `insert`, when given, turns each value into the text that stands for it at the offset of its `{{`
 * in `text` (quoting for a shell, say); the result is then always a string.
 */
export function renderTemplate(
  text: string,
  scopes: readonly Vars[],
  insert?: (value: string, offset: number) => string,
): string | number {
  if (!insert) return render(text, scopes, []);
  checkBraces(text);
  return text.replace(EXPRESSION, (_, ref: string, offset: number) =>
    insert(String(lookup(ref, scopes, [])), offset),
  );
}

function render(text: string, scopes: readonly Vars[], stack: readonly string[]): string | number {
  if (!hasTemplate(text)) return text;
  checkBraces(text);
  const whole = WHOLE.exec(text);
  if (whole) return lookup(whole[1] ?? "", scopes, stack);
  return text.replace(EXPRESSION, (_, ref: string) => String(lookup(ref, scopes, stack)));
}

function checkBraces(text: string): void {
  if (hasTemplate(text.replace(EXPRESSION, ""))) {
    throw new TemplateError(`"{{" without a matching "}}" in ${JSON.stringify(text)}`);
  }
}

function lookup(expression: string, scopes: readonly Vars[], stack: readonly string[]): string | number {
  const ref = expression.trim();
  if (!REFERENCE.test(ref)) {
    throw new TemplateError(
      `unsupported expression "{{ ${ref} }}": only a variable name (with .key steps into maps) is allowed, no filters`,
    );
  }
  const [name = "", ...steps] = ref.split(".");
  if (stack.includes(name))
    throw new TemplateError(`variable "${name}" refers to itself (${[...stack, name].join(" -> ")})`, true);
  const scope = scopes.find((vars) => Object.hasOwn(vars, name));
  if (!scope) throw new TemplateError(`undefined variable "${name}"`, true);
  let value: unknown = scope[name];
  for (const [i, step] of steps.entries()) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, step)) {
      throw new TemplateError(`undefined variable "${[name, ...steps.slice(0, i + 1)].join(".")}"`, true);
    }
    value = (value as Record<string, unknown>)[step];
  }
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "string") {
    throw new TemplateError(`variable "${ref}" is ${kind(value)}, not a string or a number`, true);
  }
  try {
    return render(value, scopes, [...stack, name]);
  } catch (error) {
    if (error instanceof TemplateError && !error.message.includes("(in the value of")) {
      throw new TemplateError(`${error.message} (in the value of "${ref}")`, error.aboutVariable);
    }
    throw error;
  }
}

function kind(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `a ${typeof value}`;
}
