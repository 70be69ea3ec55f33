// shareCoordinator: the one place that changes the direct-sharing groups of the galleries in one
// subscription. Onboardings, offboardings and publishes send it changes (external events); it
// collects what arrives close together, merges the changes for a gallery into at most one Remove
// and one Add call, and paces the calls to Compute's budget for the share API (about 10 per 3
// minutes and 60 per 30 minutes per subscription, src/domain/shareBudget.ts), then tells each
// sender its result. One instance per subscription, because the budget is per subscription: every
// gallery of a subscription therefore has exactly one coordinator.
//
// It continues as new after a bounded number of batches (its history stays small) and ends after a
// day without work; submitShareChange starts it again when a change arrives. A change that is lost
// in a continue-as-new is sent again by its sender (who waits with a timeout), and a repeat of a
// change already answered gets the same answer.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { coordinatorStateProblems, readShareChange } from "../domain/durablePayloads";
import { SHARE_CHANGE_EVENT, SHARE_COORDINATOR } from "../domain/orchestrationNames";
import { SHARE_BUDGET, nextCallAt, pruneCallTimes } from "../domain/shareBudget";
import { sameResourceId } from "../domain/resourceIds";
import { retryPolicyOf } from "../domain/retryPolicy";
import type { ShareChange, ShareChangeResult, ShareCoordinatorState, ShareNotice } from "../domain/shareChanges";
import type { AppliedShareChanges } from "../activities/directSharing";
import { activities, type Outcome } from "./activities";
import { checkedInput } from "./checkedInput";

/** What GET /api/status shows of a coordinator. */
export interface ShareCoordinatorStatus {
  readonly pending: number;
  readonly callsInLast3Minutes: number;
  readonly callsInLast30Minutes: number;
  readonly nextCallAt?: string;
  readonly batches: number;
}

const BATCHES_PER_EXECUTION = 20;
const EVENTS_PER_COLLECT = 500;
const RECENT_ANSWERS = 200;
const IDLE_MS = 24 * 3600_000;
const DEFAULT_COLLECT_SECONDS = 5;

export const shareCoordinator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const state = checkedInput<ShareCoordinatorState>(context, coordinatorStateProblems);
  const retry = retryPolicyOf(state.retry);
  const collectMs = (state.collectSeconds ?? DEFAULT_COLLECT_SECONDS) * 1000;
  const pending: ShareChange[] = [...state.pending];
  let callTimes: number[] = [...state.callTimes];
  let recent: ShareChangeResult[] = [...state.recent];
  const now = (): number => context.df.currentUtcDateTime.getTime();
  const repeats: ShareNotice[] = [];

  /** Takes a change in: a repeat of an answered change is answered again, a repeat of a pending one is dropped. */
  const receive = (value: unknown): void => {
    const change = readShareChange(value);
    if (!change) {
      context.log(`${SHARE_COORDINATOR}: ignored an event that is not a share change`);
      return;
    }
    const answered = recent.find((r) => r.requestId === change.requestId);
    if (answered) repeats.push({ ...change.replyTo, result: answered });
    else if (!pending.some((p) => p.requestId === change.requestId)) pending.push(change);
  };
  const show = (batches: number): void => context.df.setCustomStatus(coordinatorStatus(pending.length, callTimes, now(), batches));

  const batches = state.batchesPerExecution ?? BATCHES_PER_EXECUTION;
  for (let batch = 0; batch < batches; batch++) {
    show(batch);
    if (pending.length === 0) {
      const event = context.df.waitForExternalEvent(SHARE_CHANGE_EVENT);
      const idle = context.df.createTimer(new Date(now() + IDLE_MS));
      const winner: unknown = yield context.df.Task.any([event, idle]);
      if (winner === idle) return { ended: "idle", batches: batch };
      idle.cancel();
      receive(event.result);
    }
    // Keep collecting for a moment, and for as long as the budget makes us wait anyway.
    yield* collectUntil(Math.max(now() + collectMs, nextCallAt(SHARE_BUDGET, callTimes, now())));
    yield* answerRepeats();
    const first = pending[0];
    if (!first) continue;
    const batchChanges = pending.filter((c) => sameResourceId(c.galleryId, first.galleryId));
    for (const c of batchChanges) pending.splice(pending.indexOf(c), 1);

    const applied = yield* activities.applyShareChanges(context, { galleryId: first.galleryId, changes: batchChanges }, retry);
    const at = now();
    const shareCalls = applied.ok ? applied.value.shareCalls : 0;
    for (let i = 0; i < shareCalls; i++) callTimes.push(at);
    callTimes = pruneCallTimes(SHARE_BUDGET, callTimes, at);
    const results = batchResults(batchChanges, applied, shareCalls, new Date(at).toISOString());
    recent = [...recent, ...results].slice(-RECENT_ANSWERS);
    const notices = batchChanges.map((change, i) => ({ ...change.replyTo, result: results[i]! }));
    yield* activities.notifyShareResults(context, { notices }, retry);
  }
  show(batches);
  context.df.continueAsNew({ ...state, pending, callTimes, recent } satisfies ShareCoordinatorState);
  return undefined;

  /** Receives changes until `until`, then returns. */
  function* collectUntil(until: number): Generator<df.Task, void, unknown> {
    for (let n = 0; n < EVENTS_PER_COLLECT && now() < until; n++) {
      const event = context.df.waitForExternalEvent(SHARE_CHANGE_EVENT);
      const timer = context.df.createTimer(new Date(until));
      const winner: unknown = yield context.df.Task.any([event, timer]);
      if (winner === timer) return;
      timer.cancel();
      receive(event.result);
    }
  }

  /** Answers changes that were sent again after their answer. */
  function* answerRepeats(): Generator<df.Task, void, unknown> {
    if (repeats.length === 0) return;
    const notices = repeats.splice(0, repeats.length);
    yield* activities.notifyShareResults(context, { notices }, retry);
  }
};

/** Each change's answer from the batch's outcome: Azure's refusal fails them all; a change the batch did not answer is rejected. */
function batchResults(changes: readonly ShareChange[], applied: Outcome<AppliedShareChanges>, shareCalls: number, at: string): ShareChangeResult[] {
  const none = { subscriptionIds: [], tenantIds: [] };
  return changes.map((change) => {
    if (!applied.ok)
      return { requestId: change.requestId, result: "failed", error: applied.error, added: none, alreadyShared: none, removed: none, shareCalls, at };
    const r = applied.value.results.find((x) => x.requestId === change.requestId);
    const community = applied.value.communityPublicName ? { communityPublicName: applied.value.communityPublicName } : {};
    if (r) return { ...r, ...community, shareCalls, at };
    return {
      requestId: change.requestId,
      result: "rejected",
      reason: "internal: the batch returned no result for this change",
      added: none,
      alreadyShared: none,
      removed: none,
      shareCalls,
      at,
    };
  });
}

function coordinatorStatus(pending: number, callTimes: readonly number[], t: number, batches: number): ShareCoordinatorStatus {
  return {
    pending,
    callsInLast3Minutes: callTimes.filter((c) => c > t - 180_000).length,
    callsInLast30Minutes: callTimes.filter((c) => c > t - 1_800_000).length,
    ...(pending > 0 ? { nextCallAt: new Date(nextCallAt(SHARE_BUDGET, callTimes, t)).toISOString() } : {}),
    batches,
  };
}
