// offboardTenant: takes away what this app granted a consumer tenant (the grants the registry
// recorded, none other), through each gallery's share coordinator for direct shares and by the
// recorded role assignment ids for Reader grants, then marks the tenant `offboarded` (history kept).
// It first reports the impact: VMs and scale sets in the consumer tenant built from these images
// keep running, but scaling or reimaging them fails once access is gone. Consumer VMs are never
// deleted.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { TenantGrantsInput } from "../activities/tenantRegistry";
import { offboardInputProblems } from "../domain/durablePayloads";
import type { OffboardingV1 } from "../domain/messages";
import { TENANT_OFFBOARDED, TENANT_OFFBOARDING_FAILED } from "../domain/outcomeEvents";
import { sameResourceId } from "../domain/resourceIds";
import { retryPolicyOf } from "../domain/retryPolicy";
import { activities } from "./activities";
import { checkedInput } from "./checkedInput";
import { requestShareChange } from "./requestShareChange";

export interface OffboardTenantInput {
  readonly message: OffboardingV1;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
}

type GrantRecord = TenantGrantsInput["grants"][number];

export const offboardTenant: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { message, retry: r } = checkedInput<OffboardTenantInput>(context, offboardInputProblems);
  const retry = retryPolicyOf(r);
  const at = (): string => context.df.currentUtcDateTime.toISOString();

  const note = "VMs and scale sets built from these images keep running; scaling or reimaging them fails once access is gone. Consumer VMs are never deleted.";
  let impact: { galleries: string[]; workloads: { kind: string; resourceId: string; imageVersion: string }[]; note: string } = {
    galleries: [],
    workloads: [],
    note,
  };
  let keepsOthers = false;
  const read = yield* activities.readTenantGrants(context, { tenantId: message.tenantId }, retry);
  if (!read.ok) return yield* finish([], [`${read.error.code}: ${read.error.message}`]);
  const wanted = (g: GrantRecord): boolean => !message.galleries || message.galleries.some((id) => sameResourceId(id, g.galleryId));
  const grants = read.value.grants.filter(wanted);
  // Offboarding from some galleries only: the tenant stays active on the others.
  keepsOthers = read.value.grants.some((g) => !wanted(g));
  // The VMs the app made from these galleries' images keep running; they are named so the publisher sees them.
  const galleriesLosing = [...new Set(grants.map((g) => g.galleryId))];
  const affected = read.value.workloads.filter((w) => galleriesLosing.some((g) => w.imageVersion.toLowerCase().startsWith(`${g.toLowerCase()}/`)));
  impact = { galleries: galleriesLosing, workloads: affected.map((w) => ({ kind: w.kind, resourceId: w.resourceId, imageVersion: w.imageVersion })), note };
  context.df.setCustomStatus({ step: "revoking", tenantId: message.tenantId, impact });

  const removed: GrantRecord[] = [];
  const problems: string[] = [];
  const galleries = [...new Set(grants.filter((g) => g.kind !== "roleAssignment").map((g) => g.galleryId))];
  for (const [i, galleryId] of galleries.entries()) {
    const mine = grants.filter((g) => g.galleryId === galleryId && g.kind !== "roleAssignment");
    const remove = {
      subscriptionIds: mine.filter((g) => g.kind === "subscription").map((g) => g.targetId),
      tenantIds: mine.filter((g) => g.kind === "tenant").map((g) => g.targetId),
    };
    const shared = yield* requestShareChange(context, { requestId: `${message.requestId}:${i}`, galleryId, remove }, `ShareResult.${i}`, retry);
    if (!shared.ok) problems.push(`${galleryId}: ${shared.error.code}: ${shared.error.message}`);
    else removed.push(...mine);
  }
  for (const g of grants.filter((x) => x.kind === "roleAssignment" && x.roleAssignmentId)) {
    const gone = yield* activities.removeRoleAssignment(context, { roleAssignmentId: g.roleAssignmentId ?? "" }, retry);
    if (gone.ok) removed.push(g);
    else problems.push(`${g.galleryId}: ${gone.error.code}: ${gone.error.message}`);
  }
  if (removed.length > 0) {
    const cleaned = yield* activities.removeTenantGrants(
      context,
      { tenantId: message.tenantId, requestId: message.requestId, at: at(), grants: removed },
      retry,
    );
    if (!cleaned.ok) problems.push(`registry: ${cleaned.error.code}: ${cleaned.error.message}`);
  }
  return yield* finish(removed, problems);

  function* finish(done: readonly GrantRecord[], failures: readonly string[]): Generator<df.Task, unknown, unknown> {
    const ok = failures.length === 0;
    const reason = ok ? undefined : failures.join("; ").slice(0, 1000);
    const finished = yield* activities.finishTenantRequest(
      context,
      {
        tenantId: message.tenantId,
        requestId: message.requestId,
        at: at(),
        tenantState: !ok ? "failed" : keepsOthers ? "active" : "offboarded",
        requestState: ok ? "succeeded" : "failed",
        ...(reason ? { reason } : {}),
      },
      retry,
    );
    const type = ok ? TENANT_OFFBOARDED : TENANT_OFFBOARDING_FAILED;
    const result = {
      tenantId: message.tenantId,
      requestId: message.requestId,
      state: !ok ? "failed" : keepsOthers ? "active" : "offboarded",
      revoked: done,
      impact,
      ...(reason ? { reason } : {}),
    };
    yield* activities.sendOutcomeEvent(
      context,
      { type, subject: `/tenants/${message.tenantId}`, id: `${context.df.instanceId}:${type}`, time: at(), data: result },
      retry,
    );
    context.df.setCustomStatus({ step: "done", ...result });
    if (!finished.ok) throw new Error(`${finished.error.code}: ${finished.error.message}`);
    return result;
  }
};
