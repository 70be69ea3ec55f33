// Activity names and their input/output shapes: the only part of src/activities that orchestrators import.
import type { ImageVersionSnapshot } from "../domain/replication";
import type { ShareLimits, ShareTargets } from "../domain/sharePlan";

export const READ_IMAGE_VERSION = "readImageVersion";
export const ENSURE_GALLERY_SHARED = "ensureGalleryShared";
export const PUBLISH_OUTCOME = "publishOutcome";
export const RECORD_SHARE_AUDIT = "recordShareAudit";

/** A permanent failure, returned (not thrown) so the orchestration does not retry it. */
export interface ActivityError {
  /** ARM error code (AuthorizationFailed, ...) or a rule name of this app (tenant-limit, ...). */
  readonly code: string;
  readonly status?: number;
  readonly message: string;
  readonly missingAction?: string;
}

export type ActivityResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ActivityError };

export interface ReadImageVersionInput {
  readonly imageVersionId: string;
}

export interface ImageVersionReading {
  readonly snapshot: ImageVersionSnapshot;
  /** ISO time replication started (ARM's publishedDate), when reported. */
  readonly publishedDate?: string;
  /** Encrypted versions cannot be direct-shared. */
  readonly encrypted: boolean;
}

export interface EnsureGallerySharedInput {
  readonly galleryId: string;
  readonly targets: ShareTargets;
  readonly limits: ShareLimits;
  readonly encrypted: boolean;
}

export interface GallerySharingResult {
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  /** Share calls made: 0 when every target already had access, else 1. */
  readonly shareCalls: number;
}

export interface PublishOutcomeInput {
  readonly type: string;
  readonly subject: string;
  readonly id: string;
  readonly time: string;
  readonly data: unknown;
}

export interface PublishOutcomeResult {
  readonly published: boolean;
}

export interface RecordShareAuditInput {
  readonly galleryId: string;
  readonly imageVersionId: string;
  readonly instanceId: string;
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  /** ISO time the share was confirmed (orchestration time). */
  readonly at: string;
}
