// Sends a share change to the coordinator of the gallery's subscription (it goes into the share
// inbox) and waits for its answer (an external event). The coordinator paces share calls to
// Compute's budget, so a long queue means a long wait: when a wait runs out, the sender asks where
// its change stands and waits as long as the changes ahead of it need. It fails only when the
// coordinator is unhealthy (ended, or its status unchanged for STALLED_MS while the change waits),
// never because it is busy. What comes back is an applied change, or why it was not applied as one
// error.
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { ShareChangeStanding } from "../activities/shareInbox";
import { readShareChangeResult } from "../domain/durablePayloads";
import { coordinatorInstanceId } from "../domain/orchestrationNames";
import { parseGalleryId } from "../domain/resourceIds";
import type { RetryPolicy } from "../domain/retryPolicy";
import type { ShareChange, ShareChangeResult } from "../domain/shareChanges";
import { activities, type Outcome } from "./activities";

const FIRST_WAIT_MS = 15 * 60_000;
/** A long queue is waited out in few long waits: each wait replays the sender's history. */
const LONGEST_WAIT_MS = 4 * 3600_000;
/** At 60 calls per 30 minutes, each gallery in the queue up to and with ours needs about this long. */
const MS_PER_GALLERY_AHEAD = 30_000;
/** A coordinator whose status has not changed for this long while a change waits is stuck. */
const STALLED_MS = 2 * 3600_000;
/** Waits before giving up in any case (each 15 minutes to 4 hours). */
const MAX_WAITS = 48;
/** Sends of one change: a change that left the inbox unanswered, or a coordinator that ended, is sent again. */
const MAX_SENDS = 5;
const RUNNING = new Set(["Pending", "Running", "ContinuedAsNew", "Suspended"]);

export function* requestShareChange(
  context: OrchestrationContext,
  change: Omit<ShareChange, "replyTo">,
  eventName: string,
  retry: RetryPolicy,
): Generator<df.Task, Outcome<ShareChangeResult>, unknown> {
  const { subscriptionId } = parseGalleryId(change.galleryId);
  const coordinatorId = coordinatorInstanceId(subscriptionId);
  const full: ShareChange = { ...change, replyTo: { instanceId: context.df.instanceId, eventName } };
  const send = () => activities.submitShareChange(context, { coordinatorId, subscriptionId, change: full }, retry);
  let sent = yield* send();
  if (!sent.ok) return sent;
  let sends = 1;
  let waitMs = FIRST_WAIT_MS;
  // Every wait made: one that lost its race stays open and takes the answer if it comes while no
  // newer wait is open (durable-functions gives an event to an open wait of its name), so each is
  // looked at again.
  const answers: df.Task[] = [];
  for (let round = 1; round <= MAX_WAITS; round++) {
    // An answer that came while the change was sent again: taken by an earlier wait.
    const early = answers.find((a) => a.isCompleted);
    if (early) return applied(readShareChangeResult(early.result, change.requestId), change.requestId);
    const answer = context.df.waitForExternalEvent(eventName);
    answers.push(answer);
    const timeout = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + waitMs));
    const winner: unknown = yield context.df.Task.any([answer, timeout]);
    if (winner === answer) {
      timeout.cancel();
      return applied(readShareChangeResult(answer.result, change.requestId), change.requestId);
    }
    const standing = yield* activities.shareChangeStanding(context, { coordinatorId, subscriptionId, key: sent.value.key }, retry);
    const late = answers.find((a) => a.isCompleted);
    if (late) return applied(readShareChangeResult(late.result, change.requestId), change.requestId);
    if (!standing.ok) return standing;
    const verdict = judge(standing.value, context.df.currentUtcDateTime.getTime());
    if (verdict === "stalled") return stalled(subscriptionId, change.requestId, standing.value);
    if (verdict === "send-again") {
      if (sends >= MAX_SENDS) return stalled(subscriptionId, change.requestId, standing.value);
      sent = yield* send();
      if (!sent.ok) return sent;
      sends += 1;
      waitMs = FIRST_WAIT_MS;
      continue;
    }
    waitMs = Math.min(LONGEST_WAIT_MS, Math.max(FIRST_WAIT_MS, standing.value.galleriesAhead * MS_PER_GALLERY_AHEAD + 60_000));
  }
  return {
    ok: false,
    error: {
      code: "ShareCoordinatorTimeout",
      message: `the share coordinator of subscription ${subscriptionId} did not answer change ${change.requestId} in ${MAX_WAITS} waits`,
    },
  };
}

/**
 * Keep waiting while the change is queued and the coordinator works; send again when the change left
 * the inbox unanswered (the coordinator answers a repeat from its recent answers), or the
 * coordinator is not running or idle (sending starts or wakes it); stalled when it works but has not
 * moved for STALLED_MS.
 */
function judge(s: ShareChangeStanding, now: number): "wait" | "send-again" | "stalled" {
  // An idle coordinator with the change still queued missed it: sending again wakes it.
  if (!s.queued || s.coordinator === undefined || !RUNNING.has(s.coordinator) || s.coordinatorIdle === true) return "send-again";
  const updated = s.coordinatorUpdatedAt ? Date.parse(s.coordinatorUpdatedAt) : Number.NaN;
  if (Number.isFinite(updated) && now - updated > STALLED_MS) return "stalled";
  return "wait";
}

function stalled(subscriptionId: string, requestId: string, s: ShareChangeStanding): Outcome<ShareChangeResult> {
  return {
    ok: false,
    error: {
      code: "ShareCoordinatorUnhealthy",
      message: `the share coordinator of subscription ${subscriptionId} is ${s.coordinator ?? "not running"} (last change ${s.coordinatorUpdatedAt ?? "never"}) with change ${requestId} ${s.queued ? `queued behind ${s.ahead}` : "not queued"}`,
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
