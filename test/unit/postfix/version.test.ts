import { expect } from "chai";
import { HostError } from "../../../src/errors.js";
import { FEATURE_GATES, parseVersion, requireFeature, versionAtLeast } from "../../../src/postfix/version.js";
import { catchError, hostWithVersion } from "./fixtures.js";

describe("postfix/version", () => {
  describe("parseVersion", () => {
    const cases: [string, number[]][] = [
      ["3.7.11", [3, 7, 11]],
      ["3.8-20230101", [3, 8]],
      ["2.2.10", [2, 2, 10]],
      ["3.10.0", [3, 10, 0]],
      ["3.7.11-0+deb12u1", [3, 7, 11]],
      [" 3.9.1\n", [3, 9, 1]],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} -> [${expected.join(",")}]`, () => {
        expect(parseVersion(input)).to.deep.equal(expected);
      });
    }

    it("throws on text that is not a version", () => {
      expect(() => parseVersion("unknown")).to.throw(/cannot parse Postfix version "unknown"/);
    });
  });

  describe("versionAtLeast", () => {
    const cases: [string, string, boolean][] = [
      ["3.7.11", "3.0", true],
      ["3.0", "3.0", true],
      ["3.0.0", "3.0", true],
      ["2.11.3", "3.0", false],
      ["2.10", "2.3", true], // numeric, not string, comparison
      ["2.2.10", "2.3", false],
      ["2.3", "2.3.1", false],
      ["3.8-20230101", "3.8", true],
    ];
    for (const [version, min, expected] of cases) {
      it(`${version} >= ${min} is ${expected}`, () => {
        expect(versionAtLeast(version, min)).to.equal(expected);
      });
    }
  });

  describe("FEATURE_GATES / requireFeature", () => {
    it("has the gates of POSTFIX.md", () => {
      expect(FEATURE_GATES.genericMaps.since).to.equal("2.2");
      expect(FEATURE_GATES.senderDependent.since).to.equal("2.3");
      expect(FEATURE_GATES.tlsWrapperMode.since).to.equal("3.0");
    });

    it("passes on a new enough Postfix", () => {
      expect(() =>
        requireFeature(hostWithVersion("2.3.0"), FEATURE_GATES.senderDependent, "x"),
      ).not.to.throw();
    });

    it("names host, version, feature, minimum and the alternative", () => {
      const error = catchError(() =>
        requireFeature(hostWithVersion("2.1.5"), FEATURE_GATES.genericMaps, "use canonical: instead"),
      );
      expect(error).to.be.instanceOf(HostError);
      expect((error as HostError).host).to.equal("oldbox");
      expect(error.message).to.include("oldbox").and.include("2.1.5").and.include("smtp_generic_maps");
      expect(error.message).to.include(">= 2.2").and.include("use canonical: instead");
    });

    it("reports an unparsable mail_version as a host error", () => {
      expect(() => requireFeature(hostWithVersion("?"), FEATURE_GATES.genericMaps, "x")).to.throw(
        HostError,
        /oldbox.*mail_version is "\?"/,
      );
    });
  });
});
