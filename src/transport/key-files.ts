import { existsSync, readFileSync } from "node:fs";
import ssh2, { type ParsedKey } from "ssh2";

// ssh2 is CommonJS: its classes come from the default export.
const { utils } = ssh2;

/**
 * Private key files as ssh reads them: OpenSSH and PEM formats, ed25519, ecdsa and rsa. The public key
 * of an encrypted file comes from FILE.pub or, for the OpenSSH format, from the file's unencrypted
 * header, so that the agent's copy of the key can be used without asking for the passphrase.
 */

export interface KeyFile {
  path: string;
  data: Buffer;
  /** The SSH wire blob of the public key, when it can be known without the passphrase. */
  publicKey?: Buffer;
  encrypted: boolean;
  /** The key, when it is not encrypted. */
  parsed?: ParsedKey;
  /** Why the file cannot be used at all (not a key, unsupported type). */
  unusable?: string;
}

export function readKeyFile(path: string): KeyFile | undefined {
  if (!existsSync(path)) return undefined;
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    return {
      path,
      data: Buffer.alloc(0),
      encrypted: false,
      unusable: `cannot read it: ${(error as Error).message}`,
    };
  }
  const parsed = utils.parseKey(data);
  if (!(parsed instanceof Error)) {
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
    if (!key.isPrivateKey()) return { path, data, encrypted: false, unusable: "it is not a private key" };
    return { path, data, encrypted: false, parsed: key, publicKey: key.getPublicSSH() };
  }
  if (!/encrypted|passphrase/i.test(parsed.message)) {
    return { path, data, encrypted: false, unusable: parsed.message };
  }
  const publicKey = publicKeyFromPubFile(`${path}.pub`) ?? publicKeyFromOpenSshHeader(data);
  return { path, data, encrypted: true, ...(publicKey && { publicKey }) };
}

/** The key decrypted with its passphrase, or an Error (a wrong passphrase, typically). */
export function decryptKey(file: KeyFile, passphrase: string): ParsedKey | Error {
  const parsed = utils.parseKey(file.data, passphrase);
  if (parsed instanceof Error) return parsed;
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
}

function publicKeyFromPubFile(path: string): Buffer | undefined {
  try {
    const [, base64] = readFileSync(path, "utf8").trim().split(/\s+/);
    return base64 ? Buffer.from(base64, "base64") : undefined;
  } catch {
    return undefined;
  }
}

/** "openssh-key-v1\0", cipher, kdf, kdf options, key count, then the first public key in the clear. */
function publicKeyFromOpenSshHeader(data: Buffer): Buffer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(
    data.toString("latin1"),
  );
  if (!m) return undefined;
  const blob = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  const magic = "openssh-key-v1\0";
  if (blob.subarray(0, magic.length).toString("latin1") !== magic) return undefined;
  let offset = magic.length;
  const string = (): Buffer | undefined => {
    if (offset + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(offset);
    const value = blob.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value.length === length ? value : undefined;
  };
  for (let i = 0; i < 3; i++) if (!string()) return undefined;
  offset += 4;
  return string();
}
