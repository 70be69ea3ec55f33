// shareCoordinator: the one place that changes the direct-sharing groups of the galleries in one
// subscription. Onboardings, offboardings and publishes put changes in the subscription's share
// inbox (src/azure/shareInbox.ts) and wake the coordinator; it reads the inbox, merges the changes
// for a gallery into at most one Remove and one Add call, paces the calls to Compute's budget for
// the share API (about 10 per 3 minutes and 60 per 30 minutes per subscription,
// src/domain/shareBudget.ts), tells each sender its result and only then removes the changes from
// the inbox. One instance per subscription, because the budget is per subscription.
//
// Nothing rides on external events but the wake-up: a change is in the inbox before anyone wakes
// the coordinator, so a wake-up lost (raised as the coordinator continued as new, or taken by a
// wait that lost a race; durable-functions hands an event to any open wait of its name) loses no
// change. The coordinator waits for a wake-up only when idle, says so in its status first, and reads
// the inbox once more after saying so, so a sender that saw it busy (and did not wake it) is read.
//
// It continues as new when its history nears HISTORY_BUDGET events (estimated from what it
// scheduled), carrying only call times and recent answers, and ends after a day without work.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { coordinatorStateProblems } from "../domain/durablePayloads";
import { SHARE_CHANGE_EVENT } from "../domain/orchestrationNames";
import { SHARE_BUDGET, nextCallsAt, pruneCallTimes } from "../domain/shareBudget";
import { sameResourceId } from "../domain/resourceIds";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import type { QueuedShareChange, ShareChange, ShareChangeResult, ShareCoordinatorState, ShareCoordinatorStatus, ShareNotice } from "../domain/shareChanges";
import type { AppliedShareChanges } from "../activities/directSharing";
import { activities, type Outcome } from "./activities";
import { checkedInput } from "./checkedInput";
import { HistoryMeter } from "./historyMeter";

/** History events one execution may reach before it continues as new (the estimate stays under it). */
export const HISTORY_BUDGET = 400;
/** Changes read from the inbox at a time. */
const INBOX_PAGE = 200;
const RECENT_ANSWERS = 200;
const IDLE_MS = 24 * 3600_000;
const DEFAULT_COLLECT_SECONDS = 5;
const UNREADABLE_INBOX_WAIT_MS = 60_000;

/** One execution of the coordinator: what it carries and what it has done so far. */
interface Run {
  readonly context: OrchestrationContext;
  readonly state: ShareCoordinatorState;
  readonly retry: RetryPolicy;
  readonly meter: HistoryMeter;
  callTimes: number[];
  recent: ShareChangeResult[];
  batches: number;
  /** Changes in the inbox at the last read. */
  queued: number;
}

export const shareCoordinator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const state = checkedInput<ShareCoordinatorState>(context, coordinatorStateProblems);
  const run: Run = {
    context,
    state,
    retry: retryPolicyOf(state.retry),
    meter: new HistoryMeter(),
    callTimes: [...state.callTimes],
    recent: [...state.recent],
    batches: 0,
    queued: 0,
  };
  const { subscriptionId } = state;
  const collectMs = (state.collectSeconds ?? DEFAULT_COLLECT_SECONDS) * 1000;
  const budget = Math.min(state.historyBudget ?? HISTORY_BUDGET, HISTORY_BUDGET);
  // The real engine may run the episode a timer ended a little before the timer's time: what the
  // coordinator waited for counts as reached, or it would wait again for the rest.
  let reached = 0;
  const now = (): number => Math.max(context.df.currentUtcDateTime.getTime(), reached);
  const waitUntil = function* (at: number): Generator<df.Task, void, unknown> {
    yield* run.meter.run(timer(context, at));
    reached = at;
  };

  // Changes an earlier version of the coordinator carried in its input go to the inbox first.
  if (state.pending && state.pending.length > 0)
    yield* run.meter.run(activities.enqueueShareChanges(context, { subscriptionId, changes: state.pending }, run.retry));

  let quiet = false;
  // Carried over a continue-as-new, so changes already collected are not collected again.
  let firstSeenAt: number | undefined = state.collectingSince;
  while (run.meter.events < budget) {
    show(run, quiet);
    const read = yield* run.meter.run(activities.peekShareChanges(context, { subscriptionId, max: INBOX_PAGE }, run.retry));
    if (!read.ok) {
      // The inbox could not be read (storage out after the retries): not empty, so not idle. Try again later.
      if (!context.df.isReplaying) context.log(`shareCoordinator: the share inbox could not be read: ${read.error.code}: ${read.error.message}`);
      yield* waitUntil(now() + UNREADABLE_INBOX_WAIT_MS);
      continue;
    }
    const inbox = read.value.changes;
    run.queued = inbox.length;
    show(run, quiet);
    if (inbox.length === 0) {
      firstSeenAt = undefined;
      // Idle only after a read made while the status said so (see the header).
      if (!quiet) {
        quiet = true;
        continue;
      }
      if (!(yield* waitForWakeUp(run))) return { ended: "idle", batches: run.batches };
      quiet = false;
      continue;
    }
    quiet = false;
    // After a quiet spell, let what arrives close together join the batch.
    firstSeenAt ??= now();
    if (now() < firstSeenAt + collectMs) {
      yield* waitUntil(firstSeenAt + collectMs);
      continue;
    }
    const batch = nextBatch(inbox);
    // Pacing holds for any backlog: the batch's calls wait for room in every window of the budget.
    const callAt = nextCallsAt(SHARE_BUDGET, run.callTimes, now(), callsNeeded(batch));
    if (now() < callAt) {
      yield* waitUntil(callAt);
      continue;
    }
    // The rest of the inbox has waited already: the next batch goes as soon as the budget allows.
    yield* runBatch(run, batch);
  }
  show(run, false);
  context.df.continueAsNew(carried(run, firstSeenAt));
  return undefined;
};

/** What the next execution starts from: call times, recent answers, settings, the collect start. */
function carried(run: Run, firstSeenAt: number | undefined): ShareCoordinatorState {
  const { state } = run;
  return {
    subscriptionId: state.subscriptionId,
    callTimes: run.callTimes,
    recent: run.recent,
    retry: state.retry,
    ...optionalSettings(state),
    ...(firstSeenAt === undefined ? {} : { collectingSince: firstSeenAt }),
  };
}

function show(run: Run, idle: boolean): void {
  const t = run.context.df.currentUtcDateTime.getTime();
  const status: ShareCoordinatorStatus = {
    idle,
    queued: run.queued,
    ...pacing(run.callTimes, t, run.queued),
    batches: run.batches,
    historyEvents: run.meter.events,
  };
  run.context.df.setCustomStatus(status);
}

/** Waits for a wake-up or the idle timeout; true when woken. */
function* waitForWakeUp(run: Run): Generator<df.Task, boolean, unknown> {
  const { context } = run;
  const wake = context.df.waitForExternalEvent(SHARE_CHANGE_EVENT);
  const idle = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + IDLE_MS));
  const winner: unknown = yield* run.meter.run(any(context, [wake, idle]));
  if (winner === idle) return false;
  idle.cancel();
  return true;
}

/** Applies one gallery's changes, tells their senders, then takes them out of the inbox. */
function* runBatch(run: Run, batch: readonly QueuedShareChange[]): Generator<df.Task, void, unknown> {
  const { context, retry, meter } = run;
  const { fresh, repeats } = splitRepeats(batch, run.recent);
  const notices: ShareNotice[] = repeats.map(({ change, answer }) => ({ ...change.replyTo, result: answer }));
  if (fresh.length > 0) {
    const galleryId = fresh[0]!.galleryId;
    const asked = context.df.currentUtcDateTime.toISOString();
    const applied = yield* meter.run(activities.applyShareChanges(context, { galleryId, changes: fresh, at: asked }, retry));
    const at = context.df.currentUtcDateTime.getTime();
    const shareCalls = applied.ok ? applied.value.shareCalls : 0;
    for (let i = 0; i < shareCalls; i++) run.callTimes.push(at);
    run.callTimes = pruneCallTimes(SHARE_BUDGET, run.callTimes, at);
    const results = batchResults(fresh, applied, shareCalls, new Date(at).toISOString());
    run.recent = [...run.recent, ...results].slice(-RECENT_ANSWERS);
    notices.push(...fresh.map((change, i) => ({ ...change.replyTo, result: results[i]! })));
  }
  run.batches += 1;
  yield* meter.run(activities.notifyShareResults(context, { notices }, retry));
  yield* meter.run(activities.removeShareChanges(context, { subscriptionId: run.state.subscriptionId, keys: batch.map((q) => q.key) }, retry));
}

function* timer(context: OrchestrationContext, at: number): Generator<df.Task, void, unknown> {
  yield context.df.createTimer(new Date(at));
}

function* any(context: OrchestrationContext, tasks: df.Task[]): Generator<df.Task, unknown, unknown> {
  return yield context.df.Task.any(tasks);
}

/** The oldest change's gallery, and every change for it in the page read. */
function nextBatch(inbox: readonly QueuedShareChange[]): QueuedShareChange[] {
  const galleryId = inbox[0]!.change.galleryId;
  return inbox.filter((q) => sameResourceId(q.change.galleryId, galleryId));
}

/** Calls a batch may make: one Add and one Remove at most. */
function callsNeeded(batch: readonly QueuedShareChange[]): number {
  const adds = batch.some(({ change: c }) => c.ensureRegistered || (c.add?.subscriptionIds?.length ?? 0) + (c.add?.tenantIds?.length ?? 0) > 0);
  const removes = batch.some(({ change: c }) => (c.remove?.subscriptionIds?.length ?? 0) + (c.remove?.tenantIds?.length ?? 0) > 0);
  return Math.max(1, Number(adds) + Number(removes));
}

/** Changes seen for the first time (once each), and repeats of changes already answered. */
function splitRepeats(
  batch: readonly QueuedShareChange[],
  recent: readonly ShareChangeResult[],
): { fresh: ShareChange[]; repeats: { change: ShareChange; answer: ShareChangeResult }[] } {
  const fresh: ShareChange[] = [];
  const repeats: { change: ShareChange; answer: ShareChangeResult }[] = [];
  for (const { change } of batch) {
    const answer = recent.find((r) => r.requestId === change.requestId);
    if (answer) repeats.push({ change, answer });
    else if (!fresh.some((c) => c.requestId === change.requestId)) fresh.push(change);
  }
  return { fresh, repeats };
}

function optionalSettings(state: ShareCoordinatorState): Partial<ShareCoordinatorState> {
  return {
    ...(state.collectSeconds === undefined ? {} : { collectSeconds: state.collectSeconds }),
    ...(state.historyBudget === undefined ? {} : { historyBudget: state.historyBudget }),
  };
}

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

function pacing(callTimes: readonly number[], t: number, queued: number) {
  return {
    callsInLast3Minutes: callTimes.filter((c) => c > t - 180_000).length,
    callsInLast30Minutes: callTimes.filter((c) => c > t - 1_800_000).length,
    ...(queued > 0 ? { nextCallAt: new Date(nextCallsAt(SHARE_BUDGET, callTimes, t, 1)).toISOString() } : {}),
  };
}
