// The names both sides of the durable boundary use: the triggers and activities that start
// orchestrations or raise events to them, and the orchestrations that wait for those events.
// Changing one renames a function in the task hub: instances started under the old name stop.

export const PUBLISH_IMAGE_VERSION = "publishImageVersion";
export const ONBOARD_TENANT = "onboardTenant";
export const OFFBOARD_TENANT = "offboardTenant";
export const SHARE_COORDINATOR = "shareCoordinator";
export const PROVISION_WORKLOAD = "provisionWorkload";
export const RECONCILE = "reconcile";
export const REVOKE_IMAGE_VERSION = "revokeImageVersion";

/** One reconciler at a time: the timer and POST /api/reconcile start this instance, or find it running. */
export const RECONCILE_INSTANCE_ID = "reconcile";

/** A share change sent to a share coordinator. */
export const SHARE_CHANGE_EVENT = "ShareChange";

/** A replication hint (an Azure Resource Notifications event) raised to a waiting publish: read now. */
export const REPLICATION_HINT_EVENT = "ReplicationHint";

/** One share coordinator per subscription: the share budget is per subscription. */
export function coordinatorInstanceId(subscriptionId: string): string {
  return `share-coordinator-${subscriptionId.trim().toLowerCase()}`;
}
