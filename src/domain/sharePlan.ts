// Plans changes to a gallery's direct-sharing groups (`POST .../galleries/{g}/share`).
// The share call is throttled to about 10 per 3 minutes, so one plan becomes at most one Remove
// and one Add call, each carrying every id. Azure's preview rules are checked up front so a plan
// that Azure would reject fails here with a message that names the rule and the ids.

import { isGuid, quoteForError } from "./validation";

export interface ShareTargets { subscriptionIds: string[]; tenantIds: string[] }
export interface SharingProfileState { permissions?: string; groups?: readonly { type?: string; ids?: readonly string[] }[] }
interface ShareLimits { maxSubscriptions: number; maxTenants: number }

/** Azure's preview limits for direct sharing, per gallery. */
export const DEFAULT_SHARE_LIMITS: ShareLimits = { maxSubscriptions: 30, maxTenants: 5 };

/** `unchanged` holds what is shared now and stays shared. All ids are lower-case. */
export interface SharePlan { add: ShareTargets; remove: ShareTargets; unchanged: ShareTargets }

interface ShareGroupOperation {
  operationType: "Add" | "Remove";
  groups: { type: "Subscriptions" | "AADTenants"; ids: string[] }[];
}

type ShareRule = "permissions-not-groups" | "encrypted-version" | "subscription-limit" | "tenant-limit" | "invalid-id";

export class ShareRuleError extends Error {
  constructor(
    readonly rule: ShareRule,
    readonly ids: string[],
    message: string,
  ) {
    super(message);
    this.name = "ShareRuleError";
  }
}

interface PlanShareOptions {
  limits: ShareLimits;
  /** "ensure" only adds what is missing; "reconcile" also removes what is shared but not desired. */
  mode: "ensure" | "reconcile";
  /** An encrypted version cannot be directly shared. */
  encrypted?: boolean;
}

type Kind = "subscription" | "tenant";
const GROUP_TYPE: Record<Kind, "Subscriptions" | "AADTenants"> = { subscription: "Subscriptions", tenant: "AADTenants" };

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids.map((id) => id.trim().toLowerCase()))];
}

function currentIds(current: SharingProfileState, kind: Kind): string[] {
  const groups = (current.groups ?? []).filter((g) => g.type?.toLowerCase() === GROUP_TYPE[kind].toLowerCase());
  return unique(groups.flatMap((g) => g.ids ?? []));
}

function checkIds(desired: ShareTargets): void {
  const invalid = [...desired.subscriptionIds, ...desired.tenantIds].filter((id) => !isGuid(id.trim()));
  if (invalid.length > 0) {
    const shown = invalid.map(quoteForError).join(", ");
    throw new ShareRuleError("invalid-id", invalid, `invalid-id: subscription and tenant ids must be GUIDs, got ${shown}`);
  }
}

/** Why a gallery whose sharingProfile.permissions is not "Groups" cannot be shared directly. */
export function permissionsNotGroupsReason(permissions: string | undefined): string {
  return `permissions-not-groups: direct sharing needs the gallery's sharingProfile.permissions to be "Groups" (it is ${JSON.stringify(permissions ?? "not set")}); it can only be set when the gallery is created`;
}

function checkPreconditions(current: SharingProfileState, encrypted: boolean | undefined): void {
  if (current.permissions?.toLowerCase() !== "groups") {
    throw new ShareRuleError("permissions-not-groups", [], permissionsNotGroupsReason(current.permissions));
  }
  if (encrypted === true) {
    throw new ShareRuleError("encrypted-version", [], "encrypted-version: an image version with encryption settings cannot be directly shared");
  }
}

function checkLimit(kind: Kind, finalCount: number, added: string[], limit: number): void {
  // Only an addition can push a gallery over: a plan that adds nothing never needs a new slot.
  if (added.length === 0 || finalCount <= limit) return;
  const rule = kind === "subscription" ? "subscription-limit" : "tenant-limit";
  throw new ShareRuleError(
    rule,
    added,
    `${rule}: sharing with ${added.length} more ${kind}(s) (${added.join(", ")}) would make ${finalCount} ${kind}s, over the limit of ${limit} per gallery`,
  );
}

interface KindPlan { add: string[]; remove: string[]; unchanged: string[]; finalCount: number }

function planKind(desiredIds: readonly string[], current: string[], mode: PlanShareOptions["mode"]): KindPlan {
  const desired = unique(desiredIds);
  const add = desired.filter((id) => !current.includes(id));
  const remove = mode === "reconcile" ? current.filter((id) => !desired.includes(id)) : [];
  const unchanged = current.filter((id) => !remove.includes(id));
  return { add, remove, unchanged, finalCount: unchanged.length + add.length };
}

export function planShare(desired: ShareTargets, current: SharingProfileState, options: PlanShareOptions): SharePlan {
  checkIds(desired);
  checkPreconditions(current, options.encrypted);
  const subs = planKind(desired.subscriptionIds, currentIds(current, "subscription"), options.mode);
  const tenants = planKind(desired.tenantIds, currentIds(current, "tenant"), options.mode);
  checkLimit("subscription", subs.finalCount, subs.add, options.limits.maxSubscriptions);
  checkLimit("tenant", tenants.finalCount, tenants.add, options.limits.maxTenants);
  return {
    add: { subscriptionIds: subs.add, tenantIds: tenants.add },
    remove: { subscriptionIds: subs.remove, tenantIds: tenants.remove },
    unchanged: { subscriptionIds: subs.unchanged, tenantIds: tenants.unchanged },
  };
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
