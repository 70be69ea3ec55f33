// The registry side of onboarding and offboarding: what the app granted a tenant, and where the
// tenant and its request end up. Each write is idempotent (grants are upserts keyed by gallery and
// target; the lifecycle transition to the state the record is already in, by the same request, is
// a no-op), so a retried activity changes nothing twice.
import type { Services } from "../services";

import type { GrantKind } from "../domain/registryKeys";
import { sameResourceId } from "../domain/resourceIds";
import { transition } from "../domain/tenantLifecycle";
import { isWorkloadMode, type TenantState } from "../domain/tenantModel";
import { compareImageVersions, type TenantWorkload, type WorkloadKind, type WorkloadTarget } from "../domain/workloads";
import { activeTenants } from "./registeredTenants";
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
  /** Its tenant's rollout ring (absent: the last ring). */
  readonly ring?: number;
}

/** What these activities use of the app's services. */
type Deps = Pick<Services, "registry">;

export function createTenantRegistryActivities(services: Deps) {
  return {
    recordTenantGrants: (input: TenantGrantsInput) => runActivity(() => recordTenantGrants(services, input)),
    removeTenantGrants: (input: TenantGrantsInput) => runActivity(() => removeTenantGrants(services, input)),
    readTenantGrants: (input: { tenantId: string }) => runActivity(() => readTenantGrants(services, input)),
    finishTenantRequest: (input: FinishTenantRequestInput) => runActivity(() => finishTenantRequest(services, input)),
    recordTenantWorkload: (input: { tenantId: string; workload: TenantWorkload }) => runActivity(() => recordTenantWorkload(services, input)),
    listWorkloadsToUpdate: (input: { galleryId: string; image: string; version: string }) => runActivity(() => listWorkloadsToUpdate(services, input)),
    listWorkloadsOnVersion: (input: { galleryId: string; image: string; version: string }) => runActivity(() => listWorkloadsOnVersion(services, input)),
    indexWorkloadMembers: (_input: Record<string, never>) => runActivity(() => indexWorkloadMembers(services)),
  };
}

async function recordTenantGrants(services: Deps, input: TenantGrantsInput): Promise<{ recorded: number }> {
  for (const g of input.grants) {
    await services.registry.recordGrant({ ...g, tenantId: input.tenantId, requestId: input.requestId, at: input.at });
  }
  return { recorded: input.grants.length };
}

async function removeTenantGrants(services: Deps, input: TenantGrantsInput): Promise<{ removed: number }> {
  let removed = 0;
  for (const g of input.grants) if (await services.registry.removeGrant(g.galleryId, g.kind, g.targetId)) removed++;
  return { removed };
}

async function readTenantGrants(
  services: Deps,
  input: { tenantId: string },
): Promise<{ grants: TenantGrantsInput["grants"]; workloads: { kind: WorkloadKind; resourceId: string; imageVersion: string }[] }> {
  const grants = await services.registry.listGrantsOfTenant(input.tenantId);
  const tenant = await services.registry.getTenant(input.tenantId);
  return {
    grants: grants.map((g) => ({
      galleryId: g.galleryId,
      kind: g.kind,
      targetId: g.targetId,
      ...(g.roleAssignmentId ? { roleAssignmentId: g.roleAssignmentId } : {}),
    })),
    workloads: (tenant?.record.workloads ?? []).map((w) => ({ kind: w.kind, resourceId: w.resourceId, imageVersion: w.imageVersion })),
  };
}

async function finishTenantRequest(services: Deps, input: FinishTenantRequestInput): Promise<{ state: string }> {
  const stored = await services.registry.updateTenant(input.tenantId, (current) => {
    if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
    return transition(current, input.tenantState, { at: input.at, requestId: input.requestId, ...(input.reason ? { reason: input.reason } : {}) });
  });
  await services.registry.updateRequest(input.requestId, {
    state: input.requestState,
    updatedAt: input.at,
    ...(input.reason ? { reason: input.reason } : { reason: undefined }),
  });
  return { state: stored.record.state };
}

/** Records (or updates) a VM or scale set of the tenant: what it runs, or why the last attempt failed. */
async function recordTenantWorkload(services: Deps, input: { tenantId: string; workload: TenantWorkload }): Promise<{ workloads: number }> {
  // The index first: a workload the index does not know would never be moved to a new version.
  await services.registry.recordWorkloadMember(input.workload.galleryId, input.tenantId);
  const stored = await services.registry.updateTenant(input.tenantId, (current) => {
    if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
    const others = (current.workloads ?? []).filter((w) => !sameResourceId(w.resourceId, input.workload.resourceId));
    return { ...current, workloads: [...others, input.workload] };
  });
  return { workloads: stored.record.workloads?.length ?? 0 };
}

/** Makes sure every workload's tenant is in its gallery's workload index (idempotent: a known row is only read). */
async function indexWorkloadMembers(services: Deps): Promise<{ added: number }> {
  let added = 0;
  for (const { record: tenant } of await services.registry.listTenants()) {
    for (const w of tenant.workloads ?? []) {
      if ((await services.registry.recordWorkloadMember(w.galleryId, tenant.tenantId)) === "created") added += 1;
    }
  }
  return { added };
}

type ImageQuery = { galleryId: string; image: string; version: string };

/**
 * Active tenants' VMs and scale sets that follow new versions of the image, and whose version
 * (compared with the query's) `wanted` keeps.
 */
async function followingWorkloads(
  services: Deps,
  input: ImageQuery,
  wanted: (order: number, w: TenantWorkload) => boolean,
): Promise<{ workloads: WorkloadToUpdate[] }> {
  const out: WorkloadToUpdate[] = [];
  const members = await activeTenants(services.registry, await services.registry.listWorkloadMembers(input.galleryId));
  for (const tenant of members.values()) {
    if (!tenant.consumer || !isWorkloadMode(tenant.mode)) continue;
    for (const w of tenant.workloads ?? []) {
      if (!w.spec.updateOnPublish || !sameResourceId(w.galleryId, input.galleryId) || w.spec.image.toLowerCase() !== input.image.toLowerCase()) continue;
      if (!wanted(compareImageVersions(w.imageVersion.split("/").pop() ?? "", input.version), w)) continue;
      out.push({
        mode: tenant.mode,
        tenantId: tenant.tenantId,
        galleryId: w.galleryId,
        consumer: tenant.consumer,
        spec: w.spec,
        imageVersion: w.imageVersion,
        ...(tenant.ring === undefined ? {} : { ring: tenant.ring }),
      });
    }
  }
  return { workloads: out };
}

/** Those that do not run this version or a higher one yet (a failed earlier attempt is tried again): a publish moves them. */
function listWorkloadsToUpdate(services: Deps, input: ImageQuery): Promise<{ workloads: WorkloadToUpdate[] }> {
  return followingWorkloads(services, input, (order, w) => order < 0 || (order === 0 && w.error !== undefined));
}

/** Those that run exactly this version: a revocation moves them back. */
function listWorkloadsOnVersion(services: Deps, input: ImageQuery): Promise<{ workloads: WorkloadToUpdate[] }> {
  return followingWorkloads(services, input, (order) => order === 0);
}
