// The rollout step of a publish: the app's VMs and scale sets that follow new versions move to the
// version ring by ring (rollout.ts); a stopped rollout is reported; a gated version that went
// through every ring is promoted to `latest`, unless it was revoked meanwhile; a gated image's
// version that arrived already in `latest` is reported as bypassing the gate.
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { ActivityError } from "../domain/activityResult";
import { PUBLISH_IMAGE_VERSION } from "../domain/orchestrationNames";
import { IMAGE_VERSION_PROMOTED, LATEST_GATE_BYPASSED, ROLLOUT_STOPPED, type OutcomeEvent, type OutcomeEventType } from "../domain/outcomeEvents";
import { parseImageVersionId } from "../domain/resourceIds";
import type { RetryPolicy } from "../domain/retryPolicy";
import type { PromotionState, RolloutSettings, RolloutStatus } from "../domain/rollout";
import type { FanOutSummary } from "../domain/workloads";
import { activities, type Outcome } from "./activities";
import { rollOut } from "./rollout";

/** What the rollout step needs of the publish run. */
export interface PublishRolloutRun {
  readonly context: OrchestrationContext;
  readonly imageVersionId: string;
  readonly retryInput: { readonly attempts: number; readonly firstSeconds: number };
  readonly retry: RetryPolicy;
  readonly creationsInFlight?: number;
  /** Names this run's provisioning instances. */
  readonly runId: string;
  readonly show: (next: { step?: "promoting"; rollout?: RolloutStatus; workloads?: FanOutSummary }) => void;
  readonly event: (type: OutcomeEventType, data: Readonly<Record<string, unknown>>) => OutcomeEvent;
}

/**
 * Step 3: the VMs and scale sets of active tenants that follow new versions of the image, ring by
 * ring (src/orchestrations/rollout.ts). Nothing when there are none and `latest` waits for nothing.
 */
export function* rollOutPublish(
  run: PublishRolloutRun,
  galleryId: string,
  settings: RolloutSettings,
  promotion: PromotionState,
): Generator<df.Task, { status: RolloutStatus; workloads: FanOutSummary } | undefined, unknown> {
  const { context, retry } = run;
  const { image, version } = parseImageVersionId(run.imageVersionId);
  if (promotion === "bypassed") yield* errorOf(activities.sendOutcomeEvent(context, run.event(LATEST_GATE_BYPASSED, bypassData(run)), retry));
  const listed = yield* activities.listWorkloadsToUpdate(context, { galleryId, image, version }, retry);
  if (!listed.ok) {
    context.log(`${PUBLISH_IMAGE_VERSION}: consumer VMs and scale sets not listed: ${listed.error.code}: ${listed.error.message}`);
    const failure = { tenantId: "", kind: "vm" as const, code: listed.error.code, message: listed.error.message.slice(0, 300) };
    const workloads = { total: 0, succeeded: 0, failed: 0, running: 0, maxInFlight: 0, failures: [failure], moreFailures: 0 };
    const status: RolloutStatus = {
      state: "stopped",
      gated: settings.gated,
      ring: 0,
      rings: [],
      promotion: promotion === "pending" ? { state: "withheld", reason: "the VMs and scale sets to move could not be listed" } : { state: promotion },
    };
    return { status, workloads };
  }
  if (listed.value.workloads.length === 0 && promotion !== "pending") return undefined;
  const moved = yield* rollOut(context, {
    version,
    workloads: listed.value.workloads,
    settings,
    promotion,
    runId: run.runId,
    retry: run.retryInput,
    policy: retry,
    ...(run.creationsInFlight === undefined ? {} : { creationsInFlight: run.creationsInFlight }),
    stopReason: () => revokedReason(run),
    show: (rollout, workloads) => run.show({ rollout, workloads }),
  });
  let status = moved.status;
  if (status.state === "stopped" && status.stoppedBy) {
    const data = { imageVersionId: run.imageVersionId, stoppedBy: status.stoppedBy, rings: status.rings, promotion: status.promotion };
    yield* errorOf(activities.sendOutcomeEvent(context, run.event(ROLLOUT_STOPPED, data), retry));
  }
  if (status.state === "promoting") status = yield* promote(run, status);
  return { status, workloads: moved.workloads };
}

function bypassData(run: PublishRolloutRun): Readonly<Record<string, unknown>> {
  return {
    imageVersionId: run.imageVersionId,
    reason: "the image's latest is gated (GATED_IMAGES) but this version was published without excludeFromLatest: it was latest at once",
  };
}

/** Why the version must not move on: its revocation's reason, or undefined. */
function* revokedReason(run: PublishRolloutRun): Generator<df.Task, string | undefined, unknown> {
  const read = yield* activities.readImageVersionRecord(run.context, { imageVersionId: run.imageVersionId }, run.retry);
  const revoked = read.ok ? read.value.record?.revoked : undefined;
  return revoked ? `revoked by ${revoked.by} at ${revoked.at}: ${revoked.reason}` : undefined;
}

/** Every ring succeeded and soaked: the gated version becomes `latest`, unless it was revoked meanwhile. */
function* promote(run: PublishRolloutRun, rollout: RolloutStatus): Generator<df.Task, RolloutStatus, unknown> {
  const { context, retry, imageVersionId } = run;
  run.show({ step: "promoting", rollout });
  const reason = yield* revokedReason(run);
  const at = context.df.currentUtcDateTime.toISOString();
  let done: RolloutStatus;
  if (reason !== undefined) {
    done = { ...rollout, state: "done", promotion: { state: "revoked", reason } };
  } else {
    const set = yield* activities.setLatestExclusion(context, { imageVersionId, exclude: false, everyRegion: false, at }, retry);
    if (set.ok) {
      yield* errorOf(activities.recordPromotion(context, { imageVersionId, at, by: context.df.instanceId }, retry));
      done = { ...rollout, state: "done", promotion: { state: "promoted", at } };
      const data = { imageVersionId, promotedAt: at, rings: rollout.rings };
      yield* errorOf(activities.sendOutcomeEvent(context, run.event(IMAGE_VERSION_PROMOTED, data), retry));
    } else {
      done = { ...rollout, state: "stopped", promotion: { state: "withheld", reason: `promotion failed: ${set.error.code}: ${set.error.message}` } };
    }
  }
  run.show({ rollout: done });
  return done;
}

/** Runs a reporting activity: its failure is returned, never thrown. */
function* errorOf(call: Generator<df.Task, Outcome<unknown>, unknown>): Generator<df.Task, ActivityError | undefined, unknown> {
  const result = yield* call;
  return result.ok ? undefined : result.error;
}
