// Orchestrations and activities through the local host, on the durable wire protocol, with the
// durable-functions package's own replay code, on a VirtualClock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, type HistoryEvent } from "../../local/host/durable/history";
import { fixtureState, startFixtureHost, T0, type FixtureHost } from "./support";

let fx: FixtureHost;
beforeAll(async () => {
  fx = await startFixtureHost();
});
afterAll(async () => {
  await fx.host.close();
});

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function ofType(history: HistoryEvent[], type: number): HistoryEvent[] {
  return history.filter((e) => e.EventType === type);
}

describe("orchestrations on the wire protocol", () => {
  it("runs an activity, then a durable timer; simulated time moves only to the timer's fireAt", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("activityThenTimer", { instanceId: "timer-1", input: "Ada" });
    expect(host.durable.getStatus(id)?.runtimeStatus).toBe("Pending");
    await host.durable.runUntilIdle();
    expect(host.durable.getStatus(id)?.runtimeStatus).toBe("Running");
    expect(host.durable.getStatus(id)?.customStatus).toEqual({ step: "waiting" });
    expect(clock.now()).toBe(start);
    const fireAt = host.durable.nextTimerAt();
    expect(fireAt).toBe(start + 30 * MINUTE);

    const status = await host.durable.waitFor(id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ greeting: "Hello, Ada!", firedAt: new Date(start + 30 * MINUTE).toISOString() });
    expect(status.customStatus).toEqual({ step: "done" });
    expect(clock.now()).toBe(fireAt);
    expect(host.durable.nextTimerAt()).toBeUndefined();

    const history = host.durable.history(id);
    expect(history.map((e) => e.EventType)).toEqual([
      EventType.OrchestratorStarted,
      EventType.ExecutionStarted,
      EventType.TaskScheduled,
      EventType.OrchestratorCompleted,
      EventType.OrchestratorStarted,
      EventType.TaskCompleted,
      EventType.TimerCreated,
      EventType.OrchestratorCompleted,
      EventType.OrchestratorStarted,
      EventType.TimerFired,
      EventType.OrchestratorCompleted,
      EventType.ExecutionCompleted,
    ]);
    const [scheduled] = ofType(history, EventType.TaskScheduled);
    expect(scheduled).toMatchObject({ EventId: 0, Name: "greet", Input: '"Ada"' });
    expect(ofType(history, EventType.TaskCompleted)[0]).toMatchObject({ TaskScheduledId: 0, Result: '"Hello, Ada!"' });
    expect(ofType(history, EventType.TimerCreated)[0]).toMatchObject({ EventId: 1, FireAt: new Date(start + 30 * MINUTE).toISOString() });
    expect(ofType(history, EventType.TimerFired)[0]).toMatchObject({ TimerId: 1 });
  });

  it("refuses a second start of a running instance id, and restarts a finished one", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("waitsForever", { instanceId: "dup-1" });
    await host.durable.runUntilIdle();
    await expect(host.durable.startNew("waitsForever", { instanceId: "dup-1" })).rejects.toThrow(/already exists/);
    await host.durable.terminate(id, "done with it");
    const terminated = await host.durable.waitFor(id);
    expect(terminated).toMatchObject({ runtimeStatus: "Terminated", output: "done with it" });
    await host.durable.startNew("echoActivityOrchestrationDoesNotExist").then(
      () => expect.fail("unknown orchestrator started"),
      (err: unknown) => expect(String(err)).toMatch(/doesn't exist/),
    );
    await host.durable.startNew("fanOut", { instanceId: "dup-1", input: ["x"] });
    expect((await host.durable.waitFor("dup-1")).output).toEqual(["Hello, x!"]);
  });

  it("retries with callActivityWithRetry: the SDK's retry logic, host-side retry timers with backoff", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("retrying", { instanceId: "retry-1", input: { key: "retry-1", failures: 2 } });
    const status = await host.durable.waitFor(id);
    expect(status.output).toEqual({ ok: true, result: "ok after 3" });
    expect((await fixtureState()).flakyCalls.get("retry-1")).toBe(3);
    // first retry after 5 s, second after 5 s * 2
    expect(clock.now()).toBe(start + 15_000);
    const history = host.durable.history(id);
    expect(ofType(history, EventType.TaskScheduled).map((e) => e.EventId)).toEqual([0, 2, 4]);
    expect(ofType(history, EventType.TimerCreated).map((e) => [e.EventId, e.FireAt])).toEqual([
      [1, new Date(start + 5_000).toISOString()],
      [3, new Date(start + 15_000).toISOString()],
    ]);
    const failed = ofType(history, EventType.TaskFailed);
    expect(failed.map((e) => e.TaskScheduledId)).toEqual([0, 2]);
    expect(failed[0]?.Reason).toBe("Activity function 'flaky' failed: transient failure 1 of retry-1");
    const details = JSON.parse(failed[0]?.Details ?? "{}") as Record<string, unknown>;
    expect(details).toMatchObject({ name: "Error", message: "transient failure 1 of retry-1", code: "Throttled" });
    expect(String(details.stack)).toMatch(/transient failure 1/);
  });

  it("gives up after maxNumberOfAttempts: after the last attempt a timer due at once (DTFx's back-compat timer), so the orchestrator sees the failure without another backoff", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("retrying", { instanceId: "retry-2", input: { key: "retry-2", failures: 99 } });
    const status = await host.durable.waitFor(id);
    expect(status.runtimeStatus).toBe("Completed");
    const output = status.output as { ok: boolean; message: string };
    expect(output.ok).toBe(false);
    expect(output.message).toContain("Activity function 'flaky' failed: transient failure 4 of retry-2");
    expect((await fixtureState()).flakyCalls.get("retry-2")).toBe(4);
    const history = host.durable.history(id);
    // Retry timers after attempts 1-3 (5 s, 10 s, 20 s), then the one after attempt 4, due when it failed.
    expect(ofType(history, EventType.TimerCreated).map((e) => [e.EventId, e.FireAt])).toEqual([
      [1, new Date(start + 5_000).toISOString()],
      [3, new Date(start + 15_000).toISOString()],
      [5, new Date(start + 35_000).toISOString()],
      [7, new Date(start + 35_000).toISOString()],
    ]);
    expect(ofType(history, EventType.TimerFired).at(-1)).toMatchObject({ TimerId: 7, Timestamp: new Date(start + 35_000).toISOString() });
    expect(clock.now()).toBe(start + (5 + 10 + 20) * 1000);
    expect(status.lastUpdatedTime).toBe(new Date(start + 35_000).toISOString().replace(/\.\d{3}Z$/, "Z"));
  });

  it("runs sub-orchestrations (generated and explicit ids) and reports a failing one to the parent", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("parent", { instanceId: "parent-1" });
    const status = await host.durable.waitFor(id);
    expect(status.runtimeStatus).toBe("Completed");
    const output = status.output as { first: unknown; second: unknown; failure: string };
    expect(output.first).toEqual({ greeting: "Hello, Ada!", parent: "parent-1" });
    expect(output.second).toEqual({ greeting: "Hello, Grace!", parent: "parent-1" });
    expect(output.failure).toContain("Orchestrator function 'failing' failed: orchestrator failed on purpose");
    const created = ofType(host.durable.history(id), EventType.SubOrchestrationInstanceCreated);
    expect(created.map((e) => [e.EventId, e.Name])).toEqual([
      [0, "child"],
      [1, "child"],
      [2, "failing"],
    ]);
    expect(created[0]?.InstanceId).toMatch(/^[0-9a-f]{32}:0$/);
    expect(created[1]?.InstanceId).toBe("parent-1-child");
    expect(host.durable.getStatus("parent-1-child")?.runtimeStatus).toBe("Completed");
    const failedChild = host.durable.getStatus(String(created[2]?.InstanceId));
    expect(failedChild?.runtimeStatus).toBe("Failed");
  });

  it("continues as new with the new input until done", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("counter", { instanceId: "counter-1", input: 0 });
    const status = await host.durable.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: 3, input: 3 });
    const history = host.durable.history(id);
    expect(ofType(history, EventType.ExecutionStarted)[0]?.Input).toBe("3");
  });

  it("waits for an external event raced against a timer; the cancelled timer leaves nothing pending", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("approval", { instanceId: "approval-1" });
    await host.durable.runUntilIdle();
    expect(host.durable.nextTimerAt()).toBe(start + DAY);
    await host.durable.raiseEvent(id, "approve", { by: "ops" });
    const status = await host.durable.waitFor(id);
    expect(status.output).toEqual({ approved: { by: "ops" } });
    expect(clock.now()).toBe(start);
    expect(host.durable.nextTimerAt()).toBeUndefined();
    expect(ofType(host.durable.history(id), EventType.EventRaised)[0]).toMatchObject({ Name: "approve", Input: '{"by":"ops"}' });
  });

  it("a canceled timer of a running instance still fires into its history, and replay ignores it (DTFx's timer message is not canceled)", async () => {
    // Found by the conformance suite (test/durable-engine): the runner dropped canceled timers.
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("approvalThenDone", { instanceId: "approval-canceled-timer" });
    await host.durable.runUntilIdle();
    await host.durable.raiseEvent(id, "approve", true);
    await host.durable.runUntilIdle();
    expect(ofType(host.durable.history(id), EventType.TimerFired)).toHaveLength(0);
    expect(host.durable.nextTimerAt()).toBe(start + 3600_000);
    clock.setTime(start + 3600_000);
    await host.durable.runUntilIdle();
    expect(ofType(host.durable.history(id), EventType.TimerFired)).toHaveLength(1);
    expect(host.durable.getStatus(id)?.runtimeStatus).toBe("Running");
    await host.durable.raiseEvent(id, "done", "yes");
    expect((await host.durable.waitFor(id)).output).toEqual({ approved: true, done: "yes" });
  });

  it("times out the same race when no event comes", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("approval", { instanceId: "approval-2" });
    const status = await host.durable.waitFor(id);
    expect(status.output).toEqual({ approved: false, timedOut: true });
    expect(clock.now()).toBe(start + DAY);
  });

  it("fans out with Task.all: ids numbered in action order", async () => {
    const { host } = fx;
    const names = ["a", "b", "c", "d", "e"];
    const id = await host.durable.startNew("fanOut", { instanceId: "fan-1", input: names });
    const status = await host.durable.waitFor(id);
    expect(status.output).toEqual(names.map((n) => `Hello, ${n}!`));
    const scheduled = ofType(host.durable.history(id), EventType.TaskScheduled);
    expect(scheduled.map((e) => [e.EventId, e.Input])).toEqual(names.map((n, i) => [i, JSON.stringify(n)]));
  });

  it("fans out retrying activities: host retry timers and the SDK's task ids stay in step", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("fanOutWithRetry", { instanceId: "fanretry-1" });
    const status = await host.durable.waitFor(id);
    expect(status.output).toEqual({ results: ["ok after 2", "ok after 4", "Hello, c!"], after: "Hello, after!" });
    expect(clock.now()).toBe(start + 3000);
    const history = host.durable.history(id);
    // a0=0 b0=1 c=2; a fails -> timer 3, b fails -> timer 4; ... then "after" gets the next id
    expect(ofType(history, EventType.TaskScheduled).map((e) => [e.EventId, JSON.parse(e.Input ?? "null")])).toEqual([
      [0, { key: "fanretry-1-a", failures: 1 }],
      [1, { key: "fanretry-1-b", failures: 3 }],
      [2, "c"],
      [5, { key: "fanretry-1-a", failures: 1 }],
      [6, { key: "fanretry-1-b", failures: 3 }],
      [8, { key: "fanretry-1-b", failures: 3 }],
      [10, { key: "fanretry-1-b", failures: 3 }],
      [11, "after"],
    ]);
    expect(ofType(history, EventType.TimerCreated).map((e) => e.EventId)).toEqual([3, 4, 7, 9]);
  });

  it("splits a timer longer than maximumShortTimerDuration into longRunningTimerInterval pieces", async () => {
    const { host, clock } = fx;
    const start = clock.now();
    const id = await host.durable.startNew("longTimer", { instanceId: "long-1", input: 10 });
    const status = await host.durable.waitFor(id);
    expect(status.output).toBe(new Date(start + 10 * DAY).toISOString());
    const timers = ofType(host.durable.history(id), EventType.TimerCreated);
    expect(timers.map((e) => [e.EventId, e.FireAt])).toEqual([
      [0, new Date(start + 3 * DAY).toISOString()],
      [1, new Date(start + 6 * DAY).toISOString()],
      [2, new Date(start + 9 * DAY).toISOString()],
      [3, new Date(start + 10 * DAY).toISOString()],
    ]);
    expect(clock.now()).toBe(start + 10 * DAY);
  });

  it("fails the instance when the orchestrator throws", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("failing", { instanceId: "failing-1" });
    const status = await host.durable.waitFor(id);
    expect(status).toMatchObject({ runtimeStatus: "Failed", output: "Orchestrator function 'failing' failed: orchestrator failed on purpose" });
    expect(host.durable.history(id).at(-1)).toMatchObject({ EventType: EventType.ExecutionCompleted, OrchestrationStatus: "Failed" });
  });

  it("fails the instance when it calls an activity that does not exist", async () => {
    const { host } = fx;
    const status = await host.durable.waitFor(await host.durable.startNew("callsUnknown", { instanceId: "unknown-1" }));
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toContain("The function 'noSuchActivity' doesn't exist");
  });

  it("reports an instance that waits for something nobody sends instead of hanging", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("waitsForever", { instanceId: "forever-1" });
    await expect(host.durable.waitFor(id)).rejects.toThrow(/no durable timer pending/);
    await host.durable.terminate(id, "test over");
    expect((await host.durable.waitFor(id)).runtimeStatus).toBe("Terminated");
  });

  it("fails the orchestration when its custom status is over 16 KB, as SetCustomStatus throws in the extension", async () => {
    const { host } = fx;
    // JSON of the status: chars + 2 UTF-16 code units; the limit is (int)(bytes / 1024) > 16, so
    // 17,406 bytes (16 KB) passes and 17,408 (17 KB) fails.
    const ok = await host.durable.startNew("customStatusSize", { instanceId: "status-ok", input: { chars: 8701 } });
    const okStatus = await host.durable.waitFor(ok);
    expect(okStatus.runtimeStatus).toBe("Completed");
    expect(String(okStatus.customStatus)).toHaveLength(8701);

    const big = await host.durable.startNew("customStatusSize", { instanceId: "status-big", input: { chars: 8702 } });
    const bigStatus = await host.durable.waitFor(big);
    const message = "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.";
    expect(bigStatus).toMatchObject({ runtimeStatus: "Failed", output: `Orchestrator function 'customStatusSize' failed: ${message}`, customStatus: "small" });
    const history = host.durable.history(big);
    expect(history.at(-1)).toMatchObject({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: "Failed",
      Reason: `Orchestrator function 'customStatusSize' failed: ${message}`,
    });
    // The episode went no further: the activity after the big status was never scheduled.
    expect(ofType(history, EventType.TaskScheduled)).toHaveLength(1);
  });

  it("an orchestrator that throws after setting a too-large custom status fails with the size error, unwrapped", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("customStatusSize", { instanceId: "status-throw", input: { chars: 20_000, thenThrow: true } });
    const status = await host.durable.waitFor(id);
    expect(status).toMatchObject({
      runtimeStatus: "Failed",
      output: "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 39 KB.",
      customStatus: "small",
    });
  });

  it("lists instances", () => {
    const ids = fx.host.durable.listInstances().map((s) => s.instanceId);
    expect(ids).toEqual(expect.arrayContaining(["timer-1", "retry-1", "parent-1", "counter-1"]));
    void T0;
  });
});
