// Runs provisionWorkload for many tenants with at most `creationsInFlight` of them in flight: a window refilled as each
// one ends. The instances are started by an activity and each tells the orchestration its outcome
// with an external event, because durable-functions re-sends an already scheduled task that appears
// in a second Task.any (azure-functions-durable-js#574), so a window of sub-orchestration tasks
// raced again and again would start them twice. One tenant's failure is an outcome like any other
// and does not stop the rest; a 429 inside one is waited out by its own durable retry.
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { readWorkloadNotice } from "../domain/durablePayloads";
import type { RetryPolicy } from "../domain/retryPolicy";
import {
  MAX_CREATIONS_IN_FLIGHT,
  failedOutcome,
  summarizeFanOut,
  type FanOutSummary,
  type ProvisionWorkloadInput,
  type WorkloadOutcome,
} from "../domain/workloads";
import { activities } from "./activities";

export const WORKLOAD_DONE_EVENT = "WorkloadDone";
/**
 * Longer than one provisioning can take (up to 6 hours waiting for a creation slot, three rounds of
 * at most an hour, retries): when no answer comes for that long, the rest is reported as unanswered.
 */
const ANSWER_WAIT_MS = 12 * 3600_000;

/**
 * `runId` tells this run's instances from those of an earlier run of the same orchestration (a
 * failed publish is started again under the same instance id).
 */
export function* fanOutProvisioning(
  context: OrchestrationContext,
  runId: string,
  items: readonly Omit<ProvisionWorkloadInput, "notify">[],
  creationsInFlight: number,
  retry: RetryPolicy,
  onProgress: (summary: FanOutSummary) => void,
): Generator<df.Task, FanOutSummary, unknown> {
  const limit = Math.min(Math.max(1, Math.floor(creationsInFlight)), MAX_CREATIONS_IN_FLIGHT);
  const outcomes = new Map<number, WorkloadOutcome>();
  const running = new Set<number>();
  let next = 0;
  let maxInFlight = 0;
  const progress = (): FanOutSummary => summarizeFanOut(items.length, [...outcomes.values()], running.size, maxInFlight);

  // Each round takes one answer (or ends on the wait's timeout); a repeated answer also takes a round.
  for (let round = 0; round < 2 * items.length + 1 && outcomes.size < items.length; round++) {
    const starts: { instanceId: string; input: ProvisionWorkloadInput }[] = [];
    while (running.size + starts.length < limit && next < items.length) {
      const input: ProvisionWorkloadInput = { ...items[next]!, notify: { instanceId: context.df.instanceId, eventName: WORKLOAD_DONE_EVENT, index: next } };
      starts.push({ instanceId: `${context.df.instanceId}:${runId}:workload:${next}`, input });
      next++;
    }
    if (starts.length > 0) {
      const started = yield* activities.startProvisioning(context, { starts }, retry);
      for (const s of starts) {
        const index = s.input.notify?.index ?? -1;
        if (started.ok) running.add(index);
        else outcomes.set(index, failedOutcome(s.input.tenantId, s.input.spec.kind, started.error.code, `not started: ${started.error.message}`));
      }
      maxInFlight = Math.max(maxInFlight, running.size);
    }
    onProgress(progress());
    if (running.size === 0) continue;

    // A fresh event task and timer each round: an event task is only made again once it has its answer.
    const answer = context.df.waitForExternalEvent(WORKLOAD_DONE_EVENT);
    const timeout = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + ANSWER_WAIT_MS));
    const winner: unknown = yield context.df.Task.any([answer, timeout]);
    if (winner !== answer) {
      for (const index of running) {
        const item = items[index]!;
        outcomes.set(
          index,
          failedOutcome(
            item.tenantId,
            item.spec.kind,
            "NoAnswer",
            `provisioning did not report within ${ANSWER_WAIT_MS / 3600_000} hours: see the tenant's record for its state`,
          ),
        );
      }
      running.clear();
      break;
    }
    timeout.cancel();
    const notice = readWorkloadNotice(answer.result);
    if (!notice || !running.has(notice.index)) continue; // a repeated answer, or not an answer
    running.delete(notice.index);
    outcomes.set(notice.index, notice.outcome);
  }
  const summary = progress();
  onProgress(summary);
  return summary;
}
