// One definition per activity: its name and the types of its input and output. The app registers
// each handler against its descriptor and orchestrations call it through the same descriptor, so a
// name or a shape cannot drift between the two sides. The only part of src/activities that
// orchestrations import (types and constants, no side effects).
import type { OutcomeEvent } from "../domain/outcomeEvents";
import type { ImageVersionSnapshot } from "../domain/replication";
import type { ShareTargets } from "../domain/sharePlan";

/** A permanent failure, or the last of a retryable one, as the orchestration sees it. */
export interface ActivityError {
  /** ARM error code (AuthorizationFailed, ...), Entra code, or a rule name of this app (tenant-limit, ...). */
  readonly code: string;
  readonly status?: number;
  readonly message: string;
  readonly missingAction?: string;
}

/**
 * What every activity returns. Errors are returned, not thrown, so the orchestration decides:
 * `retry` present means "try again", after at least `afterSeconds` when the service said so
 * (a 429 or 503 with Retry-After).
 */
export type ActivityResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ActivityError; readonly retry?: { readonly afterSeconds?: number } };

export interface ActivityDescriptor<I, O> {
  readonly name: string;
  /** Never set: carries the input and output types for the compiler. */
  readonly types?: { readonly input: I; readonly output: O };
}

function activity<I, O>(name: string): ActivityDescriptor<I, O> {
  return { name };
}

export interface ReadImageVersionInput {
  readonly imageVersionId: string;
}

export interface ImageVersionReading {
  /** The managed gallery the version belongs to, as GALLERY_IDS spells it. */
  readonly galleryId: string;
  readonly snapshot: ImageVersionSnapshot;
  /** ISO time replication started (ARM's publishedDate), when reported. */
  readonly publishedDate?: string;
  /** Encrypted versions cannot be direct-shared. */
  readonly encrypted: boolean;
}

export interface EnsureGallerySharedInput {
  readonly galleryId: string;
  readonly encrypted: boolean;
}

export interface GallerySharingResult {
  /** The targets the gallery had to be shared with, read from the app's settings when the share ran. */
  readonly targets: ShareTargets;
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  /** Share calls made: 0 when every target already had access, else 1. */
  readonly shareCalls: number;
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

export const readImageVersion = activity<ReadImageVersionInput, ImageVersionReading>("readImageVersion");
export const ensureGalleryShared = activity<EnsureGallerySharedInput, GallerySharingResult>("ensureGalleryShared");
export const recordShareAudit = activity<RecordShareAuditInput, { readonly rows: number }>("recordShareAudit");
export const sendOutcomeEvent = activity<OutcomeEvent, { readonly sent: boolean }>("sendOutcomeEvent");
