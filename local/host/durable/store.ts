// Orchestration instances, in memory. Nothing survives the process (see README).
import type { Alarm } from "../alarms";
import type { HistoryEvent } from "./history";

export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "ContinuedAsNew";

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ["Completed", "Failed", "Terminated"];

export interface OrchestrationStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
}

export interface ParentLink {
  instanceId: string;
  executionId: string;
  name: string;
  taskScheduledId: number;
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  /** ExecutionStarted.Input of the current execution (JSON text). */
  input: string | undefined;
  status: RuntimeStatus;
  /** JSON text of the output (the result, the failure message as a JSON string, or the terminate reason). */
  output: string | undefined;
  customStatus: unknown;
  createdTime: number;
  lastUpdatedTime: number;
  /** Committed history of the current execution. */
  history: HistoryEvent[];
  /** Messages not yet processed by an episode (ExecutionStarted, completions, timers, events, terminate). */
  pending: HistoryEvent[];
  parent: ParentLink | undefined;
  /** Armed durable timers of the current execution, by timer id. */
  timers: Map<number, Alarm>;
  /** Failure of a Failed instance: message and details. */
  failure: { message: string; details: string; nonDeterministic: boolean } | undefined;
  /** Number of episodes run, over all executions. */
  episodes: number;
  executions: number;
  /** History events replayed over all episodes (what each episode read back before its new events). */
  eventsReplayed: number;
  /** The most history events any one execution reached. */
  largestHistory: number;
}

export function parseJsonText(text: string | undefined | null): unknown {
  if (text === undefined || text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `DateTime.ToString("s") + "Z"`, as the extension formats status times. */
export function statusTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function toStatus(rec: InstanceRecord): OrchestrationStatus {
  return {
    name: rec.name,
    instanceId: rec.instanceId,
    runtimeStatus: rec.status,
    input: parseJsonText(rec.input),
    output: parseJsonText(rec.output),
    customStatus: rec.customStatus ?? null,
    createdTime: statusTime(rec.createdTime),
    lastUpdatedTime: statusTime(rec.lastUpdatedTime),
  };
}

export class InstanceStore {
  private readonly instances = new Map<string, InstanceRecord>();

  get(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId);
  }

  set(rec: InstanceRecord): void {
    this.instances.set(rec.instanceId, rec);
  }

  delete(instanceId: string): boolean {
    return this.instances.delete(instanceId);
  }

  all(): InstanceRecord[] {
    return [...this.instances.values()];
  }
}
