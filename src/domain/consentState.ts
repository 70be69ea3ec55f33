// The `state` of an admin consent link: a signed, expiring token that binds Entra's answer to the
// onboarding orchestration that asked and to the consumer tenant it asked.
//
//   token    = base64url(payload) "." base64url(HMAC-SHA256(key, CONTEXT + base64url(payload)))
//   payload  = {"v":1,"iid":instanceId,"rid":requestId,"tid":tenantId,"n":nonce,"iat":ms,"exp":ms}
//
// Only URL-safe characters, so the token goes into the link's query as it is. The MAC covers the
// payload's text exactly as sent; the signature is checked (subtle.verify: constant-time) before
// the payload is decoded, and a token longer than MAX_CONSENT_STATE_LENGTH is refused before any
// work. The payload is signed, not encrypted: it holds ids only, nothing secret.
//
// SINGLE USE IS THE CALLER'S JOB. A token verifies for as long as it has not expired, any number of
// times. The claims carry the nonce; the caller keeps the nonce it still expects (for instance on
// the tenant record, with the consent link), accepts the callback only when the claims' nonce is
// that one, and marks it used in the same conditional (ETag) write that records the answer, before
// it raises the event. A replayed callback then finds its nonce already used and is refused.
//
// Times are epoch milliseconds passed in by the caller: this module reads no clock. The key is a
// setting: standard base64 of at least 32 bytes, or else text of at least 32 bytes (UTF-8).
// Web Crypto is the global one (globalThis.crypto), so the domain imports nothing.

import { MAX_STATE_LENGTH } from "./adminConsent";
import { DomainValidationError, boundedText, isGuid, type FieldError } from "./validation";

/** Longest token verifyConsentState looks at; longer is malformed without further work. */
export const MAX_CONSENT_STATE_LENGTH = MAX_STATE_LENGTH;
/** Shortest HMAC key accepted: HMAC-SHA256's own output size. */
export const MIN_CONSENT_KEY_BYTES = 32;
/** Longest orchestration instance id a token carries. */
export const MAX_INSTANCE_ID_LENGTH = 256;

const VERSION = 1;
/** Signed before the payload, so a MAC made with the same key for anything else never verifies here. */
const CONTEXT = "gallery-share/consent-state/v1.";
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const BASE64URL_PART = /^[A-Za-z0-9_-]+$/;
/** HMAC-SHA256 output (32 bytes) as unpadded base64url. */
const SIGNATURE_LENGTH = 43;

export interface ConsentStateClaims {
  /** The orchestration that waits for the answer. */
  readonly instanceId: string;
  readonly requestId: string;
  /** The consumer tenant whose admin was asked (lower case). */
  readonly tenantId: string;
  /** Unique per consent link; the caller checks it is the one still expected, then marks it used. */
  readonly nonce: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface CreateConsentStateInput extends ConsentStateClaims {
  readonly key: string;
}

export type ConsentStateRejection = "malformed" | "bad-signature" | "expired" | "wrong-tenant";

export type ConsentStateVerdict = { readonly ok: true; readonly claims: ConsentStateClaims } | { readonly ok: false; readonly reason: ConsentStateRejection };

export interface VerifyConsentStateOptions {
  readonly key: string;
  /** Epoch ms; the token is expired from its expiresAt on. */
  readonly now: number;
  /**
   * The `tenant` Entra's callback names, which must be the tenant the token names. Leave it out only
   * for a denial, which names no tenant: a grant must always pass it (the returned tenant alone
   * authorizes nothing; this binding is what makes it trustworthy).
   */
  readonly returnedTenant?: string;
}

/** Signs the claims into a state token. Throws DomainValidationError naming every failing field. */
export async function createConsentState(input: CreateConsentStateInput): Promise<string> {
  const errors: FieldError[] = [];
  const keyBytes = keyBytesOf(input.key);
  if (keyBytes === undefined) errors.push(keyError());
  const claims = checkClaims(input, errors);
  if (errors.length > 0 || claims === undefined || keyBytes === undefined) throw new DomainValidationError("invalid consent state", errors);

  const payload = base64url(
    new TextEncoder().encode(
      JSON.stringify({
        v: VERSION,
        iid: claims.instanceId,
        rid: claims.requestId,
        tid: claims.tenantId,
        n: claims.nonce,
        iat: claims.issuedAt,
        exp: claims.expiresAt,
      }),
    ),
  );
  const key = await hmacKey(keyBytes);
  const signature = new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, signedBytes(payload)));
  const token = `${payload}.${base64url(signature)}`;
  // The bounds on the claims keep a token far below this; the check keeps that true.
  if (token.length > MAX_CONSENT_STATE_LENGTH)
    throw new DomainValidationError("invalid consent state", [{ path: "", rule: `the token would be longer than ${MAX_CONSENT_STATE_LENGTH} characters` }]);
  return token;
}

/**
 * Checks a state token: its size and shape, its signature (constant-time), its expiry and the
 * tenant it is bound to, in that order. It does not check single use (see the top of this file).
 * A key that is not a valid key is a configuration error and throws; `now` must be a number.
 */
export async function verifyConsentState(token: string, options: VerifyConsentStateOptions): Promise<ConsentStateVerdict> {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_CONSENT_STATE_LENGTH) return refused("malformed");
  if (!Number.isFinite(options.now)) throw new TypeError("verifyConsentState: now must be epoch milliseconds");
  const keyBytes = keyBytesOf(options.key);
  if (keyBytes === undefined) throw new DomainValidationError("invalid consent state key", [keyError()]);

  const parts = token.split(".");
  if (parts.length !== 2) return refused("malformed");
  const [payload = "", signatureText = ""] = parts;
  if (!BASE64URL_PART.test(payload) || signatureText.length !== SIGNATURE_LENGTH) return refused("malformed");
  const signature = fromBase64url(signatureText);
  if (signature === undefined) return refused("malformed");

  const key = await hmacKey(keyBytes);
  if (!(await globalThis.crypto.subtle.verify("HMAC", key, signature, signedBytes(payload)))) return refused("bad-signature");

  // Signed by this key, so made by createConsentState; the checks guard against a change of format.
  const claims = decodeClaims(payload);
  if (claims === undefined) return refused("malformed");
  if (options.now >= claims.expiresAt) return refused("expired");
  const returned = options.returnedTenant;
  if (returned !== undefined && (!isGuid(returned) || returned.toLowerCase() !== claims.tenantId)) return refused("wrong-tenant");
  return { ok: true, claims };
}

// ---------------------------------------------------------------------------------------------
// Claims

function checkClaims(input: ConsentStateClaims, errors: FieldError[]): ConsentStateClaims | undefined {
  const before = errors.length;
  const { instanceId, requestId, tenantId, nonce, issuedAt, expiresAt } = input;
  if (
    typeof instanceId !== "string" ||
    instanceId.trim() === "" ||
    instanceId.length > MAX_INSTANCE_ID_LENGTH ||
    boundedText(instanceId, MAX_INSTANCE_ID_LENGTH) !== instanceId
  ) {
    errors.push({ path: "instanceId", rule: `must be 1-${MAX_INSTANCE_ID_LENGTH} characters without control characters` });
  }
  if (!isGuid(requestId)) errors.push({ path: "requestId", rule: "must be a GUID" });
  if (!isGuid(tenantId)) errors.push({ path: "tenantId", rule: "must be a GUID" });
  if (typeof nonce !== "string" || !NONCE_PATTERN.test(nonce))
    errors.push({ path: "nonce", rule: 'must be 16-128 characters of letters, digits, "-" and "_" (e.g. a random GUID)' });
  const issuedOk = isEpochMs(issuedAt);
  if (!issuedOk) errors.push({ path: "issuedAt", rule: "must be epoch milliseconds (a whole number of at least 0)" });
  if (!isEpochMs(expiresAt)) errors.push({ path: "expiresAt", rule: "must be epoch milliseconds (a whole number of at least 0)" });
  else if (issuedOk && expiresAt <= issuedAt) errors.push({ path: "expiresAt", rule: "must be after issuedAt" });
  if (errors.length > before) return undefined;
  return { instanceId, requestId: requestId.toLowerCase(), tenantId: tenantId.toLowerCase(), nonce, issuedAt, expiresAt };
}

function isEpochMs(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function decodeClaims(payload: string): ConsentStateClaims | undefined {
  const bytes = fromBase64url(payload);
  if (bytes === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const p = parsed as Record<string, unknown>;
  if (p.v !== VERSION) return undefined;
  const { iid, rid, tid, n, iat, exp } = p;
  if (
    typeof iid !== "string" ||
    typeof rid !== "string" ||
    typeof tid !== "string" ||
    typeof n !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number"
  )
    return undefined;
  return checkClaims({ instanceId: iid, requestId: rid, tenantId: tid, nonce: n, issuedAt: iat, expiresAt: exp }, []);
}

function refused(reason: ConsentStateRejection): ConsentStateVerdict {
  return { ok: false, reason };
}

// ---------------------------------------------------------------------------------------------
// Key and MAC

function keyError(): FieldError {
  // Never echoes the key.
  return { path: "key", rule: `must be standard base64 of at least ${MIN_CONSENT_KEY_BYTES} bytes, or text of at least ${MIN_CONSENT_KEY_BYTES} bytes` };
}

const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 that decodes to at least 32 bytes is used decoded; otherwise the text's UTF-8 bytes, if 32 or more. */
function keyBytesOf(key: unknown): Uint8Array | undefined {
  if (typeof key !== "string") return undefined;
  if (key.length % 4 === 0 && STANDARD_BASE64.test(key)) {
    const decoded = fromBase64url(key.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
    if (decoded !== undefined && decoded.length >= MIN_CONSENT_KEY_BYTES) return decoded;
  }
  const text = new TextEncoder().encode(key);
  return text.length >= MIN_CONSENT_KEY_BYTES ? text : undefined;
}

/** Web Crypto's key type; the lib has no DOM types, so it is taken from the global's signature. */
type HmacKey = Awaited<ReturnType<SubtleCrypto["importKey"]>>;
type SubtleCrypto = typeof globalThis.crypto.subtle;

function hmacKey(bytes: Uint8Array): Promise<HmacKey> {
  return globalThis.crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function signedBytes(payload: string): Uint8Array {
  return new TextEncoder().encode(CONTEXT + payload);
}

// ---------------------------------------------------------------------------------------------
// base64url (RFC 4648 section 5, unpadded)

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES: ReadonlyMap<string, number> = new Map([...ALPHABET].map((c, i) => [c, i]));

function base64url(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] ?? 0;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    const n = (b0 << 16) | (b1 << 8) | b2;
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let c = 0; c < chars; c++) out += ALPHABET[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}

/** Bytes of unpadded base64url; undefined for anything else, including non-canonical trailing bits. */
function fromBase64url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const c of text) {
    const v = VALUES.get(c);
    if (v === undefined) return undefined;
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
    value &= (1 << bits) - 1;
  }
  // Leftover bits must be zero: each byte string then has exactly one encoding.
  return value === 0 ? out : undefined;
}
