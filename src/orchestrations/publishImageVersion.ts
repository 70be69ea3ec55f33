// publishImageVersion: wait until a new image version has replicated everywhere, then make sure
// every registered target can use it, and report the outcome.
//
// Deterministic by construction (the Durable runtime replays this function): time comes from
// context.df.currentUtcDateTime, waits are durable timers, every side effect is an activity, and
// settings arrive in the input.
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import {
  ENSURE_GALLERY_SHARED,
  PUBLISH_OUTCOME,
  READ_IMAGE_VERSION,
  RECORD_SHARE_AUDIT,
  type ActivityError,
  type ActivityResult,
  type EnsureGallerySharedInput,
  type GallerySharingResult,
  type ImageVersionReading,
  type PublishOutcomeInput,
  type ReadImageVersionInput,
  type RecordShareAuditInput,
} from "../activities/names";
import { nextPollDelaySeconds, type ProgressSample } from "../domain/polling";
import { replicationVerdict, type RegionProgress, type ReplicationVerdict } from "../domain/replication";
import type { ShareLimits, ShareTargets } from "../domain/sharePlan";

export const PUBLISH_IMAGE_VERSION = "publishImageVersion";

export const OUTCOME_SHARED = "GalleryShare.ImageVersionShared";
export const OUTCOME_FAILED = "GalleryShare.ImageVersionShareFailed";

export interface PublishImageVersionInput {
  readonly imageVersionId: string;
  readonly galleryId: string;
  readonly targets: ShareTargets;
  readonly limits: ShareLimits;
  readonly polling: { readonly minSeconds: number; readonly maxSeconds: number; readonly timeoutMinutes: number };
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** The event that started this orchestration, for the outcome and for support. */
  readonly trigger: { readonly eventId: string; readonly eventTime?: string; readonly correlationId?: string };
}

export type PublishStep = "waiting-for-replication" | "sharing" | "publishing-outcome" | "done" | "failed";

export interface TargetStatus {
  readonly kind: "subscription" | "tenant";
  readonly id: string;
  readonly result: "pending" | "added" | "already-shared" | "not-shared";
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
  readonly targets: readonly TargetStatus[];
  readonly error?: ActivityError & { readonly failedRegions?: readonly { region: string; details: string }[] };
}

/** The orchestration's output when it completes. */
export interface PublishOutcome {
  readonly result: "Shared";
  readonly imageVersionId: string;
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  readonly shareCalls: number;
  readonly replicationReads: number;
  readonly replicationDetectedAt: string;
}

const MAX_RETRY_INTERVAL_MS = 5 * 60_000;

export const publishImageVersion: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<PublishImageVersionInput>();
  const retry = new df.RetryOptions(input.retry.firstSeconds * 1000, input.retry.attempts);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = MAX_RETRY_INTERVAL_MS;

  const startedAt = context.df.currentUtcDateTime.getTime();
  const deadline = startedAt + input.polling.timeoutMinutes * 60_000;
  const targets = initialTargets(input.targets);
  let status: PublishStatus = {
    step: "waiting-for-replication",
    imageVersionId: input.imageVersionId,
    replication: { state: "Unread", regions: [], reads: 0 },
    targets,
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
    const result = yield* call<ImageVersionReading>(READ_IMAGE_VERSION, { imageVersionId: input.imageVersionId } satisfies ReadImageVersionInput);
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

  // 2. Share: one activity per gallery reads its sharing profile and adds only what is missing.
  const shared = yield* call<GallerySharingResult>(ENSURE_GALLERY_SHARED, {
    galleryId: input.galleryId,
    targets: input.targets,
    limits: input.limits,
    encrypted: reading.encrypted,
  } satisfies EnsureGallerySharedInput);
  if (!shared.ok) return yield* fail(shared.error, status);

  const outcome: PublishOutcome = {
    result: "Shared",
    imageVersionId: input.imageVersionId,
    added: shared.value.added,
    alreadyShared: shared.value.alreadyShared,
    shareCalls: shared.value.shareCalls,
    replicationReads: status.replication.reads,
    replicationDetectedAt: status.replication.completedDetectedAt ?? iso(context.df.currentUtcDateTime.getTime()),
  };
  show({ ...status, step: "publishing-outcome", targets: targetResults(targets, shared.value) });

  // 3. Record and report. Neither undoes the share when it fails: the failure shows in the status instead.
  const audited = yield* report(RECORD_SHARE_AUDIT, {
    galleryId: input.galleryId,
    imageVersionId: input.imageVersionId,
    instanceId: context.df.instanceId,
    added: shared.value.added,
    alreadyShared: shared.value.alreadyShared,
    at: outcome.replicationDetectedAt,
  } satisfies RecordShareAuditInput);
  const published = yield* report(PUBLISH_OUTCOME, outcomeEvent(context, OUTCOME_SHARED, input, outcome));
  const reportError = audited ?? published;
  show({ ...status, step: "done", ...(reportError ? { error: reportError } : {}) });
  return outcome;

  /** Calls an activity with the retry policy; a failure that outlived every retry comes back as a result too. */
  function* call<T>(name: string, activityInput: unknown): Generator<df.Task, ActivityResult<T>, unknown> {
    try {
      return (yield context.df.callActivityWithRetry(name, retry, activityInput)) as ActivityResult<T>;
    } catch (err) {
      return { ok: false, error: { code: "RetriesExhausted", message: `${name} failed ${input.retry.attempts} times: ${failureReason(err)}` } };
    }
  }

  /** Runs a reporting activity: its failure is returned for the status, never thrown. */
  function* report(name: string, activityInput: unknown): Generator<df.Task, ActivityError | undefined, unknown> {
    const result = yield* call<unknown>(name, activityInput);
    return result.ok ? undefined : result.error;
  }

  /** Publishes the failure, records it in the status, and ends the orchestration as Failed. */
  function* fail(error: PublishStatus["error"] & object, last: PublishStatus): Generator<df.Task, never, unknown> {
    show({ ...last, step: "failed", error });
    yield* report(PUBLISH_OUTCOME, outcomeEvent(context, OUTCOME_FAILED, input, { result: "Failed", imageVersionId: input.imageVersionId, error }));
    throw new Error(`${error.code}: ${error.message}`);
  }
};

df.app.orchestration(PUBLISH_IMAGE_VERSION, publishImageVersion);

function outcomeEvent(context: OrchestrationContext, type: string, input: PublishImageVersionInput, data: unknown): PublishOutcomeInput {
  return {
    type,
    subject: input.imageVersionId,
    id: `${context.df.instanceId}:${type}`,
    time: context.df.currentUtcDateTime.toISOString(),
    data: { ...(data as object), instanceId: context.df.instanceId, trigger: input.trigger },
  };
}

function initialTargets(targets: ShareTargets): TargetStatus[] {
  return [
    ...targets.subscriptionIds.map((id) => ({ kind: "subscription" as const, id, result: "pending" as const })),
    ...targets.tenantIds.map((id) => ({ kind: "tenant" as const, id, result: "pending" as const })),
  ];
}

function targetResults(targets: readonly TargetStatus[], result: GallerySharingResult): TargetStatus[] {
  const has = (ids: readonly string[], id: string): boolean => ids.some((x) => x.toLowerCase() === id.toLowerCase());
  return targets.map((t) => {
    const added = t.kind === "subscription" ? result.added.subscriptionIds : result.added.tenantIds;
    const already = t.kind === "subscription" ? result.alreadyShared.subscriptionIds : result.alreadyShared.tenantIds;
    return { ...t, result: has(added, t.id) ? "added" : has(already, t.id) ? "already-shared" : "not-shared" };
  });
}

function describeRegions(regions: readonly RegionProgress[]): string {
  return regions.map((r) => `${r.region} ${r.state} ${r.progress}%`).join(", ") || "no regions reported";
}

/** The first line of a failed task's reason, without the host's "Activity function 'x' failed:" prefix. */
function failureReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split("\n")[0] ?? "").replace(/^Activity function '[^']*' failed:\s*/, "").trim();
  return line.length > 400 ? `${line.slice(0, 400)}...` : line;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
