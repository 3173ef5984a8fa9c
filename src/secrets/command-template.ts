import { TemplateError } from "../inventory/template.js";

/**
 * `{{ var }}` inside `password: { command: ... }`: the command runs in /bin/sh on the control machine, so
 * a substituted value must arrive as data, never as shell code (an inventory value `isp; touch PWNED`
 * must not run `touch`). Each value is quoted for the place it stands in the command as written:
 * bare (`pass show {{ acct }}`), inside '...' or inside "...", so it always reads back as exactly the
 * value, whichever way the user quoted it. Places where no quoting is reliable (backticks, arithmetic)
 * are refused. (Here-documents need line breaks, which playbook values cannot hold.)
 */

type Context = "plain" | "single" | "double" | "command" | "backtick" | "arithmetic";

/** Where `{{` may stand in a command, and how to insert a value there: (value, offset) -> text. */
export function shellInserter(command: string): (value: string, offset: number) => string {
  const contexts = contextsAt(command);
  return (value, offset) => {
    const context = contexts.get(offset);
    switch (context) {
      case "plain":
      case "command":
        return `'${value.replace(/'/g, `'\\''`)}'`;
      case "single":
        return value.replace(/'/g, `'\\''`);
      case "double":
        return value.replace(/[\\"$`]/g, "\\$&");
      default:
        throw new TemplateError(
          // No context: the `{{` follows a backslash, which would swallow the opening quote.
          `{{ }} ${context ? `inside ${DESCRIBE[context]}` : "right after a backslash"} in a password command cannot be quoted ` +
            `reliably; use it as a plain argument (pass show {{ account }}) or in quotes`,
        );
    }
  };
}

const DESCRIBE: Record<"backtick" | "arithmetic", string> = {
  backtick: "`backticks` (use $(...))",
  arithmetic: "$((arithmetic))",
};

/** The quoting context at the offset of every `{{` in `command`, read the way sh reads quotes, escapes and substitutions. */
function contextsAt(command: string): Map<number, Context> {
  const contexts = new Map<number, Context>();
  const stack: Context[] = ["plain"];
  const top = () => stack[stack.length - 1] ?? "plain";
  /** Open parentheses inside each $( ... ), so that `)` of a subshell does not end it. */
  const parens: number[] = [];
  for (let i = 0; i < command.length; i++) {
    const char = command[i];
    const context = top();
    if (command.startsWith("{{", i)) {
      contexts.set(i, context);
      const end = command.indexOf("}}", i);
      if (end === -1) break;
      i = end + 1;
      continue;
    }
    if (context === "single") {
      if (char === "'") stack.pop();
      continue;
    }
    if (char === "\\") {
      i++; // the escaped character has no special meaning
      continue;
    }
    if (char === "`") {
      if (context === "backtick") stack.pop();
      else stack.push("backtick");
    } else if (command.startsWith("$((", i)) {
      stack.push("arithmetic");
      parens.push(0);
      i += 2;
    } else if (command.startsWith("$(", i)) {
      stack.push("command");
      parens.push(0);
      i++;
    } else if (char === "(" && (context === "command" || context === "arithmetic")) {
      parens[parens.length - 1]! += 1;
    } else if (char === ")" && (context === "command" || context === "arithmetic")) {
      if (parens[parens.length - 1] === 0) {
        parens.pop();
        stack.pop();
        if (context === "arithmetic") i++; // the second ) of $(( ))
      } else parens[parens.length - 1]! -= 1;
    } else if (char === '"') {
      if (context === "double") stack.pop();
      else stack.push("double");
    } else if (char === "'" && context !== "double") {
      stack.push("single");
    }
  }
  return contexts;
}
