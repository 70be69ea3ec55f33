// The activities of a publish: reading a version and its replication, checking a community
// gallery's public view of it, recording who got access, and sending the outcome event.
import type { Services } from "../services";
import { auditPartition, type AuditRow } from "../azure/auditTable";
import type { ActivityResult } from "../domain/activityResult";
import type { OutcomeEvent } from "../domain/outcomeEvents";
import type { ImageVersionSnapshot } from "../domain/replication";
import { parseImageVersionId } from "../domain/resourceIds";
import type { ShareTargets } from "../domain/sharePlan";
import { runActivity } from "./activity";
import { galleryOfVersion } from "./managedGallery";

export interface ImageVersionReading {
  /** The version's id as ARM spells it (an event may spell it in another case). */
  readonly imageVersionId: string;
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

export interface CommunityVersionInput {
  readonly imageVersionId: string;
  readonly publicName: string;
  readonly location: string;
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

/** What these activities use of the app's services. */
type Deps = Pick<Services, "config" | "arm" | "audit" | "outcomes">;

export function createPublishingActivities(services: Deps) {
  return {
    readImageVersion: (input: { readonly imageVersionId: string }) => runActivity(() => readImageVersion(services, input)),
    verifyCommunityVersion: (input: CommunityVersionInput) => runActivity(() => verifyCommunityVersion(services, input)),
    recordShareAudit: (input: RecordShareAuditInput) => runActivity(() => recordShareAudit(services, input)),
    /** Sends an outcome event to the configured topic (a no-op when none is configured). */
    sendOutcomeEvent: (event: OutcomeEvent): Promise<ActivityResult<{ sent: boolean }>> =>
      runActivity(async () => ({ sent: await services.outcomes.send(event) })),
  };
}

/** Reads an image version with its replication status ($expand=ReplicationStatus), after checking that it belongs to a gallery this app manages. */
async function readImageVersion(services: Deps, input: { readonly imageVersionId: string }): Promise<ImageVersionReading> {
  const galleryId = galleryOfVersion(services.config, input.imageVersionId);
  const ref = parseImageVersionId(input.imageVersionId);
  const client = services.arm.compute(ref.subscriptionId);
  const version = await client.galleryImageVersions.get(ref.resourceGroup, ref.gallery, ref.image, ref.version, { expand: "ReplicationStatus" });
  const profile = version.publishingProfile;
  const regions = profile?.targetRegions ?? [];
  const status = version.replicationStatus;
  return {
    imageVersionId: version.id ?? input.imageVersionId,
    galleryId,
    snapshot: {
      ...(version.provisioningState === undefined ? {} : { provisioningState: version.provisioningState }),
      targetRegions: regions.map((r) => r.name),
      ...(status === undefined
        ? {}
        : {
            replicationStatus: {
              ...(status.aggregatedState === undefined ? {} : { aggregatedState: status.aggregatedState }),
              summary: (status.summary ?? []).map((s) => ({
                ...(s.region === undefined ? {} : { region: s.region }),
                ...(s.state === undefined ? {} : { state: s.state }),
                ...(s.details === undefined ? {} : { details: s.details }),
                ...(s.progress === undefined ? {} : { progress: s.progress }),
              })),
            },
          }),
    },
    ...(profile?.publishedDate ? { publishedDate: new Date(profile.publishedDate).toISOString() } : {}),
    encrypted: regions.some((r) => r.encryption !== undefined),
    excludeFromLatest: profile?.excludeFromLatest === true,
  };
}

/** Checks that a version of a community gallery is visible to all of Azure under its public name, in a region it replicated to. */
async function verifyCommunityVersion(services: Deps, input: CommunityVersionInput): Promise<{ visible: boolean; note?: string }> {
  galleryOfVersion(services.config, input.imageVersionId);
  const ref = parseImageVersionId(input.imageVersionId);
  const client = services.arm.compute(ref.subscriptionId);
  try {
    const seen = await client.communityGalleryImageVersions.get(input.location, input.publicName, ref.image, ref.version);
    return { visible: seen.name?.toLowerCase() === ref.version.toLowerCase() };
  } catch (err) {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (status === 404)
      return { visible: false, note: `${ref.image}/${ref.version} is not visible in community gallery ${input.publicName} in ${input.location}` };
    throw err;
  }
}

/** Records in the audit table which targets had access to a version once it was shared. */
async function recordShareAudit(services: Deps, input: RecordShareAuditInput): Promise<{ rows: number }> {
  const rows = auditRows(input);
  await services.audit.write(rows);
  return { rows: rows.length };
}

function auditRows(input: RecordShareAuditInput): AuditRow[] {
  const ref = parseImageVersionId(input.imageVersionId);
  const partitionKey = auditPartition(input.galleryId);
  const row = (targetKind: AuditRow["targetKind"], targetId: string, result: AuditRow["result"]): AuditRow => ({
    partitionKey,
    rowKey: `${ref.image}|${ref.version}|${targetKind}|${targetId}`,
    galleryId: input.galleryId,
    imageVersionId: input.imageVersionId,
    targetKind,
    targetId,
    result,
    instanceId: input.instanceId,
    at: input.at,
  });
  return [
    ...input.added.subscriptionIds.map((id) => row("subscription", id, "added")),
    ...input.added.tenantIds.map((id) => row("tenant", id, "added")),
    ...input.alreadyShared.subscriptionIds.map((id) => row("subscription", id, "already-shared")),
    ...input.alreadyShared.tenantIds.map((id) => row("tenant", id, "already-shared")),
  ];
}
