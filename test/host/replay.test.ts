// The host half of the protocol on hand-written histories: DTFx numbering, retries, long timers,
// buffered events, and what counts as non-determinism.
import { describe, expect, it } from "vitest";
import { event, EventType, type HistoryEvent } from "../../local/host/durable/history";
import { ActionType, replay, type ActionJson, type ReplayConfig } from "../../local/host/durable/replay";

const T = Date.UTC(2026, 0, 1);
const config: ReplayConfig = {
  instanceId: "i",
  executionId: "e",
  maximumShortTimerMs: 6 * 86_400_000,
  longRunningTimerIntervalMs: 3 * 86_400_000,
  functionExists: (name) => name !== "missing",
};

const started = (t = T): HistoryEvent[] => [event(EventType.OrchestratorStarted, t), event(EventType.ExecutionStarted, t, { Name: "o" })];
const activity = (name: string, input?: unknown): ActionJson => ({ actionType: ActionType.CallActivity, functionName: name, input });
const scheduled = (id: number, name: string): HistoryEvent => event(EventType.TaskScheduled, T, { Name: name }, id);
const completed = (id: number, result = "null"): HistoryEvent => event(EventType.TaskCompleted, T, { TaskScheduledId: id, Result: result });
const failed = (id: number): HistoryEvent => event(EventType.TaskFailed, T, { TaskScheduledId: id, Reason: "r", Details: "d" });

describe("replay", () => {
  it("schedules the first action of a new instance with id 0", () => {
    const result = replay(started(), [activity("a", "x")], config);
    expect(result.decisions).toEqual([{ kind: "activity", id: 0, name: "a", input: "x" }]);
  });

  it("only awaits actions in order: the next action is scheduled once the previous completed", () => {
    const history = [...started(), scheduled(0, "a"), event(EventType.OrchestratorStarted, T), completed(0)];
    const result = replay(history, [activity("a"), activity("b")], config);
    expect(result.decisions).toEqual([{ kind: "activity", id: 1, name: "b", input: undefined }]);
  });

  it("matches names case-insensitively, as DTFx does", () => {
    const history = [...started(), scheduled(0, "A")];
    expect(replay(history, [activity("a")], config).failure).toBeUndefined();
  });

  it("reports a history task the replay has not scheduled", () => {
    const history = [...started(), scheduled(0, "a"), completed(0), scheduled(1, "b")];
    const result = replay(history, [activity("a")], config);
    expect(result.failure?.nonDeterministic).toBe(true);
    expect(result.failure?.message).toContain(
      "scheduled an activity task with sequence ID 1 and name 'b', but the current replay execution hasn't (yet?) scheduled this task",
    );
  });

  it("numbers retry timers between attempts (RetryInterceptor), with backoff, capped by the max interval", () => {
    const retry: ActionJson = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: "a",
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3, backoffCoefficient: 10, maxRetryIntervalInMilliseconds: 5000 },
    };
    const t1 = T + 1;
    const history = [...started(), scheduled(0, "a"), event(EventType.OrchestratorStarted, t1), failed(0)];
    expect(replay(history, [retry], config).decisions).toEqual([{ kind: "timer", id: 1, fireAt: t1 + 1000, canceled: false }]);
    const h2 = [
      ...history,
      event(EventType.TimerCreated, T, {}, 1),
      event(EventType.OrchestratorStarted, t1 + 1000),
      event(EventType.TimerFired, T, { TimerId: 1 }),
    ];
    expect(replay(h2, [retry], config).decisions).toEqual([{ kind: "activity", id: 2, name: "a", input: undefined }]);
    const h3 = [...h2, scheduled(2, "a"), event(EventType.OrchestratorStarted, t1 + 1000), failed(2)];
    // second delay: 1000 * 10 = 10000, capped at 5000
    expect(replay(h3, [retry], config).decisions).toEqual([{ kind: "timer", id: 3, fireAt: t1 + 6000, canceled: false }]);
  });

  it("after the last failed attempt creates a timer due at once, not after another backoff (DTFx's back-compat timer)", () => {
    const retry: ActionJson = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: "a",
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2, backoffCoefficient: 2 },
    };
    const t1 = T + 7;
    const h1 = [...started(), scheduled(0, "a"), event(EventType.OrchestratorStarted, t1), failed(0), event(EventType.TimerCreated, T, {}, 1)];
    const t2 = t1 + 1000;
    const h2 = [...h1, event(EventType.OrchestratorStarted, t2), event(EventType.TimerFired, T, { TimerId: 1 }), scheduled(2, "a")];
    const t3 = t2 + 123;
    const h3 = [...h2, event(EventType.OrchestratorStarted, t3), failed(2)];
    expect(replay(h3, [retry, activity("next")], config).decisions).toEqual([{ kind: "timer", id: 3, fireAt: t3, canceled: false }]);
    // Once it fired the retry task has failed, and the next action runs.
    const h4 = [...h3, event(EventType.TimerCreated, T, {}, 3), event(EventType.OrchestratorStarted, t3), event(EventType.TimerFired, T, { TimerId: 3 })];
    expect(replay(h4, [retry, activity("next")], config).decisions).toEqual([{ kind: "activity", id: 4, name: "next", input: undefined }]);
  });

  it("creates the back-compat timer after the last attempt even when retryTimeout has passed", () => {
    const retry: ActionJson = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: "a",
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 1, retryTimeoutInMilliseconds: 500 },
    };
    const history = [...started(), scheduled(0, "a"), event(EventType.OrchestratorStarted, T + 600), failed(0)];
    const result = replay(history, [retry], config);
    expect(result.decisions).toEqual([{ kind: "timer", id: 1, fireAt: T + 600, canceled: false }]);
    expect(result.warnings).toEqual([]);
  });

  it("creates no retry timer once retryTimeout has passed", () => {
    const retry: ActionJson = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: "a",
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 3, retryTimeoutInMilliseconds: 500 },
    };
    const history = [...started(), scheduled(0, "a"), event(EventType.OrchestratorStarted, T + 600), failed(0)];
    expect(replay(history, [retry], config).decisions).toEqual([]);
  });

  it("splits long timers like DurableOrchestrationContext.CreateTimer", () => {
    const day = 86_400_000;
    const timer: ActionJson = { actionType: ActionType.CreateTimer, fireAt: new Date(T + 7 * day).toISOString(), isCanceled: false };
    expect(replay(started(), [timer], config).decisions).toEqual([{ kind: "timer", id: 0, fireAt: T + 3 * day, canceled: false }]);
    const h = [
      ...started(),
      event(EventType.TimerCreated, T, {}, 0),
      event(EventType.OrchestratorStarted, T + 3 * day),
      event(EventType.TimerFired, T, { TimerId: 0 }),
    ];
    expect(replay(h, [timer], config).decisions).toEqual([{ kind: "timer", id: 1, fireAt: T + 6 * day, canceled: false }]);
    const h2 = [
      ...h,
      event(EventType.TimerCreated, T, {}, 1),
      event(EventType.OrchestratorStarted, T + 6 * day),
      event(EventType.TimerFired, T, { TimerId: 1 }),
    ];
    expect(replay(h2, [timer], config).decisions).toEqual([{ kind: "timer", id: 2, fireAt: T + 7 * day, canceled: false }]);
  });

  it("delivers an external event raised before the orchestrator waits for it", () => {
    const wait: ActionJson = { actionType: ActionType.WaitForExternalEvent, externalEventName: "Go" };
    const history = [...started(), scheduled(0, "a"), event(EventType.EventRaised, T, { Name: "go", Input: "1" }), completed(0)];
    const result = replay(history, [activity("a"), wait, activity("b")], config);
    expect(result.decisions).toEqual([{ kind: "activity", id: 1, name: "b", input: undefined }]);
  });

  it("WhenAll waits for every child, even after one failed (Task.WhenAll)", () => {
    const all: ActionJson = { actionType: ActionType.WhenAll, compoundActions: [activity("a"), activity("b")] };
    const history = [...started(), scheduled(0, "a"), scheduled(1, "b"), event(EventType.OrchestratorStarted, T), failed(0)];
    expect(replay(history, [all, activity("c")], config).decisions).toEqual([]);
    const h2 = [...history, completed(1)];
    expect(replay(h2, [all, activity("c")], config).decisions).toEqual([{ kind: "activity", id: 2, name: "c", input: undefined }]);
  });

  it("records continue-as-new and fails on unknown functions and unsupported actions", () => {
    expect(replay(started(), [{ actionType: ActionType.ContinueAsNew, input: { n: 1 } }], config).continueAsNew).toEqual({ input: '{"n":1}' });
    expect(replay(started(), [activity("missing")], config).failure).toMatchObject({
      nonDeterministic: false,
      message: expect.stringContaining("doesn't exist") as unknown,
    });
    expect(replay(started(), [{ actionType: ActionType.CallHttp }], config).failure?.message).toContain("callHttp is not supported");
  });

  it("names generated sub-orchestration ids executionId:id", () => {
    const sub: ActionJson = { actionType: ActionType.CallSubOrchestrator, functionName: "child", input: "x" };
    expect(replay(started(), [sub], config).decisions).toEqual([{ kind: "subOrchestration", id: 0, name: "child", instanceId: "e:0", input: '"x"' }]);
  });
});
