// History events in the Durable host's wire format: PascalCase fields, numeric EventType, ISO
// timestamps, inputs and results as JSON text (as durable-functions 3.x reads them; see local/host/README.md).

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export type EventTypeNumber = (typeof EventType)[keyof typeof EventType];

export function eventTypeName(type: number): string {
  for (const [name, value] of Object.entries(EventType)) if (value === type) return name;
  return `EventType(${type})`;
}

/** Structured failure, as the extension sends it when it has one (`FailureDetails` on TaskFailed). */
export interface FailureDetailsPayload {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown>;
  InnerFailure?: FailureDetailsPayload;
}

export interface HistoryEvent {
  EventType: EventTypeNumber;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Version?: string;
  Input?: string | null;
  Result?: string | null;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetailsPayload;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  /** ExecutionStarted of a sub-orchestration: who to notify. */
  ParentInstance?: { Name: string; InstanceId: string; ExecutionId: string; TaskScheduleId: number };
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  /** ExecutionCompleted: final status. */
  OrchestrationStatus?: string;
}

export function iso(time: number): string {
  return new Date(time).toISOString();
}

export function event(type: EventTypeNumber, time: number, fields: Partial<HistoryEvent> = {}, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: iso(time), ...fields };
}

/** Formats milliseconds as a .NET TimeSpan string ("d.hh:mm:ss" / "hh:mm:ss.fff"), as the extension sends durations. */
export function timeSpan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const two = (n: number): string => String(n).padStart(2, "0");
  const clock = `${two(hours)}:${two(minutes)}:${two(seconds)}${millis ? `.${String(millis).padStart(3, "0")}` : ""}`;
  return days > 0 ? `${days}.${clock}` : clock;
}
