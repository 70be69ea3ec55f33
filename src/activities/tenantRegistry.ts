// The registry side of onboarding and offboarding: what the app granted a tenant, and where the
// tenant and its request end up. Each write is idempotent (grants are upserts keyed by gallery and
// target; the lifecycle transition to the state the record is already in, by the same request, is
// a no-op), so a retried activity changes nothing twice.
import type { Services } from "../services";
import type { ActivityResult } from "../domain/activityResult";
import type { GrantKind } from "../domain/registryKeys";
import { sameResourceId } from "../domain/resourceIds";
import { transition } from "../domain/tenantLifecycle";
import type { TenantState } from "../domain/tenantModel";
import { compareImageVersions, type TenantWorkload, type WorkloadKind, type WorkloadTarget } from "../domain/workloads";
import { runActivity } from "./activity";

export interface TenantGrantsInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly at: string;
  readonly grants: readonly { readonly galleryId: string; readonly kind: GrantKind; readonly targetId: string; readonly roleAssignmentId?: string }[];
}

export interface FinishTenantRequestInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly at: string;
  /** The tenant's next state, and the request's end. */
  readonly tenantState: Extract<TenantState, "active" | "offboarded" | "failed">;
  readonly requestState: "succeeded" | "failed";
  readonly reason?: string;
}

export interface WorkloadToUpdate extends WorkloadTarget {
  /** The version it runs now. */
  readonly imageVersion: string;
}

export function createTenantRegistryActivities(services: Pick<Services, "registry">) {
  return {
    recordTenantGrants: (input: TenantGrantsInput): Promise<ActivityResult<{ recorded: number }>> =>
      runActivity(async () => {
        for (const g of input.grants) {
          await services.registry.recordGrant({ ...g, tenantId: input.tenantId, requestId: input.requestId, at: input.at });
        }
        return { recorded: input.grants.length };
      }),
    removeTenantGrants: (input: TenantGrantsInput): Promise<ActivityResult<{ removed: number }>> =>
      runActivity(async () => {
        let removed = 0;
        for (const g of input.grants) if (await services.registry.removeGrant(g.galleryId, g.kind, g.targetId)) removed++;
        return { removed };
      }),
    readTenantGrants: (input: { tenantId: string }): Promise<ActivityResult<{ grants: TenantGrantsInput["grants"]; workloads: { kind: WorkloadKind; resourceId: string; imageVersion: string }[] }>> =>
      runActivity(async () => {
        const grants = await services.registry.listGrantsOfTenant(input.tenantId);
        const tenant = await services.registry.getTenant(input.tenantId);
        return {
          grants: grants.map((g) => ({ galleryId: g.galleryId, kind: g.kind, targetId: g.targetId, ...(g.roleAssignmentId ? { roleAssignmentId: g.roleAssignmentId } : {}) })),
          workloads: (tenant?.record.workloads ?? []).map((w) => ({ kind: w.kind, resourceId: w.resourceId, imageVersion: w.imageVersion })),
        };
      }),
    finishTenantRequest: (input: FinishTenantRequestInput): Promise<ActivityResult<{ state: string }>> =>
      runActivity(async () => {
        const stored = await services.registry.updateTenant(input.tenantId, (current) => {
          if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
          return transition(current, input.tenantState, { at: input.at, requestId: input.requestId, ...(input.reason ? { reason: input.reason } : {}) });
        });
        await services.registry.updateRequest(input.requestId, { state: input.requestState, updatedAt: input.at, ...(input.reason ? { reason: input.reason } : { reason: undefined }) });
        return { state: stored.record.state };
      }),
    /** Records (or updates) a VM or scale set of the tenant: what it runs, or why the last attempt failed. */
    recordTenantWorkload: (input: { tenantId: string; workload: TenantWorkload }): Promise<ActivityResult<{ workloads: number }>> =>
      runActivity(async () => {
        const stored = await services.registry.updateTenant(input.tenantId, (current) => {
          if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
          const others = (current.workloads ?? []).filter((w) => !sameResourceId(w.resourceId, input.workload.resourceId));
          return { ...current, workloads: [...others, input.workload] };
        });
        return { workloads: stored.record.workloads?.length ?? 0 };
      }),
    /**
     * Active tenants' VMs and scale sets that follow new versions of the image and do not run this one
     * or a higher one yet (a failed earlier attempt is tried again).
     */
    listWorkloadsToUpdate: (input: { galleryId: string; image: string; version: string }): Promise<ActivityResult<{ workloads: WorkloadToUpdate[] }>> =>
      runActivity(async () => {
        const out: WorkloadToUpdate[] = [];
        for (const { record: tenant } of await services.registry.listTenants()) {
          if (tenant.state !== "active" || !tenant.consumer || (tenant.mode !== "direct" && tenant.mode !== "rbac")) continue;
          for (const w of tenant.workloads ?? []) {
            if (!w.spec.updateOnPublish || !sameResourceId(w.galleryId, input.galleryId) || w.spec.image.toLowerCase() !== input.image.toLowerCase()) continue;
            const order = compareImageVersions(w.imageVersion.split("/").pop() ?? "", input.version);
            if (order > 0 || (order === 0 && w.error === undefined)) continue;
            out.push({ mode: tenant.mode, tenantId: tenant.tenantId, galleryId: w.galleryId, consumer: tenant.consumer, spec: w.spec, imageVersion: w.imageVersion });
          }
        }
        return { workloads: out };
      }),
  };
}
