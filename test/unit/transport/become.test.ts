import { expect } from "chai";
import { PassThrough } from "node:stream";
import { launchFor } from "../../../src/transport/become.js";
import { Secret } from "../../../src/secrets/secret.js";

describe("the remote command that runs a script as root", () => {
  it("never puts the sudo password on the command line, and writes it only when sudo asks", async () => {
    const password = new Secret("pw with 'quote", "test");
    const launch = launchFor(true, "deploy", password);
    expect(launch.command).to.not.include("pw with");
    const run = launch.start("echo script\n");
    const stdin = run.stdin as PassThrough;
    const written: string[] = [];
    stdin.on("data", (chunk: Buffer) => written.push(chunk.toString()));
    run.onStdout!(Buffer.from("provision-become-ready\nout"));
    await new Promise((resolve) => setImmediate(resolve));
    // sudo did not ask (NOPASSWD): the password is never sent, the script is.
    expect(written).to.deep.equal(["echo script\n"]);
    expect(run.finish("provision-become-ready\nout", "").stdout).to.equal("out");
  });

  it("sends the password once at sudo's prompt; a second prompt is a wrong password", async () => {
    const launch = launchFor(true, "deploy", new Secret("pw", "test"));
    const run = launch.start("echo script\n");
    const written: string[] = [];
    (run.stdin as PassThrough).on("data", (chunk: Buffer) => written.push(chunk.toString()));
    run.onStderr!(Buffer.from("[provision] sudo password:"));
    run.onStderr!(Buffer.from("Sorry, try again.\n[provision] sudo password:"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).to.deep.equal(["pw\n"]);
    expect(run.finish("", "Sorry, try again.\nsudo: 1 incorrect password attempt\n").problem).to.equal(
      "password-refused",
    );
  });

  it("checks that a login without become is root", () => {
    const run = launchFor(false, "admin", undefined).start("x");
    expect(run.finish("", "provision-not-root\n").problem).to.equal("not-root");
    expect(launchFor(false, "root", undefined).command).to.include('"$(id -u)" != 0');
    expect(launchFor(true, "deploy", undefined).command).to.equal("sudo -n -- /bin/sh -s");
  });

  it("does not mistake the script's own stderr for a sudo problem", () => {
    const run = launchFor(true, "deploy", undefined).start("x");
    expect(run.finish("", "postconf: warning: /etc/postfix/main.cf: unused parameter: x\n").problem).to.equal(
      undefined,
    );
    expect(run.finish("", "sudo: a password is required\n").problem).to.equal("password-required");
    expect(run.finish("", "bash: line 1: sudo: command not found\n").problem).to.equal("no-sudo");
  });
});
