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

  it("reads postconf -n as Postfix writes it: U+2028 inside a value, a no-break space not a separator", () => {
    const shown = "smtpd_banner = $myhostname\u2028ESMTP\nmydestination = $myhostname,\u00a0localhost\n";
    expect(parameterMismatches({ smtpd_banner: "$myhostname\u2028ESMTP" }, shown)).to.deep.equal([]);
    expect(parameterMismatches({ mydestination: "$myhostname, localhost" }, shown)).to.deep.equal([
      'mydestination is "$myhostname,\u00a0localhost", expected "$myhostname, localhost"',
    ]);
  });
});
