import { InputError, InputErrors } from "../errors.js";
import { readInputFile } from "../yaml/read.js";
import { validateYaml } from "../yaml/validate.js";
import { YamlFile } from "../yaml/yaml-file.js";
import { playbookSchema, type PostfixInput } from "./schema.js";

export interface Play {
  /** 0-based, as in error paths (`0.postfix.relay.host`). */
  index: number;
  name?: string;
  /** Host pattern; a YAML list of patterns is joined with ",". */
  hosts: string;
  vars: Record<string, unknown>;
  postfix: PostfixInput;
}

export interface Playbook {
  file: string;
  plays: Play[];
  /** The parsed file, to place errors found later (templating, merging, secrets) at their value. */
  yaml: YamlFile;
}

/** Tables the `postfix:` keys own; `tables:` may not reuse their file names. */
const RESERVED_TABLES = ["generic", "canonical", "virtual", "sasl_passwd", "sender_relay"];
// A file name in /etc/postfix: no dots, so no clash with main.cf or an index file (NAME.db).
const TABLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function loadPlaybook(path: string): Playbook {
  return parsePlaybook(readInputFile(path, "playbook"), path);
}

export function parsePlaybook(text: string, file: string): Playbook {
  const yaml = YamlFile.parse(text, file);
  if (yaml.data === null || yaml.data === undefined) {
    throw new InputError(
      "the playbook is empty: expected a list of plays (each starting with `- hosts: ...`)",
      { location: yaml.locate([]) },
    );
  }
  const plays = validateYaml(yaml, playbookSchema).map((play, index): Play => ({
    index,
    ...(play.name !== undefined && { name: play.name }),
    hosts: typeof play.hosts === "string" ? play.hosts : play.hosts.join(","),
    vars: play.vars ?? {},
    postfix: play.postfix,
  }));
  const errors = plays.flatMap((play) => semanticErrors(play, yaml));
  if (errors.length > 0) throw new InputErrors(errors);
  return { file, plays, yaml };
}

/** `play 1 ("Send through the ISP")`, for messages that must say which play. */
export function describePlay(play: Play): string {
  return play.name === undefined ? `play ${play.index}` : `play ${play.index} (${JSON.stringify(play.name)})`;
}

function semanticErrors(play: Play, yaml: YamlFile): InputError[] {
  const errors: InputError[] = [];
  const at = [play.index, "postfix"] as const;
  for (const name of Object.keys(play.postfix.tables ?? {})) {
    if (RESERVED_TABLES.includes(name)) {
      errors.push(
        yaml.error(
          [...at, "tables", name],
          `"${name}" is managed by postfix.${keyFor(name)}; choose another table name`,
          { atKey: true },
        ),
      );
    } else if (!TABLE_NAME.test(name)) {
      errors.push(
        yaml.error([...at, "tables", name], `invalid table name: use letters, digits, "_", "-"`, {
          atKey: true,
        }),
      );
    }
  }
  const credentials = (
    path: readonly (string | number)[],
    given: { username?: unknown; password?: unknown },
  ) => {
    if ((given.username === undefined) !== (given.password === undefined)) {
      const missing = given.username === undefined ? "username" : "password";
      errors.push(yaml.error(path, `${missing} is missing: give both username and password, or neither`));
    }
  };
  if (play.postfix.relay) credentials([...at, "relay"], play.postfix.relay);
  for (const [address, sender] of Object.entries(play.postfix.senders ?? {})) {
    credentials([...at, "senders", address], sender);
  }
  return errors;
}

function keyFor(table: string): string {
  return table === "sasl_passwd" ? "relay / senders" : table === "sender_relay" ? "senders" : table;
}
