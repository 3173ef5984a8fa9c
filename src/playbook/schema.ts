import * as z from "zod";
import { expecting, strictObject } from "../yaml/validate.js";

/** The playbook as written (SPEC.md "Playbook"); `{{ vars }}` are still unsubstituted here. */

const text = z.string().min(1, "must not be empty");
const map = (what: string) => z.record(z.string(), z.string(), `expected a map of ${what}`);
const PORT = "expected a port number (1-65535) or a service name such as submission";
const port = z.union([z.int(PORT).min(1, PORT).max(65535, PORT), z.string().min(1, PORT)], {
  error: expecting(PORT),
});
const list = z.union([z.string(), z.array(z.string())], {
  error: expecting('expected a list of strings, or one string of comma-separated values ("plain, login")'),
});

export const secretRefSchema = z.union(
  [z.string(), strictObject({ env: text }), strictObject({ file: text }), strictObject({ command: text })],
  {
    error: expecting(
      'expected { env: NAME }, { file: PATH }, { command: "..." } (or a literal string, not advised)',
    ),
  },
);

const nextHop = { host: text, port: port.optional(), mx: z.boolean().optional() };

const relaySchema = strictObject({
  ...nextHop,
  username: text.optional(),
  password: secretRefSchema.optional(),
  tls: text.optional(),
  mechanisms: list.optional(),
  security_options: list.optional(),
});

const senderSchema = strictObject({
  relay: strictObject(nextHop),
  username: text.optional(),
  password: secretRefSchema.optional(),
});

const tableSchema = strictObject({ type: text.optional(), parameter: text, entries: map("keys to values") });

// true/false are accepted for Postfix's yes/no booleans (YAML 1.2 reads `yes` as a plain string).
const MAIN_VALUE =
  "expected a string, a number, true/false (written yes/no), or null (to remove the parameter)";
const mainValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: (issue) =>
    Array.isArray(issue.input)
      ? `${MAIN_VALUE}; write a list as one string, e.g. "127.0.0.0/8, [::1]/128"`
      : expecting(MAIN_VALUE)(issue),
});

export const postfixSchema = strictObject({
  table_type: text.optional(),
  main: z.record(z.string(), mainValue, "expected a map of main.cf parameters").optional(),
  generic: map("addresses").optional(),
  canonical: map("addresses").optional(),
  virtual: map("addresses").optional(),
  relay: relaySchema.optional(),
  senders: z.record(z.string(), senderSchema, "expected a map of sender addresses").optional(),
  tables: z.record(z.string(), tableSchema, "expected a map of table names").optional(),
});

export const playSchema = strictObject({
  name: text.optional(),
  hosts: z.union([text, z.array(text).min(1)], {
    error: expecting("expected a host pattern (a string, or a list of them)"),
  }),
  vars: z.record(z.string(), z.unknown(), "expected a map of variables").optional(),
  postfix: postfixSchema,
});

export const playbookSchema = z.array(
  playSchema,
  "expected a list of plays (each starting with `- hosts: ...`)",
);

export type PostfixInput = z.output<typeof postfixSchema>;
export type RelayInput = z.output<typeof relaySchema>;
export type SenderInput = z.output<typeof senderSchema>;
export type SecretRefInput = z.output<typeof secretRefSchema>;
