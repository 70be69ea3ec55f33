// Sends a share change to the coordinator of the gallery's subscription and waits for its answer
// (an external event). The coordinator may be busy for a while (it paces share calls to Compute's
// budget), so the wait is long; a change that was lost (a coordinator that continued as new just
// then) is sent again, and the coordinator answers a repeat with its first answer. What comes back
// is an applied change, or why it was not applied as one error.
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { readShareChangeResult } from "../domain/durablePayloads";
import { coordinatorInstanceId } from "../domain/orchestrationNames";
import { parseGalleryId } from "../domain/resourceIds";
import type { RetryPolicy } from "../domain/retryPolicy";
import type { ShareChange, ShareChangeResult } from "../domain/shareChanges";
import { activities, type Outcome } from "./activities";

/** Long enough for the coordinator to work through a full 30-minute budget window ahead of us. */
const ANSWER_WAIT_MS = 45 * 60_000;
const SENDS = 3;

export function* requestShareChange(
  context: OrchestrationContext,
  change: Omit<ShareChange, "replyTo">,
  eventName: string,
  retry: RetryPolicy,
): Generator<df.Task, Outcome<ShareChangeResult>, unknown> {
  const { subscriptionId } = parseGalleryId(change.galleryId);
  const full: ShareChange = { ...change, replyTo: { instanceId: context.df.instanceId, eventName } };
  for (let send = 1; send <= SENDS; send++) {
    const sent = yield* activities.submitShareChange(context, { coordinatorId: coordinatorInstanceId(subscriptionId), subscriptionId, change: full }, retry);
    if (!sent.ok) return sent;
    const answer = context.df.waitForExternalEvent(eventName);
    const timeout = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + ANSWER_WAIT_MS));
    const winner: unknown = yield context.df.Task.any([answer, timeout]);
    if (winner === answer) {
      timeout.cancel();
      return applied(readShareChangeResult(answer.result, change.requestId), change.requestId);
    }
  }
  return {
    ok: false,
    error: {
      code: "ShareCoordinatorTimeout",
      message: `the share coordinator of subscription ${subscriptionId} did not answer change ${change.requestId} within ${SENDS} x ${ANSWER_WAIT_MS / 60_000} minutes`,
    },
  };
}

/** An applied answer, or the answer as one error: not a result, failed in Azure (ARM's error), or rejected by a rule (its name as the code, e.g. tenant-limit). */
function applied(result: ShareChangeResult | undefined, requestId: string): Outcome<ShareChangeResult> {
  if (!result)
    return { ok: false, error: { code: "InvalidShareAnswer", message: `the share coordinator's answer to change ${requestId} is not a share change result` } };
  if (result.result === "failed")
    return { ok: false, error: result.error ?? { code: "ShareFailed", message: "the share coordinator could not apply the change" } };
  if (result.result === "rejected")
    return { ok: false, error: { code: rejectionCode(result.reason), message: result.reason ?? "the share change was rejected" } };
  return { ok: true, value: result };
}

/** The rule a rejection names first ("tenant-limit: ..."), for error codes. */
function rejectionCode(reason: string | undefined): string {
  return /^([a-z][a-z-]*):/.exec(reason ?? "")?.[1] ?? "ShareRejected";
}
