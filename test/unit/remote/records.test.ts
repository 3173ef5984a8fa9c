import { expect } from "chai";
import { parseRecords } from "../../../src/remote/records.js";

describe("remote records", () => {
  it("reads the records of an apply's output and skips what the programs it ran printed", () => {
    const output = [
      "postfix/postfix-script: refreshing the Postfix mail system",
      "wrote\t/etc/postfix/generic",
      "postmap\thash:/etc/postfix/generic",
      "constructor\tnot a record",
      "",
      "service\treload",
      "backup\t/var/backups/provision/20261127T225000-1a2b3c",
    ].join("\n");
    expect(parseRecords(output)).to.deep.equal([
      { kind: "wrote", path: "/etc/postfix/generic" },
      { kind: "postmap", map: "hash:/etc/postfix/generic" },
      { kind: "service", action: "reload" },
      { kind: "backup", backup: "/var/backups/provision/20261127T225000-1a2b3c" },
    ]);
  });

  it("keeps tabs inside free text (what a failing command printed)", () => {
    expect(parseRecords("error\tpostmap failed:\tline 3\n")).to.deep.equal([
      { kind: "error", message: "postmap failed:\tline 3" },
    ]);
  });

  it("reads file records: missing, metadata only, metadata and content", () => {
    const [missing, stat, content] = parseRecords(
      [
        "file\t/etc/postfix/generic\tmissing",
        "file\t/etc/postfix/generic.db\t600 root root 1700000001.25",
        `file\t/etc/postfix/main.cf\t644 root postfix 1700000000.5\t${Buffer.from("a = b\n").toString("base64")}`,
      ].join("\n"),
    );
    expect(missing).to.deep.equal({ kind: "file", path: "/etc/postfix/generic" });
    expect(stat).to.deep.equal({
      kind: "file",
      path: "/etc/postfix/generic.db",
      stat: { mode: 0o600, owner: "root", group: "root", mtime: 1700000001.25 },
    });
    expect(content).to.deep.include({ path: "/etc/postfix/main.cf" });
    expect(content?.kind === "file" && content.content?.toString()).to.equal("a = b\n");
  });
});
