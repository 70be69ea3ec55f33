// What the consent callback trusts: only a state this app signed, not expired, bound to the tenant
// Entra says consented (never the returned `tenant` alone), for a tenant still waiting for exactly
// that consent. The state is used once, even by callbacks that arrive at the same moment: the one
// that verifies it claims it first (an ETag-checked write on the tenant, so only one claim wins);
// after the orchestration has been told, the pending consent is cleared, so a replayed callback finds
// nothing to act on. A claim whose callback failed to tell the orchestration is released at once; one
// whose process died runs out after CLAIM_LEASE_MS, so the administrator's retry works. Nothing is lost.
import type { Services } from "../services";
import { parseConsentCallback } from "../domain/adminConsent";
import { verifyConsentState } from "../domain/consentState";

export type ConsentVerdict =
  | {
      readonly ok: true;
      readonly instanceId: string;
      readonly tenantId: string;
      readonly requestId: string;
      readonly outcome: { readonly kind: "granted" } | { readonly kind: "denied"; readonly error: string; readonly description?: string };
    }
  | { readonly ok: false };

class NotPending extends Error {}

export function createConsentVerifier({ config, registry }: Pick<Services, "config" | "registry">) {
  return async (query: Readonly<Record<string, string | undefined>>): Promise<ConsentVerdict> => {
    const key = config.consent.stateKey;
    if (!key) return { ok: false };
    const callback = parseConsentCallback(query);
    if (callback.kind === "invalid") return { ok: false };
    const returnedTenant = callback.kind === "granted" ? callback.tenant : undefined;
    const checked = await verifyConsentState(callback.state, { key, now: Date.now(), ...(returnedTenant ? { returnedTenant } : {}) });
    if (!checked.ok) return { ok: false };
    const { claims } = checked;
    if (!(await claimConsent(registry, claims.tenantId, claims.requestId, callback.state))) return { ok: false };
    const outcome =
      callback.kind === "granted"
        ? { kind: "granted" as const }
        : { kind: "denied" as const, error: callback.error, ...(callback.description ? { description: callback.description } : {}) };
    return { ok: true, instanceId: claims.instanceId, tenantId: claims.tenantId, requestId: claims.requestId, outcome };
  };
}

/** How long a claimed consent stays claimed by a callback that never finished. */
const CLAIM_LEASE_MS = 2 * 60_000;

/** Claims the tenant's pending consent for this callback; false when it is not pending or another callback holds it. */
async function claimConsent(registry: Services["registry"], tenantId: string, requestId: string, state: string): Promise<boolean> {
  const now = Date.now();
  try {
    await registry.updateTenant(tenantId, (current) => {
      if (!current || !isPending(current, requestId, state) || !current.consent) throw new NotPending("not pending");
      const claimedAt = current.consent.claimedAt ? Date.parse(current.consent.claimedAt) : Number.NaN;
      if (now - claimedAt < CLAIM_LEASE_MS) throw new NotPending("claimed by another callback");
      return { ...current, consent: { ...current.consent, claimedAt: new Date(now).toISOString() } };
    });
    return true;
  } catch (err) {
    if (err instanceof NotPending) return false;
    throw err;
  }
}

/** Gives a claimed consent back, when telling the orchestration failed: the administrator may try again at once. */
export async function releaseConsentClaim(services: Pick<Services, "registry">, tenantId: string, requestId: string): Promise<void> {
  try {
    await services.registry.updateTenant(tenantId, (current) => {
      if (!current?.consent?.claimedAt || current.lastRequestId !== requestId) throw new NotPending("not claimed");
      const { claimedAt: _released, ...consent } = current.consent;
      return { ...current, consent };
    });
  } catch (err) {
    if (!(err instanceof NotPending)) throw err;
  }
}

/** Marks the tenant's pending consent used; false when another callback used it first. */
export async function markConsentUsed(services: Pick<Services, "registry">, tenantId: string, requestId: string): Promise<boolean> {
  try {
    await services.registry.updateTenant(tenantId, (current) => {
      if (!current?.consent || current.lastRequestId !== requestId) throw new NotPending("not pending");
      const { consent: _used, ...rest } = current;
      return rest;
    });
    return true;
  } catch (err) {
    if (err instanceof NotPending) return false;
    throw err;
  }
}

function isPending(record: { state: string; lastRequestId: string; consent?: { url: string } }, requestId: string, state: string): boolean {
  if (record.state !== "consent-pending" || record.lastRequestId !== requestId || !record.consent) return false;
  try {
    return new URL(record.consent.url).searchParams.get("state") === state;
  } catch {
    return false;
  }
}
