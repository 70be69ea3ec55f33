// shareCoordinator on the local host with stub activities: no emulator, no Azurite. Changes arrive as
// ShareChange events raised with the host's durable client; applyShareChanges is a stub that logs
// each batch with the (virtual) clock time it ran at, notifyShareResults a stub that captures the
// notices. This covers merging per gallery, repeats, events that are not changes, a failed batch,
// pacing to Compute's share budget, continue-as-new and the idle end.
import "../../local/host";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { AppliedShareChanges, ApplyShareChangesInput } from "../../src/activities/directSharing";
import type { ActivityResult } from "../../src/domain/activityResult";
import { SHARE_CHANGE_EVENT, SHARE_COORDINATOR } from "../../src/domain/orchestrationNames";
import type { ShareChange, ShareCoordinatorState, ShareNotice } from "../../src/domain/shareChanges";
import { shareCoordinator, type ShareCoordinatorStatus } from "../../src/orchestrations/shareCoordinator";
import { registerStubActivities } from "../support/stubActivities";

const SUBSCRIPTION = "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10";
const gallery = (n: number) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/g${n}`;
const tenant = (n: number) => `72f988bf-86f1-41af-91ab-${String(n).padStart(12, "0")}`;
const SECOND = 1000;
const DAY = 24 * 3600_000;
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

df.app.orchestration(SHARE_COORDINATOR, shareCoordinator);
registerStubActivities({
  applyShareChanges: (input) => {
    const n = batches.length;
    batches.push({ at: clock.now(), galleryId: input.galleryId, requestIds: input.changes.map((c) => c.requestId) });
    return answer(input, n);
  },
  notifyShareResults: (input) => {
    for (const notice of input.notices) notices.push({ at: clock.now(), notice });
    return { ok: true, value: { delivered: input.notices.length, gone: 0 } };
  },
});

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
  answer = applyAll(1);
  const input: ShareCoordinatorState = {
    subscriptionId: SUBSCRIPTION,
    pending: [],
    callTimes: [],
    recent: [],
    retry: { attempts: 3, firstSeconds: 5 },
    ...state,
  };
  await host.durable.startNew(SHARE_COORDINATOR, { instanceId: id, input });
  await host.durable.runUntilIdle();
  return clock.now();
}

async function send(id: string, ...events: unknown[]): Promise<void> {
  for (const e of events) await host.durable.raiseEvent(id, SHARE_CHANGE_EVENT, e);
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

describe("shareCoordinator with stub activities", () => {
  it("merges what arrives together per gallery into one applyShareChanges call, and tells each sender its result", async () => {
    const t0 = await start("sc-merge");
    const a = change("req-a", gallery(1), tenant(1));
    const b = change("req-b", gallery(2), tenant(2));
    const c = change("req-c", gallery(1).toUpperCase(), tenant(3)); // the same gallery, another casing
    await send("sc-merge", a, b, c, a); // a again while still pending: dropped
    const status = await untilIdle("sc-merge");

    // Collected for 5 s; g1 first (a and c in one call), then g2 after another 5 s of collecting.
    expect(batches).toEqual([
      { at: t0 + 5 * SECOND, galleryId: gallery(1), requestIds: ["req-a", "req-c"] },
      { at: t0 + 10 * SECOND, galleryId: gallery(2), requestIds: ["req-b"] },
    ]);
    expect(notices.map((n) => [n.notice.instanceId, n.notice.eventName, n.at - t0])).toEqual([
      ["sender-req-a", "ShareResult.0", 5 * SECOND],
      ["sender-req-c", "ShareResult.0", 5 * SECOND],
      ["sender-req-b", "ShareResult.0", 10 * SECOND],
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
    expect(noticeOf("req-b").result.at).toBe(new Date(t0 + 10 * SECOND).toISOString());

    // Ended after a day without work, counting the two batches and the two share calls.
    expect(status.output).toEqual({ ended: "idle", batches: 2 });
    expect(clock.now()).toBe(t0 + 10 * SECOND + DAY);
    expect(status.customStatus).toEqual({ pending: 0, callsInLast3Minutes: 2, callsInLast30Minutes: 2, batches: 2 } satisfies ShareCoordinatorStatus);
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

  it("ignores an event that is not a share change", async () => {
    const t0 = await start("sc-ignore");
    await send(
      "sc-ignore",
      { nonsense: true },
      "just text",
      { requestId: "req-no-reply", galleryId: gallery(1), add: { tenantIds: [tenant(9)] } }, // no replyTo: nobody to answer
      change("req-ok", gallery(1), tenant(1)),
    );
    const status = await untilIdle("sc-ignore");
    expect(batches).toEqual([{ at: t0 + 5 * SECOND, galleryId: gallery(1), requestIds: ["req-ok"] }]);
    expect(notices.map((n) => n.notice.result.requestId)).toEqual(["req-ok"]);
    // The first event woke it (one batch), the rest were collected with the change.
    expect(status.output).toEqual({ ended: "idle", batches: 1 });
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
    expect(offsets(t0)).toEqual([5 * SECOND, 65 * SECOND]);
    expect(noticeOf("req-t").result).toMatchObject({ result: "applied", shareCalls: 1, at: new Date(t0 + 65 * SECOND).toISOString() });
  });

  it("paces share calls to Compute's budget: the 11th call in 3 minutes waits on the clock", async () => {
    const t0 = await start("sc-pacing");
    await send("sc-pacing", ...Array.from({ length: 12 }, (_, i) => change(`req-p${i + 1}`, gallery(i + 1), tenant(i + 1))));
    await advanceUntil(() => batches.length === 10);
    // One gallery per batch, 5 s of collecting each: ten calls at 5, 10, ..., 50 s.
    expect(offsets(t0)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50].map((s) => s * SECOND));
    // The budget is spent: the next call may go when the first leaves its 3-minute window (5 s + 180 s).
    expect(host.durable.getStatus("sc-pacing")?.customStatus).toEqual({
      pending: 2,
      callsInLast3Minutes: 10,
      callsInLast30Minutes: 10,
      nextCallAt: new Date(t0 + 185 * SECOND).toISOString(),
      batches: 10,
    } satisfies ShareCoordinatorStatus);
    await untilIdle("sc-pacing");
    expect(offsets(t0).slice(10)).toEqual([185 * SECOND, 190 * SECOND]);
    expect(notices).toHaveLength(12);
    expect(noticeOf("req-p11").result.at).toBe(new Date(t0 + 185 * SECOND).toISOString());
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

  it("continues as new after batchesPerExecution batches, carrying pending changes, call times and answers", async () => {
    const t0 = await start("sc-continue", { batchesPerExecution: 2 });
    const a = change("req-1", gallery(1), tenant(1));
    await send("sc-continue", a, change("req-2", gallery(2), tenant(2)), change("req-3", gallery(3), tenant(3)));
    await advanceUntil(() => notices.length === 3);
    // Two batches, then the new execution takes the third change over and applies it.
    expect(batches.map((b) => [b.requestIds, b.at - t0])).toEqual([
      [["req-1"], 5 * SECOND],
      [["req-2"], 10 * SECOND],
      [["req-3"], 15 * SECOND],
    ]);
    const carried = host.durable.getStatus("sc-continue")?.input as ShareCoordinatorState;
    expect(carried.pending.map((c) => c.requestId)).toEqual(["req-3"]);
    expect(carried.callTimes).toEqual([t0 + 5 * SECOND, t0 + 10 * SECOND]);
    expect(carried.recent.map((r) => r.requestId)).toEqual(["req-1", "req-2"]);
    expect(carried).toMatchObject({ subscriptionId: SUBSCRIPTION, batchesPerExecution: 2, retry: { attempts: 3, firstSeconds: 5 } });
    // The new execution still knows the first answers: a repeat of req-1 gets its answer, not a call.
    const firstAnswer = noticeOf("req-1").result;
    await send("sc-continue", { ...a, replyTo: { instanceId: "sender-req-1", eventName: "ShareResult.again" } });
    const status = await untilIdle("sc-continue");
    expect(batches).toHaveLength(3);
    expect(notices.at(-1)!.notice).toEqual({ instanceId: "sender-req-1", eventName: "ShareResult.again", result: firstAnswer });
    // That repeat was the second execution's second batch: it continued as new once more, then went idle.
    expect(status.output).toEqual({ ended: "idle", batches: 0 });
    expect((status.input as ShareCoordinatorState).recent.map((r) => r.requestId)).toEqual(["req-1", "req-2", "req-3"]);
  });

  it("ends 'idle' after a day without work", async () => {
    const t0 = await start("sc-idle");
    const status = await untilIdle("sc-idle");
    expect(status.output).toEqual({ ended: "idle", batches: 0 });
    expect(clock.now() - t0).toBe(DAY);
    expect(batches).toEqual([]);
    expect(notices).toEqual([]);
    expect(status.customStatus).toEqual({ pending: 0, callsInLast3Minutes: 0, callsInLast30Minutes: 0, batches: 0 } satisfies ShareCoordinatorStatus);
  });
});
