// Makes sure a managed gallery is directly shared with every target: reads the current sharing
// profile, plans the missing additions, and makes at most one share call for all of them (the share
// API is throttled to about 10 calls per 3 minutes, so targets are never shared one call each).
// The targets are read here, when the share runs, not taken from the orchestration's input.
// Safe to run twice: the second run finds nothing missing and makes no call.
import type { Services } from "../app";
import { parseGalleryId } from "../domain/resourceIds";
import { planShare, shareOperations, type SharePlan, type ShareTargets } from "../domain/sharePlan";
import { runActivity } from "./activityResult";
import type { ActivityResult, EnsureGallerySharedInput, GallerySharingResult } from "./descriptors";
import { managedGalleryId } from "./managedGallery";

export function createEnsureGalleryShared(services: Services) {
  return (input: EnsureGallerySharedInput): Promise<ActivityResult<GallerySharingResult>> =>
    runActivity(async () => {
      const { config } = services;
      const galleryId = managedGalleryId(config, input.galleryId);
      const targets: ShareTargets = { subscriptionIds: [...config.shareSubscriptionIds], tenantIds: [...config.shareTenantIds] };
      // No registered targets: nothing to ensure, and the direct-sharing preconditions do not apply.
      if (targets.subscriptionIds.length === 0 && targets.tenantIds.length === 0) {
        return { targets, added: { subscriptionIds: [], tenantIds: [] }, alreadyShared: { subscriptionIds: [], tenantIds: [] }, shareCalls: 0 };
      }
      const ref = parseGalleryId(galleryId);
      const client = services.arm.compute(ref.subscriptionId);
      const readPlan = async (): Promise<SharePlan> => {
        const gallery = await client.galleries.get(ref.resourceGroup, ref.gallery, { expand: "SharingProfile/Groups" });
        return planShare(targets, gallery.sharingProfile ?? {}, { limits: config.shareLimits, mode: "ensure", encrypted: input.encrypted });
      };
      const plan = await readPlan();
      const operations = shareOperations(plan);
      for (const operation of operations) {
        try {
          await client.gallerySharingProfile.update(ref.resourceGroup, ref.gallery, operation);
        } catch (err) {
          if (!endedWithEmptyBody(err)) throw err;
          // ARM may end the share LRO with an empty 200 body, which @azure/arm-compute 25 fails to
          // deserialize although the share succeeded: confirm by reading the profile back.
          const stillMissing = shareOperations(await readPlan());
          if (stillMissing.length > 0) throw new Error("the share call ended with an empty result and the gallery still lacks targets");
        }
      }
      return { targets, added: plan.add, alreadyShared: plan.unchanged, shareCalls: operations.length };
    });
}

/**
 * The SDK's deserializer reading `operationType` of a missing final body, and nothing else: a
 * dropped connection is a TypeError too ("fetch failed", with a cause), and must stay an error.
 */
export function endedWithEmptyBody(err: unknown): boolean {
  return err instanceof TypeError && err.cause === undefined && /^Cannot read properties of (?:undefined|null) \(reading 'operationType'\)$/.test(err.message);
}
