// The shapes of a change to a gallery's direct-sharing groups (`POST .../galleries/{g}/share`),
// Azure's preview limits for them, and the calls that make one. The share call is throttled to
// about 10 per 3 minutes, so one plan becomes at most one Remove and one Add call, each carrying
// every id; shareTargets.ts merges the pending requests for a gallery into such a plan and checks
// the limits.

export interface ShareTargets {
  subscriptionIds: string[];
  tenantIds: string[];
}
interface ShareLimits {
  maxSubscriptions: number;
  maxTenants: number;
}

/** Azure's preview limits for direct sharing, per gallery. */
export const DEFAULT_SHARE_LIMITS: ShareLimits = { maxSubscriptions: 30, maxTenants: 5 };

/** `unchanged` holds what is shared now and stays shared. All ids are lower-case. */
export interface SharePlan {
  add: ShareTargets;
  remove: ShareTargets;
  unchanged: ShareTargets;
}

interface ShareGroupOperation {
  operationType: "Add" | "Remove";
  groups: { type: "Subscriptions" | "AADTenants"; ids: string[] }[];
}

/** Why a gallery whose sharingProfile.permissions is not "Groups" cannot be shared directly. */
export function permissionsNotGroupsReason(permissions: string | undefined): string {
  return `permissions-not-groups: direct sharing needs the gallery's sharingProfile.permissions to be "Groups" (it is ${JSON.stringify(permissions ?? "not set")}); it can only be set when the gallery is created`;
}

function operation(operationType: ShareGroupOperation["operationType"], targets: ShareTargets): ShareGroupOperation | undefined {
  const groups: ShareGroupOperation["groups"] = [];
  if (targets.subscriptionIds.length > 0) groups.push({ type: "Subscriptions", ids: targets.subscriptionIds });
  if (targets.tenantIds.length > 0) groups.push({ type: "AADTenants", ids: targets.tenantIds });
  return groups.length > 0 ? { operationType, groups } : undefined;
}

/**
 * The share calls for a plan: Remove first, so the gallery never holds more than the limit
 * between the two calls; [] when there is nothing to do.
 */
export function shareOperations(plan: SharePlan): ShareGroupOperation[] {
  return [operation("Remove", plan.remove), operation("Add", plan.add)].filter((op) => op !== undefined);
}
