import { expect } from "chai";
import { parameterMismatches } from "../../../src/engine/verify.js";

describe("post-apply verification against postconf -n", () => {
  const postconfN = "myorigin = $mydomain\nrelay_domains =\nrelayhost = [mail.isp.example]:submission\n";

  it("accepts values as Postfix reports them, including empty ones", () => {
    expect(
      parameterMismatches(
        {
          myorigin: "$mydomain",
          relay_domains: "",
          relayhost: "[mail.isp.example]:submission",
          proxy_interfaces: null,
        },
        postconfN,
      ),
    ).to.deep.equal([]);
  });

  it("names parameters Postfix reads differently, misses, or still has", () => {
    expect(
      parameterMismatches({ myorigin: "$myhostname", mynetworks_style: "host", relayhost: null }, postconfN),
    ).to.deep.equal([
      'myorigin is "$mydomain", expected "$myhostname"',
      'mynetworks_style is not set, expected "host"',
      "relayhost is still set ([mail.isp.example]:submission)",
    ]);
  });
});
