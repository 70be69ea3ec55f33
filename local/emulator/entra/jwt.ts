// RS256 JWTs with Node's crypto: the emulator's Entra signs access tokens, ARM verifies them.
import { createHash, createPublicKey, createSign, createVerify, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { isObject, type JsonObject } from "../http";

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JsonObject;
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ format: "der", type: "spki" });
  const kid = createHash("sha256").update(der).digest("base64url").slice(0, 27);
  const exported = publicKey.export({ format: "jwk" });
  const jwk: JsonObject = { kty: "RSA", use: "sig", kid, n: exported.n, e: exported.e };
  return { kid, privateKey, publicKey, jwk };
}

export function signJwt(key: SigningKey, claims: JsonObject): string {
  const header = { typ: "JWT", alg: "RS256", kid: key.kid };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256").update(input).sign(key.privateKey).toString("base64url");
  return `${input}.${signature}`;
}

export interface DecodedJwt {
  header: JsonObject;
  claims: JsonObject;
  signedInput: string;
  signature: Buffer;
}

/** Parses without verifying; undefined when it is not a JWT at all. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [h, c, s] = parts as [string, string, string];
  try {
    const header: unknown = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    const claims: unknown = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header, claims, signedInput: `${h}.${c}`, signature: Buffer.from(s, "base64url") };
  } catch {
    return undefined;
  }
}

export function verifySignature(decoded: DecodedJwt, key: KeyObject | JsonObject): boolean {
  if (decoded.header.alg !== "RS256") return false;
  const publicKey = isKeyObject(key) ? key : createPublicKey({ key: key as JsonWebKey, format: "jwk" });
  return createVerify("RSA-SHA256").update(decoded.signedInput).verify(publicKey, decoded.signature);
}

function isKeyObject(k: KeyObject | JsonObject): k is KeyObject {
  return typeof (k as KeyObject).export === "function";
}

function b64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64url");
}
