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

/** A result on its way to the orchestration that sent the change. */
export interface ShareNotice {
  readonly instanceId: string;
  readonly eventName: string;
  readonly result: ShareChangeResult;
}

/** The share coordinator's input: what it carries from one execution to the next. */
export interface ShareCoordinatorState {
  readonly subscriptionId: string;
  readonly pending: readonly ShareChange[];
  /** Times (epoch ms) of the share calls made, pruned to what the budget's windows still see. */
  readonly callTimes: readonly number[];
  /** The latest answers, so a change sent again is answered the same way. */
  readonly recent: readonly ShareChangeResult[];
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** How long to keep collecting after a change arrives before calling (default 5 s). */
  readonly collectSeconds?: number;
  /** Batches before the coordinator continues as new, to keep its history short (default 20). */
  readonly batchesPerExecution?: number;
}
