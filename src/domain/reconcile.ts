// What the reconciler decides, without I/O: which failed publishes to run again and when, and how
// what Azure has differs from what the registry says each tenant should have (drift).
import type { ShareTargets } from "./sharePlan";

/**
 * Failure codes that say "Azure or the identity endpoint was not answering", not "this cannot work":
 * an activity's attempts exhausted on 5xx, 429, network or identity errors (the retry wrapper
 * reports them as RetriesExhausted), an activity the host failed, a share coordinator that did not
 * answer. A failed replication, a refused permission or a rule is never re-run by itself.
 */
const TRANSIENT_CODES = new Set(["RetriesExhausted", "ActivityFailed", "ShareCoordinatorTimeout", "ShareCoordinatorUnhealthy"]);

export function isTransientFailure(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** Re-runs of one publish at most; after that only an operator runs it again (POST /api/publishes/{instanceId}/retry). */
export const MAX_RECOVERY_ATTEMPTS = 6;
/** The wait before re-run n+1 grows by this much with every re-run (0, 30, 60, ... minutes after the last failure). */
const RECOVERY_STEP_MS = 30 * 60_000;

/** Whether a publish that failed at `failedAt` after `attempt` re-runs (0: the first run) is due for another at `now`. */
export function recoveryDue(attempt: number, failedAt: number, now: number): boolean {
  return attempt < MAX_RECOVERY_ATTEMPTS && now - failedAt >= attempt * RECOVERY_STEP_MS;
}

/** A gallery's direct-sharing targets: what should be there, what is, and the difference. */
export interface SharingDrift {
  /** Registered (active tenants' grants and the SHARE_* settings) but not in the gallery's groups. */
  readonly missing: ShareTargets;
  /** In the gallery's groups, but nobody registered them. */
  readonly unexpected: ShareTargets;
}

export function sharingDrift(expected: ShareTargets, actual: ShareTargets): SharingDrift {
  const lower = (ids: readonly string[]): string[] => [...new Set(ids.map((id) => id.trim().toLowerCase()))].sort();
  const minus = (a: readonly string[], b: readonly string[]): string[] => lower(a).filter((id) => !lower(b).includes(id));
  return {
    missing: { subscriptionIds: minus(expected.subscriptionIds, actual.subscriptionIds), tenantIds: minus(expected.tenantIds, actual.tenantIds) },
    unexpected: { subscriptionIds: minus(actual.subscriptionIds, expected.subscriptionIds), tenantIds: minus(actual.tenantIds, expected.tenantIds) },
  };
}

export function hasTargets(t: ShareTargets): boolean {
  return t.subscriptionIds.length + t.tenantIds.length > 0;
}
