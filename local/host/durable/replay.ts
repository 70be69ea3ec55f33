// The host half of an orchestration episode: what the Durable extension's OutOfProcOrchestrationShim and
// DurableTask.Core do with the OrchestratorState the JS SDK returns.
//
// The extension replays the SDK's cumulative action list through a real DTFx orchestration context
// (ProcessAsyncActionsV2: one action after the other, each awaited, exceptions swallowed; WhenAll/WhenAny
// as Task.WhenAll/Task.WhenAny), against the instance's history. That context numbers every scheduled
// task, timer and sub-orchestration with `idCounter++` in scheduling order, runs retries host-side
// (RetryInterceptor: attempt, then a retry timer after every failed attempt; after the last one a timer
// due at once), splits long timers (DurableOrchestrationContext.CreateTimer), and checks each
// TaskScheduled / TimerCreated / SubOrchestrationInstanceCreated in history against what the replay
// scheduled with that id: a different type or name is a non-deterministic orchestration. Whatever the
// replay scheduled that history does not have yet are the episode's new decisions.
//
// This module reproduces that walk without .NET: a small single-threaded task model whose continuations
// run synchronously as history events complete them.
import { EventType, type HistoryEvent } from "./history";

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** An action as the SDK serializes it (OrchestratorState.actions). */
export interface ActionJson {
  actionType: number;
  functionName?: string;
  input?: unknown;
  compoundActions?: ActionJson[];
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  instanceId?: string;
  retryOptions?: RetryOptionsJson;
}

export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export type Decision =
  | { kind: "activity"; id: number; name: string; input: string | undefined }
  | { kind: "timer"; id: number; fireAt: number; canceled: boolean }
  | { kind: "subOrchestration"; id: number; name: string; instanceId: string; input: string | undefined };

export interface ReplayConfig {
  instanceId: string;
  executionId: string;
  parentInstanceId?: string;
  maximumShortTimerMs: number;
  longRunningTimerIntervalMs: number;
  /** Whether an activity / orchestrator function of that name is registered (the extension checks at scheduling). */
  functionExists(name: string, kind: "activity" | "orchestrator"): boolean;
}

export interface ReplayResult {
  /** Scheduled by this replay but not yet in history, in id order. */
  decisions: Decision[];
  continueAsNew?: { input: string | undefined };
  /** Set when the replay itself failed: the instance fails with this message. */
  failure?: { message: string; nonDeterministic: boolean };
  /** Things the real host does that will leave the orchestration stuck (logged by the runtime). */
  warnings: string[];
}

export class NonDeterministicOrchestrationError extends Error {
  constructor(
    readonly eventId: number,
    detail: string,
  ) {
    super(`Non-Deterministic workflow detected: ${detail}`);
    this.name = "NonDeterministicOrchestrationException";
  }
}

class ReplayActionError extends Error {}

/** A minimal awaitable: completes once, ok or not; continuations run synchronously, in registration order. */
class HostTask {
  done = false;
  ok = true;
  private readonly continuations: Array<() => void> = [];

  then(continuation: () => void): void {
    if (this.done) continuation();
    else this.continuations.push(continuation);
  }

  complete(ok: boolean): void {
    if (this.done) return;
    this.done = true;
    this.ok = ok;
    for (const c of this.continuations.splice(0)) c();
  }

  static completed(ok = true): HostTask {
    const t = new HostTask();
    t.complete(ok);
    return t;
  }
}

/** Input of an activity / continue-as-new action: the SDK already JSON-encodes strings (Utils.processInput). */
export function processedInputJson(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  if (typeof input === "string") return input;
  return JSON.stringify(input);
}

/** Input of a sub-orchestration action: the raw value. */
export function rawInputJson(input: unknown): string | undefined {
  return input === undefined ? undefined : JSON.stringify(input);
}

type OpenKind = "activity" | "timer" | "subOrchestration";

export function replay(history: readonly HistoryEvent[], actions: readonly ActionJson[], config: ReplayConfig): ReplayResult {
  let idCounter = 0;
  let now = Number.NEGATIVE_INFINITY;
  const open = new Map<number, HostTask>();
  const unconfirmed = new Map<number, Decision>();
  const eventWaiters = new Map<string, HostTask[]>();
  const bufferedEvents = new Map<string, number>();
  let continueAsNew: { input: string | undefined } | undefined;
  let cursor = 0;
  let started = false;
  const warnings: string[] = [];

  const decisionKind = (d: Decision): OpenKind => d.kind;

  const scheduleActivity = (name: string, input: string | undefined): HostTask => {
    if (!config.functionExists(name, "activity")) {
      throw new ReplayActionError(
        `The function '${name}' doesn't exist, is disabled, or is not an activity function. Additional info: the app has no activity named '${name}' registered.`,
      );
    }
    const id = idCounter++;
    const task = new HostTask();
    open.set(id, task);
    unconfirmed.set(id, { kind: "activity", id, name, input });
    return task;
  };

  const scheduleTimerPiece = (fireAt: number, canceled: boolean): HostTask => {
    const id = idCounter++;
    const task = new HostTask();
    unconfirmed.set(id, { kind: "timer", id, fireAt, canceled });
    if (canceled) {
      task.complete(false); // TaskCanceledException: the shim swallows it
    } else {
      open.set(id, task);
    }
    return task;
  };

  const scheduleSubOrchestration = (name: string, instanceId: string | undefined, input: string | undefined): HostTask => {
    if (!config.functionExists(name, "orchestrator")) {
      throw new ReplayActionError(
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: the app has no orchestrator named '${name}' registered.`,
      );
    }
    if (instanceId && (instanceId.toLowerCase() === config.instanceId.toLowerCase() || instanceId.toLowerCase() === config.parentInstanceId?.toLowerCase())) {
      throw new ReplayActionError("The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration.");
    }
    if (instanceId?.startsWith("@")) throw new ReplayActionError("Orchestration instance ids must not start with @");
    const id = idCounter++;
    const task = new HostTask();
    open.set(id, task);
    unconfirmed.set(id, { kind: "subOrchestration", id, name, instanceId: instanceId || `${config.executionId}:${id}`, input });
    return task;
  };

  // DurableOrchestrationContext.CreateTimer: long timers become pieces of longRunningTimerInterval.
  const durableTimer = (fireAt: number, canceled: boolean): HostTask => {
    if (!(fireAt - now > config.maximumShortTimerMs)) return scheduleTimerPiece(fireAt, canceled);
    const outer = new HostTask();
    const piece = (pieceFireAt: number): void => {
      const t = scheduleTimerPiece(pieceFireAt, canceled);
      t.then(() => {
        if (!t.ok) return outer.complete(false);
        const remaining = fireAt - now;
        if (remaining <= 0) outer.complete(true);
        else if (remaining < config.longRunningTimerIntervalMs) piece(now + remaining);
        else piece(now + config.longRunningTimerIntervalMs);
      });
    };
    piece(now + config.longRunningTimerIntervalMs);
    return outer;
  };

  // DurableTask.Core RetryInterceptor.
  const withRetry = (options: RetryOptionsJson | undefined, attempt: () => HostTask): HostTask => {
    if (!options || !(options.firstRetryIntervalInMilliseconds > 0)) {
      throw new ReplayActionError("Invalid retryOptions: firstRetryIntervalInMilliseconds must be greater than 0.");
    }
    const maxAttempts = options.maxNumberOfAttempts;
    const backoff = options.backoffCoefficient ?? 1;
    const maxInterval = options.maxRetryIntervalInMilliseconds ?? Number.POSITIVE_INFINITY;
    const timeout = options.retryTimeoutInMilliseconds ?? Number.POSITIVE_INFINITY;
    const firstAttempt = now;
    const outer = new HostTask();
    const run = (retryCount: number): void => {
      const t = attempt();
      t.then(() => {
        if (t.ok) return outer.complete(true);
        if (retryCount + 1 >= maxAttempts) {
          // After the last attempt DTFx still creates the timer older versions created ("Dummy timer
          // for back-compat"), due at once: the failure reaches the orchestrator without another delay.
          const dummy = scheduleTimerPiece(now, false);
          dummy.then(() => outer.complete(false));
          return;
        }
        let delay = 0;
        if (now < firstAttempt + timeout) {
          const next = options.firstRetryIntervalInMilliseconds * Math.pow(backoff, retryCount);
          delay = next < maxInterval ? next : maxInterval;
        }
        if (!(delay > 0)) {
          warnings.push(
            "retryTimeoutInMilliseconds expired before the last attempt: like the real host, no retry timer is created, " +
              "but durable-functions 3.x waits for one after every failed attempt, so the orchestration will not resume (avoid retryTimeoutInMilliseconds)",
          );
          return outer.complete(false);
        }
        const timer = scheduleTimerPiece(now + Math.round(delay), false);
        timer.then(() => run(retryCount + 1));
      });
    };
    if (maxAttempts <= 0) outer.complete(false);
    else run(0);
    return outer;
  };

  const waitForEvent = (name: string): HostTask => {
    const key = name.toLowerCase();
    const buffered = bufferedEvents.get(key) ?? 0;
    if (buffered > 0) {
      bufferedEvents.set(key, buffered - 1);
      return HostTask.completed();
    }
    const task = new HostTask();
    const list = eventWaiters.get(key) ?? [];
    list.push(task);
    eventWaiters.set(key, list);
    return task;
  };

  const invokeAction = (action: ActionJson): HostTask => {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return scheduleActivity(String(action.functionName), processedInputJson(action.input));
      case ActionType.CallActivityWithRetry: {
        const name = String(action.functionName);
        const input = processedInputJson(action.input);
        return withRetry(action.retryOptions, () => scheduleActivity(name, input));
      }
      case ActionType.CallSubOrchestrator:
        return scheduleSubOrchestration(String(action.functionName), action.instanceId, rawInputJson(action.input));
      case ActionType.CallSubOrchestratorWithRetry: {
        const name = String(action.functionName);
        const input = rawInputJson(action.input);
        return withRetry(action.retryOptions, () => scheduleSubOrchestration(name, action.instanceId, input));
      }
      case ActionType.ContinueAsNew:
        continueAsNew = { input: processedInputJson(action.input) };
        return HostTask.completed();
      case ActionType.CreateTimer: {
        const fireAt = Date.parse(String(action.fireAt));
        if (Number.isNaN(fireAt)) throw new ReplayActionError(`CreateTimer action has an invalid fireAt: ${String(action.fireAt)}`);
        return durableTimer(fireAt, action.isCanceled === true);
      }
      case ActionType.WaitForExternalEvent:
        return waitForEvent(String(action.externalEventName));
      case ActionType.WhenAll: {
        const children = (action.compoundActions ?? []).map(invokeAction);
        const all = new HostTask();
        let remaining = children.length;
        if (remaining === 0) all.complete(true);
        for (const child of children) {
          child.then(() => {
            remaining--;
            if (remaining === 0) all.complete(children.every((c) => c.ok));
          });
        }
        return all;
      }
      case ActionType.WhenAny: {
        const children = (action.compoundActions ?? []).map(invokeAction);
        const any = new HostTask();
        for (const child of children) child.then(() => any.complete(true));
        return any;
      }
      case ActionType.CallEntity:
      case ActionType.SignalEntity:
      case ActionType.LockEntities:
      case ActionType.ReleaseEntities:
        throw new ReplayActionError("Durable entities (callEntity, signalEntity, lock) are not supported by the local host.");
      case ActionType.CallHttp:
        throw new ReplayActionError("callHttp is not supported by the local host.");
      default:
        throw new ReplayActionError(`Received an unexpected action type from the out-of-proc function: '${action.actionType}'.`);
    }
  };

  // ProcessAsyncActionsV2: each action awaited in turn; a failed one does not stop the walk.
  const advance = (): void => {
    while (cursor < actions.length) {
      const action = actions[cursor];
      cursor++;
      if (action === undefined) continue;
      const task = invokeAction(action);
      if (!task.done) {
        task.then(advance);
        return;
      }
    }
  };

  const describe = (d: Decision): string => {
    if (d.kind === "activity") return `an activity task named '${d.name}'`;
    if (d.kind === "subOrchestration") return `a sub-orchestration named '${d.name}'`;
    return "a timer";
  };

  const confirm = (ev: HistoryEvent, kind: OpenKind): void => {
    const id = ev.EventId;
    const what =
      kind === "activity"
        ? `an activity task with sequence ID ${id} and name '${ev.Name ?? ""}'`
        : kind === "subOrchestration"
          ? `a sub-orchestration task with sequence ID ${id} and name '${ev.Name ?? ""}' (instance ID '${ev.InstanceId ?? ""}')`
          : `a timer task with sequence number ${id}`;
    const current = unconfirmed.get(id);
    if (!current) {
      throw new NonDeterministicOrchestrationError(
        id,
        `A previous execution of this orchestration scheduled ${what}, but the current replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    if (decisionKind(current) !== kind) {
      throw new NonDeterministicOrchestrationError(
        id,
        `A previous execution of this orchestration scheduled ${what}, but the current orchestration replay instead produced ${describe(current)} with this sequence number. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    if ((current.kind === "activity" || current.kind === "subOrchestration") && current.name.toLowerCase() !== (ev.Name ?? "").toLowerCase()) {
      throw new NonDeterministicOrchestrationError(
        id,
        `A previous execution of this orchestration scheduled ${what}, but the current orchestration replay instead scheduled ${describe(current)} with this sequence number. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    unconfirmed.delete(id);
  };

  const completeOpen = (id: number | undefined, ok: boolean): void => {
    if (id === undefined) return;
    const task = open.get(id);
    if (!task) return; // duplicate, or a canceled timer firing: ignored, as DTFx does
    open.delete(id);
    task.complete(ok);
  };

  try {
    for (const ev of history) {
      switch (ev.EventType) {
        case EventType.OrchestratorStarted: {
          const t = Date.parse(ev.Timestamp);
          if (t > now) now = t;
          break;
        }
        case EventType.ExecutionStarted:
          if (!started) {
            started = true;
            advance();
          }
          break;
        case EventType.TaskScheduled:
          confirm(ev, "activity");
          break;
        case EventType.TimerCreated:
          confirm(ev, "timer");
          break;
        case EventType.SubOrchestrationInstanceCreated:
          confirm(ev, "subOrchestration");
          break;
        case EventType.TaskCompleted:
        case EventType.SubOrchestrationInstanceCompleted:
          completeOpen(ev.TaskScheduledId, true);
          break;
        case EventType.TaskFailed:
        case EventType.SubOrchestrationInstanceFailed:
          completeOpen(ev.TaskScheduledId, false);
          break;
        case EventType.TimerFired:
          completeOpen(ev.TimerId, true);
          break;
        case EventType.EventRaised: {
          const key = (ev.Name ?? "").toLowerCase();
          const waiters = eventWaiters.get(key);
          const waiter = waiters?.shift();
          if (waiter) waiter.complete(true);
          else bufferedEvents.set(key, (bufferedEvents.get(key) ?? 0) + 1);
          break;
        }
        default:
          break;
      }
    }
  } catch (err) {
    if (err instanceof NonDeterministicOrchestrationError) {
      return { decisions: [], warnings, failure: { message: err.message, nonDeterministic: true } };
    }
    if (err instanceof ReplayActionError) {
      return { decisions: [], warnings, failure: { message: err.message, nonDeterministic: false } };
    }
    throw err;
  }

  const decisions = [...unconfirmed.values()].sort((a, b) => a.id - b.id);
  const result: ReplayResult = { decisions, warnings };
  if (continueAsNew) result.continueAsNew = continueAsNew;
  return result;
}
