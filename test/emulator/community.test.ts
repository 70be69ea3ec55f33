// Community sharing (EnableCommunity) and the Microsoft.Resources basics, with the real SDK.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, compute, credential, PUB, publisherCompute, startWorld, type TestWorld } from "./helpers";

let w: TestWorld;
const GALLERY = "community_gallery";

beforeAll(async () => {
  w = await startWorld();
  const c = w.emu.control;
  c.createGallery({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: GALLERY,
    location: PUB.location,
    permissions: "Community",
    communityGalleryInfo: {
      publisherUri: "https://contoso.example",
      publisherContact: "images@contoso.example",
      eula: "https://contoso.example/eula",
      publicNamePrefix: "contoso",
    },
  });
  c.createImageDefinition({ subscriptionId: PUB.subscriptionId, resourceGroup: PUB.resourceGroup, gallery: GALLERY, image: "debian", location: PUB.location });
  c.publishVersion({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: GALLERY,
    image: "debian",
    version: "1.0.0",
    targetRegions: ["eastus"],
    regionMinutes: { eastus: 5 },
  });
  w.clock.advance(6 * 60_000);
});

afterAll(async () => {
  await w.emu.close();
});

describe("community galleries", () => {
  it("EnableCommunity publishes the gallery under a public name any subscription can read", async () => {
    const client = publisherCompute(w);
    await client.gallerySharingProfile.update(PUB.resourceGroup, GALLERY, { operationType: "EnableCommunity", groups: [] });
    const g = await client.galleries.get(PUB.resourceGroup, GALLERY);
    expect(g.sharingProfile?.communityGalleryInfo?.communityGalleryEnabled).toBe(true);
    const publicName = g.sharingProfile?.communityGalleryInfo?.publicNames?.[0] ?? "";
    expect(publicName).toMatch(/^contoso-[0-9a-f-]{36}$/);

    const k = w.consumer(4);
    const consumer = compute(w.emu, credential(w.emu, k.tenantId, k.appId, k.secret), k.subscriptionId);
    const cg = await consumer.communityGalleries.get("eastus", publicName);
    expect(cg.uniqueId).toBe(`/CommunityGalleries/${publicName}`);
    const versions = await collect(consumer.communityGalleryImageVersions.list("eastus", publicName, "debian"));
    expect(versions.map((v) => v.uniqueId)).toEqual([`/CommunityGalleries/${publicName}/Images/debian/Versions/1.0.0`]);
  });

  it("the subscription and resource group endpoints answer like Microsoft.Resources", async () => {
    const token = w.emu.control.issueToken({ tenantId: PUB.tenantId, appId: PUB.appId });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const sub = (await (await fetch(`${w.emu.armEndpoint}/subscriptions/${PUB.subscriptionId}?api-version=2022-12-01`, { headers })).json()) as {
      tenantId: string;
      state: string;
    };
    expect(sub).toMatchObject({ tenantId: PUB.tenantId, state: "Enabled" });
    const put = await fetch(`${w.emu.armEndpoint}/subscriptions/${PUB.subscriptionId}/resourcegroups/rg-new?api-version=2024-03-01`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ location: "westeurope" }),
    });
    expect(put.status).toBe(201);
    const missing = await fetch(`${w.emu.armEndpoint}/subscriptions/${PUB.subscriptionId}/resourcegroups/rg-missing?api-version=2024-03-01`, { headers });
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("ResourceGroupNotFound");
    const unknownSub = await fetch(`${w.emu.armEndpoint}/subscriptions/f0000000-0000-4000-8000-000000000009/resourcegroups/x?api-version=2024-03-01`, {
      headers,
    });
    expect(unknownSub.status).toBe(404);
    expect(((await unknownSub.json()) as { error: { code: string } }).error.code).toBe("SubscriptionNotFound");
  });
});
