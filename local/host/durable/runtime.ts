// The task hub: instances, their message queues, episodes, activities, durable timers and
// sub-orchestrations. Work runs by itself in the background (as in the real host); runUntilIdle/waitFor
// let tests and the demo wait for it, and on a VirtualClock move time to the next durable timer.
import { randomUUID } from "node:crypto";
import type { Clock } from "../../clock";
import { isVirtualClock, type Alarms } from "../alarms";
import { findRegistration, type Registration } from "../core";
import { invoke, returnValueOf, stringTypedData, triggerTypeOf, typedDataToJsonText, type BindingServices, type HostLog } from "../invoke";
import { runEpisode, type OrchestratorStateJson } from "./episode";
import { event, EventType, iso, type FailureDetailsPayload, type HistoryEvent } from "./history";
import { replay, type ActionJson, type Decision } from "./replay";
import { InstanceStore, TERMINAL_STATUSES, toStatus, type InstanceRecord, type OrchestrationStatus, type ParentLink, type RuntimeStatus } from "./store";

export interface DurableRuntimeOptions {
  clock: Clock;
  alarms: Alarms;
  log: HostLog;
  taskHubName: string;
  /** Timers longer than this are split (the extension's MaximumShortTimerDuration; Azure Storage: 6 days). */
  maximumShortTimerMs?: number;
  /** Length of the pieces of a split timer (LongRunningTimerIntervalDuration; Azure Storage: 3 days). */
  longRunningTimerIntervalMs?: number;
  maxConcurrentActivities?: number;
  maxConcurrentOrchestrations?: number;
  /** Other background work (Service Bus deliveries, timer-trigger runs) runUntilIdle also waits for. */
  otherWork?: { isIdle(): boolean; settle(): Promise<void> };
  /** Input bindings for activities (the durable client, as the extension gives activities that declare it). */
  bindings?: BindingServices;
}

export interface WaitForOptions {
  /** On a VirtualClock, move the clock to the next durable timer whenever idle (default true). */
  autoAdvance?: boolean;
  /** Most simulated time waitFor may move the clock (default 30 days). */
  maxSimulatedMs?: number;
  /** Real-time limit when waiting for others to make progress (default 30 s). */
  timeoutMs?: number;
}

export class InstanceAlreadyExistsError extends Error {
  constructor(
    readonly instanceId: string,
    readonly status: RuntimeStatus,
  ) {
    super(`An Orchestration instance with the status ${status} already exists.`);
    this.name = "OrchestrationAlreadyExistsException";
  }
}

export class FunctionNotFoundError extends Error {
  constructor(name: string, kind: string) {
    super(`The function '${name}' doesn't exist, is disabled, or is not an ${kind} function.`);
    this.name = "ArgumentException";
  }
}

const DAY = 24 * 60 * 60 * 1000;
const DEFAULT_TERMINAL: readonly string[] = TERMINAL_STATUSES;

interface ActivityWorkItem {
  instanceId: string;
  executionId: string;
  taskScheduledId: number;
  name: string;
  input: string | undefined;
}

function isOfType(registration: Registration | undefined, type: string): registration is Registration {
  return registration !== undefined && triggerTypeOf(registration).toLowerCase() === type.toLowerCase();
}

/**
 * Details of a failed activity, what the SDK appends to the error message: name, message, stack and the
 * error's own primitive properties (code, statusCode, ...). Object-valued properties are left out: an
 * SDK error's request/response would put headers (tokens) into the history.
 */
function errorDetails(error: Error): string {
  const details: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    if (key in details) continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") details[key] = value;
  }
  try {
    return JSON.stringify(details);
  } catch {
    return JSON.stringify({ name: error.name, message: error.message, stack: error.stack });
  }
}

/** DurableOrchestrationContext.SetCustomStatus's limit, in KB of UTF-16. */
export const MAX_CUSTOM_STATUS_KB = 16;

/**
 * The ArgumentException message of MessagePayloadDataConverter.Serialize(status, 16) when the custom
 * status is too large, else undefined. Its test: `(int)(UTF-16 bytes / 1024.0) > 16`, i.e. whole KB, so
 * 17,408 bytes (8,704 UTF-16 code units of JSON) is the smallest size that fails. The text measured is
 * JSON.stringify's, where the extension measures Newtonsoft's re-serialization of the same value.
 */
export function customStatusSizeError(customStatus: unknown): string | undefined {
  if (customStatus === null || customStatus === undefined) return undefined;
  let json: string;
  try {
    json = JSON.stringify(customStatus);
  } catch {
    return undefined; // not serializable here: the SDK could not have sent it either
  }
  const kb = Math.trunc((json.length * 2) / 1024);
  if (kb <= MAX_CUSTOM_STATUS_KB) return undefined;
  return `The UTF-16 size of the JSON-serialized payload must not exceed ${MAX_CUSTOM_STATUS_KB.toLocaleString("en-US")} KB. The current payload size is ${kb.toLocaleString("en-US")} KB.`;
}

/** The SDK puts a FailureDetails JSON into the error message when an ExceptionPropertiesProvider is registered. */
function failureDetailsFromMessage(message: string): FailureDetailsPayload | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(message) as Record<string, unknown>;
    if (typeof parsed.errorType !== "string" || typeof parsed.errorMessage !== "string") return undefined;
    const payload: FailureDetailsPayload = { ErrorType: parsed.errorType, ErrorMessage: parsed.errorMessage, IsNonRetriable: parsed.isNonRetriable === true };
    if (typeof parsed.stackTrace === "string") payload.StackTrace = parsed.stackTrace;
    if (parsed.properties && typeof parsed.properties === "object") payload.Properties = parsed.properties as Record<string, unknown>;
    return payload;
  } catch {
    return undefined;
  }
}

export interface ReplayStats {
  readonly instanceId: string;
  readonly name: string;
  readonly episodes: number;
  readonly executions: number;
  readonly eventsReplayed: number;
  readonly largestHistory: number;
}

export class DurableRuntime {
  readonly store = new InstanceStore();
  private readonly clock: Clock;
  private readonly alarms: Alarms;
  private readonly log: HostLog;
  readonly taskHubName: string;
  readonly maximumShortTimerMs: number;
  readonly longRunningTimerIntervalMs: number;
  private readonly maxActivities: number;
  private readonly maxOrchestrations: number;
  private readonly otherWork: DurableRuntimeOptions["otherWork"];
  private readonly bindings: BindingServices | undefined;

  private readonly runnable = new Set<string>();
  private readonly runningEpisodes = new Set<string>();
  private readonly activityQueue: ActivityWorkItem[] = [];
  private runningActivities = 0;
  private kickScheduled = false;
  private changeWaiters: Array<() => void> = [];
  private closed = false;

  constructor(options: DurableRuntimeOptions) {
    this.clock = options.clock;
    this.alarms = options.alarms;
    this.log = options.log;
    this.taskHubName = options.taskHubName;
    this.bindings = options.bindings;
    this.maximumShortTimerMs = options.maximumShortTimerMs ?? 6 * DAY;
    this.longRunningTimerIntervalMs = options.longRunningTimerIntervalMs ?? 3 * DAY;
    this.maxActivities = options.maxConcurrentActivities ?? 10;
    this.maxOrchestrations = options.maxConcurrentOrchestrations ?? 10;
    this.otherWork = options.otherWork;
  }

  // ---------------------------------------------------------------- client operations

  /** Starts an orchestration; `inputJson` is the input as JSON text. Refuses (409 in the HTTP API) while the id is Pending/Running. */
  startNew(name: string, instanceId: string | undefined, inputJson: string | undefined, parent?: ParentLink): string {
    const registration = findRegistration(name);
    if (!isOfType(registration, "orchestrationTrigger")) throw new FunctionNotFoundError(name, "orchestrator");
    const id = instanceId || randomUUID().replace(/-/g, "");
    const existing = this.store.get(id);
    if (existing && !TERMINAL_STATUSES.includes(existing.status)) throw new InstanceAlreadyExistsError(id, existing.status);
    if (existing) this.disarmTimers(existing);
    const now = this.clock.now();
    const executionId = randomUUID().replace(/-/g, "");
    const rec: InstanceRecord = {
      instanceId: id,
      name: registration.metadata.name,
      executionId,
      input: inputJson,
      status: "Pending",
      output: undefined,
      customStatus: undefined,
      createdTime: now,
      lastUpdatedTime: now,
      history: [],
      pending: [this.executionStarted(registration.metadata.name, id, executionId, inputJson, parent, now)],
      parent,
      timers: new Map(),
      failure: undefined,
      episodes: 0,
      executions: 1,
      eventsReplayed: 0,
      largestHistory: 0,
    };
    this.store.set(rec);
    this.log(`[durable] ${rec.name} '${id}' scheduled (Pending)`);
    this.markRunnable(id);
    return id;
  }

  /** "ok" when queued; "notFound"; "gone" when the instance has finished. */
  raiseEvent(instanceId: string, eventName: string, inputJson: string | undefined): "ok" | "notFound" | "gone" {
    const rec = this.store.get(instanceId);
    if (!rec) return "notFound";
    if (TERMINAL_STATUSES.includes(rec.status)) return "gone";
    rec.pending.push(event(EventType.EventRaised, this.clock.now(), { Name: eventName, Input: inputJson ?? null }));
    this.markRunnable(instanceId);
    return "ok";
  }

  terminate(instanceId: string, reason: string | undefined): "ok" | "notFound" | "gone" {
    const rec = this.store.get(instanceId);
    if (!rec) return "notFound";
    if (TERMINAL_STATUSES.includes(rec.status)) return "gone";
    rec.pending.push(event(EventType.ExecutionTerminated, this.clock.now(), { Input: reason === undefined ? null : JSON.stringify(reason) }));
    this.markRunnable(instanceId);
    return "ok";
  }

  /** Deletes a finished instance: "ok", "notFound", or "notTerminal". */
  purge(instanceId: string): "ok" | "notFound" | "notTerminal" {
    const rec = this.store.get(instanceId);
    if (!rec) return "notFound";
    if (!TERMINAL_STATUSES.includes(rec.status)) return "notTerminal";
    this.disarmTimers(rec);
    this.store.delete(instanceId);
    return "ok";
  }

  getStatus(instanceId: string): OrchestrationStatus | undefined {
    const rec = this.store.get(instanceId);
    return rec ? toStatus(rec) : undefined;
  }

  listInstances(): OrchestrationStatus[] {
    return this.store.all().map(toStatus);
  }

  /** Every instance's episodes, executions, events replayed and largest history (benchmarks). */
  replayStats(): ReplayStats[] {
    return this.store.all().map((r) => ({
      instanceId: r.instanceId,
      name: r.name,
      episodes: r.episodes,
      executions: r.executions,
      eventsReplayed: r.eventsReplayed,
      largestHistory: Math.max(r.largestHistory, r.history.length),
    }));
  }

  history(instanceId: string): HistoryEvent[] {
    const rec = this.store.get(instanceId);
    // Committed events have all been played by an episode.
    return rec ? rec.history.map((e) => ({ ...e, IsPlayed: true })) : [];
  }

  record(instanceId: string): InstanceRecord | undefined {
    return this.store.get(instanceId);
  }

  nextTimerAt(): number | undefined {
    return this.alarms.next("durable");
  }

  isIdle(): boolean {
    return (
      !this.kickScheduled && this.runningEpisodes.size === 0 && this.runnable.size === 0 && this.runningActivities === 0 && this.activityQueue.length === 0
    );
  }

  /** Waits until no episode, activity or other background work is running or runnable. */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      while (!this.isIdle()) await this.nextChange();
      const other = this.otherWork;
      if (other && !other.isIdle()) {
        await other.settle();
        continue;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.isIdle() && (!other || other.isIdle())) return;
    }
  }

  async waitFor(instanceId: string, statuses: readonly string[] = DEFAULT_TERMINAL, options: WaitForOptions = {}): Promise<OrchestrationStatus> {
    const autoAdvance = options.autoAdvance ?? true;
    const maxSimulatedMs = options.maxSimulatedMs ?? 30 * DAY;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const startedAt = this.clock.now();
    const realDeadline = Date.now() + timeoutMs;
    for (;;) {
      await this.runUntilIdle();
      const status = this.getStatus(instanceId);
      if (status && statuses.includes(status.runtimeStatus)) return status;
      const virtual = isVirtualClock(this.clock) && autoAdvance;
      if (virtual) {
        if (!status) throw new Error(`waitFor: no orchestration instance '${instanceId}'`);
        const next = this.nextTimerAt();
        if (next === undefined) {
          throw new Error(
            `waitFor: instance '${instanceId}' is idle in status ${status.runtimeStatus} with no durable timer pending (waiting for [${statuses.join(", ")}]); ` +
              `it waits for something nobody will send (an external event, an activity result) or is stuck`,
          );
        }
        if (next - startedAt > maxSimulatedMs) {
          throw new Error(`waitFor: instance '${instanceId}' still ${status.runtimeStatus} after ${maxSimulatedMs} simulated ms (next timer at ${iso(next)})`);
        }
        if (isVirtualClock(this.clock) && next > this.clock.now()) this.clock.setTime(next);
        else this.alarms.fireDue();
        continue;
      }
      const remaining = realDeadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `waitFor: instance '${instanceId}' is ${status?.runtimeStatus ?? "unknown"} after ${timeoutMs} real ms (waiting for [${statuses.join(", ")}])`,
        );
      }
      await Promise.race([this.nextChange(), new Promise<void>((resolve) => setTimeout(resolve, Math.min(remaining, 250)))]);
    }
  }

  close(): void {
    this.closed = true;
    for (const rec of this.store.all()) this.disarmTimers(rec);
    this.notifyChange();
  }

  // ---------------------------------------------------------------- scheduling

  private nextChange(): Promise<void> {
    return new Promise<void>((resolve) => this.changeWaiters.push(resolve));
  }

  private notifyChange(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  private markRunnable(instanceId: string): void {
    this.runnable.add(instanceId);
    this.kick();
  }

  private kick(): void {
    if (this.kickScheduled || this.closed) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.dispatch();
      this.notifyChange();
    });
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const instanceId of [...this.runnable]) {
      if (this.runningEpisodes.size >= this.maxOrchestrations) break;
      if (this.runningEpisodes.has(instanceId)) continue;
      this.runnable.delete(instanceId);
      const rec = this.store.get(instanceId);
      if (!rec || rec.pending.length === 0) continue;
      this.runningEpisodes.add(instanceId);
      void this.runEpisodeSafely(rec).finally(() => {
        this.runningEpisodes.delete(instanceId);
        if (rec.pending.length > 0 && this.store.get(instanceId) === rec) this.runnable.add(instanceId);
        this.kick();
        this.notifyChange();
      });
    }
    while (this.runningActivities < this.maxActivities && this.activityQueue.length > 0) {
      const item = this.activityQueue.shift();
      if (!item) break;
      this.runningActivities++;
      void this.runActivity(item).finally(() => {
        this.runningActivities--;
        this.kick();
        this.notifyChange();
      });
    }
  }

  // ---------------------------------------------------------------- episodes

  private executionStarted(
    name: string,
    instanceId: string,
    executionId: string,
    input: string | undefined,
    parent: ParentLink | undefined,
    now: number,
  ): HistoryEvent {
    const fields: Partial<HistoryEvent> = { Name: name, Input: input ?? null, OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId } };
    if (parent)
      fields.ParentInstance = { Name: parent.name, InstanceId: parent.instanceId, ExecutionId: parent.executionId, TaskScheduleId: parent.taskScheduledId };
    return event(EventType.ExecutionStarted, now, fields);
  }

  private async runEpisodeSafely(rec: InstanceRecord): Promise<void> {
    try {
      await this.episode(rec);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.log(`[durable] internal error in episode of '${rec.instanceId}': ${message}`);
      this.finishFailed(
        rec,
        `Local host error while running the orchestration: ${err instanceof Error ? err.message : String(err)}`,
        message,
        false,
        this.clock.now(),
      );
    }
  }

  private async episode(rec: InstanceRecord): Promise<void> {
    if (TERMINAL_STATUSES.includes(rec.status)) {
      rec.pending = [];
      return;
    }
    const messages = rec.pending.splice(0);
    const now = this.clock.now();
    const executionId = rec.executionId;

    const terminated = messages.find((m) => m.EventType === EventType.ExecutionTerminated);
    if (terminated) {
      rec.history.push(event(EventType.OrchestratorStarted, now), { ...terminated, IsPlayed: false }, event(EventType.OrchestratorCompleted, now));
      rec.output = terminated.Input ?? undefined;
      rec.history.push(event(EventType.ExecutionCompleted, now, { OrchestrationStatus: "Terminated", Result: rec.output ?? null }));
      this.setStatus(rec, "Terminated", now);
      this.disarmTimers(rec);
      this.notifyParent(rec, false, `Orchestration terminated: ${String(terminated.Input ?? "")}`, "");
      return;
    }

    const registration = findRegistration(rec.name);
    if (!isOfType(registration, "orchestrationTrigger")) {
      this.finishFailed(rec, `The function '${rec.name}' doesn't exist, is disabled, or is not an orchestrator function.`, "", false, now);
      return;
    }

    const newEvents: HistoryEvent[] = [event(EventType.OrchestratorStarted, now), ...messages.map((m) => ({ ...m, IsPlayed: false }))];
    const past = rec.history.map((e) => ({ ...e, IsPlayed: true }));
    const sdkHistory = [...past, ...newEvents];
    rec.episodes++;
    rec.eventsReplayed += past.length;
    rec.largestHistory = Math.max(rec.largestHistory, sdkHistory.length);
    const outcome = await runEpisode(
      registration,
      {
        history: sdkHistory.map((e) => ({ ...e })),
        input: rec.input,
        instanceId: rec.instanceId,
        parentInstanceId: rec.parent?.instanceId,
        isReplaying: past.length > 0,
        maximumShortTimerMs: this.maximumShortTimerMs,
        longRunningTimerIntervalMs: this.longRunningTimerIntervalMs,
      },
      this.log,
    );
    // The instance may have been restarted, purged or terminated while the episode ran.
    if (this.store.get(rec.instanceId) !== rec || rec.executionId !== executionId || TERMINAL_STATUSES.includes(rec.status)) return;

    const state: OrchestratorStateJson | undefined = outcome.state;
    if (state && state.customStatus !== undefined) {
      // The extension applies the custom status first (DurableOrchestrationContext.SetCustomStatus), and
      // that throws when it is over 16 KB: the episode goes no further, the status keeps its old value.
      const tooLarge = customStatusSizeError(state.customStatus);
      if (tooLarge) {
        this.commit(rec, newEvents, [], now);
        // Returned state: the shim wraps the exception as the orchestrator's failure. Thrown state: the
        // ArgumentException escapes the shim unwrapped (and the orchestrator's own error is lost).
        const message = outcome.kind === "failed" ? tooLarge : `Orchestrator function '${rec.name}' failed: ${tooLarge}`;
        this.finishFailed(rec, message, JSON.stringify({ errorType: "System.ArgumentException", message: tooLarge }), false, now);
        return;
      }
      rec.customStatus = state.customStatus;
    }
    const outer = state?.actions ?? [];
    if (outer.length > 1) {
      this.commit(rec, newEvents, [], now);
      this.finishFailed(
        rec,
        `With OOProc schema V1 the local host cannot replay the actions (got ${outer.length} action sets): use durable-functions 3.x.`,
        "",
        false,
        now,
      );
      return;
    }
    const actions: ActionJson[] = outer[0] ?? [];
    const result = replay(sdkHistory, actions, {
      instanceId: rec.instanceId,
      executionId: rec.executionId,
      parentInstanceId: rec.parent?.instanceId,
      maximumShortTimerMs: this.maximumShortTimerMs,
      longRunningTimerIntervalMs: this.longRunningTimerIntervalMs,
      functionExists: (name, kind) => isOfType(findRegistration(name), kind === "activity" ? "activityTrigger" : "orchestrationTrigger"),
    });

    for (const warning of result.warnings) this.log(`[durable] ${rec.name} '${rec.instanceId}': warning: ${warning}`);
    if (result.failure) {
      this.commit(rec, newEvents, [], now);
      const details = result.failure.nonDeterministic
        ? JSON.stringify({ errorType: "NonDeterministicOrchestrationException", message: result.failure.message })
        : "";
      this.finishFailed(rec, result.failure.message, details, result.failure.nonDeterministic, now);
      if (result.failure.nonDeterministic) this.log(`[durable] ${rec.name} '${rec.instanceId}': ${result.failure.message}`);
      return;
    }
    // A timer the orchestrator canceled still fires, as DTFx's timer message does (the extension only
    // cancels the .NET task): its TimerFired lands in the history and replay ignores it.

    if (outcome.kind === "failed") {
      this.commit(rec, newEvents, [], now);
      const message = `Orchestrator function '${rec.name}' failed: ${outcome.message}`;
      this.finishFailed(rec, message, `Message: ${outcome.message}, StackTrace: ${outcome.stack ?? ""}`, false, now);
      return;
    }

    if (outcome.state.isDone) {
      this.commit(rec, newEvents, [], now);
      if (result.continueAsNew) {
        this.continueAsNew(rec, result.continueAsNew.input, now);
        return;
      }
      const output = outcome.state.output === undefined ? undefined : JSON.stringify(outcome.state.output);
      rec.output = output;
      rec.history.push(event(EventType.ExecutionCompleted, now, { OrchestrationStatus: "Completed", Result: output ?? null }));
      this.setStatus(rec, "Completed", now);
      this.disarmTimers(rec);
      this.log(`[durable] ${rec.name} '${rec.instanceId}' Completed`);
      this.notifyParent(rec, true, output, undefined);
      return;
    }

    this.commit(rec, newEvents, result.decisions, now);
    if (rec.status !== "Running") this.setStatus(rec, "Running", now);
    else rec.lastUpdatedTime = now;
    for (const decision of result.decisions) this.dispatchDecision(rec, decision);
  }

  private commit(rec: InstanceRecord, newEvents: HistoryEvent[], decisions: Decision[], now: number): void {
    rec.history.push(...newEvents);
    for (const d of decisions) {
      if (d.kind === "activity") rec.history.push(event(EventType.TaskScheduled, now, { Name: d.name, Input: d.input ?? null }, d.id));
      else if (d.kind === "timer") rec.history.push(event(EventType.TimerCreated, now, { FireAt: iso(d.fireAt) }, d.id));
      else rec.history.push(event(EventType.SubOrchestrationInstanceCreated, now, { Name: d.name, InstanceId: d.instanceId, Input: d.input ?? null }, d.id));
    }
    rec.history.push(event(EventType.OrchestratorCompleted, now));
  }

  private dispatchDecision(rec: InstanceRecord, d: Decision): void {
    if (d.kind === "activity") {
      this.activityQueue.push({ instanceId: rec.instanceId, executionId: rec.executionId, taskScheduledId: d.id, name: d.name, input: d.input });
      this.kick();
      return;
    }
    if (d.kind === "timer") {
      const executionId = rec.executionId;
      const alarm = this.alarms.schedule(d.fireAt, "durable", () => {
        rec.timers.delete(d.id);
        if (this.store.get(rec.instanceId) !== rec || rec.executionId !== executionId || TERMINAL_STATUSES.includes(rec.status)) return;
        rec.pending.push(event(EventType.TimerFired, this.clock.now(), { TimerId: d.id, FireAt: iso(d.fireAt) }));
        this.markRunnable(rec.instanceId);
      });
      rec.timers.set(d.id, alarm);
      return;
    }
    const parent: ParentLink = { instanceId: rec.instanceId, executionId: rec.executionId, name: rec.name, taskScheduledId: d.id };
    try {
      this.startNew(d.name, d.instanceId, d.input, parent);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      rec.pending.push(event(EventType.SubOrchestrationInstanceFailed, this.clock.now(), { TaskScheduledId: d.id, Reason: message, Details: "" }));
      this.markRunnable(rec.instanceId);
    }
  }

  private continueAsNew(rec: InstanceRecord, input: string | undefined, now: number): void {
    rec.history.push(event(EventType.ExecutionCompleted, now, { OrchestrationStatus: "ContinuedAsNew", Result: input ?? null }));
    this.disarmTimers(rec);
    this.setStatus(rec, "ContinuedAsNew", now);
    const executionId = randomUUID().replace(/-/g, "");
    rec.executionId = executionId;
    rec.input = input;
    rec.output = undefined;
    rec.history = [];
    rec.executions++;
    // Unprocessed messages of the old execution are dropped (continueAsNew without preserveUnprocessedEvents).
    rec.pending = [this.executionStarted(rec.name, rec.instanceId, executionId, input, rec.parent, now)];
    this.log(`[durable] ${rec.name} '${rec.instanceId}' ContinuedAsNew (execution ${rec.executions})`);
    this.markRunnable(rec.instanceId);
  }

  private finishFailed(rec: InstanceRecord, message: string, details: string, nonDeterministic: boolean, now: number): void {
    rec.output = JSON.stringify(message);
    rec.failure = { message, details, nonDeterministic };
    rec.history.push(event(EventType.ExecutionCompleted, now, { OrchestrationStatus: "Failed", Result: rec.output, Reason: message, Details: details }));
    this.setStatus(rec, "Failed", now);
    this.disarmTimers(rec);
    this.log(`[durable] ${rec.name} '${rec.instanceId}' Failed: ${message}`);
    this.notifyParent(rec, false, message, details);
  }

  private setStatus(rec: InstanceRecord, status: RuntimeStatus, now: number): void {
    rec.status = status;
    rec.lastUpdatedTime = now;
    this.notifyChange();
  }

  private disarmTimers(rec: InstanceRecord): void {
    for (const alarm of rec.timers.values()) alarm.cancel();
    rec.timers.clear();
  }

  private notifyParent(rec: InstanceRecord, ok: boolean, resultOrReason: string | undefined, details: string | undefined): void {
    const link = rec.parent;
    if (!link) return;
    const parent = this.store.get(link.instanceId);
    if (!parent || parent.executionId !== link.executionId || TERMINAL_STATUSES.includes(parent.status)) return;
    const now = this.clock.now();
    parent.pending.push(
      ok
        ? event(EventType.SubOrchestrationInstanceCompleted, now, { TaskScheduledId: link.taskScheduledId, Result: resultOrReason ?? null })
        : event(EventType.SubOrchestrationInstanceFailed, now, { TaskScheduledId: link.taskScheduledId, Reason: resultOrReason ?? "", Details: details ?? "" }),
    );
    this.markRunnable(parent.instanceId);
  }

  // ---------------------------------------------------------------- activities

  private async runActivity(item: ActivityWorkItem): Promise<void> {
    const registration = findRegistration(item.name);
    let completion: HistoryEvent;
    if (!isOfType(registration, "activityTrigger")) {
      const message = `The function '${item.name}' doesn't exist, is disabled, or is not an activity function.`;
      completion = event(EventType.TaskFailed, this.clock.now(), { TaskScheduledId: item.taskScheduledId, Reason: message, Details: "" });
    } else {
      const outcome = await invoke(registration, {
        trigger: item.input === undefined ? undefined : stringTypedData(item.input),
        triggerMetadata: { instanceId: stringTypedData(item.instanceId) },
        log: this.log,
        ...(this.bindings ? { bindings: this.bindings } : {}),
      });
      const now = this.clock.now();
      if (outcome.ok) {
        const result = typedDataToJsonText(returnValueOf(outcome.response));
        completion = event(EventType.TaskCompleted, now, { TaskScheduledId: item.taskScheduledId, Result: result ?? null });
      } else {
        const error = outcome.error;
        const fields: Partial<HistoryEvent> = {
          TaskScheduledId: item.taskScheduledId,
          Reason: `Activity function '${item.name}' failed: ${error.message}`,
          Details: errorDetails(error),
        };
        const failureDetails = failureDetailsFromMessage(error.message);
        if (failureDetails) fields.FailureDetails = failureDetails;
        completion = event(EventType.TaskFailed, now, fields);
        this.log(`[durable] activity ${item.name} (instance '${item.instanceId}', task ${item.taskScheduledId}) failed: ${error.message}`);
      }
    }
    const rec = this.store.get(item.instanceId);
    if (!rec || rec.executionId !== item.executionId || TERMINAL_STATUSES.includes(rec.status)) return;
    rec.pending.push(completion);
    this.markRunnable(rec.instanceId);
  }
}
