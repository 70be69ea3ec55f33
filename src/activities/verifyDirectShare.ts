// Checks a direct share from the consumer's side, as the multi-tenant app in the consumer tenant:
// the gallery is listed among those shared with the tenant, and its newest version is readable in
// the consumer's location. A version not yet replicated there is reported as such, not as a failure
// to share.
import type { Services } from "../services";
import { parseGalleryId } from "../domain/resourceIds";
import { runActivity } from "./activityResult";
import type { ActivityResult, DirectShareVisibility, VerifyDirectShareInput } from "./descriptors";
import { managedGalleryId } from "./managedGallery";
import { MAX_LISTED, sharedUniqueName } from "./sharedGalleries";

export function createVerifyDirectShare(services: Services) {
  return (input: VerifyDirectShareInput): Promise<ActivityResult<DirectShareVisibility>> =>
    runActivity(async () => {
      const galleryId = managedGalleryId(services.config, input.galleryId);
      const { gallery } = parseGalleryId(galleryId);
      const consumer = services.arm.compute(input.subscriptionId, { tenantId: input.tenantId });
      const find = (location: string): Promise<string | undefined> => sharedUniqueName(consumer, location, gallery);
      const uniqueName = await find(input.location);
      if (!uniqueName) {
        // Not listed in the consumer's region: shared, but nothing replicated there yet? Look in the gallery's own region.
        const { subscriptionId, resourceGroup } = parseGalleryId(galleryId);
        const home = (await services.arm.compute(subscriptionId).galleries.get(resourceGroup, gallery)).location;
        const there = home && home.toLowerCase() !== input.location.toLowerCase() ? await find(home) : undefined;
        if (there) return { visible: true, uniqueName: there, note: `shared with the tenant, but no version of it is replicated to ${input.location} yet (the gallery is in ${home})` };
        return { visible: false, note: `the consumer tenant does not list ${gallery} among the galleries shared with it in ${input.location}` };
      }
      let newest: { name: string; published: number } | undefined;
      let images = 0;
      for await (const image of consumer.sharedGalleryImages.list(input.location, uniqueName)) {
        if (!image.name || ++images > MAX_LISTED) break;
        let versions = 0;
        for await (const version of consumer.sharedGalleryImageVersions.list(input.location, uniqueName, image.name)) {
          if (++versions > MAX_LISTED) break;
          const published = version.publishedDate ? new Date(version.publishedDate).getTime() : 0;
          if (version.name && (!newest || published > newest.published)) newest = { name: `${image.name}/${version.name}`, published };
        }
      }
      if (!newest) return { visible: true, uniqueName, note: `no version of the gallery's images is readable in ${input.location} yet (not replicated there, or none published)` };
      return { visible: true, uniqueName, newestVersion: newest.name };
    });
}
