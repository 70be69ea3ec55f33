// The tenant model, declared once: the onboarding message schema, the registry's codec, the
// lifecycle rules and the HTTP queries all take their lists, types and the record from here.
import type { TenantWorkload } from "./workloads";

/** How a tenant is given access (see README, "Sharing modes"). */
export const SHARING_MODES = ["direct", "rbac", "principal"] as const;
export type SharingMode = (typeof SHARING_MODES)[number];

/** The modes in which the app makes VMs and scale sets in the consumer tenant (principal mode grants Reader only). */
export type WorkloadMode = Extract<SharingMode, "direct" | "rbac">;

export function isWorkloadMode(mode: unknown): mode is WorkloadMode {
  return mode === "direct" || mode === "rbac";
}

/** A consumer tenant's lifecycle states (tenantLifecycle.ts says which may follow which). */
export const TENANT_STATES = ["requested", "consent-pending", "active", "offboarding", "offboarded", "failed"] as const;
export type TenantState = (typeof TENANT_STATES)[number];

/** History entries a tenant keeps: enough to explain the recent past, bounded so a table row stays small. */
export const MAX_TENANT_HISTORY = 50;

/** Who gets Reader on a gallery in principal mode. */
export const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal"] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface TenantHistoryEntry {
  readonly state: TenantState;
  readonly at: string;
  readonly requestId: string;
  readonly reason?: string;
}

/** A consumer tenant as the registry keeps it: who it is, how it is given access, where it stands. */
export interface TenantRecord {
  readonly tenantId: string;
  readonly displayName: string;
  readonly mode: SharingMode;
  readonly galleries: readonly string[];
  readonly subscriptionIds: readonly string[];
  readonly consumer?: { readonly subscriptionId: string; readonly resourceGroup: string; readonly location: string };
  readonly principal?: { readonly objectId: string; readonly type: PrincipalType };
  readonly state: TenantState;
  /** ISO 8601: when the tenant entered `state`. */
  readonly since: string;
  /** Why the tenant is in `state`; always set when it is `failed`. */
  readonly reason?: string;
  /** The request that caused the latest transition. */
  readonly lastRequestId: string;
  /** Oldest first, the current state last; only the newest MAX_TENANT_HISTORY entries are kept. */
  readonly history: readonly TenantHistoryEntry[];
  /** A pending admin consent: the link, its expiry, and since when a callback is telling the orchestration. */
  readonly consent?: { readonly url: string; readonly expiresAt: string; readonly claimedAt?: string };
  /** The rollout ring of the tenant's VMs and scale sets (0: the canaries); absent: the last ring. */
  readonly ring?: number;
  /** Who set the ring (an onboarding request, or an operator), and when. */
  readonly ringSet?: { readonly by: string; readonly at: string };
  /** VMs and scale sets this app made (or tried to make) in the consumer tenant, each with the image version it runs. */
  readonly workloads?: readonly TenantWorkload[];
}
