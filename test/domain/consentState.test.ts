// The consent state token: URL-safe, HMAC-SHA256-signed with Web Crypto, expiring, bound to the
// orchestration instance and the consumer tenant. Forged and re-signed-by-another-key signatures,
// tampered payloads, expiry, another tenant, oversize and malformed tokens are each refused with
// their own reason; single use is the caller's (the claims give it the nonce).
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MAX_CONSENT_STATE_LENGTH,
  createConsentState,
  verifyConsentState,
  type ConsentStateClaims,
  type CreateConsentStateInput,
} from "../../src/domain/consentState";
import { DomainValidationError } from "../../src/domain/validation";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const REQUEST = "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f";
const NONCE = "5f0c1e2d-3b4a-4c5d-9e6f-708192a3b4c5";
/** 32 random bytes, base64: the form a deployment's key takes. */
const KEY = "q3Zp0H2o8l1mXv9Yc4bT6sJwRk7nEaGdUf5LhQyBiOM=";
const OTHER_KEY = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";
const TEXT_KEY = "this is a text key of 40 characters....";

const ISSUED = Date.parse("2026-01-01T09:00:00.000Z");
const EXPIRES = ISSUED + 7 * 24 * 3600_000;

const claims: ConsentStateClaims = {
  instanceId: "onboard-0123456789abcdef",
  requestId: REQUEST,
  tenantId: TENANT,
  nonce: NONCE,
  issuedAt: ISSUED,
  expiresAt: EXPIRES,
};
const input: CreateConsentStateInput = { key: KEY, ...claims };

const at = (now: number, returnedTenant?: string) => ({ key: KEY, now, ...(returnedTenant === undefined ? {} : { returnedTenant }) });

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
const fromB64url = (text: string): Buffer => Buffer.from(text, "base64url");

/** Signs `payload` (already base64url) the way the module does, with `key` (base64). */
async function signAsModule(payload: string, key: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", Buffer.from(key, "base64"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`gallery-share/consent-state/v1.${payload}`)));
  return `${payload}.${b64url(mac)}`;
}

async function validationErrorOf(promise: Promise<unknown>): Promise<Record<string, string>> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainValidationError);
  return Object.fromEntries((err as DomainValidationError).errors.map((e) => [e.path, e.rule]));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createConsentState", () => {
  it("makes a URL-safe token: base64url payload, a dot, base64url HMAC-SHA256", async () => {
    const token = await createConsentState(input);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
    const [payload = ""] = token.split(".");
    expect(JSON.parse(fromB64url(payload).toString("utf8"))).toStrictEqual({
      v: 1,
      iid: claims.instanceId,
      rid: REQUEST,
      tid: TENANT,
      n: NONCE,
      iat: ISSUED,
      exp: EXPIRES,
    });
    // The signature is HMAC-SHA256 over the context and the payload's text, with the decoded key.
    expect(await signAsModule(payload, KEY)).toBe(token);
  });

  it("is deterministic for the same claims and differs with the nonce", async () => {
    expect(await createConsentState(input)).toBe(await createConsentState(input));
    expect(await createConsentState({ ...input, nonce: "another-nonce-0123456789" })).not.toBe(await createConsentState(input));
  });

  it("stores the ids in lower case", async () => {
    const token = await createConsentState({ ...input, tenantId: TENANT.toUpperCase(), requestId: REQUEST.toUpperCase() });
    const verdict = await verifyConsentState(token, at(ISSUED, TENANT));
    expect(verdict).toStrictEqual({ ok: true, claims });
  });

  it("names every invalid claim", async () => {
    const errors = await validationErrorOf(
      createConsentState({ key: KEY, instanceId: "a\nb", requestId: "r", tenantId: "common", nonce: "short", issuedAt: ISSUED, expiresAt: ISSUED }),
    );
    expect(Object.keys(errors)).toEqual(["instanceId", "requestId", "tenantId", "nonce", "expiresAt"]);
    expect(errors.expiresAt).toBe("must be after issuedAt");
    const times = await validationErrorOf(createConsentState({ ...input, issuedAt: 1.5, expiresAt: Number.NaN }));
    expect(Object.keys(times)).toEqual(["issuedAt", "expiresAt"]);
    expect(Object.keys(await validationErrorOf(createConsentState({ ...input, instanceId: "" })))).toEqual(["instanceId"]);
    expect(Object.keys(await validationErrorOf(createConsentState({ ...input, instanceId: "i".repeat(257) })))).toEqual(["instanceId"]);
    expect(Object.keys(await validationErrorOf(createConsentState({ ...input, nonce: "n".repeat(129) })))).toEqual(["nonce"]);
  });

  it("refuses a key of fewer than 32 bytes, without repeating it", async () => {
    for (const key of ["", "short-secret", "x".repeat(31), "é".repeat(15)]) {
      const errors = await validationErrorOf(createConsentState({ ...input, key }));
      expect(Object.keys(errors)).toEqual(["key"]);
      if (key !== "") expect(errors.key).not.toContain(key);
    }
  });

  it("takes base64 of 32 or more bytes decoded, and any other key as its text", async () => {
    const rawKey = Buffer.from(KEY, "base64");
    expect(rawKey.length).toBe(32);
    const token = await createConsentState(input);
    // A text key works too, and is a different key from the base64 one.
    const textToken = await createConsentState({ ...input, key: TEXT_KEY });
    expect((await verifyConsentState(textToken, { key: TEXT_KEY, now: ISSUED })).ok).toBe(true);
    expect(await verifyConsentState(textToken, at(ISSUED))).toStrictEqual({ ok: false, reason: "bad-signature" });
    // 32 base64 characters decode to 24 bytes: too short as bytes, so the 32 characters are the key.
    const short = "abcdabcdabcdabcdabcdabcdabcdabcd";
    const shortToken = await createConsentState({ ...input, key: short });
    const [payload = ""] = shortToken.split(".");
    const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(short), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`gallery-share/consent-state/v1.${payload}`)));
    expect(shortToken).toBe(`${payload}.${b64url(mac)}`);
    expect(token).not.toBe(shortToken);
  });
});

describe("verifyConsentState", () => {
  it("accepts its own token before expiry, for the tenant it names, and gives the claims (with the nonce)", async () => {
    const token = await createConsentState(input);
    expect(await verifyConsentState(token, at(ISSUED, TENANT))).toStrictEqual({ ok: true, claims });
    expect(await verifyConsentState(token, at(EXPIRES - 1, TENANT.toUpperCase()))).toStrictEqual({ ok: true, claims });
  });

  it("does not enforce single use itself: the same token verifies again, and the caller checks the nonce", async () => {
    const token = await createConsentState(input);
    const first = await verifyConsentState(token, at(ISSUED, TENANT));
    const second = await verifyConsentState(token, at(ISSUED + 1, TENANT));
    expect(first.ok && second.ok && first.claims.nonce === NONCE && second.claims.nonce === NONCE).toBe(true);
  });

  it("without a returned tenant (a denial names none), checks everything but the tenant binding", async () => {
    const token = await createConsentState(input);
    expect(await verifyConsentState(token, at(ISSUED))).toStrictEqual({ ok: true, claims });
    expect(await verifyConsentState(token, at(EXPIRES))).toStrictEqual({ ok: false, reason: "expired" });
  });

  it("refuses a token for another tenant: wrong-tenant", async () => {
    const token = await createConsentState(input);
    expect(await verifyConsentState(token, at(ISSUED, OTHER_TENANT))).toStrictEqual({ ok: false, reason: "wrong-tenant" });
    expect(await verifyConsentState(token, at(ISSUED, "common"))).toStrictEqual({ ok: false, reason: "wrong-tenant" });
    expect(await verifyConsentState(token, at(ISSUED, ""))).toStrictEqual({ ok: false, reason: "wrong-tenant" });
  });

  it("refuses an expired token from its expiresAt on: expired", async () => {
    const token = await createConsentState(input);
    expect(await verifyConsentState(token, at(EXPIRES, TENANT))).toStrictEqual({ ok: false, reason: "expired" });
    expect(await verifyConsentState(token, at(EXPIRES + 365 * 24 * 3600_000, TENANT))).toStrictEqual({ ok: false, reason: "expired" });
  });

  it("refuses a forged signature: bad-signature", async () => {
    const token = await createConsentState(input);
    const [payload = "", signature = ""] = token.split(".");
    const forged = [
      `${payload}.${b64url(crypto.getRandomValues(new Uint8Array(32)))}`,
      `${payload}.${"A".repeat(43)}`,
      // One bit of the signature flipped.
      `${payload}.${b64url(fromB64url(signature).map((b, i) => (i === 0 ? b ^ 1 : b)))}`,
    ];
    for (const t of forged) expect(await verifyConsentState(t, at(ISSUED, TENANT))).toStrictEqual({ ok: false, reason: "bad-signature" });
  });

  it("refuses a token signed with another key: bad-signature", async () => {
    const token = await createConsentState({ ...input, key: OTHER_KEY });
    expect(await verifyConsentState(token, at(ISSUED, TENANT))).toStrictEqual({ ok: false, reason: "bad-signature" });
  });

  it("refuses a tampered payload with the original signature: bad-signature", async () => {
    const token = await createConsentState(input);
    const [payload = "", signature = ""] = token.split(".");
    const decoded = JSON.parse(fromB64url(payload).toString("utf8")) as Record<string, unknown>;
    const tampered = [
      { ...decoded, tid: OTHER_TENANT },
      { ...decoded, exp: EXPIRES + 365 * 24 * 3600_000 },
      { ...decoded, iid: "onboard-someone-else" },
    ].map((p) => `${b64url(Buffer.from(JSON.stringify(p)))}.${signature}`);
    // One character of the payload's text changed.
    const last = payload.at(-2) === "A" ? "B" : "A";
    tampered.push(`${payload.slice(0, -2)}${last}${payload.slice(-1)}.${signature}`);
    for (const t of tampered) {
      expect(await verifyConsentState(t, at(ISSUED, OTHER_TENANT))).toStrictEqual({ ok: false, reason: "bad-signature" });
      expect(await verifyConsentState(t, at(ISSUED, TENANT))).toStrictEqual({ ok: false, reason: "bad-signature" });
    }
  });

  it("compares the signature with subtle.verify (constant-time), not by string comparison", async () => {
    const token = await createConsentState(input);
    const verify = vi.spyOn(crypto.subtle, "verify");
    const sign = vi.spyOn(crypto.subtle, "sign");
    await verifyConsentState(token, at(ISSUED, TENANT));
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]?.[0]).toBe("HMAC");
    expect(sign).not.toHaveBeenCalled();
  });

  it("refuses a token longer than 2048 characters before any work: malformed", async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const verify = vi.spyOn(crypto.subtle, "verify");
    const token = await createConsentState(input);
    importKey.mockClear();
    const oversize = `${token}${"A".repeat(MAX_CONSENT_STATE_LENGTH + 1 - token.length)}`;
    expect(oversize.length).toBe(MAX_CONSENT_STATE_LENGTH + 1);
    expect(await verifyConsentState(oversize, at(ISSUED, TENANT))).toStrictEqual({ ok: false, reason: "malformed" });
    expect(await verifyConsentState("A".repeat(1_000_000), at(ISSUED, TENANT))).toStrictEqual({ ok: false, reason: "malformed" });
    // Not even the key is looked at: an invalid key does not throw for an oversize token.
    expect(await verifyConsentState("A".repeat(MAX_CONSENT_STATE_LENGTH + 1), { key: "short", now: ISSUED })).toStrictEqual({ ok: false, reason: "malformed" });
    expect(importKey).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it("refuses malformed tokens: malformed", async () => {
    const token = await createConsentState(input);
    const [payload = "", signature = ""] = token.split(".");
    for (const t of [
      "",
      ".",
      "abc",
      `${payload}`,
      `${payload}.`,
      `.${signature}`,
      `${payload}.${signature}.x`,
      `${payload}.${signature.slice(1)}`,
      `${payload}=.${signature}`,
      `${payload}.${signature}=`,
      `pay load.${signature}`,
      `${payload}.${signature.slice(0, -1)}+`,
    ]) {
      expect(await verifyConsentState(t, at(ISSUED, TENANT)), JSON.stringify(t)).toStrictEqual({ ok: false, reason: "malformed" });
    }
    expect(await verifyConsentState(undefined as unknown as string, at(ISSUED, TENANT))).toStrictEqual({ ok: false, reason: "malformed" });
  });

  it("refuses a correctly signed payload that is not a consent state (another version, missing or wrong claims): malformed", async () => {
    const good = { v: 1, iid: "i", rid: REQUEST, tid: TENANT, n: NONCE, iat: ISSUED, exp: EXPIRES };
    for (const p of [{ ...good, v: 2 }, { ...good, tid: "common" }, { ...good, exp: "never" }, { ...good, exp: ISSUED }, [good], "text"]) {
      const t = await signAsModule(b64url(Buffer.from(JSON.stringify(p))), KEY);
      expect(await verifyConsentState(t, at(ISSUED))).toStrictEqual({ ok: false, reason: "malformed" });
    }
    const notJson = await signAsModule(b64url(Buffer.from("{not json")), KEY);
    expect(await verifyConsentState(notJson, at(ISSUED))).toStrictEqual({ ok: false, reason: "malformed" });
    const notUtf8 = await signAsModule(b64url(Uint8Array.of(0xff, 0xfe, 0x7b)), KEY);
    expect(await verifyConsentState(notUtf8, at(ISSUED))).toStrictEqual({ ok: false, reason: "malformed" });
    // The same payload, well-formed, does verify: the refusals above are about the content.
    const ok = await signAsModule(b64url(Buffer.from(JSON.stringify(good))), KEY);
    expect((await verifyConsentState(ok, at(ISSUED, TENANT))).ok).toBe(true);
  });

  it("throws for an invalid key or clock (configuration errors, not a caller's token)", async () => {
    const token = await createConsentState(input);
    await expect(verifyConsentState(token, { key: "short", now: ISSUED })).rejects.toThrow(/key: must be standard base64 of at least 32 bytes/);
    await expect(verifyConsentState(token, { key: KEY, now: Number.NaN })).rejects.toThrow(TypeError);
  });
});
