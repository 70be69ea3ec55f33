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
import { REPLICATION_HINT_EVENT } from "../domain/orchestrationNames";
import { IMAGE_VERSION_SHARE_FAILED, IMAGE_VERSION_SHARED, type OutcomeEvent, type OutcomeEventType } from "../domain/outcomeEvents";
import { publishInputProblems } from "../domain/durablePayloads";
import { nextPollDelaySeconds, type ProgressSample } from "../domain/polling";
import { replicationVerdict, type RegionProgress, type ReplicationVerdict } from "../domain/replication";
import { sameResourceId } from "../domain/resourceIds";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import { ALL_AT_ONCE, type PromotionState, type RolloutSettings, type RolloutStatus } from "../domain/rollout";
import type { ShareChangeResult } from "../domain/shareChanges";
import type { ShareTargets } from "../domain/sharePlan";
import { activities, type Outcome } from "./activities";
import { checkedInput } from "./checkedInput";
import type { FanOutSummary } from "../domain/workloads";
import { requestShareChange } from "./requestShareChange";
import { rollOutPublish, type PublishRolloutRun } from "./publishRollout";

export interface PublishImageVersionInput {
  readonly imageVersionId: string;
  readonly polling: { readonly minSeconds: number; readonly maxSeconds: number; readonly timeoutMinutes: number };
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** The event that started this orchestration, for the outcome event and for support (bounded, control characters removed). */
  readonly trigger: { readonly eventId: string; readonly eventTime?: string; readonly correlationId?: string };
  /** Set when the reconciler runs a publish that failed for a transient reason again: the re-run's number. */
  readonly recovery?: { readonly attempt: number };
  /** Consumer VMs and scale sets that follow new versions: how many may be made at once (default 10). */
  readonly workloads?: { readonly creationsInFlight: number };
  /** Rings, soak and whether the image's latest is gated (default: one ring, no soak, not gated). */
  readonly rollout?: RolloutSettings;
}

export type PublishStep = "waiting-for-replication" | "sharing" | "updating-workloads" | "promoting" | "reporting" | "done" | "failed";

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
    /** Replication hints (Resource Notifications events) that brought a read forward. */
    readonly hints?: number;
    readonly nextReadAt?: string;
    readonly completedDetectedAt?: string;
  };
  /** Filled once the share has run: the targets registered then, and what each needed. */
  readonly targets: readonly TargetStatus[];
  readonly sharedAt?: string;
  /** Consumer VMs and scale sets moved to this version: counts and the first failures (each one's record is on its tenant). */
  readonly workloads?: FanOutSummary;
  /** The ring-by-ring rollout and where `latest` stands. */
  readonly rollout?: RolloutStatus;
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
  readonly rollout?: RolloutStatus;
}

export const publishImageVersion: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput<PublishImageVersionInput>(context, publishInputProblems);
  const run = startRun(context, input);
  const reading = yield* waitForReplication(run);
  const shared = yield* share(run, reading);
  // Consumer VMs and scale sets that follow new versions move to this one, a bounded number at a
  // time. The share stands whatever happens there; failures show in the summary and on each tenant.
  run.show({ ...run.status, step: "updating-workloads", targets: targetResults(shared), sharedAt: shared.at });
  const settings = input.rollout ?? ALL_AT_ONCE;
  // A gated image's version waits outside `latest` for its rollout; one that arrived inside it is reported.
  const promotion: PromotionState = settings.gated ? (reading.excludeFromLatest ? "pending" : "bypassed") : "not-gated";
  // A version kept out of latest by its publisher (not by the gate) is not rolled out.
  const moved = reading.excludeFromLatest && !settings.gated ? undefined : yield* rollOutPublish(rolloutRun(run), reading.galleryId, settings, promotion);
  return yield* report(run, reading, shared, moved?.workloads, moved?.status);
};

/** One run of the orchestration: its input, the status it shows, and how it fails. */
interface Run {
  readonly context: OrchestrationContext;
  /** The input; its version id as ARM spells it once the version has been read. */
  input: PublishImageVersionInput;
  readonly retry: RetryPolicy;
  readonly startedAt: number;
  /** What the status shows now; `show` replaces it. */
  status: PublishStatus;
  show(next: PublishStatus): void;
}

function startRun(context: OrchestrationContext, input: PublishImageVersionInput): Run {
  const run: Run = {
    context,
    input,
    retry: retryPolicyOf(input.retry),
    startedAt: context.df.currentUtcDateTime.getTime(),
    status: { step: "waiting-for-replication", imageVersionId: input.imageVersionId, replication: { state: "Unread", regions: [], reads: 0 }, targets: [] },
    show: (next) => {
      run.status = next;
      context.df.setCustomStatus(next);
    },
  };
  run.show(run.status);
  return run;
}

/**
 * Step 1: read, and if replication is not done, sleep on a durable timer until its estimated
 * completion, or until a replication hint (a Resource Notifications event) says to read sooner.
 */
function* waitForReplication(run: Run): Generator<df.Task, ImageVersionReading, unknown> {
  const { context, input, retry } = run;
  const deadline = run.startedAt + input.polling.timeoutMinutes * 60_000;
  let previous: ProgressSample | undefined;
  // One hint wait at a time, kept across reads until a hint arrives: a wait that lost a race and was
  // dropped would stay subscribed and swallow the next hint.
  let hint: df.Task | undefined;
  let hints = 0;
  for (let reads = 1; ; reads++) {
    const result = yield* activities.readImageVersion(context, { imageVersionId: input.imageVersionId }, retry);
    const now = context.df.currentUtcDateTime.getTime();
    if (!result.ok) return yield* fail(run, result.error, { ...run.status, replication: { ...run.status.replication, reads } });
    const reading = result.value;
    if (reading.imageVersionId !== run.input.imageVersionId && sameResourceId(reading.imageVersionId, run.input.imageVersionId)) {
      run.input = { ...run.input, imageVersionId: reading.imageVersionId };
      run.show({ ...run.status, imageVersionId: reading.imageVersionId });
    }
    const verdict = replicationVerdict(reading.snapshot);
    const replication = { state: verdict.state, regions: verdict.regions, reads, ...(hints > 0 ? { hints } : {}) };
    if (verdict.state === "Completed") {
      run.show({ ...run.status, step: "sharing", replication: { ...replication, completedDetectedAt: iso(now) } });
      return reading;
    }
    if (verdict.state === "Failed") {
      const regions = verdict.failedRegions.map((r) => `${r.region} (${r.details})`).join(", ");
      const error = {
        code: "ReplicationFailed",
        message: `Replication of ${run.input.imageVersionId} failed in ${regions}: ${verdict.details}`,
        failedRegions: verdict.failedRegions,
      };
      return yield* fail(run, error, { ...run.status, replication });
    }
    if (now >= deadline) {
      const last = `last state ${verdict.state}: ${describeRegions(verdict.regions)}`;
      const error = {
        code: "ReplicationTimeout",
        message: `Replication of ${run.input.imageVersionId} did not complete within ${input.polling.timeoutMinutes} minutes (${last})`,
      };
      return yield* fail(run, error, { ...run.status, replication });
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
    run.show({ ...run.status, replication: { ...replication, nextReadAt: iso(nextReadAt) } });
    const timer = context.df.createTimer(new Date(nextReadAt));
    hint ??= context.df.waitForExternalEvent(REPLICATION_HINT_EVENT);
    const winner: unknown = yield context.df.Task.any([timer, hint]);
    if (winner !== hint) continue;
    hint = undefined;
    hints += 1;
    // A hint only brings the read forward, never closer than the shortest poll after the last one:
    // a burst of hints costs no more reads than polling at the floor would.
    const earliest = now + input.polling.minSeconds * 1000;
    if (earliest >= nextReadAt) {
      yield timer;
      continue;
    }
    timer.cancel();
    if (context.df.currentUtcDateTime.getTime() < earliest) yield context.df.createTimer(new Date(earliest));
  }
}

/**
 * Step 2: the gallery's share coordinator adds every registered target that is missing, merging this
 * publish with whatever else changes the gallery's sharing at the same moment. A community gallery:
 * the version must then be visible to all of Azure under the gallery's public name.
 */
function* share(run: Run, reading: ImageVersionReading): Generator<df.Task, ShareChangeResult, unknown> {
  const { context, input, retry } = run;
  const change = {
    requestId: `${context.df.instanceId}:ensure`,
    galleryId: reading.galleryId,
    ensureRegistered: true,
    ...(reading.encrypted ? { encrypted: true } : {}),
  };
  const shared = yield* requestShareChange(context, change, "ShareResult", retry);
  if (!shared.ok) return yield* fail(run, shared.error, run.status);
  const publicName = shared.value.communityPublicName;
  if (publicName) {
    const location = reading.snapshot.targetRegions[0] ?? "";
    const seen = yield* activities.verifyCommunityVersion(context, { imageVersionId: input.imageVersionId, publicName, location }, retry);
    if (!seen.ok) return yield* fail(run, seen.error, run.status);
    if (!seen.value.visible)
      return yield* fail(run, { code: "NotVisibleInCommunity", message: seen.value.note ?? `not visible in community gallery ${publicName}` }, run.status);
  }
  return shared.value;
}

/** Step 4: record and report. Neither undoes the share when it fails: the failure shows in the status instead. */
function* report(
  run: Run,
  reading: ImageVersionReading,
  shared: ShareChangeResult,
  workloads: FanOutSummary | undefined,
  rollout: RolloutStatus | undefined,
): Generator<df.Task, PublishResult, unknown> {
  const { context, input, retry, status } = run;
  const { galleryId } = reading;
  const outcome: PublishResult = {
    result: "Shared",
    imageVersionId: input.imageVersionId,
    galleryId,
    added: shared.added,
    alreadyShared: shared.alreadyShared,
    shareCalls: shared.shareCalls,
    replicationReads: status.replication.reads,
    replicationDetectedAt: status.replication.completedDetectedAt ?? shared.at,
    sharedAt: shared.at,
    ...(shared.communityPublicName ? { communityPublicName: shared.communityPublicName } : {}),
    ...(workloads ? { workloads } : {}),
    ...(rollout ? { rollout } : {}),
  };
  run.show({ ...status, step: "reporting", targets: targetResults(shared), sharedAt: shared.at });
  const audit = {
    galleryId,
    imageVersionId: input.imageVersionId,
    instanceId: context.df.instanceId,
    added: shared.added,
    alreadyShared: shared.alreadyShared,
    at: shared.at,
  };
  const audited = yield* errorOf(activities.recordShareAudit(context, audit, retry));
  const published = yield* errorOf(activities.sendOutcomeEvent(context, outcomeEvent(context, IMAGE_VERSION_SHARED, input, { ...outcome }), retry));
  const reportError = audited ?? published;
  run.show({ ...run.status, step: "done", ...(reportError ? { error: reportError } : {}) });
  return outcome;
}

/** What the rollout step needs of the run: its ids, retries, and how it shows and reports. */
function rolloutRun(run: Run): PublishRolloutRun {
  const { context, input, retry } = run;
  return {
    context,
    imageVersionId: input.imageVersionId,
    retryInput: input.retry,
    retry,
    ...(input.workloads ? { creationsInFlight: input.workloads.creationsInFlight } : {}),
    runId: run.startedAt.toString(36),
    show: (next) => run.show({ ...run.status, ...next }),
    event: (type, data) => outcomeEvent(context, type, input, data),
  };
}

/** Runs a reporting activity: its failure is returned for the status, never thrown. */
function* errorOf(call: Generator<df.Task, Outcome<unknown>, unknown>): Generator<df.Task, ActivityError | undefined, unknown> {
  const result = yield* call;
  return result.ok ? undefined : result.error;
}

/** Publishes the failure, records it in the status, and ends the orchestration as Failed. */
function* fail(run: Run, error: PublishStatus["error"] & object, last: PublishStatus): Generator<df.Task, never, unknown> {
  const { context, input, retry } = run;
  run.show({ ...last, step: "failed", error });
  const event = outcomeEvent(context, IMAGE_VERSION_SHARE_FAILED, input, { result: "Failed", imageVersionId: input.imageVersionId, error });
  yield* errorOf(activities.sendOutcomeEvent(context, event, retry));
  throw new Error(`${error.code}: ${error.message}`);
}

function outcomeEvent(
  context: OrchestrationContext,
  type: OutcomeEventType,
  input: PublishImageVersionInput,
  data: Readonly<Record<string, unknown>>,
): OutcomeEvent {
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

function describeRegions(regions: readonly RegionProgress[]): string {
  return regions.map((r) => `${r.region} ${r.state} ${r.progress}%`).join(", ") || "no regions reported";
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
