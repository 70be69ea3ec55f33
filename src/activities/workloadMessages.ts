// The durable-client side of a publish's VM and scale-set fan-out: starting provisionVm instances,
// and each of them telling the publish it ended. Activities, because orchestrations cannot start
// top-level instances or raise events. Both are safe to run twice: a start of an instance that
// exists starts nothing (one that already ended tells its outcome again), and a repeated notice is
// one the publish recognises by its index and ignores.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { blocksRestart, findInstance } from "../functions/durableStatus";
import { PROVISION_VM } from "../orchestrations/provisionVm";
import { runActivity } from "./activityResult";
import type { ActivityResult, StartProvisioningInput, WorkloadNotice } from "./descriptors";

export function createStartProvisioning() {
  return (input: StartProvisioningInput, context: InvocationContext): Promise<ActivityResult<{ started: number; existing: number }>> =>
    runActivity(async () => {
      const client = df.getClient(context);
      let started = 0;
      let existing = 0;
      for (const start of input.starts) {
        const status = await findInstance(client, start.instanceId);
        if (blocksRestart(status)) {
          existing++;
          // Ended before the publish heard of it (this activity ran again): tell the outcome again.
          if (status?.runtimeStatus === "Completed" && start.input.notify) {
            await client.raiseEvent(start.input.notify.instanceId, start.input.notify.eventName, { index: start.input.notify.index, outcome: status.output });
          }
          continue;
        }
        await client.startNew(PROVISION_VM, { instanceId: start.instanceId, input: start.input });
        started++;
      }
      return { started, existing };
    });
}

export function createNotifyWorkloadDone() {
  return (input: WorkloadNotice, context: InvocationContext): Promise<ActivityResult<{ delivered: boolean }>> =>
    runActivity(async () => {
      try {
        await df.getClient(context).raiseEvent(input.instanceId, input.eventName, { index: input.index, outcome: input.outcome });
        return { delivered: true };
      } catch (err) {
        // The publish ended or was purged: nobody waits for this outcome any more (it is on the tenant).
        if (err instanceof Error && /\b(404|410)\b/.test(err.message)) return { delivered: false };
        throw err;
      }
    });
}
