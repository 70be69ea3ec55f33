// publishImageVersion: wait until a new image version has replicated everywhere, then make sure
// every registered target can use it, and report the outcome.
//
// Deterministic by construction (the Durable runtime replays this function): time comes from
// context.df.currentUtcDateTime, waits are durable timers, every side effect is an activity, and
// settings arrive in the input. The input is checked, not trusted: the activities confirm that the
// version belongs to a gallery this app manages, and the share targets are read when the share runs.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { ImageVersionReading } from "../activities/publishing";
import type { ActivityError } from "../domain/activityResult";
import { PUBLISH_IMAGE_VERSION } from "../domain/orchestrationNames";
import { IMAGE_VERSION_SHARE_FAILED, IMAGE_VERSION_SHARED, type OutcomeEvent, type OutcomeEventType } from "../domain/outcomeEvents";
import { nextPollDelaySeconds, type ProgressSample } from "../domain/polling";
import { replicationVerdict, type RegionProgress, type ReplicationVerdict } from "../domain/replication";
import { parseImageVersionId, resourceIdIssue } from "../domain/resourceIds";
import { retryPolicyOf } from "../domain/retryPolicy";
import type { ShareChangeResult } from "../domain/shareChanges";
import type { ShareTargets } from "../domain/sharePlan";
import { activities, type Outcome } from "./activities";
import { DEFAULT_CREATIONS_IN_FLIGHT, MAX_CREATIONS_IN_FLIGHT, type FanOutSummary } from "../domain/workloads";
import { requestShareChange } from "./requestShareChange";
import { fanOutProvisioning } from "./workloadFanOut";

export interface PublishImageVersionInput {
  readonly imageVersionId: string;
  readonly polling: { readonly minSeconds: number; readonly maxSeconds: number; readonly timeoutMinutes: number };
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** The event that started this orchestration, for the outcome event and for support (bounded, control characters removed). */
  readonly trigger: { readonly eventId: string; readonly eventTime?: string; readonly correlationId?: string };
  /** Consumer VMs and scale sets that follow new versions: how many may be made at once (default 10). */
  readonly workloads?: { readonly creationsInFlight: number };
}

export type PublishStep = "waiting-for-replication" | "sharing" | "updating-workloads" | "reporting" | "done" | "failed";

export interface TargetStatus {
  readonly kind: "subscription" | "tenant";
  readonly id: string;
  readonly result: "added" | "already-shared";
}

/** What GET /api/status shows while the orchestration runs (customStatus). */
export interface PublishStatus {
  readonly step: PublishStep;
  readonly imageVersionId: string;
  readonly replication: {
    readonly state: ReplicationVerdict["state"] | "Unread";
    readonly regions: readonly RegionProgress[];
    readonly reads: number;
    readonly nextReadAt?: string;
    readonly completedDetectedAt?: string;
  };
  /** Filled once the share has run: the targets registered then, and what each needed. */
  readonly targets: readonly TargetStatus[];
  readonly sharedAt?: string;
  /** Consumer VMs and scale sets moved to this version: counts and the first failures (each one's record is on its tenant). */
  readonly workloads?: FanOutSummary;
  readonly error?: ActivityError & { readonly failedRegions?: readonly { region: string; details: string }[] };
}

/** The orchestration's result (its output) when it completes. */
export interface PublishResult {
  readonly result: "Shared";
  readonly imageVersionId: string;
  readonly galleryId: string;
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  readonly shareCalls: number;
  readonly replicationReads: number;
  readonly replicationDetectedAt: string;
  /** When the share was confirmed: the time the audit rows carry. */
  readonly sharedAt: string;
  /** A community gallery's public name, when the version was published to the community. */
  readonly communityPublicName?: string;
  readonly workloads?: FanOutSummary;
}

export const publishImageVersion: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput(context.df.getInput<unknown>());
  const retry = retryPolicyOf(input.retry);

  const startedAt = context.df.currentUtcDateTime.getTime();
  const deadline = startedAt + input.polling.timeoutMinutes * 60_000;
  let status: PublishStatus = {
    step: "waiting-for-replication",
    imageVersionId: input.imageVersionId,
    replication: { state: "Unread", regions: [], reads: 0 },
    targets: [],
  };
  const show = (next: PublishStatus): void => {
    status = next;
    context.df.setCustomStatus(status);
  };
  show(status);

  // 1. Wait for replication: read, and if not done, sleep on a durable timer until the estimated completion.
  let previous: ProgressSample | undefined;
  let reading: ImageVersionReading;
  for (let reads = 1; ; reads++) {
    const result = yield* activities.readImageVersion(context, { imageVersionId: input.imageVersionId }, retry);
    const now = context.df.currentUtcDateTime.getTime();
    if (!result.ok) return yield* fail(result.error, { ...status, replication: { ...status.replication, reads } });
    reading = result.value;
    const verdict = replicationVerdict(reading.snapshot);
    const replication = { state: verdict.state, regions: verdict.regions, reads };

    if (verdict.state === "Completed") {
      show({ ...status, step: "sharing", replication: { ...replication, completedDetectedAt: iso(now) } });
      break;
    }
    if (verdict.state === "Failed") {
      const error = {
        code: "ReplicationFailed",
        message: `Replication of ${input.imageVersionId} failed in ${verdict.failedRegions.map((r) => `${r.region} (${r.details})`).join(", ")}: ${verdict.details}`,
        failedRegions: verdict.failedRegions,
      };
      return yield* fail(error, { ...status, replication });
    }
    if (now >= deadline) {
      const error = {
        code: "ReplicationTimeout",
        message: `Replication of ${input.imageVersionId} did not complete within ${input.polling.timeoutMinutes} minutes (last state ${verdict.state}: ${describeRegions(verdict.regions)})`,
      };
      return yield* fail(error, { ...status, replication });
    }

    const latest: ProgressSample = { at: now, regions: verdict.regions.map((r) => ({ region: r.region, progress: r.progress })) };
    const published = reading.publishedDate ? Date.parse(reading.publishedDate) : Number.NaN;
    const delaySeconds = nextPollDelaySeconds({
      now,
      ...(Number.isFinite(published) ? { startedAt: published } : {}),
      ...(previous ? { previous } : {}),
      latest,
      settings: input.polling,
    });
    previous = latest;
    const nextReadAt = Math.min(now + delaySeconds * 1000, deadline);
    show({ ...status, replication: { ...replication, nextReadAt: iso(nextReadAt) } });
    yield context.df.createTimer(new Date(nextReadAt));
  }

  // 2. Share: the gallery's share coordinator adds every registered target that is missing, merging
  //    this publish with whatever else changes the gallery's sharing at the same moment.
  const galleryId = reading.galleryId;
  const shared = yield* requestShareChange(
    context,
    { requestId: `${context.df.instanceId}:ensure`, galleryId, ensureRegistered: true, ...(reading.encrypted ? { encrypted: true } : {}) },
    "ShareResult",
    retry,
  );
  if (!shared.ok) return yield* fail(shared.error, status);
  const sharedAt = shared.value.at;
  // A community gallery: the version must be visible to all of Azure under the gallery's public name.
  const publicName = shared.value.communityPublicName;
  if (publicName) {
    const location = reading.snapshot.targetRegions[0] ?? "";
    const seen = yield* activities.verifyCommunityVersion(context, { imageVersionId: input.imageVersionId, publicName, location }, retry);
    if (!seen.ok) return yield* fail(seen.error, status);
    if (!seen.value.visible) return yield* fail({ code: "NotVisibleInCommunity", message: seen.value.note ?? `not visible in community gallery ${publicName}` }, status);
  }

  // 3. Consumer VMs and scale sets that follow new versions move to this one, a bounded number at a
  //    time. The share stands whatever happens here; failures show in the summary and on each tenant.
  show({ ...status, step: "updating-workloads", targets: targetResults(shared.value), sharedAt });
  const workloads = reading.excludeFromLatest ? undefined : yield* updateWorkloads(galleryId);

  const outcome: PublishResult = {
    result: "Shared",
    imageVersionId: input.imageVersionId,
    galleryId,
    added: shared.value.added,
    alreadyShared: shared.value.alreadyShared,
    shareCalls: shared.value.shareCalls,
    replicationReads: status.replication.reads,
    replicationDetectedAt: status.replication.completedDetectedAt ?? sharedAt,
    sharedAt,
    ...(publicName ? { communityPublicName: publicName } : {}),
    ...(workloads ? { workloads } : {}),
  };
  show({ ...status, step: "reporting", targets: targetResults(shared.value), sharedAt });

  // 4. Record and report. Neither undoes the share when it fails: the failure shows in the status instead.
  const audited = yield* report(
    activities.recordShareAudit(context, { galleryId, imageVersionId: input.imageVersionId, instanceId: context.df.instanceId, added: shared.value.added, alreadyShared: shared.value.alreadyShared, at: sharedAt }, retry),
  );
  const published = yield* report(activities.sendOutcomeEvent(context, outcomeEvent(context, IMAGE_VERSION_SHARED, input, { ...outcome }), retry));
  const reportError = audited ?? published;
  show({ ...status, step: "done", ...(reportError ? { error: reportError } : {}) });
  return outcome;

  function* updateWorkloads(galleryId: string): Generator<df.Task, FanOutSummary | undefined, unknown> {
    const { image, version } = parseImageVersionId(input.imageVersionId);
    const listed = yield* activities.listWorkloadsToUpdate(context, { galleryId, image, version }, retry);
    if (!listed.ok) {
      context.log(`${PUBLISH_IMAGE_VERSION}: consumer VMs and scale sets not listed: ${listed.error.code}: ${listed.error.message}`);
      return { total: 0, succeeded: 0, failed: 0, running: 0, maxInFlight: 0, failures: [{ tenantId: "", kind: "vm", code: listed.error.code, message: listed.error.message.slice(0, 300) }], moreFailures: 0 };
    }
    if (listed.value.workloads.length === 0) return undefined;
    const slots = input.workloads?.creationsInFlight ?? DEFAULT_CREATIONS_IN_FLIGHT;
    const items = listed.value.workloads.map((w) => ({ mode: w.mode, tenantId: w.tenantId, galleryId: w.galleryId, consumer: w.consumer, spec: w.spec, version, changedBy: context.df.instanceId, retry: input.retry, slots }));
    // The run's start time (replayed unchanged) names this run's instances.
    return yield* fanOutProvisioning(context, startedAt.toString(36), items, slots, retry, (summary) => show({ ...status, workloads: summary }));
  }

  /** Runs a reporting activity: its failure is returned for the status, never thrown. */
  function* report(call: Generator<df.Task, Outcome<unknown>, unknown>): Generator<df.Task, ActivityError | undefined, unknown> {
    const result = yield* call;
    return result.ok ? undefined : result.error;
  }

  /** Publishes the failure, records it in the status, and ends the orchestration as Failed. */
  function* fail(error: PublishStatus["error"] & object, last: PublishStatus): Generator<df.Task, never, unknown> {
    show({ ...last, step: "failed", error });
    yield* report(activities.sendOutcomeEvent(context, outcomeEvent(context, IMAGE_VERSION_SHARE_FAILED, input, { result: "Failed", imageVersionId: input.imageVersionId, error }), retry));
    throw new Error(`${error.code}: ${error.message}`);
  }
};

function outcomeEvent(context: OrchestrationContext, type: OutcomeEventType, input: PublishImageVersionInput, data: Readonly<Record<string, unknown>>): OutcomeEvent {
  return {
    type,
    subject: input.imageVersionId,
    id: `${context.df.instanceId}:${type}`,
    time: context.df.currentUtcDateTime.toISOString(),
    data: { ...data, instanceId: context.df.instanceId, trigger: input.trigger },
  };
}

function targetResults(result: ShareChangeResult): TargetStatus[] {
  return [
    ...result.added.subscriptionIds.map((id) => ({ kind: "subscription" as const, id, result: "added" as const })),
    ...result.added.tenantIds.map((id) => ({ kind: "tenant" as const, id, result: "added" as const })),
    ...result.alreadyShared.subscriptionIds.map((id) => ({ kind: "subscription" as const, id, result: "already-shared" as const })),
    ...result.alreadyShared.tenantIds.map((id) => ({ kind: "tenant" as const, id, result: "already-shared" as const })),
  ];
}

/** The input, or an error naming what is wrong with it (the orchestration then fails at once, before any I/O). */
function checkedInput(raw: unknown): PublishImageVersionInput {
  const problems: string[] = [];
  const obj = (typeof raw === "object" && raw !== null ? raw : {}) as Partial<Record<keyof PublishImageVersionInput, unknown>>;
  const versionIssue = resourceIdIssue("imageVersion", obj.imageVersionId);
  if (versionIssue !== undefined) problems.push(`imageVersionId ${versionIssue}`);
  const whole = (value: unknown, min: number, max: number): boolean => typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
  const polling = (obj.polling ?? {}) as Partial<Record<string, unknown>>;
  const retry = (obj.retry ?? {}) as Partial<Record<string, unknown>>;
  if (!whole(polling.minSeconds, 5, 86400) || !whole(polling.maxSeconds, 5, 86400) || !whole(polling.timeoutMinutes, 1, 7 * 24 * 60)) {
    problems.push("polling must have whole minSeconds and maxSeconds from 5 to 86400 and timeoutMinutes from 1 to 10080");
  }
  if (!whole(retry.attempts, 1, 20) || !whole(retry.firstSeconds, 1, 3600)) problems.push("retry must have whole attempts from 1 to 20 and firstSeconds from 1 to 3600");
  const workloads = obj.workloads as { creationsInFlight?: unknown } | undefined;
  if (workloads !== undefined && !whole(workloads.creationsInFlight, 1, MAX_CREATIONS_IN_FLIGHT)) problems.push(`workloads.creationsInFlight must be a whole number from 1 to ${MAX_CREATIONS_IN_FLIGHT}`);
  const trigger = obj.trigger as PublishImageVersionInput["trigger"] | undefined;
  if (typeof trigger?.eventId !== "string") problems.push("trigger.eventId is required");
  if (problems.length > 0) throw new Error(`InvalidInput: ${problems.join("; ")}`);
  return raw as PublishImageVersionInput;
}

function describeRegions(regions: readonly RegionProgress[]): string {
  return regions.map((r) => `${r.region} ${r.state} ${r.progress}%`).join(", ") || "no regions reported";
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
