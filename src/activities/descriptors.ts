// One definition per activity: its name and the types of its input and output. The app registers
// each handler against its descriptor and orchestrations call it through the same descriptor, so a
// name or a shape cannot drift between the two sides. The only part of src/activities that
// orchestrations import (types and constants, no side effects).
import type { OutcomeEvent } from "../domain/outcomeEvents";
import type { ImageVersionSnapshot } from "../domain/replication";
import type { ShareTargets } from "../domain/sharePlan";
import type { TenantWorkload, WorkloadKind, WorkloadOutcome, WorkloadSpec } from "../domain/workloads";

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
  /** Kept out of `latest`: VMs and scale sets that follow new versions are not moved to it. */
  readonly excludeFromLatest?: boolean;
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

/** The targets (subscriptions and tenants) one change adds or removes. */
export interface ShareIds {
  readonly subscriptionIds?: readonly string[];
  readonly tenantIds?: readonly string[];
}

/** A change to one gallery's direct-sharing groups, sent to the share coordinator of its subscription. */
export interface ShareChange {
  /** Unique per change: the coordinator answers a repeat with the first answer. */
  readonly requestId: string;
  readonly galleryId: string;
  readonly add?: ShareIds;
  readonly remove?: ShareIds;
  /** Also add every target registered for the gallery when the change is applied (a publish). */
  readonly ensureRegistered?: boolean;
  /** A publish of an encrypted version: refused while the gallery is (or would be) directly shared. */
  readonly encrypted?: boolean;
  /** Whom to tell the result: an orchestration waiting for an external event. */
  readonly replyTo: { readonly instanceId: string; readonly eventName: string };
}

export interface ShareChangeResult {
  readonly requestId: string;
  /** rejected: the change breaks a rule (`reason` names it); failed: Azure refused the batch (`error`). */
  readonly result: "applied" | "rejected" | "failed";
  readonly reason?: string;
  readonly error?: ActivityError;
  /** What the change needed added, and what was there already. */
  readonly added: ShareTargets;
  readonly alreadyShared: ShareTargets;
  readonly removed: ShareTargets;
  /** Share calls the batch this change was part of made (0 when nothing was missing). */
  readonly shareCalls: number;
  /** Time the coordinator confirmed the change (ISO). */
  readonly at: string;
  /** A community gallery: its public name (public to all of Azure, nothing to share per tenant). */
  readonly communityPublicName?: string;
}

export interface SubmitShareChangeInput {
  readonly coordinatorId: string;
  readonly subscriptionId: string;
  readonly change: ShareChange;
}

export interface ApplyShareChangesInput {
  readonly galleryId: string;
  readonly changes: readonly ShareChange[];
}

export interface AppliedShareChanges {
  readonly results: readonly Omit<ShareChangeResult, "shareCalls" | "at">[];
  readonly communityPublicName?: string;
  readonly shareCalls: number;
  /** What Compute said remained of its share budget (x-ms-ratelimit-remaining-resource), when it said. */
  readonly remainingHeader?: string;
}

export interface ShareNotice {
  readonly instanceId: string;
  readonly eventName: string;
  readonly result: ShareChangeResult;
}

export const readImageVersion = activity<ReadImageVersionInput, ImageVersionReading>("readImageVersion");
export const recordShareAudit = activity<RecordShareAuditInput, { readonly rows: number }>("recordShareAudit");
export const sendOutcomeEvent = activity<OutcomeEvent, { readonly sent: boolean }>("sendOutcomeEvent");
export const submitShareChange = activity<SubmitShareChangeInput, { readonly via: "started" | "raised" }>("submitShareChange");
export const applyShareChanges = activity<ApplyShareChangesInput, AppliedShareChanges>("applyShareChanges");
export const notifyShareResults = activity<{ readonly notices: readonly ShareNotice[] }, { readonly delivered: number; readonly gone: number }>("notifyShareResults");

// ------------------------------------------------------------------------------ tenant onboarding

export interface GalleryReaderInput {
  readonly galleryId: string;
  readonly principalId: string;
  readonly principalType: "User" | "Group" | "ServicePrincipal";
}

export interface GalleryReaderResult {
  /** The role assignment's resource id (deterministic: the same principal and gallery give the same id). */
  readonly roleAssignmentId: string;
  /** False when it already existed (RoleAssignmentExists counts as done). */
  readonly created: boolean;
}

export interface VerifyDirectShareInput {
  readonly tenantId: string;
  readonly galleryId: string;
  /** A subscription of the consumer to look from, and the location to look in. */
  readonly subscriptionId: string;
  readonly location: string;
}

export interface DirectShareVisibility {
  /** The consumer tenant lists the gallery among those shared with it. */
  readonly visible: boolean;
  readonly uniqueName?: string;
  /** The newest version the consumer can read in that location, when there is one. */
  readonly newestVersion?: string;
  /** A note for the record: e.g. the newest version has not replicated to the consumer's location yet. */
  readonly note?: string;
}

export interface TenantGrantsInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly at: string;
  readonly grants: readonly { readonly galleryId: string; readonly kind: "subscription" | "tenant" | "roleAssignment"; readonly targetId: string; readonly roleAssignmentId?: string }[];
}

export interface FinishTenantRequestInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly at: string;
  /** The tenant's next state, and the request's end. */
  readonly tenantState: "active" | "offboarded" | "failed";
  readonly requestState: "succeeded" | "failed";
  readonly reason?: string;
}

export const ensureGalleryReader = activity<GalleryReaderInput, GalleryReaderResult>("ensureGalleryReader");
export const removeRoleAssignment = activity<{ readonly roleAssignmentId: string }, { readonly removed: boolean }>("removeRoleAssignment");
export const verifyDirectShare = activity<VerifyDirectShareInput, DirectShareVisibility>("verifyDirectShare");
export const recordTenantGrants = activity<TenantGrantsInput, { readonly recorded: number }>("recordTenantGrants");
export const removeTenantGrants = activity<TenantGrantsInput, { readonly removed: number }>("removeTenantGrants");
export const readTenantGrants = activity<{ readonly tenantId: string }, { readonly grants: TenantGrantsInput["grants"]; readonly workloads: readonly { readonly kind: WorkloadKind; readonly resourceId: string; readonly imageVersion: string }[] }>("readTenantGrants");
export const finishTenantRequest = activity<FinishTenantRequestInput, { readonly state: string }>("finishTenantRequest");

export interface ConsentRequestInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly instanceId: string;
  /** ISO times: when the link was made (orchestration time) and when it stops working. */
  readonly issuedAt: string;
  readonly expiresAt: string;
}

export interface ConsentRequestResult {
  /** The page that explains who asks for what, with the button to Microsoft's consent page. */
  readonly consentPageUrl: string;
  /** Microsoft's admin-consent link itself (v2.0, scope https://management.azure.com/.default). */
  readonly adminConsentUrl: string;
}

export interface RbacAccessInput {
  readonly tenantId: string;
  readonly galleryId: string;
  readonly consumer: { readonly subscriptionId: string; readonly resourceGroup: string };
  /** The request asks for a scale set: the app must be able to make one too. */
  readonly scaleSets?: boolean;
}

export interface RbacAccess {
  /** Actions creating a VM from the image needs that the app does not hold on the consumer resource group, named exactly. */
  readonly missingActions: readonly string[];
  /** The newest version of the gallery's images, read with the app's publisher-tenant token (the auxiliary token VM creation sends). */
  readonly newestVersion?: string;
  readonly note?: string;
}

export const createConsentRequest = activity<ConsentRequestInput, ConsentRequestResult>("createConsentRequest");
export const verifyRbacAccess = activity<RbacAccessInput, RbacAccess>("verifyRbacAccess");

export interface CommunityVersionInput {
  readonly imageVersionId: string;
  readonly publicName: string;
  readonly location: string;
}

export const verifyCommunityVersion = activity<CommunityVersionInput, { readonly visible: boolean; readonly note?: string }>("verifyCommunityVersion");
export const ensureAppReader = activity<{ readonly galleryId: string }, GalleryReaderResult>("ensureAppReader");

// ------------------------------------------------------------------ VMs and scale sets in consumer tenants

/** A VM or scale set of one consumer tenant, and how the app reaches it. */
export interface WorkloadTarget {
  readonly mode: "direct" | "rbac";
  readonly tenantId: string;
  readonly galleryId: string;
  readonly consumer: { readonly subscriptionId: string; readonly resourceGroup: string; readonly location: string };
  readonly spec: WorkloadSpec;
}

export interface ResolvedImage {
  /** The version number (`latest` resolved). */
  readonly version: string;
  /** The gallery image version's resource id. */
  readonly imageVersion: string;
  /** How the VM names it: sharedGalleryImageId in direct mode, the version's id in rbac mode. */
  readonly imageReference: { readonly sharedGalleryImageId: string } | { readonly id: string };
}

export interface StartWorkloadInput extends WorkloadTarget {
  readonly changedBy: string;
  readonly image: ResolvedImage;
}

export interface StartedWorkload {
  /** deleting: a VM built from another version is removed first (a VM's image cannot change); start again when it is gone. */
  readonly phase: "creating" | "updating" | "deleting";
  readonly resourceId: string;
}

export interface WorkloadState {
  readonly exists: boolean;
  /** ARM's provisioningState: Creating, Updating, Deleting, Succeeded, Failed, Canceled. */
  readonly provisioningState?: string;
  /** Why a create or update failed, from the VM's instance view. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface WorkloadToUpdate extends WorkloadTarget {
  /** The version it runs now. */
  readonly imageVersion: string;
}

export const resolveWorkloadImage = activity<WorkloadTarget, ResolvedImage>("resolveWorkloadImage");
export const startWorkload = activity<StartWorkloadInput, StartedWorkload>("startWorkload");
export const readWorkload = activity<WorkloadTarget, WorkloadState>("readWorkload");
export const recordTenantWorkload = activity<{ readonly workload: TenantWorkload; readonly tenantId: string }, { readonly workloads: number }>("recordTenantWorkload");
/** Active tenants' VMs and scale sets that follow new versions of `image` and run an older one. */
export const listWorkloadsToUpdate = activity<{ readonly galleryId: string; readonly image: string; readonly version: string }, { readonly workloads: readonly WorkloadToUpdate[] }>("listWorkloadsToUpdate");

export interface ProvisionVmInput extends WorkloadTarget {
  /** The onboarding request or the publish orchestration that asks: recorded and tagged. */
  readonly changedBy: string;
  /** A publish names the version it shared; the recorded spec keeps what the request asked for ("latest"). */
  readonly version?: string;
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** VM_CREATIONS_IN_FLIGHT: how many creations the whole app runs at once (default 10). */
  readonly slots?: number;
  /** Started by a publish: tell it the outcome (a sub-orchestration of onboarding returns it instead). */
  readonly notify?: WorkloadNotify;
}

/** Where a provisionVm started by a publish reports its end: an external event on the publish. */
export interface WorkloadNotify {
  readonly instanceId: string;
  readonly eventName: string;
  /** The workload's place in the publish's list. */
  readonly index: number;
}

export interface WorkloadNotice extends WorkloadNotify {
  readonly outcome: WorkloadOutcome;
}

export interface StartProvisioningInput {
  readonly starts: readonly { readonly instanceId: string; readonly input: ProvisionVmInput }[];
}

export const startProvisioning = activity<StartProvisioningInput, { readonly started: number; readonly existing: number }>("startProvisioning");
export const notifyWorkloadDone = activity<WorkloadNotice, { readonly delivered: boolean }>("notifyWorkloadDone");

export interface CreationSlotInput {
  /** The provisionVm instance that holds the slot. */
  readonly holder: string;
  /** Orchestration time (ISO), and when the lease runs out unless renewed. */
  readonly now: string;
  readonly until: string;
  readonly slots: number;
}

export const acquireCreationSlot = activity<CreationSlotInput, { readonly granted: boolean }>("acquireCreationSlot");
export const releaseCreationSlot = activity<{ readonly holder: string }, { readonly released: boolean }>("releaseCreationSlot");
