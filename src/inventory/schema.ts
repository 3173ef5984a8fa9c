import * as z from "zod";
import { secretRefSchema } from "../playbook/schema.js";
import { expecting, strictObject } from "../yaml/validate.js";

/** Ansible YAML inventory: `all:` (and optionally other top-level groups) with hosts/vars/children. */

const PORT = "expected a port number from 1 to 65535";
const port = z
  .union(
    [
      z.number(),
      z
        .string()
        .regex(/^[0-9]+$/)
        .transform(Number),
    ],
    { error: expecting(PORT) },
  )
  .pipe(z.int(PORT).min(1, PORT).max(65535, PORT));

// Ansible's boolean(): YAML booleans and the usual spellings, which YAML 1.2 reads as strings.
const TRUE = ["true", "yes", "on", "1"];
const FALSE = ["false", "no", "off", "0"];
const BOOL = "expected true or false";
const bool = z.union(
  [
    z.boolean(),
    z
      .string()
      .refine((s) => [...TRUE, ...FALSE].includes(s.toLowerCase()))
      .transform((s) => TRUE.includes(s.toLowerCase())),
  ],
  { error: expecting(BOOL) },
);
const text = z.string(`expected a string`).min(1, "must not be empty");

/** Connection variables and their Ansible synonyms, typed; every other variable is free-form. */
export const CONNECTION_VARS = {
  address: ["address", "ansible_host", "ansible_ssh_host"],
  port: ["ssh_port", "ansible_port", "ansible_ssh_port"],
  user: ["ssh_user", "ansible_user", "ansible_ssh_user"],
  keyFile: ["ssh_key", "ansible_ssh_private_key_file", "ansible_private_key_file"],
  become: ["become", "ansible_become"],
  // ssh's UserKnownHostsFile: read, and where accept-new records. GlobalKnownHostsFile and HashKnownHosts
  // get no variable of their own (Ansible has none, and they describe the machine's trust, not a host):
  // they come from the ssh configuration, or per host from `-o ...` in ansible_ssh_common_args.
  knownHostsFile: ["ssh_known_hosts"],
  // Not Ansible's ansible_host_key_checking: that one is a boolean, and `false` (no checking at all) is
  // something this tool never does, so an Ansible inventory setting it must not silently mean "strict".
  hostKeyChecking: ["host_key_checking"],
  sshConfig: ["ssh_config"],
  jump: ["ssh_jump"],
  keyPassphrase: ["ssh_key_passphrase"],
  becomePassword: ["become_password", "ansible_become_password", "ansible_become_pass"],
  // Ansible's extra ssh command line arguments: -J / -o ProxyJump= and ssh_config(5) options are used.
  sshCommonArgs: ["ansible_ssh_common_args"],
  sshExtraArgs: ["ansible_ssh_extra_args"],
} as const;

const HOST_KEY_CHECKING = "expected strict or accept-new (host keys are always checked)";
const hostKeyChecking = z.enum(["strict", "accept-new"], { error: expecting(HOST_KEY_CHECKING) });

/** The type each connection variable must have (the values are converted only when connecting). */
export const CONNECTION_TYPES = {
  address: text,
  port,
  user: text,
  keyFile: text,
  become: bool,
  knownHostsFile: text,
  hostKeyChecking,
  sshConfig: text,
  jump: text,
  keyPassphrase: secretRefSchema,
  becomePassword: secretRefSchema,
  sshCommonArgs: z.string("expected a string"),
  sshExtraArgs: z.string("expected a string"),
};

const connectionShape = Object.fromEntries(
  Object.entries(CONNECTION_VARS).flatMap(([field, names]) =>
    names.map((name) => [name, CONNECTION_TYPES[field as keyof typeof CONNECTION_TYPES].optional()]),
  ),
);

export const varsSchema = z.looseObject(connectionShape, { error: "expected a map of variables" });
export type VarsInput = Record<string, unknown>;

export interface GroupInput {
  hosts?: Record<string, VarsInput | null> | null;
  vars?: VarsInput | null;
  children?: Record<string, GroupInput | null> | null;
}

export const groupSchema: z.ZodType<GroupInput> = z.lazy(() =>
  strictObject({
    hosts: z.record(z.string(), varsSchema.nullable(), "expected a map of host names").nullish(),
    vars: varsSchema.nullish(),
    children: z.record(z.string(), groupSchema.nullable(), "expected a map of group names").nullish(),
  }),
);

export const inventorySchema = z
  .record(z.string(), groupSchema.nullable(), "expected a map of groups, starting with `all:`")
  .nullable();
