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
import { normalizeResourceId, sameResourceId } from "../domain/resourceIds";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import { activities } from "./activities";
import { checkedInput } from "./checkedInput";
import { requestShareChange } from "./requestShareChange";

export interface OffboardTenantInput {
  readonly message: OffboardingV1;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
}

type GrantRecord = TenantGrantsInput["grants"][number];

export const offboardTenant: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput<OffboardTenantInput>(context, offboardInputProblems);
  const { message } = input;
  const run: Run = { context, message, retry: retryPolicyOf(input.retry), keepsOthers: false, impact: { galleries: [], workloads: [], note: IMPACT_NOTE } };
  const read = yield* activities.readTenantGrants(context, { tenantId: message.tenantId }, run.retry);
  if (!read.ok) return yield* finish(run, [], [`${read.error.code}: ${read.error.message}`]);
  const wanted = (g: GrantRecord): boolean => !message.galleries || message.galleries.some((id) => sameResourceId(id, g.galleryId));
  const grants = read.value.grants.filter(wanted);
  // Offboarding from some galleries only: the tenant stays active on the others.
  run.keepsOthers = read.value.grants.some((g) => !wanted(g));
  // The VMs the app made from these galleries' images keep running; they are named so the publisher sees them.
  const galleriesLosing = [...new Set(grants.map((g) => g.galleryId))];
  const affected = read.value.workloads.filter((w) =>
    galleriesLosing.some((g) => normalizeResourceId(w.imageVersion).startsWith(`${normalizeResourceId(g)}/`)),
  );
  run.impact = {
    galleries: galleriesLosing,
    workloads: affected.map((w) => ({ kind: w.kind, resourceId: w.resourceId, imageVersion: w.imageVersion })),
    note: IMPACT_NOTE,
  };
  context.df.setCustomStatus({ step: "revoking", tenantId: message.tenantId, impact: run.impact });

  const { removed, problems } = yield* revoke(run, grants);
  // rbac: the app's own Reader leaves the galleries no other rbac tenant uses.
  const released = yield* activities.releaseAppReader(
    context,
    { tenantId: message.tenantId, ...(message.galleries ? { galleries: message.galleries } : {}) },
    run.retry,
  );
  if (!released.ok) problems.push(`app reader: ${released.error.code}: ${released.error.message}`);
  if (removed.length > 0) {
    const forget = { tenantId: message.tenantId, requestId: message.requestId, at: at(run), grants: removed };
    const cleaned = yield* activities.removeTenantGrants(context, forget, run.retry);
    if (!cleaned.ok) problems.push(`registry: ${cleaned.error.code}: ${cleaned.error.message}`);
  }
  return yield* finish(run, removed, problems);
};

const IMPACT_NOTE =
  "VMs and scale sets built from these images keep running; scaling or reimaging them fails once access is gone. Consumer VMs are never deleted.";

interface Impact {
  readonly galleries: readonly string[];
  readonly workloads: readonly { readonly kind: string; readonly resourceId: string; readonly imageVersion: string }[];
  readonly note: string;
}

/** One run of the orchestration: its input, and what it found out before revoking. */
interface Run {
  readonly context: OrchestrationContext;
  readonly message: OffboardingV1;
  readonly retry: RetryPolicy;
  keepsOthers: boolean;
  impact: Impact;
}

const at = (run: Run): string => run.context.df.currentUtcDateTime.toISOString();

/** Direct shares through each gallery's share coordinator, then Reader grants by their recorded ids. */
function* revoke(run: Run, grants: readonly GrantRecord[]): Generator<df.Task, { removed: GrantRecord[]; problems: string[] }, unknown> {
  const { context, message, retry } = run;
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
  return { removed, problems };
}

/** The tenant ends offboarded (or still active on its other galleries) or failed, and the outcome event goes out. */
function* finish(run: Run, done: readonly GrantRecord[], failures: readonly string[]): Generator<df.Task, unknown, unknown> {
  const { context, message, retry, keepsOthers, impact } = run;
  const ok = failures.length === 0;
  const reason = ok ? undefined : failures.join("; ").slice(0, 1000);
  const state = !ok ? "failed" : keepsOthers ? "active" : "offboarded";
  const finished = yield* activities.finishTenantRequest(
    context,
    {
      tenantId: message.tenantId,
      requestId: message.requestId,
      at: at(run),
      tenantState: state,
      requestState: ok ? "succeeded" : "failed",
      ...(reason ? { reason } : {}),
    },
    retry,
  );
  const type = ok ? TENANT_OFFBOARDED : TENANT_OFFBOARDING_FAILED;
  const result = { tenantId: message.tenantId, requestId: message.requestId, state, revoked: done, impact, ...(reason ? { reason } : {}) };
  yield* activities.sendOutcomeEvent(
    context,
    { type, subject: `/tenants/${message.tenantId}`, id: `${context.df.instanceId}:${type}`, time: at(run), data: result },
    retry,
  );
  context.df.setCustomStatus({ step: "done", ...result });
  if (!finished.ok) throw new Error(`${finished.error.code}: ${finished.error.message}`);
  return result;
}
