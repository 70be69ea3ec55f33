// Shared access signatures as Service Bus checks them on `$cbs` put-token:
//   SharedAccessSignature sr=<url-encoded audience>&sig=<url-encoded base64 HMAC-SHA256>&se=<expiry s>&skn=<key name>
// The HMAC is over "<sr exactly as written>\n<se>" with the key's text (its UTF-8 bytes, not its
// base64 decoding), which is what @azure/core-amqp's createToken and the .NET SDK sign.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface SasToken {
  /** The audience (decoded `sr`), e.g. sb://127.0.0.1:5672/onboarding. */
  readonly audience: string;
  /** `sr` as written in the token: the signed text. */
  readonly encodedAudience: string;
  readonly signature: string;
  /** Expiry, seconds since the epoch. */
  readonly expiry: number;
  readonly keyName: string;
}

export type SasCheck = { ok: true; token: SasToken } | { ok: false; description: string };

const PREFIX = "SharedAccessSignature ";

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function parseSasToken(text: string): SasToken | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const fields = new Map<string, string>();
  // Split at the first "=" only: an unencoded base64 signature ends in "=" padding.
  for (const part of text.slice(PREFIX.length).trim().split("&")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1));
  }
  const sr = fields.get("sr");
  const sig = fields.get("sig");
  const se = fields.get("se");
  const skn = fields.get("skn");
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined || !/^\d+$/.test(se)) return undefined;
  return { audience: decode(sr), encodedAudience: sr, signature: decode(sig), expiry: Number(se), keyName: decode(skn) };
}

export function signSas(key: string, encodedAudience: string, expiry: number): string {
  return createHmac("sha256", key).update(`${encodedAudience}\n${expiry}`).digest("base64");
}

/** A token for `audience` signed with `key`: what the SDK sends, for tests that need an expired or foreign one. */
export function createSasToken(keyName: string, key: string, audience: string, expiry: number): string {
  const sr = encodeURIComponent(audience);
  return `${PREFIX}sr=${sr}&sig=${encodeURIComponent(signSas(key, sr, expiry))}&se=${expiry}&skn=${encodeURIComponent(keyName)}`;
}

/** A fresh 256-bit key, base64 like the keys Azure generates. */
export function generateSasKey(): string {
  return randomBytes(32).toString("base64");
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Checks the token's form, key name, signature and expiry (`nowSeconds`, real time: the SDK
 * stamps `se` from Date.now() whatever clock the broker runs on). The descriptions follow the
 * service's wording; none of them repeats the signature.
 */
export function checkSasToken(text: string, keyName: string, key: string, nowSeconds: number): SasCheck {
  const token = parseSasToken(text);
  if (!token) return { ok: false, description: "InvalidSignature: The token has an invalid format." };
  if (token.keyName !== keyName)
    return {
      ok: false,
      description: `InvalidSignature: The token has an invalid signature. Key '${token.keyName}' is not a shared access policy of this namespace.`,
    };
  if (!sameSignature(token.signature, signSas(key, token.encodedAudience, token.expiry)))
    return { ok: false, description: "InvalidSignature: The token has an invalid signature." };
  if (token.expiry <= nowSeconds)
    return { ok: false, description: `ExpiredToken: The token is expired. Expiration time: '${new Date(token.expiry * 1000).toISOString()}'.` };
  return { ok: true, token };
}

/** Whether a token issued for `tokenAudience` covers `audience` (same URL or a parent path; case-insensitive like entity names). */
export function audienceCovers(tokenAudience: string, audience: string): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/\/+$/, "");
  const outer = norm(tokenAudience);
  const inner = norm(audience);
  return inner === outer || inner.startsWith(`${outer}/`);
}
