// The durable-client side of the share coordinator: sending it a change (starting it when it is
// not running), and telling senders their results. Activities, because orchestrations cannot start
// other orchestrations or raise events to them; both are safe to run twice (the coordinator answers
// a repeated change with its first answer, and a repeated notice is a repeated event the waiting
// orchestration has already stopped listening for).
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { Services } from "../services";
import { findInstance } from "../functions/durableStatus";
import { SHARE_CHANGE_EVENT, SHARE_COORDINATOR, type ShareCoordinatorState } from "../orchestrations/shareCoordinator";
import { runActivity } from "./activityResult";
import type { ActivityResult, ShareNotice, SubmitShareChangeInput } from "./descriptors";

const RUNNING = new Set(["Pending", "Running", "ContinuedAsNew", "Suspended"]);

export function createSubmitShareChange(services: Services) {
  return (input: SubmitShareChangeInput, context: InvocationContext): Promise<ActivityResult<{ via: "started" | "raised" }>> =>
    runActivity(async () => {
      const client = df.getClient(context);
      const status = await findInstance(client, input.coordinatorId);
      let via: "started" | "raised" = "raised";
      if (!status || !RUNNING.has(String(status.runtimeStatus))) {
        const initial: ShareCoordinatorState = { subscriptionId: input.subscriptionId, pending: [], callTimes: [], recent: [], retry: services.config.retry };
        try {
          await client.startNew(SHARE_COORDINATOR, { instanceId: input.coordinatorId, input: initial });
          via = "started";
        } catch (err) {
          // Another sender started it between our look and our start.
          const now = await findInstance(client, input.coordinatorId);
          if (!now || !RUNNING.has(String(now.runtimeStatus))) throw err;
        }
      }
      // The change always goes as an event, never in the start's input: two senders that start the
      // coordinator at the same moment both get 202 from the Durable extension, and DTFx later
      // discards one of the two starts, with whatever it carried (the conformance suite showed it).
      // An event raised to a Pending instance waits for it.
      await client.raiseEvent(input.coordinatorId, SHARE_CHANGE_EVENT, input.change);
      return { via };
    });
}

export function createNotifyShareResults() {
  return (input: { notices: readonly ShareNotice[] }, context: InvocationContext): Promise<ActivityResult<{ delivered: number; gone: number }>> =>
    runActivity(async () => {
      const client = df.getClient(context);
      let delivered = 0;
      let gone = 0;
      for (const notice of input.notices) {
        try {
          await client.raiseEvent(notice.instanceId, notice.eventName, notice.result);
          delivered++;
        } catch (err) {
          // The sender finished or was purged: nobody waits for this answer any more.
          if (err instanceof Error && /\b(404|410)\b/.test(err.message)) gone++;
          else throw err;
        }
      }
      return { delivered, gone };
    });
}
