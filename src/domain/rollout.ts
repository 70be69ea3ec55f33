// Safe rollouts: how a new image version reaches the app's VMs and scale sets that follow new
// versions (updateOnPublish), ring by ring, and when a gated image's `latest` moves to it. Pure: no
// SDK, no I/O. The orchestrations (publishImageVersion, revokeImageVersion) run the plan.
//
//   ring 0 (the canaries) → soak → ring 1 → soak → … → last ring → soak → promotion (gated images)
//
// A ring starts when every workload of the ring before it reached Succeeded on the version and the
// soak time has passed; one failure stops the rollout there: no further ring, no promotion.
import type { FanOutSummary } from "./workloads";

/** ROLLOUT_RINGS at most (its default, 3, is in src/settings.ts). */
export const MAX_ROLLOUT_RINGS = 10;

/** What a publish (or a revocation) knows of the rollout settings, fixed when it starts. */
export interface RolloutSettings {
  /** The image's `latest` is gated: a version reaches it only when the app promotes it. */
  readonly gated: boolean;
  /** Rings 0 .. rings-1; a tenant without a ring is in the last one. */
  readonly rings: number;
  /** Wait after a ring before the next one starts (and before promotion). */
  readonly soakMinutes: number;
}

/** Without settings (a publish started before rollouts existed): one ring, no soak, no gate. */
export const ALL_AT_ONCE: RolloutSettings = { gated: false, rings: 1, soakMinutes: 0 };

/** The ring a tenant is in: its own, or the last ring when it has none or one beyond the last. */
export function ringOf(ring: number | undefined, rings: number): number {
  const last = Math.max(1, rings) - 1;
  return ring === undefined || !Number.isInteger(ring) || ring < 0 || ring > last ? last : ring;
}

/** Items grouped by ring, ring 0 first; every ring has a list, possibly empty. */
export function byRing<T extends { readonly ring?: number }>(items: readonly T[], rings: number): T[][] {
  const groups: T[][] = Array.from({ length: Math.max(1, rings) }, () => []);
  for (const item of items) groups[ringOf(item.ring, rings)]!.push(item);
  return groups;
}

export type RingState = "waiting" | "moving" | "soaking" | "succeeded" | "stopped" | "skipped";

export interface RingProgress {
  readonly ring: number;
  readonly state: RingState;
  /** VMs and scale sets in the ring, and how their move went. */
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
}

/** Where the gated `latest` stands for this version. */
export type PromotionState =
  /** Not gated: `latest` is Azure's to decide. */
  | "not-gated"
  /** Gated, excluded from latest, waiting for the rings. */
  | "pending"
  | "promoted"
  /** Gated, but the version was published without excludeFromLatest: it was latest at once. */
  | "bypassed"
  /** The rollout stopped: the version stays out of latest. */
  | "withheld"
  /** Revoked: never promoted. */
  | "revoked";

export interface RolloutStatus {
  readonly state: "rolling-out" | "soaking" | "promoting" | "done" | "stopped";
  readonly gated: boolean;
  /** The ring moving or soaking now (the last one when done). */
  readonly ring: number;
  readonly rings: readonly RingProgress[];
  /** What the rollout waits for now, in words, and until when (ISO). */
  readonly waitingFor?: string;
  readonly until?: string;
  /** The failure that stopped it: which tenant and ARM's reason. */
  readonly stoppedBy?: { readonly ring: number; readonly tenantId: string; readonly kind: string; readonly code: string; readonly message: string };
  readonly promotion: { readonly state: PromotionState; readonly at?: string; readonly reason?: string };
}

/** A ring's progress from its fan-out summary (or nothing moved: an empty ring). */
export function ringProgress(ring: number, state: RingState, summary: FanOutSummary | undefined): RingProgress {
  return { ring, state, total: summary?.total ?? 0, succeeded: summary?.succeeded ?? 0, failed: summary?.failed ?? 0 };
}

/** The rings before a rollout starts: all waiting, with their sizes. */
export function initialRings(sizes: readonly number[]): RingProgress[] {
  return sizes.map((total, ring) => ({ ring, state: "waiting", total, succeeded: 0, failed: 0 }));
}

/** The first failure of a ring's fan-out, for `stoppedBy`. */
export function firstFailure(ring: number, summary: FanOutSummary): RolloutStatus["stoppedBy"] {
  const f = summary.failures[0];
  return f ? { ring, tenantId: f.tenantId, kind: f.kind, code: f.code, message: f.message } : undefined;
}
