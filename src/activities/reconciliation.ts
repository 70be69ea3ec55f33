// The reconciler's activities: finding publishes that failed for a transient reason and running them
// again, and reading how a gallery's sharing and the role assignments this app made differ from
// what the registry says each tenant should have. Reads only; repairs go through the share
// coordinator and ensureGalleryReader, as any other change does.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import type { Services } from "../services";
import { findInstance } from "../azure/durableInstances";
import { PUBLISH_IMAGE_VERSION } from "../domain/orchestrationNames";
import { isTransientFailure, recoveryDue, sharingDrift, type SharingDrift } from "../domain/reconcile";
import { parseGalleryId, parseImageVersionId, sameResourceId } from "../domain/resourceIds";
import type { PrincipalType } from "../domain/tenantModel";
import { compareImageVersions } from "../domain/workloads";
import { isObject } from "../domain/validation";
import { runActivity, withDurableClient } from "./activity";
import { readSharing, registeredTargets } from "./directSharing";
import { managedGalleryId } from "./managedGallery";
import { activeTenants } from "./registeredTenants";

/** A Reader grant the registry recorded whose role assignment is gone. */
export interface MissingRoleAssignment {
  readonly tenantId: string;
  readonly principalId: string;
  readonly principalType: PrincipalType;
  readonly roleAssignmentId: string;
}

/** How one gallery differs from the registry, and each registered tenant's standing. */
export interface GalleryDrift {
  readonly galleryId: string;
  readonly checkedAt: string;
  /** A community gallery is public to all of Azure: there are no direct-sharing targets to compare. */
  readonly community?: boolean;
  readonly sharing: SharingDrift;
  readonly missingRoleAssignments: readonly MissingRoleAssignment[];
  readonly tenants: readonly { readonly tenantId: string; readonly state: "in-sync" | "missing" }[];
}

/** A publish run again, and why. */
export interface RetriedPublish {
  readonly instanceId: string;
  readonly imageVersionId: string;
  readonly code: string;
  /** The re-run this start is (1: the first). */
  readonly attempt: number;
}

/** What these activities use of the app's services. */
type Deps = Pick<Services, "config" | "arm" | "registry">;

export function createReconcileActivities(services: Deps) {
  return {
    retryFailedPublishes: withDurableClient((input: { readonly now: string }, context: InvocationContext) =>
      runActivity(() => retryFailedPublishes(input, df.getClient(context))),
    ),
    checkGalleryDrift: (input: { readonly galleryId: string; readonly at: string }) => runActivity(() => checkGalleryDrift(services, input)),
  };
}

/**
 * For each image, the newest version whose publish ended Failed for a transient reason is started
 * again, when its next re-run is due (a growing wait, a bounded number of re-runs). Its input
 * carries the re-run's number, so the count survives the restart.
 */
async function retryFailedPublishes(input: { readonly now: string }, client: DurableClient): Promise<{ retried: RetriedPublish[] }> {
  const now = Date.parse(input.now);
  const failed = (await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Failed] })).filter((s) => s.name === PUBLISH_IMAGE_VERSION);
  const newestPerImage = new Map<string, { instanceId: string; imageVersionId: string; code: string; attempt: number; failedAt: number; publish: object }>();
  for (const summary of failed) {
    const status = await findInstance(client, summary.instanceId);
    const publish = status?.input;
    if (!status || !isObject(publish) || typeof publish.imageVersionId !== "string") continue;
    const code = failureCodeOf(status.customStatus);
    if (!isTransientFailure(code)) continue;
    const ref = parseImageVersionId(publish.imageVersionId);
    const key = `${ref.subscriptionId}/${ref.resourceGroup}/${ref.gallery}/${ref.image}`.toLowerCase();
    const known = newestPerImage.get(key);
    if (known && compareImageVersions(parseImageVersionId(known.imageVersionId).version, ref.version) >= 0) continue;
    const attempt = isObject(publish.recovery) && typeof publish.recovery.attempt === "number" ? publish.recovery.attempt : 0;
    const failedAt = new Date(status.lastUpdatedTime).getTime();
    newestPerImage.set(key, { instanceId: summary.instanceId, imageVersionId: publish.imageVersionId, code: code ?? "", attempt, failedAt, publish });
  }
  const retried: RetriedPublish[] = [];
  for (const p of newestPerImage.values()) {
    if (!recoveryDue(p.attempt, p.failedAt, now)) continue;
    await client.startNew(PUBLISH_IMAGE_VERSION, { instanceId: p.instanceId, input: { ...p.publish, recovery: { attempt: p.attempt + 1 } } });
    retried.push({ instanceId: p.instanceId, imageVersionId: p.imageVersionId, code: p.code, attempt: p.attempt + 1 });
  }
  return { retried };
}

/** The error code a failed publish shows in its status (publishImageVersion's PublishStatus.error). */
function failureCodeOf(customStatus: unknown): string | undefined {
  const error = isObject(customStatus) ? customStatus.error : undefined;
  return isObject(error) && typeof error.code === "string" ? error.code : undefined;
}

async function checkGalleryDrift(services: Deps, input: { readonly galleryId: string; readonly at: string }): Promise<GalleryDrift> {
  const galleryId = managedGalleryId(services.config, input.galleryId);
  const ref = parseGalleryId(galleryId);
  const { permissions, current: actual } = await readSharing({ ref, client: services.arm.compute(ref.subscriptionId) });
  const community = permissions?.toLowerCase() === "community";
  const expected = community ? actual : await registeredTargets(services, galleryId);
  const sharing = sharingDrift(expected, actual);
  const grants = (await services.registry.listGrants(galleryId)).filter((g) => sameResourceId(g.galleryId, galleryId));
  const active = [
    ...(
      await activeTenants(
        services.registry,
        grants.map((g) => g.tenantId),
      )
    ).values(),
  ];
  const missingRoleAssignments: MissingRoleAssignment[] = [];
  const authorization = services.arm.authorization(ref.subscriptionId);
  for (const grant of grants) {
    const tenant = active.find((t) => t.tenantId.toLowerCase() === grant.tenantId.toLowerCase());
    if (!tenant || grant.kind !== "roleAssignment" || !grant.roleAssignmentId) continue;
    if (await roleAssignmentExists(authorization, grant.roleAssignmentId)) continue;
    missingRoleAssignments.push({
      tenantId: tenant.tenantId,
      principalId: grant.targetId,
      principalType: tenant.principal?.type ?? "ServicePrincipal",
      roleAssignmentId: grant.roleAssignmentId,
    });
  }
  const missingIds = new Set([...sharing.missing.subscriptionIds, ...sharing.missing.tenantIds]);
  const tenants = active
    .filter((t) => grants.some((g) => g.tenantId.toLowerCase() === t.tenantId.toLowerCase()))
    .map((t) => {
      const mine = grants.filter((g) => g.tenantId.toLowerCase() === t.tenantId.toLowerCase());
      const lost = mine.some((g) => missingIds.has(g.targetId.toLowerCase())) || missingRoleAssignments.some((m) => m.tenantId === t.tenantId);
      return { tenantId: t.tenantId, state: lost ? ("missing" as const) : ("in-sync" as const) };
    });
  return { galleryId, checkedAt: input.at, ...(community ? { community: true } : {}), sharing, missingRoleAssignments, tenants };
}

async function roleAssignmentExists(authorization: ReturnType<Services["arm"]["authorization"]>, roleAssignmentId: string): Promise<boolean> {
  try {
    await authorization.roleAssignments.getById(roleAssignmentId);
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}
