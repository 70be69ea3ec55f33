// Reads an image version with its replication status ($expand=ReplicationStatus), after checking
// that it belongs to a gallery this app manages.
import type { Services } from "../services";
import { parseImageVersionId } from "../domain/resourceIds";
import { runActivity } from "./activityResult";
import type { ActivityResult, ImageVersionReading, ReadImageVersionInput } from "./descriptors";
import { galleryOfVersion } from "./managedGallery";

export function createReadImageVersion(services: Services) {
  return (input: ReadImageVersionInput): Promise<ActivityResult<ImageVersionReading>> =>
    runActivity(async () => {
      const galleryId = galleryOfVersion(services.config, input.imageVersionId);
      const ref = parseImageVersionId(input.imageVersionId);
      const client = services.arm.compute(ref.subscriptionId);
      const version = await client.galleryImageVersions.get(ref.resourceGroup, ref.gallery, ref.image, ref.version, { expand: "ReplicationStatus" });
      const profile = version.publishingProfile;
      const regions = profile?.targetRegions ?? [];
      const status = version.replicationStatus;
      return {
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
    });
}
