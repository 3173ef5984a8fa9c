import { CommandTimeoutError, UnreachableError } from "../../../src/errors.js";
import type { Connect } from "../../../src/engine/host-run.js";
import type { RemoteResult, RemoteSession } from "../../../src/transport/ssh.js";

/**
 * A replaying stand-in for the SSH transport: each remote command gets the next recorded reply, in
 * order, across reconnects; a reply may also be a lost connection or a timeout, and a connect may be
 * refused. What the engine sent is kept for assertions.
 */

export type Reply =
  /** The command `what` ("gathering facts", "applying changes", "rolling back") prints `stdout`. */
  | { what: string; stdout: string; code?: number; stderr?: string }
  /** The command `what` does not come back: the connection dies, or it times out. */
  | { what: string; fails: "connection lost" | "timeout" }
  /** The next connect is refused. */
  | { connect: "refused" };

export class ReplayingHost {
  /** "connect", then the `what` of each command, in order. */
  readonly log: string[] = [];
  /** The scripts sent, in order. */
  readonly scripts: string[] = [];
  private readonly replies: Reply[];

  constructor(replies: Reply[]) {
    this.replies = [...replies];
  }

  readonly connect: Connect = async (hostName, spec) => {
    const next = this.replies[0];
    if (next && "connect" in next) {
      this.replies.shift();
      throw new UnreachableError(
        hostName,
        `cannot connect to ${spec.user}@${spec.address}:${spec.port}: ECONNREFUSED`,
      );
    }
    this.log.push("connect");
    return this.session(hostName, `${spec.user}@${spec.address}:${spec.port}`);
  };

  /** Replies not used: the engine stopped earlier than the test expects. */
  get unused(): Reply[] {
    return this.replies;
  }

  private session(hostName: string, where: string): RemoteSession {
    let commands = 0;
    let open = true;
    return {
      get commandCount() {
        return commands;
      },
      runScript: async (script: string, what: string): Promise<RemoteResult> => {
        if (!open) throw new Error(`${what} on a closed session`);
        commands += 1;
        this.log.push(what);
        this.scripts.push(script);
        const reply = this.replies.shift();
        if (!reply || "connect" in reply) throw new Error(`no recorded reply for ${what}`);
        if (reply.what !== what) throw new Error(`expected ${reply.what}, the engine ran ${what}`);
        if ("fails" in reply) {
          open = false;
          // The messages transport/ssh.ts gives these failures.
          if (reply.fails === "timeout")
            throw new CommandTimeoutError(hostName, `${what} timed out after 1 s`);
          throw new UnreachableError(hostName, `connection to ${where} lost during ${what}`);
        }
        return { code: reply.code ?? 0, stdout: reply.stdout, stderr: reply.stderr ?? "", durationMs: 1 };
      },
      close: () => {
        open = false;
      },
    };
  }
}
