// Outcome events: what the app tells subscribers once a version has been shared or has failed to be.
// One shape, CloudEvents 1.0 fields (the publisher adds `source` and `specversion`). The id is
// deterministic, so a replayed activity sends the same event and subscribers can de-duplicate.

export const IMAGE_VERSION_SHARED = "GalleryShare.ImageVersionShared";
export const IMAGE_VERSION_SHARE_FAILED = "GalleryShare.ImageVersionShareFailed";

/** A gated version became `latest`: every ring succeeded and soaked. */
export const IMAGE_VERSION_PROMOTED = "GalleryShare.ImageVersionPromoted";
/** A version was revoked: out of `latest` everywhere, the app's workloads moved back. */
export const IMAGE_VERSION_REVOKED = "GalleryShare.ImageVersionRevoked";
/** A rollout stopped at a ring: which tenant failed and why; no further ring, no promotion. */
export const ROLLOUT_STOPPED = "GalleryShare.RolloutStopped";
/** A version of a gated image arrived without excludeFromLatest: it was `latest` at once, ungated. */
export const LATEST_GATE_BYPASSED = "GalleryShare.LatestGateBypassed";

export const TENANT_ONBOARDED = "GalleryShare.TenantOnboarded";
export const TENANT_ONBOARDING_FAILED = "GalleryShare.TenantOnboardingFailed";
export const TENANT_OFFBOARDED = "GalleryShare.TenantOffboarded";
export const TENANT_OFFBOARDING_FAILED = "GalleryShare.TenantOffboardingFailed";
export const CONSENT_REQUESTED = "GalleryShare.ConsentRequested";
export const CONSENT_REMINDER = "GalleryShare.ConsentReminder";
export const CONSENT_EXPIRED = "GalleryShare.ConsentExpired";
/** The reconciler found a gallery whose sharing or role assignments differ from the registry, and repaired what it could. */
export const DRIFT_DETECTED = "GalleryShare.DriftDetected";
export const DRIFT_REPAIRED = "GalleryShare.DriftRepaired";
/** A request that can never be processed (invalid, or in conflict with the tenant's running request). */
export const REQUEST_REJECTED = "GalleryShare.RequestRejected";

export type OutcomeEventType =
  | typeof IMAGE_VERSION_SHARED
  | typeof IMAGE_VERSION_SHARE_FAILED
  | typeof IMAGE_VERSION_PROMOTED
  | typeof IMAGE_VERSION_REVOKED
  | typeof ROLLOUT_STOPPED
  | typeof LATEST_GATE_BYPASSED
  | typeof TENANT_ONBOARDED
  | typeof TENANT_ONBOARDING_FAILED
  | typeof TENANT_OFFBOARDED
  | typeof TENANT_OFFBOARDING_FAILED
  | typeof REQUEST_REJECTED
  | typeof CONSENT_REQUESTED
  | typeof CONSENT_REMINDER
  | typeof CONSENT_EXPIRED
  | typeof DRIFT_DETECTED
  | typeof DRIFT_REPAIRED;

export const OUTCOME_EVENT_SOURCE = "/gallery-share";

export interface OutcomeEvent {
  readonly type: OutcomeEventType;
  /** What the event is about: an image version id, `/tenants/{tenantId}` or `/requests/{requestId}`. */
  readonly subject: string;
  readonly id: string;
  /** ISO time. */
  readonly time: string;
  readonly data: Readonly<Record<string, unknown>>;
}
