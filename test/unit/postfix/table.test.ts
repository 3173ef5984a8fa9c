import { expect } from "chai";
import { InputError } from "../../../src/errors.js";
import { MASK, Secret, type SecretText } from "../../../src/secrets/secret.js";
import { maskTableText, renderTable, TABLE_HEADER, type TableEntry } from "../../../src/postfix/table.js";
import { catchError } from "./fixtures.js";

const PASSWORD = "s3cr3t:pa#ss word";
const entry = (key: string, ...value: SecretText): TableEntry => ({ key, value });

describe("postfix/table", () => {
  describe("renderTable", () => {
    it("writes a header and sorted `key value` lines, secrets revealed in text and masked in display", () => {
      const password = new Secret(PASSWORD, "env ISP_PASSWORD");
      const { text, display } = renderTable([
        entry("user1@example.com", "username2:", new Secret("password2", "env A")),
        entry("[mail.isp.example]", "username:", password),
      ]);
      expect(text).to.equal(
        `${TABLE_HEADER}\n[mail.isp.example] username:${PASSWORD}\nuser1@example.com username2:password2\n`,
      );
      expect(display).to.equal(
        `${TABLE_HEADER}\n[mail.isp.example] username:${MASK}\nuser1@example.com username2:${MASK}\n`,
      );
    });

    it("sorts by lowercased key and keeps the keys as written", () => {
      const { text } = renderTable([
        entry("b@x", "1"),
        entry("A@x", "2"),
        entry("@x", "3"),
        entry("a@w", "4"),
      ]);
      expect(text.split("\n").slice(1, -1)).to.deep.equal(["@x 3", "a@w 4", "A@x 2", "b@x 1"]);
    });

    it("renders the same bytes whatever the input order", () => {
      const entries = [
        entry("his@localdomain.local", "hisaccount@hisisp.example"),
        entry("@localdomain.local", "x@y"),
      ];
      expect(renderTable(entries).text).to.equal(renderTable([...entries].reverse()).text);
    });

    it("renders an empty table as just the header", () => {
      expect(renderTable([]).text).to.equal(`${TABLE_HEADER}\n`);
    });

    const bad: [string, TableEntry[], RegExp][] = [
      ["an empty key", [entry("", "v")], /key is empty/],
      ["an empty value", [entry("k", "")], /"k".*empty/],
      ["a key with whitespace", [entry("a b", "v")], /"a b".*whitespace/],
      ["a key with a tab", [entry("a\tb", "v")], /"a\\tb"/],
      ["a key starting with #", [entry("#k", "v")], /"#k".*comment/],
      ["a newline in a key", [entry("k\nx", "v")], /line break/],
      ["a newline in a value", [entry("k", "v\nx y")], /"k".*line break/],
      ["a CR in a value", [entry("k", "v\r")], /"k".*line break/],
      ["a NUL in a value", [entry("k", "v\u0000")], /"k".*NUL/],
      ["a value with leading whitespace", [entry("k", " v")], /"k".*leading or trailing/],
      ["a value with trailing whitespace", [entry("k", "v ")], /"k".*leading or trailing/],
      ["keys equal but for case", [entry("User@X", "a"), entry("user@x", "b")], /"user@x".*"User@X".*case/],
    ];
    for (const [title, entries, message] of bad) {
      it(`rejects ${title}`, () => {
        expect(() => renderTable(entries)).to.throw(InputError, message);
      });
    }

    it("names the table and never shows a secret value in an error", () => {
      const cases: SecretText[] = [
        ["u:", new Secret(PASSWORD + "\n", "file ~/p")],
        ["u:", new Secret(PASSWORD + " ", "file ~/p")],
        ["u:", new Secret(PASSWORD + "\u0000", "file ~/p")],
      ];
      for (const value of cases) {
        const error = catchError(() => renderTable([entry("[relay]", ...value)], "sasl_passwd"));
        expect(error.message).to.include("sasl_passwd").and.include("[relay]");
        expect(error.message).not.to.include(PASSWORD);
      }
    });
  });

  describe("maskTableText", () => {
    const desired = [
      entry("[mail.isp.example]:submission", "username:", new Secret(PASSWORD, "env P")),
      entry("user1@example.com", "username2:", new Secret("password2", "env Q")),
    ];

    it("shows the same text as the desired display when the host is in sync", () => {
      const remote = renderTable(desired).text;
      expect(maskTableText(remote, desired)).to.equal(renderTable(desired).display);
    });

    it("marks passwords that differ and keys not desired, never showing a password", () => {
      const remote = [
        "# hand-written",
        "",
        "[MAIL.isp.example]:submission\tusername:" + PASSWORD,
        "user1@example.com otheruser:oldpass",
        "[old.relay] u:leaked1",
        "novalue-colon leaked2",
        "",
      ].join("\n");
      const masked = maskTableText(remote, desired);
      expect(masked).to.equal(
        [
          "# hand-written",
          "",
          `[MAIL.isp.example]:submission\tusername:${MASK}`,
          `user1@example.com otheruser:${MASK} (differs)`,
          `[old.relay] u:${MASK} (differs)`,
          `novalue-colon ${MASK} (differs)`,
          "",
        ].join("\n"),
      );
      for (const secret of [PASSWORD, "oldpass", "leaked1", "leaked2", "password2"]) {
        expect(masked).not.to.include(secret);
      }
    });

    it("masks continuation lines whole and compares the joined value", () => {
      const remote = "# c\nuser1@example.com username2:pass\n  # x\n  word2\n[a] u:p\n";
      expect(maskTableText(remote, desired)).to.equal(
        `# c\nuser1@example.com username2:${MASK} (differs)\n  # x\n  ${MASK}\n[a] u:${MASK} (differs)\n`,
      );
    });

    it("a password split over a continuation line still matches", () => {
      const remote = "user1@example.com username2:password2\n";
      const splitDesired = [entry("user1@example.com", "username2:", new Secret("password2 more", "env Q"))];
      const continued = "user1@example.com username2:password2\n more\n";
      expect(maskTableText(continued, splitDesired)).to.equal(
        `user1@example.com username2:${MASK}\n ${MASK}\n`,
      );
      expect(maskTableText(remote, splitDesired)).to.equal(`user1@example.com username2:${MASK} (differs)\n`);
    });

    it("masks every value whatever its line ends: a bare CR or U+2028/U+2029 ends no line for Postfix", () => {
      const cases: [string, string][] = [
        [
          "[mail.isp.example]:submission username:OLD-1\ruser1@example.com username2:OLD-2\r",
          `[mail.isp.example]:submission username:${MASK} (differs)`,
        ],
        [
          "[mail.isp.example]:submission username:OLD-1\u2028user1@example.com username2:OLD-2\n",
          `[mail.isp.example]:submission username:${MASK} (differs)\n`,
        ],
        [
          "user1@example.com username2:OLD-1\u2029OLD-2\r\n",
          `user1@example.com username2:${MASK} (differs)\r\n`,
        ],
        // No whitespace after the key, or a key that is neither declared nor plain ASCII: the whole line.
        ["[mail.isp.example]:submission\u2028username:OLD-1 OLD-2\n", `${MASK}\n`],
        ["[relay]\u00a0username:OLD-1\n", `${MASK}\n`],
        ["k\u2028u:OLD-1\n  OLD-2\n", `${MASK}\n  ${MASK}\n`],
      ];
      for (const [remote, shown] of cases) {
        const masked = maskTableText(remote, desired);
        expect(masked, JSON.stringify(remote)).to.equal(shown);
        expect(masked).not.to.include("OLD-");
      }
    });

    it("keeps CRLF endings and text without a final newline", () => {
      expect(maskTableText("k u:p\r\nk2 v", [])).to.equal(`k u:${MASK} (differs)\r\nk2 ${MASK} (differs)`);
    });
  });
});
