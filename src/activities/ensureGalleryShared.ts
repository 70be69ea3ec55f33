// Makes sure a gallery is directly shared with every target: reads the current sharing profile,
// plans the missing additions, and makes at most one share call for all of them (the share API is
// throttled to about 10 calls per 3 minutes, so targets are never shared one call each).
// Safe to run twice: the second run finds nothing missing and makes no call.
import * as df from "durable-functions";
import { appConfig } from "../config";
import { computeClient } from "../azure/compute";
import { parseGalleryId } from "../domain/resourceIds";
import { planShare, shareOperations, type SharePlan } from "../domain/sharePlan";
import { runActivity } from "./activityResult";
import { ENSURE_GALLERY_SHARED, type ActivityResult, type EnsureGallerySharedInput, type GallerySharingResult } from "./names";

export async function ensureGalleryShared(input: EnsureGallerySharedInput): Promise<ActivityResult<GallerySharingResult>> {
  return runActivity(async () => {
    const ref = parseGalleryId(input.galleryId);
    // No registered targets: nothing to ensure, and the direct-sharing preconditions do not apply.
    if (input.targets.subscriptionIds.length === 0 && input.targets.tenantIds.length === 0) {
      return { added: { subscriptionIds: [], tenantIds: [] }, alreadyShared: { subscriptionIds: [], tenantIds: [] }, shareCalls: 0 };
    }
    const client = computeClient(appConfig(), ref.subscriptionId);
    const readPlan = async (): Promise<SharePlan> => {
      const gallery = await client.galleries.get(ref.resourceGroup, ref.gallery, { expand: "SharingProfile/Groups" });
      return planShare(input.targets, gallery.sharingProfile ?? {}, { limits: input.limits, mode: "ensure", encrypted: input.encrypted });
    };
    const plan = await readPlan();
    const operations = shareOperations(plan);
    for (const operation of operations) {
      try {
        await client.gallerySharingProfile.update(ref.resourceGroup, ref.gallery, operation);
      } catch (err) {
        // ARM may end the share LRO with an empty 200 body, which @azure/arm-compute 25 fails to
        // deserialize (a TypeError, not a RestError) although the share succeeded: confirm by reading.
        if (!(err instanceof TypeError)) throw err;
        const stillMissing = shareOperations(await readPlan());
        if (stillMissing.length > 0) throw new Error(`the share call ended without a readable result and the gallery still lacks targets: ${err.message}`);
      }
    }
    return { added: plan.add, alreadyShared: plan.unchanged, shareCalls: operations.length };
  });
}

df.app.activity(ENSURE_GALLERY_SHARED, { handler: (input: EnsureGallerySharedInput) => ensureGalleryShared(input) });
