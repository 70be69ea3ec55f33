// What the consent callback trusts: only a state this app signed, not expired, bound to the tenant
// Entra says consented (never the returned `tenant` alone), for a tenant still waiting for exactly
// that consent. The state is used once: after the orchestration has been told, the tenant's pending
// consent is cleared with an ETag-checked write, so a replayed callback finds nothing to act on.
// (Telling first, then clearing: a failure in between costs a harmless repeat, never a lost consent.)
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
    const stored = await registry.getTenant(claims.tenantId);
    if (!stored || !isPending(stored.record, claims.requestId, callback.state)) return { ok: false };
    const outcome =
      callback.kind === "granted"
        ? { kind: "granted" as const }
        : { kind: "denied" as const, error: callback.error, ...(callback.description ? { description: callback.description } : {}) };
    return { ok: true, instanceId: claims.instanceId, tenantId: claims.tenantId, requestId: claims.requestId, outcome };
  };
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
