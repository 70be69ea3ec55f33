// Community galleries: public to all of Azure. A publish makes sure the gallery is published to the
// community (EnableCommunity, once) and that the new version is visible under its public name; a
// tenant onboarding for such a gallery is refused, naming the rule.
import { describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { armLog, isShareCall, sendRequests, useWorlds } from "./support";

const worlds = useWorlds();
const NAME = "contoso_community";
const COMMUNITY_ID = GALLERY_ID.replace(PUBLISHER.gallery, NAME);

async function start(): Promise<World> {
  const w = await worlds.start({ settings: { SHARE_TENANT_IDS: "", GALLERY_IDS: `${GALLERY_ID},${COMMUNITY_ID}` } });
  const control = w.emulator.control;
  control.createGallery({
    subscriptionId: PUBLISHER.subscriptionId,
    resourceGroup: PUBLISHER.resourceGroup,
    gallery: NAME,
    location: PUBLISHER.location,
    permissions: "Community",
    communityGalleryInfo: {
      publisherUri: "https://contoso.example",
      publisherContact: "images@contoso.example",
      eula: "https://contoso.example/eula",
      publicNamePrefix: "contoso",
    },
  });
  control.createImageDefinition({
    subscriptionId: PUBLISHER.subscriptionId,
    resourceGroup: PUBLISHER.resourceGroup,
    gallery: NAME,
    image: "ubuntu-community",
    location: PUBLISHER.location,
    osType: "Linux",
    publisher: "contoso",
    offer: "ubuntu",
    sku: "community",
  });
  for (const role of ["Reader", "Compute Gallery Sharing Admin"] as const)
    control.addRoleAssignment({ scope: COMMUNITY_ID, principalId: w.identity.objectId, role });
  // Community views are read at subscription scope (locations/{l}/communityGalleries).
  control.addRoleAssignment({ scope: `/subscriptions/${PUBLISHER.subscriptionId}`, principalId: w.identity.objectId, role: "Reader" });
  return w;
}

function publish(w: World, version: string): string {
  return w.emulator.control.publishVersion({
    subscriptionId: PUBLISHER.subscriptionId,
    resourceGroup: PUBLISHER.resourceGroup,
    gallery: NAME,
    image: "ubuntu-community",
    version,
    location: PUBLISHER.location,
    targetRegions: [PUBLISHER.location, "northeurope"],
    regionMinutes: { westeurope: 10, northeurope: 10 },
  });
}

describe("community galleries", () => {
  it("publishes the gallery to the community once, and checks each new version is visible under its public name", async () => {
    const w = await start();
    for (const version of ["1.0.0", "1.0.1"]) {
      const id = publish(w, version);
      expect((await w.deliver([versionWriteEvent(id)])).status).toBe(202);
      const status = await w.host.durable.waitFor(publishInstanceId(id));
      expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");
      expect((status.output as { communityPublicName?: string }).communityPublicName).toMatch(/^contoso-/);
    }
    const shares = armLog(w).filter(isShareCall);
    expect(shares.map((s) => (s.requestBody as { operationType: string }).operationType)).toEqual(["EnableCommunity"]);
    const views = armLog(w).filter((x) => /\/communityGalleries\/contoso-[^/]+\/images\/ubuntu-community\/versions\/1\.0\.[01]\?/i.test(x.url));
    expect(views.map((x) => x.status)).toEqual([200, 200]);
  });

  it("refuses a direct or rbac onboarding for a community gallery, naming the rule, while the tenant's other gallery is granted", async () => {
    const w = await start();
    const requestId = "c0ffee00-0000-4000-8000-000000000001";
    await sendRequests(w, [
      {
        schema: "onboarding/v1",
        requestId,
        tenantId: CONSUMERS[0].tenantId,
        displayName: CONSUMERS[0].name,
        mode: "direct",
        galleries: [COMMUNITY_ID, GALLERY_ID],
      },
    ]);
    await w.host.durable.runUntilIdle();
    const status = await w.host.durable.waitFor(`onboard-${requestId}`);
    expect(status.output).toMatchObject({
      state: "active",
      galleries: [
        { galleryId: COMMUNITY_ID, result: "failed", error: { code: "community-gallery" } },
        { galleryId: GALLERY_ID, result: "granted" },
      ],
    });
  });
});
