// The messages between the share coordinator and those who send it changes (onboardings,
// offboardings, publishes), and the coordinator's own state: plain data both the coordinator and
// the activities that start it and answer for it read.
import type { ActivityError } from "./activityResult";
import type { ShareTargets } from "./sharePlan";

/** The targets (subscriptions and tenants) one change adds or removes. */
export interface ShareIds {
  readonly subscriptionIds?: readonly string[];
  readonly tenantIds?: readonly string[];
}

/** A change to one gallery's direct-sharing groups, sent to the share coordinator of its subscription. */
export interface ShareChange {
  /** Unique per change: the coordinator answers a repeat with the first answer. */
  readonly requestId: string;
  readonly galleryId: string;
  readonly add?: ShareIds;
  readonly remove?: ShareIds;
  /** Also add every target registered for the gallery when the change is applied (a publish). */
  readonly ensureRegistered?: boolean;
  /** A publish of an encrypted version: refused while the gallery is (or would be) directly shared. */
  readonly encrypted?: boolean;
  /** Whom to tell the result: an orchestration waiting for an external event. */
  readonly replyTo: { readonly instanceId: string; readonly eventName: string };
}

export interface ShareChangeResult {
  readonly requestId: string;
  /** rejected: the change breaks a rule (`reason` names it); failed: Azure refused the batch (`error`). */
  readonly result: "applied" | "rejected" | "failed";
  readonly reason?: string;
  readonly error?: ActivityError;
  /** What the change needed added, and what was there already. */
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  readonly removed: ShareTargets;
  /** Share calls the batch this change was part of made (0 when nothing was missing). */
  readonly shareCalls: number;
  /** Time the coordinator confirmed the change (ISO). */
  readonly at: string;
  /** A community gallery: its public name (public to all of Azure, nothing to share per tenant). */
  readonly communityPublicName?: string;
}

/** A change in its subscription's share inbox, and its row key there (its place in the queue). */
export interface QueuedShareChange {
  readonly key: string;
  readonly change: ShareChange;
}

/** A result on its way to the orchestration that sent the change. */
export interface ShareNotice {
  readonly instanceId: string;
  readonly eventName: string;
  readonly result: ShareChangeResult;
}

/** The share coordinator's input: what it carries from one execution to the next (the changes themselves wait in the share inbox). */
export interface ShareCoordinatorState {
  readonly subscriptionId: string;
  /** Changes an earlier version carried in its input: put in the inbox when the execution starts. */
  readonly pending?: readonly ShareChange[];
  /** Times (epoch ms) of the share calls made, pruned to what the budget's windows still see. */
  readonly callTimes: readonly number[];
  /** The latest answers, so a change sent again is answered the same way. */
  readonly recent: readonly ShareChangeResult[];
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** How long to keep collecting after a change arrives before calling (default 5 s). */
  readonly collectSeconds?: number;
  /** When the changes in the inbox were first seen (epoch ms), carried over a continue-as-new so they are not collected again. */
  readonly collectingSince?: number;
  /** History events (estimated) after which the coordinator continues as new (default and most: 400). */
  readonly historyBudget?: number;
}

/** What GET /api/status shows of a coordinator; senders read it to know how long the queue is. */
export interface ShareCoordinatorStatus {
  /** Waiting for a wake-up: a sender that finds it idle wakes it. */
  readonly idle: boolean;
  /** Changes in the first page of the inbox at the last read. */
  readonly queued: number;
  readonly callsInLast3Minutes: number;
  readonly callsInLast30Minutes: number;
  readonly nextCallAt?: string;
  /** Batches applied in this execution. */
  readonly batches: number;
  /** Estimated history events of this execution. */
  readonly historyEvents: number;
}
