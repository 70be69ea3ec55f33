// Outcome events: what the app tells subscribers once a version has been shared or has failed to be.
// One shape, CloudEvents 1.0 fields (the publisher adds `source` and `specversion`). The id is
// deterministic, so a replayed activity sends the same event and subscribers can de-duplicate.

export const IMAGE_VERSION_SHARED = "GalleryShare.ImageVersionShared";
export const IMAGE_VERSION_SHARE_FAILED = "GalleryShare.ImageVersionShareFailed";

export type OutcomeEventType = typeof IMAGE_VERSION_SHARED | typeof IMAGE_VERSION_SHARE_FAILED;

export const OUTCOME_EVENT_SOURCE = "/gallery-share";

export interface OutcomeEvent {
  readonly type: OutcomeEventType;
  /** The resource the event is about (an image version id). */
  readonly subject: string;
  readonly id: string;
  /** ISO time. */
  readonly time: string;
  readonly data: Readonly<Record<string, unknown>>;
}
