// Access tokens issued by the emulated Entra and verified by the emulated ARM.
import type { Caller } from "../context";
import type { Core } from "../core";
import { num, str } from "../http";
import { decodeJwt, signJwt, verifySignature } from "./jwt";

export interface TokenRequest {
  tenantId: string;
  objectId: string;
  appId?: string;
  /** Resource the token is for, e.g. "https://management.azure.com/". */
  audience: string;
  /** "app" for service principals and managed identities. */
  idtyp?: string;
}

export function issuerFor(core: Core, tenantId: string): string {
  return `${core.baseUrl}/${tenantId}/v2.0`;
}

/** `https://management.azure.com/.default` -> `https://management.azure.com/` (Entra strips `.default`). */
export function audienceFromScope(scope: string): string {
  return scope.endsWith("/.default") ? scope.slice(0, -".default".length) : scope;
}

export function issueToken(core: Core, req: TokenRequest): { token: string; expiresIn: number } {
  const lifetime = core.config.tokenLifetimeSeconds;
  const iat = Math.floor(core.clock.now() / 1000);
  const uti = core.nextGuid("token").replace(/-/g, "").slice(0, 22);
  const iss = issuerFor(core, req.tenantId);
  const claims = {
    aud: req.audience,
    iss,
    iat,
    nbf: iat,
    exp: iat + lifetime,
    ...(req.appId ? { appid: req.appId, azp: req.appId, appidacr: "1" } : {}),
    idp: iss,
    idtyp: req.idtyp ?? "app",
    oid: req.objectId,
    sub: req.objectId,
    tid: req.tenantId,
    uti,
    ver: "2.0",
  };
  core.issuedTokens.set(uti, { realIssuedAt: Date.now(), lifetimeMs: lifetime * 1000 });
  return { token: signJwt(core.signingKey, claims), expiresIn: lifetime };
}

export type TokenCheck = { ok: true; caller: Caller } | { ok: false; reason: "malformed" | "signature" | "expired" | "claims" };

/** Verifies a token this emulator issued: signature, lifetime, and the claims ARM relies on. */
export function checkToken(core: Core, token: string): TokenCheck {
  const decoded = decodeJwt(token);
  if (!decoded) return { ok: false, reason: "malformed" };
  if (decoded.header.kid !== core.signingKey.kid || !verifySignature(decoded, core.signingKey.publicKey)) {
    return { ok: false, reason: "signature" };
  }
  const c = decoded.claims;
  const tenantId = str(c.tid);
  const objectId = str(c.oid);
  const issuer = str(c.iss);
  if (!tenantId || !objectId || !issuer) return { ok: false, reason: "claims" };
  const uti = str(c.uti);
  const issued = uti ? core.issuedTokens.get(uti) : undefined;
  const expired = issued ? Date.now() - issued.realIssuedAt > issued.lifetimeMs : (num(c.exp) ?? 0) * 1000 < core.clock.now();
  if (expired) return { ok: false, reason: "expired" };
  const appId = str(c.appid);
  return { ok: true, caller: { tenantId, objectId, issuer, claims: c, ...(appId ? { appId } : {}) } };
}
