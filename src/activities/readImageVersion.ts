// Reads an image version with its replication status ($expand=ReplicationStatus).
import * as df from "durable-functions";
import { appConfig } from "../config";
import { computeClient } from "../azure/compute";
import { parseImageVersionId } from "../domain/resourceIds";
import { runActivity } from "./activityResult";
import { READ_IMAGE_VERSION, type ActivityResult, type ImageVersionReading, type ReadImageVersionInput } from "./names";

export async function readImageVersion(input: ReadImageVersionInput): Promise<ActivityResult<ImageVersionReading>> {
  return runActivity(async () => {
    const ref = parseImageVersionId(input.imageVersionId);
    const client = computeClient(appConfig(), ref.subscriptionId);
    const version = await client.galleryImageVersions.get(ref.resourceGroup, ref.gallery, ref.image, ref.version, {
      expand: "ReplicationStatus",
    });
    const profile = version.publishingProfile;
    const regions = profile?.targetRegions ?? [];
    const status = version.replicationStatus;
    return {
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
    };
  });
}

df.app.activity(READ_IMAGE_VERSION, { handler: (input: ReadImageVersionInput) => readImageVersion(input) });
