import { createPublicKey } from "node:crypto";

const PEM_ARMOUR = /-----(BEGIN|END) [A-Z ]+-----/g;

/** The key as Snowflake's RSA_PUBLIC_KEY wants it: the base64 body with no armour and no line breaks. */
export const rsaPublicKeyBody = (key: string): string => key.replace(PEM_ARMOUR, "").replace(/\s+/g, "");

/** Why the value is not a usable RSA public key, or undefined when it is one. */
export function rsaPublicKeyProblem(key: string): string | undefined {
  if (/PRIVATE KEY/.test(key)) {
    return "is a PRIVATE key, which is a secret and must never be in team.yaml. Remove it now, rotate the key pair, and paste only the public key";
  }
  const body = rsaPublicKeyBody(key);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    return "is not base64. Paste the public key from `openssl rsa -in key.p8 -pubout`, with or without the BEGIN/END lines";
  }
  try {
    const parsed = createPublicKey({ key: Buffer.from(body, "base64"), format: "der", type: "spki" });
    if (parsed.asymmetricKeyType !== "rsa") {
      return `is a ${parsed.asymmetricKeyType} key, not RSA. Snowflake key-pair auth needs an RSA key (openssl genrsa 2048)`;
    }
  } catch {
    return "is base64 but not a public key. Paste the public key from `openssl rsa -in key.p8 -pubout`";
  }
  return undefined;
}
