// The activities of safe rollouts: moving `latest` (a version's excludeFromLatest, changed with
// GalleryImageVersions_Update), the version's record (revocation, promotion), and the version a
// revoked one falls back to.
import type { Services } from "../services";
import type { ImageVersionRecord } from "../azure/registryRecords";
import { parseImageVersionId, sameResourceId } from "../domain/resourceIds";
import { WRITE_RESERVE } from "../domain/writeBudget";
import { compareImageVersions } from "../domain/workloads";
import { heldBackWrite, runActivity } from "./activity";
import { galleryOfVersion } from "./managedGallery";

export interface LatestExclusionInput {
  readonly imageVersionId: string;
  /** true: keep the version out of `latest`; false: promote it. */
  readonly exclude: boolean;
  /** Also set every target region's own flag (a revocation: out of `latest` in every region). */
  readonly everyRegion: boolean;
  /** Orchestration time: the write is scheduled within the subscription's ARM write budget. */
  readonly at?: string;
  readonly writeSlot?: number;
}

type Deps = Pick<Services, "config" | "arm" | "registry" | "armWrites">;

export function createRolloutActivities(services: Deps) {
  return {
    setLatestExclusion: (input: LatestExclusionInput) => runActivity(() => setLatestExclusion(services, input)),
    readImageVersionRecord: (input: { readonly imageVersionId: string }) => runActivity(() => readRecord(services, input)),
    recordPromotion: (input: { readonly imageVersionId: string; readonly at: string; readonly by: string }) =>
      runActivity(() => recordPromotion(services, input)),
    findFallbackVersion: (input: { readonly imageVersionId: string }) => runActivity(() => findFallbackVersion(services, input)),
  };
}

/**
 * Sets the version's excludeFromLatest (and, with everyRegion, each target region's) with a PATCH,
 * unless it is set so already: idempotent, and a repeated call costs one read.
 */
async function setLatestExclusion(services: Deps, input: LatestExclusionInput): Promise<{ changed: boolean }> {
  galleryOfVersion(services.config, input.imageVersionId);
  const ref = parseImageVersionId(input.imageVersionId);
  const client = services.arm.compute(ref.subscriptionId);
  const version = await client.galleryImageVersions.get(ref.resourceGroup, ref.gallery, ref.image, ref.version);
  const profile = version.publishingProfile;
  const regions = profile?.targetRegions ?? [];
  const topDone = (profile?.excludeFromLatest ?? false) === input.exclude;
  const regionsDone = !input.everyRegion || regions.every((r) => (r.excludeFromLatest ?? false) === input.exclude);
  if (topDone && regionsDone) return { changed: false };
  const now = input.at === undefined ? Number.NaN : Date.parse(input.at);
  if (Number.isFinite(now) && input.writeSlot === undefined) {
    const slot = await services.armWrites.reserve(ref.subscriptionId, now, WRITE_RESERVE);
    if (slot > now) throw heldBackWrite(slot - now, slot);
  }
  // The regions are sent as they are (a PATCH replaces the list): only their flag changes.
  const targetRegions = regions.map((r) => ({
    name: r.name,
    ...(r.regionalReplicaCount === undefined ? {} : { regionalReplicaCount: r.regionalReplicaCount }),
    ...(r.storageAccountType === undefined ? {} : { storageAccountType: r.storageAccountType }),
    ...(r.encryption === undefined ? {} : { encryption: r.encryption }),
    excludeFromLatest: input.everyRegion ? input.exclude : (r.excludeFromLatest ?? false),
  }));
  // The spec requires storageProfile in an update (GalleryImageVersionProperties): the version's own, unchanged.
  await client.galleryImageVersions.beginUpdateAndWait(ref.resourceGroup, ref.gallery, ref.image, ref.version, {
    publishingProfile: { excludeFromLatest: input.exclude, ...(input.everyRegion ? { targetRegions } : {}) },
    storageProfile: version.storageProfile,
  });
  return { changed: true };
}

async function readRecord(services: Deps, input: { readonly imageVersionId: string }): Promise<{ record?: ImageVersionRecord }> {
  const stored = await services.registry.getImageVersion(input.imageVersionId);
  return stored ? { record: stored.record } : {};
}

async function recordPromotion(
  services: Deps,
  input: { readonly imageVersionId: string; readonly at: string; readonly by: string },
): Promise<{ recorded: boolean }> {
  const stored = await services.registry.updateImageVersion(input.imageVersionId, (current) =>
    current?.promoted ? current : { ...(current ?? { imageVersionId: input.imageVersionId }), promoted: { at: input.at, by: input.by } },
  );
  return { recorded: stored.record.promoted?.at === input.at };
}

/**
 * The version a revoked one falls back to, as Azure's `latest` will resolve once it is excluded:
 * the highest other version that succeeded, is not excluded from latest and is not revoked.
 */
async function findFallbackVersion(services: Deps, input: { readonly imageVersionId: string }): Promise<{ version?: string; imageVersionId?: string }> {
  galleryOfVersion(services.config, input.imageVersionId);
  const ref = parseImageVersionId(input.imageVersionId);
  const client = services.arm.compute(ref.subscriptionId);
  const candidates: { name: string; id: string }[] = [];
  for await (const v of client.galleryImageVersions.listByGalleryImage(ref.resourceGroup, ref.gallery, ref.image)) {
    if (!v.name || !v.id || sameResourceId(v.id, input.imageVersionId)) continue;
    if (v.provisioningState !== "Succeeded" || v.publishingProfile?.excludeFromLatest) continue;
    candidates.push({ name: v.name, id: v.id });
  }
  candidates.sort((a, b) => compareImageVersions(b.name, a.name));
  for (const c of candidates) {
    if ((await services.registry.getImageVersion(c.id))?.record.revoked) continue;
    return { version: c.name, imageVersionId: c.id };
  }
  return {};
}
