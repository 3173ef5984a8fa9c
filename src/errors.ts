/**
 * Errors the user can act on. Only the CLI turns them into exit codes; everything else throws.
 * Messages never contain secret values (see secrets/secret.ts).
 */

/** Where in a YAML file a bad value is. */
export interface SourceLocation {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

/** Bad inventory / playbook / command-line input: detected before any host is contacted. */
export class InputError extends Error {
  readonly location?: SourceLocation;
  /** Dotted path of the bad value inside its file, e.g. "0.postfix.relay.port". */
  readonly path?: string;

  constructor(message: string, options: { location?: SourceLocation; path?: string } = {}) {
    const where = options.location
      ? `${options.location.file}:${options.location.line}:${options.location.column}: `
      : "";
    const at = options.path ? `${options.path}: ` : "";
    super(`${where}${at}${message}`);
    this.name = "InputError";
    this.location = options.location;
    this.path = options.path;
  }
}

/** Several input errors found in one pass, reported together. */
export class InputErrors extends Error {
  readonly errors: InputError[];

  constructor(errors: InputError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "InputErrors";
    this.errors = errors;
  }
}

/** A host-specific problem found while planning or applying (wrong Postfix version, table type, ...). */
export class HostError extends Error {
  readonly host: string;

  constructor(host: string, message: string) {
    super(message);
    this.name = "HostError";
    this.host = host;
  }
}

/** A remote command did not finish in time. During an apply the script goes on on the host by itself. */
export class CommandTimeoutError extends HostError {
  constructor(host: string, message: string) {
    super(host, message);
    this.name = "CommandTimeoutError";
  }
}

/**
 * The host could not be reached or logged in to, or the connection was lost. Lost during an apply, the
 * apply goes on on the host by itself (engine/apply-script.ts); the message says so.
 */
export class UnreachableError extends Error {
  readonly host: string;

  constructor(host: string, message: string) {
    super(message);
    this.name = "UnreachableError";
    this.host = host;
  }
}
