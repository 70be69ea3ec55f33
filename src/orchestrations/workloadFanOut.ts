// Runs provisionVm for many tenants with at most `cap` of them in flight: a window of
// sub-orchestrations, refilled as each one ends. One tenant's failure is an outcome like any other
// and does not stop the rest; a 429 inside one is waited out by its own durable retry.
import type * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { summarizeFanOut, type FanOutSummary, type WorkloadOutcome } from "../domain/workloads";
import { PROVISION_VM, type ProvisionVmInput } from "./provisionVm";

/**
 * Default creations in flight. Microsoft's gallery guidance is one replica for every 20 VMs created
 * at once from an image version, and versions are published with one replica per region unless
 * the publisher asks for more; 10 stays well inside that, leaving room for the publisher's own
 * deployments. Compute's per-subscription create limits are far higher and, across tenants, each
 * consumer subscription has its own.
 */
export const DEFAULT_CREATIONS_IN_FLIGHT = 10;
export const MAX_CREATIONS_IN_FLIGHT = 100;

export function* fanOutProvisioning(
  context: OrchestrationContext,
  items: readonly ProvisionVmInput[],
  cap: number,
  onProgress: (summary: FanOutSummary) => void,
): Generator<df.Task, FanOutSummary, unknown> {
  const limit = Math.min(Math.max(1, Math.floor(cap)), MAX_CREATIONS_IN_FLIGHT);
  const outcomes: WorkloadOutcome[] = [];
  const running = new Map<df.Task, ProvisionVmInput>();
  let next = 0;
  let maxInFlight = 0;
  // Each round ends one sub-orchestration, so items.length rounds are enough.
  for (let round = 0; round < items.length && (next < items.length || running.size > 0); round++) {
    while (running.size < limit && next < items.length) {
      const item = items[next]!;
      running.set(context.df.callSubOrchestrator(PROVISION_VM, item, `${context.df.instanceId}:workload:${next}`), item);
      next++;
    }
    maxInFlight = Math.max(maxInFlight, running.size);
    onProgress(summarizeFanOut(items.length, outcomes, running.size, maxInFlight));
    const winner = (yield context.df.Task.any([...running.keys()])) as df.Task;
    const item = running.get(winner);
    running.delete(winner);
    if (item) outcomes.push(outcomeOf(winner, item));
  }
  const summary = summarizeFanOut(items.length, outcomes, running.size, maxInFlight);
  onProgress(summary);
  return summary;
}

/** The sub-orchestration's outcome; one that crashed (a bug, not an Azure answer) is a failure too. */
function outcomeOf(task: df.Task, item: ProvisionVmInput): WorkloadOutcome {
  const result = task.result as WorkloadOutcome | undefined;
  if (!task.isFaulted && result && typeof result === "object" && typeof result.resourceId === "string") return result;
  const message = task.result instanceof Error ? task.result.message : "the provisioning orchestration failed";
  return { tenantId: item.tenantId, kind: item.spec.kind, resourceId: "", imageVersion: "", provisioningState: "Unknown", error: { code: "ProvisioningCrashed", message: message.slice(0, 300) } };
}
