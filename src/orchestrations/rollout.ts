// Moves VMs and scale sets that follow new versions to a version ring by ring (src/domain/rollout.ts):
// ring 0 first; the next ring once every workload of the ring before reached Succeeded and the soak
// time has passed (a durable timer); one failure stops the rollout there, naming the tenant and
// ARM's reason, and the rings after it are left on the version they run. Used by a publish (to the
// new version) and by a revocation (back to the version `latest` falls back to).
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { WorkloadToUpdate } from "../activities/tenantRegistry";
import type { RetryPolicy } from "../domain/retryPolicy";
import {
  byRing,
  firstFailure,
  initialRings,
  ringProgress,
  type PromotionState,
  type RingProgress,
  type RolloutSettings,
  type RolloutStatus,
} from "../domain/rollout";
import { DEFAULT_CREATIONS_IN_FLIGHT, type FanOutSummary, type WorkloadTarget } from "../domain/workloads";
import { fanOutProvisioning } from "./workloadFanOut";

export interface RolloutPlan {
  /** The version the workloads move to (major.minor.patch). */
  readonly version: string;
  readonly workloads: readonly WorkloadToUpdate[];
  readonly settings: RolloutSettings;
  /** Where `latest` stands when the rollout starts (pending: it waits for this rollout). */
  readonly promotion: PromotionState;
  /** Tells this run's provisioning instances from an earlier run's. */
  readonly runId: string;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  readonly policy: RetryPolicy;
  readonly creationsInFlight?: number;
  /** Asked before each ring: a reason to stop now (the version was revoked), or undefined. */
  readonly stopReason?: () => Generator<df.Task, string | undefined, unknown>;
  readonly show: (status: RolloutStatus, workloads: FanOutSummary) => void;
}

export function* rollOut(context: OrchestrationContext, plan: RolloutPlan): Generator<df.Task, { status: RolloutStatus; workloads: FanOutSummary }, unknown> {
  const { settings } = plan;
  const groups = byRing(plan.workloads, settings.rings);
  const rings: RingProgress[] = initialRings(groups.map((g) => g.length));
  const summaries: FanOutSummary[] = [];
  let status: RolloutStatus = { state: "rolling-out", gated: settings.gated, ring: 0, rings, promotion: { state: plan.promotion } };
  const show = (next: RolloutStatus): void => {
    status = next;
    plan.show(status, combine(summaries));
  };
  const lastMoving = groups.reduce((last, g, i) => (g.length > 0 ? i : last), -1);
  const promoting = plan.promotion === "pending";
  show(status);

  for (let ring = 0; ring < groups.length; ring++) {
    const items = groups[ring] ?? [];
    if (items.length === 0) {
      rings[ring] = ringProgress(ring, "skipped", undefined);
      continue;
    }
    const reason = plan.stopReason ? yield* plan.stopReason() : undefined;
    if (reason !== undefined) {
      show({ ...status, state: "stopped", ring, rings: [...rings], waitingFor: undefined, promotion: { state: "revoked", reason } });
      return { status, workloads: combine(summaries) };
    }
    rings[ring] = ringProgress(ring, "moving", undefined);
    show({ ...status, ring, rings: [...rings], waitingFor: `ring ${ring}: ${items.length} VMs and scale sets moving to ${plan.version}`, until: undefined });
    const summary = yield* moveRing(context, plan, ring, items, (progress) => {
      rings[ring] = ringProgress(ring, "moving", progress);
      plan.show({ ...status, rings: [...rings] }, combine([...summaries, progress]));
    });
    summaries.push(summary);
    if (summary.failed > 0 || summary.running > 0) {
      rings[ring] = ringProgress(ring, "stopped", summary);
      const stoppedBy = firstFailure(ring, summary);
      const promotion = promoting ? { state: "withheld" as const, reason: `ring ${ring} failed` } : status.promotion;
      show({ ...status, state: "stopped", ring, rings: [...rings], waitingFor: undefined, ...(stoppedBy ? { stoppedBy } : {}), promotion });
      return { status, workloads: combine(summaries) };
    }
    rings[ring] = ringProgress(ring, "succeeded", summary);
    // Soak before the next ring, and before a promotion; not after the last ring otherwise.
    if (ring < lastMoving || promoting) yield* soak(context, settings, `soak after ring ${ring}`, ring, rings, status, show);
  }
  // A gated version with no canaries at all still waits one soak before it becomes latest.
  if (lastMoving < 0 && promoting) yield* soak(context, settings, "soak before promotion (no canaries)", 0, rings, status, show);
  show({ ...status, state: promoting ? "promoting" : "done", ring: Math.max(0, lastMoving), rings: [...rings], waitingFor: undefined, until: undefined });
  return { status, workloads: combine(summaries) };
}

function* moveRing(
  context: OrchestrationContext,
  plan: RolloutPlan,
  ring: number,
  workloads: readonly WorkloadToUpdate[],
  onProgress: (summary: FanOutSummary) => void,
): Generator<df.Task, FanOutSummary, unknown> {
  const creationsInFlight = plan.creationsInFlight ?? DEFAULT_CREATIONS_IN_FLIGHT;
  const items = workloads.map((w) => ({ ...pickTarget(w), version: plan.version, changedBy: context.df.instanceId, retry: plan.retry, creationsInFlight }));
  return yield* fanOutProvisioning(context, `${plan.runId}r${ring}`, items, creationsInFlight, plan.policy, onProgress);
}

function* soak(
  context: OrchestrationContext,
  settings: RolloutSettings,
  what: string,
  ring: number,
  rings: RingProgress[],
  status: RolloutStatus,
  show: (s: RolloutStatus) => void,
): Generator<df.Task, void, unknown> {
  if (settings.soakMinutes <= 0) return;
  const until = new Date(context.df.currentUtcDateTime.getTime() + settings.soakMinutes * 60_000);
  rings[ring] = { ...rings[ring]!, state: rings[ring]!.total > 0 ? "soaking" : rings[ring]!.state };
  show({ ...status, state: "soaking", ring, rings: [...rings], waitingFor: what, until: until.toISOString() });
  yield context.df.createTimer(until);
  rings[ring] = { ...rings[ring]!, state: rings[ring]!.state === "soaking" ? "succeeded" : rings[ring]!.state };
}

function pickTarget(w: WorkloadTarget): WorkloadTarget {
  return { mode: w.mode, tenantId: w.tenantId, galleryId: w.galleryId, consumer: w.consumer, spec: w.spec };
}

/** The rings' fan-outs as one summary (the publish's `workloads`). */
function combine(summaries: readonly FanOutSummary[]): FanOutSummary {
  const failures = summaries.flatMap((s) => s.failures);
  return {
    total: summaries.reduce((n, s) => n + s.total, 0),
    succeeded: summaries.reduce((n, s) => n + s.succeeded, 0),
    failed: summaries.reduce((n, s) => n + s.failed, 0),
    running: summaries.reduce((n, s) => n + s.running, 0),
    maxInFlight: summaries.reduce((n, s) => Math.max(n, s.maxInFlight), 0),
    failures: failures.slice(0, 20),
    moreFailures: summaries.reduce((n, s) => n + s.moreFailures, 0) + Math.max(0, failures.length - 20),
  };
}
