// Small helpers over the durable client, for the triggers and the activities that start orchestrations.
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";

/** The instance's status, or undefined when no such instance exists (the client reports that as an HTTP 404 error). */
export async function findInstance(client: DurableClient, instanceId: string): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput: true });
  } catch (err) {
    if (err instanceof Error && /\b404\b/.test(err.message)) return undefined;
    throw err;
  }
}

/** Runtime statuses in which an instance must not be started again. */
const LIVE_OR_DONE = new Set(["Pending", "Running", "Completed", "ContinuedAsNew", "Suspended"]);

export function blocksRestart(status: DurableOrchestrationStatus | undefined): boolean {
  return status !== undefined && LIVE_OR_DONE.has(String(status.runtimeStatus));
}
