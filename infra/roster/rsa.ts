import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";

const PEM_ARMOUR = /-----(BEGIN|END) [A-Z0-9 ]+-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Snowflake key-pair authentication wants at least a 2048-bit RSA key. */
export const MIN_RSA_BITS = 2048;

const PUBLIC_KEY_HOWTO = "Paste the output of `openssl rsa -in rsa_key.p8 -pubout` (with or without the BEGIN/END lines)";

/** The key as Snowflake's RSA_PUBLIC_KEY wants it: the base64 body with no armour and no line breaks. */
export const rsaPublicKeyBody = (key: string): string => key.replace(PEM_ARMOUR, "").replace(/\s+/g, "");

const parses = (make: () => KeyObject): KeyObject | undefined => {
  try {
    return make();
  } catch {
    return undefined;
  }
};

/** Whether DER bytes are a private key in any of the usual encodings. */
const isPrivateKeyDer = (der: Buffer): boolean =>
  (["pkcs8", "pkcs1", "sec1"] as const).some((type) => parses(() => createPrivateKey({ key: der, format: "der", type })) !== undefined) ||
  // An encrypted PKCS#8 key cannot be opened without its passphrase; node says so rather than "not a key".
  (() => {
    try {
      createPrivateKey({ key: der, format: "der", type: "pkcs8", passphrase: "" });
      return false;
    } catch (error) {
      return /passphrase|decrypt/i.test((error as Error).message);
    }
  })();

/** Why the value is not a usable RSA public key, or undefined when it is one. */
export function rsaPublicKeyProblem(key: string): string | undefined {
  const secret =
    "is a PRIVATE key, which is a secret and must never be in team.yaml (or in git). Remove it now, rotate the key pair, and paste only the public key";
  if (/PRIVATE KEY/.test(key)) return secret;
  if (/^\s*(ssh-(rsa|dss|ed25519)|ecdsa-sha2-)/.test(key))
    return "is an OpenSSH public key, not the PEM form Snowflake reads. Convert it with `ssh-keygen -e -m PKCS8 -f key.pub` and paste that";
  if (/BEGIN CERTIFICATE/.test(key))
    return "is a certificate, not a public key. Extract the key with `openssl x509 -in cert.pem -pubkey -noout` and paste that";
  const body = rsaPublicKeyBody(key);
  if (body.length === 0) return `is empty. ${PUBLIC_KEY_HOWTO}, or remove rsa_public_key`;
  if (!BASE64.test(body) || body.length % 4 === 1) return `is not base64. ${PUBLIC_KEY_HOWTO}`;
  const der = Buffer.from(body, "base64");
  const spki = parses(() => createPublicKey({ key: der, format: "der", type: "spki" }));
  if (spki === undefined) {
    if (isPrivateKeyDer(der)) return secret;
    if (parses(() => createPublicKey({ key: der, format: "der", type: "pkcs1" })))
      return "is an RSA key in PKCS#1 form (BEGIN RSA PUBLIC KEY); Snowflake needs the SubjectPublicKeyInfo form (BEGIN PUBLIC KEY). Convert it with `openssl rsa -RSAPublicKey_in -in key.pub -pubout`";
    return `is base64 but not a public key. ${PUBLIC_KEY_HOWTO}`;
  }
  if (spki.asymmetricKeyType !== "rsa")
    return `is not an RSA key (it is ${spki.asymmetricKeyType?.toUpperCase() ?? "of an unknown type"}). Snowflake key-pair auth needs an RSA key: \`openssl genrsa 2048 | openssl pkcs8 -topk8 -nocrypt -out rsa_key.p8\``;
  const bits = spki.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS)
    return `is a ${bits}-bit RSA key; Snowflake needs at least ${MIN_RSA_BITS} bits. Generate a new key pair with \`openssl genrsa 2048\``;
  return undefined;
}
