// The registry side of onboarding and offboarding: what the app granted a tenant, and where the
// tenant and its request end up. Each write is idempotent (grants are upserts keyed by gallery and
// target; the lifecycle transition to the state the record is already in, by the same request, is
// a no-op), so a retried activity changes nothing twice.
import type { Services } from "../app";
import { transition } from "../domain/tenantLifecycle";
import { runActivity } from "./activityResult";
import type { ActivityResult, FinishTenantRequestInput, ProvisionedVm, TenantGrantsInput } from "./descriptors";

export function createRecordTenantGrants(services: Services) {
  return (input: TenantGrantsInput): Promise<ActivityResult<{ recorded: number }>> =>
    runActivity(async () => {
      for (const g of input.grants) {
        await services.registry.recordGrant({ ...g, tenantId: input.tenantId, requestId: input.requestId, at: input.at });
      }
      return { recorded: input.grants.length };
    });
}

export function createRemoveTenantGrants(services: Services) {
  return (input: TenantGrantsInput): Promise<ActivityResult<{ removed: number }>> =>
    runActivity(async () => {
      let removed = 0;
      for (const g of input.grants) if (await services.registry.removeGrant(g.galleryId, g.kind, g.targetId)) removed++;
      return { removed };
    });
}

export function createReadTenantGrants(services: Services) {
  return (input: { tenantId: string }): Promise<ActivityResult<{ grants: TenantGrantsInput["grants"]; vms: { resourceId: string; imageVersion: string }[] }>> =>
    runActivity(async () => {
      const grants = await services.registry.listGrantsOfTenant(input.tenantId);
      const tenant = await services.registry.getTenant(input.tenantId);
      return {
        grants: grants.map((g) => ({ galleryId: g.galleryId, kind: g.kind, targetId: g.targetId, ...(g.roleAssignmentId ? { roleAssignmentId: g.roleAssignmentId } : {}) })),
        vms: (tenant?.record.vms ?? []).map((v) => ({ resourceId: v.resourceId, imageVersion: v.imageVersion })),
      };
    });
}

export function createFinishTenantRequest(services: Services) {
  return (input: FinishTenantRequestInput): Promise<ActivityResult<{ state: string }>> =>
    runActivity(async () => {
      const stored = await services.registry.updateTenant(input.tenantId, (current) => {
        if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
        const next = transition(current, input.tenantState, { at: input.at, requestId: input.requestId, ...(input.reason ? { reason: input.reason } : {}) });
        return { ...current, ...next };
      });
      await services.registry.updateRequest(input.requestId, { state: input.requestState, updatedAt: input.at, ...(input.reason ? { reason: input.reason } : { reason: undefined }) });
      return { state: stored.record.state };
    });
}

/** Records (or updates) a VM this app made for the tenant, with the image version it runs. */
export function createRecordTenantVm(services: Services) {
  return (input: { tenantId: string; requestId: string; at: string; vm: ProvisionedVm }): Promise<ActivityResult<{ vms: number }>> =>
    runActivity(async () => {
      const stored = await services.registry.updateTenant(input.tenantId, (current) => {
        if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
        const others = (current.vms ?? []).filter((v) => v.resourceId.toLowerCase() !== input.vm.resourceId.toLowerCase());
        return { ...current, vms: [...others, { ...input.vm, requestId: input.requestId, at: input.at }] };
      });
      return { vms: stored.record.vms?.length ?? 0 };
    });
}
