// reconcile: the self-healing pass, run hourly (RECONCILE_SCHEDULE) and on POST /api/reconcile.
//   1. publishes that failed for a transient reason run again (the newest version per image, a
//      growing wait, a bounded number of re-runs; a failed replication is never re-run by itself);
//   2. for every managed gallery, what Azure has is compared with what the registry says each tenant
//      should have: direct-sharing targets (the sharing profile's groups) and the role assignments
//      this app made. What is missing is repaired (share Adds through the gallery's share coordinator,
//      role assignments re-created under their recorded names); what nobody registered is reported,
//      and removed only with DRIFT_REMOVE_UNKNOWN=true. GET /api/drift shows the last report.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { GalleryDrift, RetriedPublish } from "../activities/reconciliation";
import { reconcileInputProblems } from "../domain/durablePayloads";
import { DRIFT_DETECTED, DRIFT_REPAIRED } from "../domain/outcomeEvents";
import { hasTargets } from "../domain/reconcile";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import { activities } from "./activities";
import { checkedInput } from "./checkedInput";
import { requestShareChange } from "./requestShareChange";

export interface ReconcileInput {
  readonly galleryIds: readonly string[];
  readonly removeUnknown: boolean;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
}

/** One gallery's drift, and what the reconciler did about it. */
export interface GalleryReconciliation extends GalleryDrift {
  readonly repaired: { readonly shareTargets: number; readonly roleAssignments: number; readonly removedUnknown: number };
  readonly errors: readonly string[];
}

/** The reconciler's output and status: what GET /api/drift shows. */
export interface ReconcileReport {
  readonly checkedAt: string;
  readonly galleries: readonly GalleryReconciliation[];
  readonly publishesRetried: readonly RetriedPublish[];
  readonly errors: readonly string[];
}

export const reconcile: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput<ReconcileInput>(context, reconcileInputProblems);
  const retry = retryPolicyOf(input.retry);
  const checkedAt = context.df.currentUtcDateTime.toISOString();
  const errors: string[] = [];
  const retried = yield* activities.retryFailedPublishes(context, { now: checkedAt }, retry);
  if (!retried.ok) errors.push(`failed publishes: ${retried.error.code}: ${retried.error.message}`);
  // The workload index a publish reads: rows a crash left out (or tenants from before the index) are added.
  const indexed = yield* activities.indexWorkloadMembers(context, {}, retry);
  if (!indexed.ok) errors.push(`workload index: ${indexed.error.code}: ${indexed.error.message}`);
  const galleries: GalleryReconciliation[] = [];
  for (const [i, galleryId] of input.galleryIds.entries()) {
    const drift = yield* activities.checkGalleryDrift(context, { galleryId, at: checkedAt }, retry);
    if (!drift.ok) {
      errors.push(`${galleryId}: ${drift.error.code}: ${drift.error.message}`);
      continue;
    }
    galleries.push(yield* repair(context, drift.value, i, input.removeUnknown, retry));
    context.df.setCustomStatus({ checkedAt, galleries, publishesRetried: retried.ok ? retried.value.retried : [], errors } satisfies ReconcileReport);
  }
  const report: ReconcileReport = { checkedAt, galleries, publishesRetried: retried.ok ? retried.value.retried : [], errors };
  context.df.setCustomStatus(report);
  return report;
};

/** Repairs one gallery's drift, and tells subscribers what was found and what was repaired. */
function* repair(
  context: OrchestrationContext,
  drift: GalleryDrift,
  index: number,
  removeUnknown: boolean,
  retry: RetryPolicy,
): Generator<df.Task, GalleryReconciliation, unknown> {
  const { galleryId, sharing } = drift;
  const run = context.df.currentUtcDateTime.getTime().toString(36);
  const errors: string[] = [];
  const repaired = { shareTargets: 0, roleAssignments: 0, removedUnknown: 0 };
  const found = hasTargets(sharing.missing) || drift.missingRoleAssignments.length > 0 || hasTargets(sharing.unexpected);
  if (!found) return { ...drift, repaired, errors };
  yield* tell(
    context,
    DRIFT_DETECTED,
    galleryId,
    run,
    { galleryId, sharing, missingRoleAssignments: drift.missingRoleAssignments, tenants: drift.tenants },
    retry,
  );
  if (hasTargets(sharing.missing)) {
    const change = { requestId: `${context.df.instanceId}:${run}:${index}:add`, galleryId, add: sharing.missing };
    const added = yield* requestShareChange(context, change, `DriftAdd.${index}`, retry);
    if (added.ok) repaired.shareTargets = added.value.added.subscriptionIds.length + added.value.added.tenantIds.length;
    else errors.push(`share: ${added.error.code}: ${added.error.message}`);
  }
  for (const missing of drift.missingRoleAssignments) {
    const reader = { galleryId, principalId: missing.principalId, principalType: missing.principalType, at: context.df.currentUtcDateTime.toISOString() };
    const made = yield* activities.ensureGalleryReader(context, reader, retry);
    if (made.ok) repaired.roleAssignments++;
    else errors.push(`role assignment of ${missing.tenantId}: ${made.error.code}: ${made.error.message}`);
  }
  if (removeUnknown && hasTargets(sharing.unexpected)) {
    const change = { requestId: `${context.df.instanceId}:${run}:${index}:remove`, galleryId, remove: sharing.unexpected };
    const removed = yield* requestShareChange(context, change, `DriftRemove.${index}`, retry);
    if (removed.ok) repaired.removedUnknown = removed.value.removed.subscriptionIds.length + removed.value.removed.tenantIds.length;
    else errors.push(`remove unknown: ${removed.error.code}: ${removed.error.message}`);
  }
  if (repaired.shareTargets + repaired.roleAssignments + repaired.removedUnknown > 0) {
    yield* tell(context, DRIFT_REPAIRED, galleryId, run, { galleryId, repaired, errors }, retry);
  }
  return { ...drift, repaired, errors };
}

function* tell(
  context: OrchestrationContext,
  type: typeof DRIFT_DETECTED | typeof DRIFT_REPAIRED,
  galleryId: string,
  run: string,
  data: Readonly<Record<string, unknown>>,
  retry: RetryPolicy,
): Generator<df.Task, void, unknown> {
  const event = {
    type,
    subject: galleryId,
    id: `${context.df.instanceId}:${run}:${type}:${galleryId.toLowerCase()}`,
    time: context.df.currentUtcDateTime.toISOString(),
    data,
  };
  const sent = yield* activities.sendOutcomeEvent(context, event, retry);
  if (!sent.ok) context.log(`reconcile: ${type} for ${galleryId} not sent: ${sent.error.message}`);
}
