// One orchestrator invocation ("episode") on the wire protocol: the orchestration trigger receives the
// history and context as a JSON string, the function returns OrchestratorState (or throws
// OrchestrationFailureError whose message carries the state after "$OutOfProcData$:").
import type { Registration } from "../core";
import { invoke, returnValueOf, stringTypedData, type HostLog } from "../invoke";
import { jsonValueText, stringifyWithRawMembers } from "../jsonText";
import type { HistoryEvent } from "./history";
import { timeSpan } from "./history";
import type { ActionJson } from "./replay";

export interface EpisodeInput {
  history: HistoryEvent[];
  /** ExecutionStarted.Input (JSON text) */
  input: string | undefined | null;
  instanceId: string;
  parentInstanceId: string | undefined;
  isReplaying: boolean;
  maximumShortTimerMs: number;
  longRunningTimerIntervalMs: number;
}

export interface OrchestratorStateJson {
  isDone: boolean;
  actions: ActionJson[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

export type EpisodeOutcome =
  | { kind: "state"; state: OrchestratorStateJson }
  /** The orchestrator threw: its state (actions so far, customStatus) and the error. */
  | { kind: "failed"; state: OrchestratorStateJson | undefined; message: string; stack: string | undefined };

/** Schema the host offers: V3 (long timers, split by the host) and "new" V4. */
export const UPPER_SCHEMA_VERSION = 2;
export const UPPER_SCHEMA_VERSION_NEW = 3;

const OUT_OF_PROC_MARKER = "$OutOfProcData$:";

/** ExecutionStarted.Input as the payload's `input` value, as JSON text (no input: null; not JSON: a string). */
function inputText(text: string | undefined | null): string {
  return text === "" ? "null" : jsonValueText(text);
}

export function isOrchestratorState(value: unknown): value is OrchestratorStateJson {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { isDone?: unknown }).isDone === "boolean" &&
    Array.isArray((value as { actions?: unknown }).actions)
  );
}

export async function runEpisode(registration: Registration, input: EpisodeInput, log: HostLog): Promise<EpisodeOutcome> {
  const payload = {
    history: input.history,
    instanceId: input.instanceId,
    isReplaying: input.isReplaying,
    parentInstanceId: input.parentInstanceId ?? null,
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    upperSchemaVersionNew: UPPER_SCHEMA_VERSION_NEW,
    longRunningTimerIntervalDuration: timeSpan(input.longRunningTimerIntervalMs),
    maximumShortTimerDuration: timeSpan(input.maximumShortTimerMs),
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  // The input is spliced in as the text it arrived as: re-serializing a parsed input would recurse,
  // and a deeply nested one would fail in the host instead of reaching the orchestrator.
  const outcome = await invoke(registration, {
    trigger: stringTypedData(stringifyWithRawMembers(payload, { input: inputText(input.input) })),
    triggerMetadata: { instanceId: stringTypedData(input.instanceId) },
    log,
  });
  if (!outcome.ok) {
    const message = outcome.error.message;
    const at = message.indexOf(OUT_OF_PROC_MARKER);
    let state: OrchestratorStateJson | undefined;
    if (at >= 0) {
      try {
        const parsed: unknown = JSON.parse(message.slice(at + OUT_OF_PROC_MARKER.length));
        if (isOrchestratorState(parsed)) state = parsed;
      } catch {
        state = undefined;
      }
    }
    const errorText = state?.error ?? (at >= 0 ? message.slice(0, at).trim() : message);
    return { kind: "failed", state, message: errorText, stack: outcome.error.stack };
  }
  const returned = returnValueOf(outcome.response);
  const text = returned?.json ?? returned?.string;
  let value: unknown = outcome.result;
  if (typeof text === "string") {
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
  }
  if (!isOrchestratorState(value)) {
    return {
      kind: "failed",
      state: undefined,
      message: "Out of proc orchestrators must return a valid JSON schema (the orchestrator returned no OrchestratorState)",
      stack: undefined,
    };
  }
  return { kind: "state", state: value };
}
