// revokeImageVersion: a version found bad after release. POST /api/versions/{versionId}/revoke has
// recorded the revocation (who, why, when: no publish promotes the version from then on); this
//   1. takes the version out of `latest` everywhere (excludeFromLatest on the version and on every
//      target region), so `latest` falls back to the newest version that is not revoked;
//   2. moves the app's VMs and scale sets that follow new versions and run it back to that version,
//      ring by ring as a rollout;
//   3. publishes GalleryShare.ImageVersionRevoked.
// Consumers' own VMs are never touched: pinned to the version they keep it, on `latest` they get
// the fallback the next time they are deployed.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { ActivityError } from "../domain/activityResult";
import { revokeInputProblems } from "../domain/durablePayloads";
import { IMAGE_VERSION_REVOKED, type OutcomeEvent } from "../domain/outcomeEvents";
import { parseImageVersionId } from "../domain/resourceIds";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import type { RolloutStatus } from "../domain/rollout";
import type { FanOutSummary } from "../domain/workloads";
import { activities } from "./activities";
import { checkedInput } from "./checkedInput";
import { rollOut } from "./rollout";

export interface RevokeImageVersionInput {
  readonly imageVersionId: string;
  readonly reason: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  readonly rollout: { readonly rings: number; readonly soakMinutes: number };
  readonly workloads?: { readonly creationsInFlight: number };
}

export type RevokeStep = "excluding-from-latest" | "finding-fallback" | "moving-back" | "reporting" | "done" | "failed";

export interface RevokeStatus {
  readonly step: RevokeStep;
  readonly imageVersionId: string;
  readonly reason: string;
  readonly requestedBy: string;
  /** The version `latest` falls back to, and the app's workloads move back to. */
  readonly fallbackVersion?: string;
  readonly rollout?: RolloutStatus;
  readonly workloads?: FanOutSummary;
  readonly error?: ActivityError;
}

export interface RevokeResult {
  readonly result: "Revoked";
  readonly imageVersionId: string;
  readonly excludedFromLatest: boolean;
  readonly fallbackVersion?: string;
  readonly rollout?: RolloutStatus;
  readonly workloads?: FanOutSummary;
}

export const revokeImageVersion: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput<RevokeImageVersionInput>(context, revokeInputProblems);
  const retry = retryPolicyOf(input.retry);
  let status: RevokeStatus = { step: "excluding-from-latest", imageVersionId: input.imageVersionId, reason: input.reason, requestedBy: input.requestedBy };
  const show = (next: RevokeStatus): void => {
    status = next;
    context.df.setCustomStatus(status);
  };
  show(status);

  const at = context.df.currentUtcDateTime.toISOString();
  const excluded = yield* activities.setLatestExclusion(context, { imageVersionId: input.imageVersionId, exclude: true, everyRegion: true, at }, retry);
  if (!excluded.ok) return fail(status, show, excluded.error);

  show({ ...status, step: "finding-fallback" });
  const fallback = yield* activities.findFallbackVersion(context, { imageVersionId: input.imageVersionId }, retry);
  if (!fallback.ok) return fail(status, show, fallback.error);
  const fallbackVersion = fallback.value.version;

  const moved = fallbackVersion === undefined ? undefined : yield* moveBack(context, input, retry, fallbackVersion, (next) => show({ ...status, ...next }));
  show({ ...status, step: "reporting", ...(fallbackVersion ? { fallbackVersion } : {}), ...(moved ?? {}) });
  const result: RevokeResult = {
    result: "Revoked",
    imageVersionId: input.imageVersionId,
    excludedFromLatest: true,
    ...(fallbackVersion ? { fallbackVersion } : {}),
    ...(moved ?? {}),
  };
  const event: OutcomeEvent = {
    type: IMAGE_VERSION_REVOKED,
    subject: input.imageVersionId,
    id: `${context.df.instanceId}:${IMAGE_VERSION_REVOKED}`,
    time: context.df.currentUtcDateTime.toISOString(),
    data: { ...result, reason: input.reason, revokedBy: input.requestedBy, revokedAt: input.requestedAt, instanceId: context.df.instanceId },
  };
  const sent = yield* activities.sendOutcomeEvent(context, event, retry);
  show({ ...status, step: "done", ...(sent.ok ? {} : { error: sent.error }) });
  return result;
};

/** The app's workloads on the revoked version, back to the fallback, ring by ring. */
function* moveBack(
  context: OrchestrationContext,
  input: RevokeImageVersionInput,
  retry: RetryPolicy,
  fallbackVersion: string,
  show: (next: Partial<RevokeStatus>) => void,
): Generator<df.Task, { rollout: RolloutStatus; workloads: FanOutSummary } | undefined, unknown> {
  const { image, version } = parseImageVersionId(input.imageVersionId);
  const galleryId = input.imageVersionId.replace(/\/images\/.*$/i, "");
  show({ step: "moving-back", fallbackVersion });
  const listed = yield* activities.listWorkloadsOnVersion(context, { galleryId, image, version }, retry);
  if (!listed.ok || listed.value.workloads.length === 0) return undefined;
  const moved = yield* rollOut(context, {
    version: fallbackVersion,
    workloads: listed.value.workloads,
    settings: { gated: false, rings: input.rollout.rings, soakMinutes: input.rollout.soakMinutes },
    promotion: "not-gated",
    runId: "revoke",
    retry: input.retry,
    policy: retry,
    ...(input.workloads ? { creationsInFlight: input.workloads.creationsInFlight } : {}),
    show: (rollout, workloads) => show({ step: "moving-back", fallbackVersion, rollout, workloads }),
  });
  return { rollout: moved.status, workloads: moved.workloads };
}

/** Shows the failure and ends the orchestration as Failed; the revocation record stands, a new POST tries again. */
function fail(status: RevokeStatus, show: (next: RevokeStatus) => void, error: ActivityError): never {
  show({ ...status, step: "failed", error });
  throw new Error(`${error.code}: ${error.message}`);
}
