// The share coordinator's inbox and messages: a sender puts its change in the subscription's share
// inbox and wakes the coordinator (submitShareChange); the coordinator reads the inbox
// (peekShareChanges), tells each sender its result (notifyShareResults) and then takes the changes
// out (removeShareChanges); a sender that has waited long asks where its change stands
// (shareChangeStanding). They are activities because orchestrations cannot touch storage, start
// other orchestrations or raise events to them. Each is safe to run twice: a change put in twice is
// answered once and the repeat from the coordinator's recent answers; a repeated notice is an event
// the sender has stopped listening for; removing a removed row changes nothing.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import type { Services } from "../services";
import type { InboxPosition } from "../azure/shareInbox";
import { findInstance } from "../azure/durableInstances";
import { SHARE_CHANGE_EVENT, SHARE_COORDINATOR } from "../domain/orchestrationNames";
import type { ShareChange, ShareCoordinatorState, ShareCoordinatorStatus, ShareNotice } from "../domain/shareChanges";
import { runActivity, withDurableClient } from "./activity";

export interface SubmitShareChangeInput {
  readonly coordinatorId: string;
  readonly subscriptionId: string;
  readonly change: ShareChange;
}

/** Where a sender's change stands, and whether the coordinator is working. */
export interface ShareChangeStanding extends InboxPosition {
  /** The coordinator's runtime status (undefined: none). */
  readonly coordinator?: string;
  /** When the coordinator last changed its status (ISO). */
  readonly coordinatorUpdatedAt?: string;
  readonly coordinatorIdle?: boolean;
  readonly nextCallAt?: string;
}

type Deps = Pick<Services, "config" | "shareInbox">;

const RUNNING = new Set(["Pending", "Running", "ContinuedAsNew", "Suspended"]);

export function createShareInboxActivities(services: Deps) {
  return {
    submitShareChange: withDurableClient((input: SubmitShareChangeInput, context: InvocationContext) =>
      runActivity(() => submitShareChange(services, input, df.getClient(context))),
    ),
    peekShareChanges: (input: { readonly subscriptionId: string; readonly max: number }) =>
      runActivity(() => services.shareInbox.peek(input.subscriptionId, input.max)),
    removeShareChanges: (input: { readonly subscriptionId: string; readonly keys: readonly string[] }) =>
      runActivity(async () => ({ removed: await services.shareInbox.remove(input.subscriptionId, input.keys) })),
    enqueueShareChanges: (input: { readonly subscriptionId: string; readonly changes: readonly ShareChange[] }) =>
      runActivity(() => enqueueAll(services, input)),
    notifyShareResults: withDurableClient((input: { notices: readonly ShareNotice[] }, context: InvocationContext) =>
      runActivity(() => notifyShareResults(input, df.getClient(context))),
    ),
    shareChangeStanding: withDurableClient(
      (input: { readonly coordinatorId: string; readonly subscriptionId: string; readonly key: string }, context: InvocationContext) =>
        runActivity(() => shareChangeStanding(services, input, df.getClient(context))),
    ),
  };
}

/**
 * Puts the change in the inbox, then makes sure the coordinator will read it: started if it is not
 * running, woken if it says it is idle. A busy coordinator reads the inbox again before it idles.
 */
async function submitShareChange(
  services: Deps,
  input: SubmitShareChangeInput,
  client: DurableClient,
): Promise<{ via: "started" | "woken" | "queued"; key: string }> {
  const { key } = await services.shareInbox.enqueue(input.subscriptionId, input.change);
  const status = await findInstance(client, input.coordinatorId);
  if (!status || !RUNNING.has(String(status.runtimeStatus))) {
    const initial: ShareCoordinatorState = { subscriptionId: input.subscriptionId, callTimes: [], recent: [], retry: services.config.retry };
    try {
      await client.startNew(SHARE_COORDINATOR, { instanceId: input.coordinatorId, input: initial });
      return { via: "started", key };
    } catch (err) {
      // Another sender started it between our look and our start: it reads the inbox when it starts.
      const now = await findInstance(client, input.coordinatorId);
      if (!now || !RUNNING.has(String(now.runtimeStatus))) throw err;
      return { via: "queued", key };
    }
  }
  if (!isBusy(status.customStatus)) {
    // A wake-up carries nothing: the change is in the inbox. One raised to a Pending instance waits for it.
    await client.raiseEvent(input.coordinatorId, SHARE_CHANGE_EVENT, { wake: true });
    return { via: "woken", key };
  }
  return { via: "queued", key };
}

/** A coordinator that says it is working (not idle); anything else (a new one, an old status) is woken. */
function isBusy(customStatus: unknown): boolean {
  return typeof customStatus === "object" && customStatus !== null && "idle" in customStatus && customStatus.idle === false;
}

async function enqueueAll(services: Deps, input: { readonly subscriptionId: string; readonly changes: readonly ShareChange[] }): Promise<{ queued: number }> {
  for (const change of input.changes) await services.shareInbox.enqueue(input.subscriptionId, change);
  return { queued: input.changes.length };
}

async function notifyShareResults(input: { notices: readonly ShareNotice[] }, client: DurableClient): Promise<{ delivered: number; gone: number }> {
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
}

async function shareChangeStanding(
  services: Deps,
  input: { readonly coordinatorId: string; readonly subscriptionId: string; readonly key: string },
  client: DurableClient,
): Promise<ShareChangeStanding> {
  const position = await services.shareInbox.position(input.subscriptionId, input.key);
  const status = await findInstance(client, input.coordinatorId);
  const custom = (status?.customStatus ?? {}) as Partial<ShareCoordinatorStatus>;
  return {
    ...position,
    ...(status ? { coordinator: String(status.runtimeStatus), coordinatorUpdatedAt: new Date(status.lastUpdatedTime).toISOString() } : {}),
    ...(typeof custom.idle === "boolean" ? { coordinatorIdle: custom.idle } : {}),
    ...(typeof custom.nextCallAt === "string" ? { nextCallAt: custom.nextCallAt } : {}),
  };
}
