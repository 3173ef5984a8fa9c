import { InputError, InputErrors } from "../errors.js";
import { credentialPairProblem, tableNameProblem } from "../postfix/rules.js";
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

/** Mistakes visible before any `{{ var }}` is substituted: table names, credentials given by halves. */
function semanticErrors(play: Play, yaml: YamlFile): InputError[] {
  const errors: InputError[] = [];
  const at = [play.index, "postfix"] as const;
  for (const name of Object.keys(play.postfix.tables ?? {})) {
    const problem = tableNameProblem(name);
    if (problem) errors.push(yaml.error([...at, "tables", name], problem, { atKey: true }));
  }
  const credentials = (
    path: readonly (string | number)[],
    given: { username?: unknown; password?: unknown },
  ) => {
    const problem = credentialPairProblem(given);
    if (problem) errors.push(yaml.error(path, problem));
  };
  if (play.postfix.relay) credentials([...at, "relay"], play.postfix.relay);
  for (const [address, sender] of Object.entries(play.postfix.senders ?? {})) {
    credentials([...at, "senders", address], sender);
  }
  return errors;
}
