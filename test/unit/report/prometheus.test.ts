import { expect } from "chai";
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writePromFile } from "../../../src/report/prometheus.js";

/**
 * `check --prom-file` writes into a directory others may write to (a textfile collector's): it must
 * never write through a symlink someone placed at the target or at a temp name it would use.
 */
describe("--prom-file writing", () => {
  let dir: string;
  let victim: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "provision-prom-"));
    victim = join(dir, "victim");
    writeFileSync(victim, "precious\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the metrics and leaves no temp file", () => {
    const file = join(dir, "provision.prom");
    writePromFile(file, "provision_up 1\n");
    writePromFile(file, "provision_up 0\n");
    expect(readFileSync(file, "utf8")).to.equal("provision_up 0\n");
    expect(readdirSync(dir).sort()).to.deep.equal(["provision.prom", "victim"]);
  });

  it("replaces a symlink at the target with a regular file, never writing through it", () => {
    const file = join(dir, "provision.prom");
    symlinkSync(victim, file);
    writePromFile(file, "provision_up 1\n");
    expect(lstatSync(file).isSymbolicLink()).to.equal(false);
    expect(readFileSync(file, "utf8")).to.equal("provision_up 1\n");
    expect(readFileSync(victim, "utf8")).to.equal("precious\n");
  });

  it("does not follow symlinks planted at predictable temp names", () => {
    const file = join(dir, "provision.prom");
    // The names an earlier version used (FILE.PID.tmp), for this and nearby PIDs.
    for (let pid = process.pid - 5; pid <= process.pid + 5; pid++) symlinkSync(victim, `${file}.${pid}.tmp`);
    writePromFile(file, "provision_up 1\n");
    expect(readFileSync(victim, "utf8")).to.equal("precious\n");
    expect(lstatSync(file).isSymbolicLink()).to.equal(false);
    expect(readFileSync(file, "utf8")).to.equal("provision_up 1\n");
  });

  it("fails cleanly where the directory does not exist", () => {
    expect(() => writePromFile(join(dir, "missing", "provision.prom"), "x\n")).to.throw(/ENOENT/);
    expect(readdirSync(dir)).to.deep.equal(["victim"]);
  });
});
