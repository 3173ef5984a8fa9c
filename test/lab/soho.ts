// The SOHO relays every lab user shares (tests, demo, benchmark), and the passwords they accept.
import type { RelaySpec } from "./relays.js";

/**
 * What the relays accept. Not dictionary words (the CLI masks a secret value wherever it stands as a word
 * of its own in its output, so "password" would also mask that word in messages), and with a colon, a
 * `#` and inner spaces, which Postfix allows in the password part of sasl_passwd.
 */
export const LAB_PASSWORDS = {
  isp: "isp-Pa55:with#hash",
  exampleCom: "com pa55 w0rd",
  exampleNet: "net-S3cret",
  fooBar: "piyopiyo",
};

/**
 * Relays for the SOHO_README scenarios (MISSION.md): the ISP on submission and on 465, the two
 * sender-dependent providers, and the translator's foo.bar.com. Demo, benchmark and tests share them.
 */
export const SOHO_RELAYS: RelaySpec[] = [
  {
    name: "isp",
    hostname: "mail.isp.example",
    port: 587,
    tls: "starttls",
    users: { username: LAB_PASSWORDS.isp },
  },
  {
    name: "isp-smtps",
    hostname: "smtps.isp.example",
    port: 465,
    tls: "implicit",
    users: { username: LAB_PASSWORDS.isp },
  },
  {
    name: "example-com",
    hostname: "mail.example.com",
    port: 587,
    tls: "starttls",
    users: { username2: LAB_PASSWORDS.exampleCom },
  },
  {
    name: "example-net",
    hostname: "mail.example.net",
    port: 25,
    tls: "starttls",
    users: { username2: LAB_PASSWORDS.exampleNet },
  },
  {
    name: "foo-bar",
    hostname: "foo.bar.com",
    port: 587,
    tls: "starttls",
    users: { hoge: LAB_PASSWORDS.fooBar },
  },
];
