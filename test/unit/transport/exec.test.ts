import { expect } from "chai";
import { EventEmitter } from "node:events";
import { collect, OutputLimitError, type ExecChannel } from "../../../src/transport/exec.js";

/** A stand-in for an ssh2 exec channel: the test plays the host's side of it. */
class FakeChannel extends EventEmitter implements ExecChannel {
  stderr = new EventEmitter();
  closed = 0;
  write(): boolean {
    return true;
  }
  end(): void {}
  close(): void {
    this.closed += 1;
  }
}

describe("reading a remote command's output", () => {
  it("collects stdout and stderr, and decodes a UTF-8 character split across packets", async () => {
    const channel = new FakeChannel();
    const result = collect(channel, 1024);
    const umlaut = Buffer.from("ü", "utf8");
    channel.emit("data", Buffer.concat([Buffer.from("gr"), umlaut.subarray(0, 1)]));
    channel.emit("data", Buffer.concat([umlaut.subarray(1), Buffer.from("n\n")]));
    channel.stderr.emit("data", Buffer.from("warning\n"));
    channel.emit("exit", 0);
    channel.emit("close");
    expect(await result).to.deep.equal({ code: 0, signal: null, stdout: "grün\n", stderr: "warning\n" });
  });

  it("stops at the limit (stdout and stderr together): closes the channel and rejects naming it", async () => {
    const channel = new FakeChannel();
    const result = collect(channel, 64 * 1024 * 1024);
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 63; i++) channel.emit("data", chunk);
    channel.stderr.emit("data", chunk);
    expect(channel.closed).to.equal(0);
    channel.emit("data", Buffer.from("A"));
    expect(channel.closed).to.equal(1);
    // More data in flight and the close that follows change nothing.
    channel.emit("data", chunk);
    channel.emit("close");
    const error = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(OutputLimitError);
    expect((error as Error).message).to.equal("the host printed more than 64 MiB");
    expect(channel.closed).to.equal(1);
  });

  it("a channel closed without an exit status (connection lost) gives code null", async () => {
    const channel = new FakeChannel();
    const result = collect(channel, 1024);
    channel.emit("data", Buffer.from("partial"));
    channel.emit("close");
    expect(await result).to.include({ code: null, stdout: "partial" });
  });

  it("a channel error rejects instead of crashing the process", async () => {
    const channel = new FakeChannel();
    const result = collect(channel, 1024);
    channel.emit("error", new Error("channel broke"));
    const error = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.equal("channel broke");
  });
});
