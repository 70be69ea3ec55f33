// shareCoordinator on the local host with stub activities: no emulator, no Azurite. Changes wait in
// an in-memory share inbox (the stub peek / remove activities) and a wake-up event is raised with
// the host's durable client; applyShareChanges is a stub that logs each batch with the (virtual)
// clock time it ran at, notifyShareResults a stub that captures the notices. This covers merging
// per gallery, repeats, a failed batch, pacing to Compute's share budget for any burst, changes that
// arrive while the coordinator is busy (never lost), continue-as-new by history size and the idle end.
import "../../local/host";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { AppliedShareChanges, ApplyShareChangesInput } from "../../src/activities/directSharing";
import type { ActivityResult } from "../../src/domain/activityResult";
import { SHARE_CHANGE_EVENT, SHARE_COORDINATOR } from "../../src/domain/orchestrationNames";
import type { QueuedShareChange, ShareChange, ShareCoordinatorState, ShareCoordinatorStatus, ShareNotice } from "../../src/domain/shareChanges";
import { HISTORY_BUDGET, shareCoordinator } from "../../src/orchestrations/shareCoordinator";
import { registerStubActivities } from "../support/stubActivities";

const SUBSCRIPTION = "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10";
const gallery = (n: number) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/g${n}`;
const tenant = (n: number) => `72f988bf-86f1-41af-91ab-${String(n).padStart(12, "0")}`;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 3600_000;
/** More changes than two 30-minute windows allow, each for its own gallery (one call each). */
const BURST = 150;
const none = { subscriptionIds: [], tenantIds: [] };

/** A change adding one tenant, answered to `sender-<requestId>`. */
const change = (requestId: string, galleryId: string, tenantId: string, eventName = "ShareResult.0"): ShareChange => ({
  requestId,
  galleryId,
  add: { tenantIds: [tenantId] },
  replyTo: { instanceId: `sender-${requestId}`, eventName },
});

/** applyShareChanges applying every change of the batch with `shareCalls` calls. */
const applyAll =
  (shareCalls: number) =>
  (input: ApplyShareChangesInput): ActivityResult<AppliedShareChanges> => ({
    ok: true,
    value: {
      shareCalls,
      results: input.changes.map((c) => ({
        requestId: c.requestId,
        result: "applied",
        added: { subscriptionIds: [...(c.add?.subscriptionIds ?? [])], tenantIds: [...(c.add?.tenantIds ?? [])] },
        alreadyShared: none,
        removed: none,
      })),
    },
  });

let answer: (input: ApplyShareChangesInput, n: number) => ActivityResult<AppliedShareChanges> = applyAll(1);
let batches: { at: number; galleryId: string; requestIds: string[] }[] = [];
let notices: { at: number; notice: ShareNotice }[] = [];
/** The share inbox, oldest first. */
let inbox: QueuedShareChange[] = [];
let nextKey = 0;
/** Runs while a batch is being applied (to send changes at that moment). */
let duringApply: () => void = () => undefined;

df.app.orchestration(SHARE_COORDINATOR, shareCoordinator);
registerStubActivities({
  applyShareChanges: (input) => {
    const n = batches.length;
    batches.push({ at: clock.now(), galleryId: input.galleryId, requestIds: input.changes.map((c) => c.requestId) });
    duringApply();
    return answer(input, n);
  },
  notifyShareResults: (input) => {
    for (const notice of input.notices) notices.push({ at: clock.now(), notice });
    return { ok: true, value: { delivered: input.notices.length, gone: 0 } };
  },
  peekShareChanges: (input) => ({ ok: true, value: { changes: inbox.slice(0, input.max), unreadable: [] } }),
  removeShareChanges: (input) => {
    const before = inbox.length;
    inbox = inbox.filter((q) => !input.keys.includes(q.key));
    return { ok: true, value: { removed: before - inbox.length } };
  },
  enqueueShareChanges: (input) => {
    for (const c of input.changes) put(c);
    return { ok: true, value: { queued: input.changes.length } };
  },
});

function put(c: ShareChange): void {
  inbox.push({ key: String(++nextKey).padStart(8, "0"), change: c });
}

let host: LocalHost;
let clock: VirtualClock;
beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  host = await startLocalHost({ load: async () => undefined, settings: { TASK_HUB_NAME: "ShareCoordinatorStubHub" }, clock });
});
afterAll(async () => {
  await host?.close();
});

/** Starts a coordinator and lets it reach its first wait; returns the clock time then. */
async function start(id: string, state: Partial<ShareCoordinatorState> = {}): Promise<number> {
  batches = [];
  notices = [];
  inbox = [];
  duringApply = () => undefined;
  answer = applyAll(1);
  const input: ShareCoordinatorState = { subscriptionId: SUBSCRIPTION, callTimes: [], recent: [], retry: { attempts: 3, firstSeconds: 5 }, ...state };
  await host.durable.startNew(SHARE_COORDINATOR, { instanceId: id, input });
  await host.durable.runUntilIdle();
  return clock.now();
}

/** Puts changes in the inbox and wakes the coordinator, as submitShareChange does. */
async function send(id: string, ...changes: ShareChange[]): Promise<void> {
  for (const c of changes) put(c);
  await host.durable.raiseEvent(id, SHARE_CHANGE_EVENT, { wake: true });
}

/** Runs the host, moving the virtual clock from durable timer to durable timer, until `done`. */
async function advanceUntil(done: () => boolean): Promise<void> {
  const from = clock.now();
  for (;;) {
    await host.durable.runUntilIdle();
    if (done()) return;
    const next = host.durable.nextTimerAt();
    if (next === undefined || next - from > 2 * DAY)
      throw new Error(`advanceUntil: nothing more will happen (next timer ${next === undefined ? "none" : new Date(next).toISOString()})`);
    clock.setTime(next);
  }
}

/** Runs the coordinator to its idle end. */
async function untilIdle(id: string) {
  const status = await host.durable.waitFor(id, undefined, { maxSimulatedMs: 3 * DAY });
  expect(status.runtimeStatus).toBe("Completed");
  return status;
}

const offsets = (t0: number) => batches.map((b) => b.at - t0);
const noticeOf = (requestId: string): ShareNotice => {
  const found = notices.filter((n) => n.notice.result.requestId === requestId);
  expect(found).toHaveLength(1);
  return found[0]!.notice;
};

/** The most calls any window of `ms` holds, over the batch times (one call each). */
function mostInWindow(times: readonly number[], ms: number): number {
  let most = 0;
  for (const end of times) most = Math.max(most, times.filter((t) => t > end - ms && t <= end).length);
  return most;
}

describe("shareCoordinator with stub activities", () => {
  it("merges what arrives together per gallery into one applyShareChanges call, and tells each sender its result", async () => {
    const t0 = await start("sc-merge");
    const a = change("req-a", gallery(1), tenant(1));
    const b = change("req-b", gallery(2), tenant(2));
    const c = change("req-c", gallery(1).toUpperCase(), tenant(3)); // the same gallery, another casing
    await send("sc-merge", a, b, c, a); // a twice in the inbox: applied once
    const status = await untilIdle("sc-merge");

    // Collected for 5 s; g1 first (a and c in one call), then g2 at once: it has waited already.
    expect(batches).toEqual([
      { at: t0 + 5 * SECOND, galleryId: gallery(1), requestIds: ["req-a", "req-c"] },
      { at: t0 + 5 * SECOND, galleryId: gallery(2), requestIds: ["req-b"] },
    ]);
    expect(notices.map((n) => [n.notice.instanceId, n.notice.eventName, n.at - t0])).toEqual([
      ["sender-req-a", "ShareResult.0", 5 * SECOND],
      ["sender-req-c", "ShareResult.0", 5 * SECOND],
      ["sender-req-b", "ShareResult.0", 5 * SECOND],
    ]);
    expect(noticeOf("req-c").result).toEqual({
      requestId: "req-c",
      result: "applied",
      added: { subscriptionIds: [], tenantIds: [tenant(3)] },
      alreadyShared: none,
      removed: none,
      shareCalls: 1,
      at: new Date(t0 + 5 * SECOND).toISOString(),
    });
    expect(noticeOf("req-b").result.at).toBe(new Date(t0 + 5 * SECOND).toISOString());
    // Every change left the inbox once answered.
    expect(inbox).toEqual([]);

    // Ended after a day without work, counting the two batches and the two share calls.
    expect(status.output).toEqual({ ended: "idle", batches: 2 });
    expect(clock.now()).toBe(t0 + 5 * SECOND + DAY);
    expect(status.customStatus).toMatchObject({
      idle: true,
      queued: 0,
      callsInLast3Minutes: 2,
      callsInLast30Minutes: 2,
      batches: 2,
    } satisfies Partial<ShareCoordinatorStatus>);
  });

  it("keeps collecting for collectSeconds: a change for the gallery arriving meanwhile joins the batch", async () => {
    const t0 = await start("sc-collect", { collectSeconds: 60 });
    await send("sc-collect", change("req-early", gallery(1), tenant(1)));
    await host.durable.runUntilIdle();
    clock.advance(30 * SECOND); // before the collect timer
    await send("sc-collect", change("req-late", gallery(1), tenant(2)));
    await advanceUntil(() => notices.length === 2);
    expect(batches).toEqual([{ at: t0 + 60 * SECOND, galleryId: gallery(1), requestIds: ["req-early", "req-late"] }]);
    await untilIdle("sc-collect");
  });

  it("answers a change sent again with its first answer, without applying it again", async () => {
    const t0 = await start("sc-repeat");
    await send("sc-repeat", change("req-r", gallery(1), tenant(1)));
    await advanceUntil(() => notices.length === 1);
    const first = notices[0]!.notice;
    const resent = clock.now();
    // The sender lost the answer (say, it timed out) and sends the same change again, to another event.
    await send("sc-repeat", change("req-r", gallery(1), tenant(1), "ShareResult.again"));
    await advanceUntil(() => notices.length === 2);
    expect(batches).toHaveLength(1);
    expect(notices[1]!.notice).toEqual({ instanceId: "sender-req-r", eventName: "ShareResult.again", result: first.result });
    // Answered after the collect window, at once: no share call, no budget wait.
    expect(notices[1]!.at - resent).toBe(5 * SECOND);
    expect(first.result.at).toBe(new Date(t0 + 5 * SECOND).toISOString());
    const status = await untilIdle("sc-repeat");
    expect(status.output).toEqual({ ended: "idle", batches: 2 });
    expect(batches).toHaveLength(1);
  });

  it("never loses a change that arrives while it applies a batch, whether or not a wake-up reaches it", async () => {
    const t0 = await start("sc-busy");
    // While the first batch is applied: one change with a wake-up (taken by nobody: no wait is open
    // then), one put in the inbox with none (its sender saw the coordinator busy).
    duringApply = () => {
      if (batches.length !== 1) return;
      put(change("req-quiet", gallery(3), tenant(3)));
      void host.durable.raiseEvent("sc-busy", SHARE_CHANGE_EVENT, { wake: true });
      put(change("req-woken", gallery(2), tenant(2)));
    };
    await send("sc-busy", change("req-first", gallery(1), tenant(1)));
    await untilIdle("sc-busy");
    expect(batches.map((b) => [b.requestIds, b.at - t0])).toEqual([
      [["req-first"], 5 * SECOND],
      [["req-quiet"], 5 * SECOND],
      [["req-woken"], 5 * SECOND],
    ]);
    expect(notices.map((n) => n.notice.result.requestId)).toEqual(["req-first", "req-quiet", "req-woken"]);
  });

  it("answers every change of a failed batch 'failed' with the error, and counts no share call", async () => {
    const t0 = await start("sc-failed");
    const error = { code: "OperationNotAllowed", status: 409, message: "the gallery is being updated" };
    answer = () => ({ ok: false, error });
    await send("sc-failed", change("req-f1", gallery(1), tenant(1)), change("req-f2", gallery(1), tenant(2)));
    const status = await untilIdle("sc-failed");
    expect(batches).toHaveLength(1);
    for (const requestId of ["req-f1", "req-f2"]) {
      expect(noticeOf(requestId).result).toEqual({
        requestId,
        result: "failed",
        error,
        added: none,
        alreadyShared: none,
        removed: none,
        shareCalls: 0,
        at: new Date(t0 + 5 * SECOND).toISOString(),
      });
    }
    expect(status.customStatus).toMatchObject({ callsInLast3Minutes: 0, callsInLast30Minutes: 0 });
  });

  it("retries a throttled batch after its Retry-After on a durable timer, then answers", async () => {
    const t0 = await start("sc-throttled");
    answer = (input, n) =>
      n === 0 ? { ok: false, error: { code: "TooManyRequests", status: 429, message: "throttled" }, retry: { afterSeconds: 60 } } : applyAll(1)(input);
    await send("sc-throttled", change("req-t", gallery(1), tenant(1)));
    await untilIdle("sc-throttled");
    // Retry-After 60 s, spread over up to as much again (throttled callers must not come back together).
    const [first, second] = offsets(t0);
    expect(first).toBe(5 * SECOND);
    expect(second! - first!).toBeGreaterThanOrEqual(60 * SECOND);
    expect(second! - first!).toBeLessThan(120 * SECOND);
    expect(noticeOf("req-t").result).toMatchObject({ result: "applied", shareCalls: 1, at: new Date(t0 + second!).toISOString() });
  });

  it("paces share calls to Compute's budget: the 11th call in 3 minutes waits on the clock", async () => {
    const t0 = await start("sc-pacing");
    await send("sc-pacing", ...Array.from({ length: 12 }, (_, i) => change(`req-p${i + 1}`, gallery(i + 1), tenant(i + 1))));
    await advanceUntil(() => batches.length === 10);
    // One gallery per batch after 5 s of collecting: ten calls at once, all the budget allows.
    expect(offsets(t0)).toEqual([5, 5, 5, 5, 5, 5, 5, 5, 5, 5].map((s) => s * SECOND));
    // The budget is spent: the next call may go when the first leaves its 3-minute window (5 s + 180 s).
    expect(host.durable.getStatus("sc-pacing")?.customStatus).toMatchObject({
      idle: false,
      queued: 2,
      callsInLast3Minutes: 10,
      callsInLast30Minutes: 10,
      nextCallAt: new Date(t0 + 185 * SECOND).toISOString(),
      batches: 10,
    } satisfies Partial<ShareCoordinatorStatus>);
    await untilIdle("sc-pacing");
    expect(offsets(t0).slice(10)).toEqual([185 * SECOND, 185 * SECOND]);
    expect(notices).toHaveLength(12);
    expect(noticeOf("req-p11").result.at).toBe(new Date(t0 + 185 * SECOND).toISOString());
  });

  it("keeps to the budget for any burst: 150 changes for 150 galleries, never over 10 calls in 3 minutes or 60 in 30", async () => {
    const t0 = await start("sc-burst");
    await send("sc-burst", ...Array.from({ length: BURST }, (_, i) => change(`req-b${i}`, gallery(i), tenant(i))));
    await advanceUntil(() => notices.length === BURST);
    const times = batches.map((b) => b.at);
    expect(times).toHaveLength(BURST);
    expect(mostInWindow(times, 3 * MINUTE)).toBeLessThanOrEqual(10);
    expect(mostInWindow(times, 30 * MINUTE)).toBeLessThanOrEqual(60);
    // And no slower than the budget allows: 60 calls per 30 minutes, so the 150th within about 75 minutes.
    expect(times.at(-1)! - t0).toBeLessThan(75 * MINUTE);
    expect(inbox).toEqual([]);
  }, 60_000);

  it("waits for room for both calls of a batch that adds and removes", async () => {
    const now = clock.now();
    // Nine calls in the last minute: room for one more, not two.
    const t0 = await start("sc-two-calls", { callTimes: Array.from({ length: 9 }, () => now - MINUTE) });
    answer = applyAll(2);
    await send("sc-two-calls", change("req-add", gallery(1), tenant(1)), {
      ...change("req-rm", gallery(1), tenant(2)),
      add: undefined,
      remove: { tenantIds: [tenant(2)] },
    });
    await untilIdle("sc-two-calls");
    // The nine leave the 3-minute window two minutes after start.
    expect(offsets(t0)).toEqual([2 * MINUTE]);
  });

  it("counts the calls it carries over (the 30-minute window): a full window delays the first call", async () => {
    const now = clock.now();
    // 60 calls in the last 30 minutes, ten at a time 5 minutes apart (each 3-minute window is fine).
    const callTimes = [29, 24, 19, 14, 9, 4].flatMap((m) => Array.from({ length: 10 }, () => now - m * 60_000));
    const t0 = await start("sc-budget-30", { callTimes });
    await send("sc-budget-30", change("req-w", gallery(1), tenant(1)));
    await untilIdle("sc-budget-30");
    // The oldest ten leave the 30-minute window 29 minutes + 30 minutes... at t0 + 1 minute.
    expect(offsets(t0)).toEqual([60 * SECOND]);
  });

  it("continues as new by history size, carrying call times and answers; the changes stay in the inbox", async () => {
    const t0 = await start("sc-continue", { historyBudget: 60 });
    const a = change("req-1", gallery(1), tenant(1));
    await send("sc-continue", a, ...Array.from({ length: 7 }, (_, i) => change(`req-${i + 2}`, gallery(i + 2), tenant(i + 2))));
    await advanceUntil(() => notices.length === 8);
    expect(batches.map((b) => b.requestIds[0])).toEqual(["req-1", "req-2", "req-3", "req-4", "req-5", "req-6", "req-7", "req-8"]);
    // 5 s of collecting, then one batch after the other, a continue-as-new or not.
    expect(offsets(t0)).toEqual([5, 5, 5, 5, 5, 5, 5, 5].map((s) => s * SECOND));
    const carried = host.durable.getStatus("sc-continue")?.input as ShareCoordinatorState;
    expect(carried).toMatchObject({ subscriptionId: SUBSCRIPTION, historyBudget: 60, retry: { attempts: 3, firstSeconds: 5 } });
    expect(carried.pending).toBeUndefined();
    expect(carried.callTimes.length).toBeGreaterThan(0);
    // Each execution stays near its budget: the last one's history is small.
    expect(host.durable.history("sc-continue").length).toBeLessThanOrEqual(60 + 30);
    // The new execution still knows the first answers: a repeat of req-1 gets its answer, not a call.
    const firstAnswer = noticeOf("req-1").result;
    await send("sc-continue", { ...a, replyTo: { instanceId: "sender-req-1", eventName: "ShareResult.again" } });
    const status = await untilIdle("sc-continue");
    expect(batches).toHaveLength(8);
    expect(notices.at(-1)!.notice).toEqual({ instanceId: "sender-req-1", eventName: "ShareResult.again", result: firstAnswer });
    expect((status.input as ShareCoordinatorState).recent.map((r) => r.requestId).slice(0, 1)).toEqual(["req-1"]);
  });

  it("puts changes an earlier version carried in its input into the inbox, then applies them", async () => {
    const t0 = await start("sc-upgrade", { pending: [change("req-old", gallery(1), tenant(1))] });
    await untilIdle("sc-upgrade");
    expect(batches).toEqual([{ at: t0 + 5 * SECOND, galleryId: gallery(1), requestIds: ["req-old"] }]);
    expect(inbox).toEqual([]);
  });

  it("ends 'idle' after a day without work", async () => {
    const t0 = await start("sc-idle");
    const status = await untilIdle("sc-idle");
    expect(status.output).toEqual({ ended: "idle", batches: 0 });
    expect(clock.now() - t0).toBe(DAY);
    expect(batches).toEqual([]);
    expect(notices).toEqual([]);
    expect(status.customStatus).toMatchObject({
      idle: true,
      queued: 0,
      callsInLast3Minutes: 0,
      callsInLast30Minutes: 0,
      batches: 0,
    } satisfies Partial<ShareCoordinatorStatus>);
    expect(HISTORY_BUDGET).toBeLessThanOrEqual(400);
  });
});
