import { expect } from "chai";
import { HostError } from "../../../src/errors.js";
import {
  ALL_INDEX_SUFFIXES,
  indexPathsFor,
  needsPostmap,
  resolveTableType,
} from "../../../src/postfix/tabletypes.js";
import { alma, catchError, debian } from "./fixtures.js";

describe("postfix/tabletypes", () => {
  describe("indexPathsFor / needsPostmap", () => {
    const src = "/etc/postfix/generic";
    const cases: [string, string[]][] = [
      ["hash", [`${src}.db`]],
      ["btree", [`${src}.db`]],
      ["lmdb", [`${src}.lmdb`]],
      ["cdb", [`${src}.cdb`]],
      ["dbm", [`${src}.dir`, `${src}.pag`]],
      ["sdbm", [`${src}.dir`, `${src}.pag`]],
      ["regexp", []],
      ["pcre", []],
      ["cidr", []],
      ["texthash", []],
      ["inline", []],
      ["static", []],
      ["unionmap", []],
      ["pipemap", []],
      ["mysql", []],
      ["toString", []], // not fooled by Object.prototype
    ];
    for (const [type, indexes] of cases) {
      it(`${type}: postmap ${indexes.length > 0 ? "builds " + indexes.join(" + ") : "is never run"}`, () => {
        expect(indexPathsFor(type, src)).to.deep.equal(indexes);
        expect(needsPostmap(type)).to.equal(indexes.length > 0);
      });
    }

    it("ALL_INDEX_SUFFIXES covers every index any type writes", () => {
      expect([...ALL_INDEX_SUFFIXES].sort()).to.deep.equal([".cdb", ".db", ".dir", ".lmdb", ".pag"]);
      for (const [type] of cases) {
        for (const path of indexPathsFor(type, src)) {
          expect(ALL_INDEX_SUFFIXES.some((s) => path.endsWith(s))).to.equal(true);
        }
      }
    });
  });

  describe("resolveTableType", () => {
    it("auto is hash on Debian", () => {
      expect(resolveTableType("auto", debian)).to.equal("hash");
    });

    it("auto is lmdb where lmdb is the default", () => {
      expect(resolveTableType("auto", alma)).to.equal("lmdb");
    });

    it("keeps an explicit supported type", () => {
      expect(resolveTableType("btree", debian)).to.equal("btree");
    });

    it("refuses a type postconf -m does not list, saying what the host offers and what to do", () => {
      const error = catchError(() => resolveTableType("hash", alma));
      expect(error).to.be.instanceOf(HostError);
      expect((error as HostError).host).to.equal("pi");
      expect(error.message).to.include('"hash"').and.include("pi").and.include("postconf -m offers:");
      expect(error.message).to.include("lmdb").and.include("table_type: auto");
    });

    it("refuses a default_database_type the host does not support", () => {
      const broken = { ...debian, supportedTypes: ["lmdb", "regexp"] };
      expect(() => resolveTableType("auto", broken)).to.throw(
        HostError,
        /default_database_type "hash".*lmdb/,
      );
    });
  });
});
