// Reading the tenants a gallery concerns by their ids (point reads), not by listing every tenant:
// what a publish, a drift check or the workload wave reads then grows with the gallery's own
// tenants, not with the registry.
import type { Registry } from "../azure/registry";
import type { TenantRecord } from "../domain/tenantModel";

/** The active tenants among `tenantIds` (any casing, repeats allowed), by lower-case id. */
export async function activeTenants(registry: Pick<Registry, "getTenant">, tenantIds: Iterable<string>): Promise<Map<string, TenantRecord>> {
  const active = new Map<string, TenantRecord>();
  for (const id of new Set([...tenantIds].map((t) => t.toLowerCase()))) {
    const stored = await registry.getTenant(id);
    if (stored?.record.state === "active") active.set(id, stored.record);
  }
  return active;
}
