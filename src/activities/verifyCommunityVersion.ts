// Checks that a version of a community gallery is visible to all of Azure under its public name:
// `communityGalleries/{publicName}/images/{image}/versions/{version}` in a region it replicated to.
import type { Services } from "../services";
import { parseImageVersionId } from "../domain/resourceIds";
import { runActivity } from "./activityResult";
import type { ActivityResult, CommunityVersionInput } from "./descriptors";
import { galleryOfVersion } from "./managedGallery";

export function createVerifyCommunityVersion(services: Services) {
  return (input: CommunityVersionInput): Promise<ActivityResult<{ visible: boolean; note?: string }>> =>
    runActivity(async () => {
      galleryOfVersion(services.config, input.imageVersionId);
      const ref = parseImageVersionId(input.imageVersionId);
      const client = services.arm.compute(ref.subscriptionId);
      try {
        const seen = await client.communityGalleryImageVersions.get(input.location, input.publicName, ref.image, ref.version);
        return { visible: seen.name?.toLowerCase() === ref.version.toLowerCase() };
      } catch (err) {
        const status = (err as { statusCode?: unknown }).statusCode;
        if (status === 404) return { visible: false, note: `${ref.image}/${ref.version} is not visible in community gallery ${input.publicName} in ${input.location}` };
        throw err;
      }
    });
}
