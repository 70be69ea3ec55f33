// Acceptance: direct sharing with the real @azure/arm-compute client. A gallery created with
// permissions Groups, a published version, share Add for 2 subscriptions + 1 tenant, the consumer
// lists it (sharedTo=tenant), an unshared subscription sees nothing, Remove takes access away, and
// a 6th tenant is refused with the limit error.
import { NetworkManagementClient } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, compute, credential, GALLERY_ID, PUB, publisherCompute, restError, startWorld, type TestWorld } from "./helpers";

let w: TestWorld;

beforeAll(async () => {
  w = await startWorld();
  w.emu.control.publishVersion({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: PUB.gallery,
    image: PUB.image,
    version: "1.0.0",
    targetRegions: ["eastus", "westeurope"],
    regionMinutes: { eastus: 30, westeurope: 40 },
  });
});

afterAll(async () => {
  await w.emu.close();
});

function consumerCompute(n: number) {
  const k = w.consumer(n);
  return compute(w.emu, credential(w.emu, k.tenantId, k.appId, k.secret), k.subscriptionId);
}

describe("direct sharing", () => {
  it("the gallery reports permissions Groups and its uniqueName", async () => {
    const g = await publisherCompute(w).galleries.get(PUB.resourceGroup, PUB.gallery, { select: "Permissions" });
    expect(g.sharingProfile?.permissions).toBe("Groups");
    expect(g.identifier?.uniqueName).toBe(`${PUB.subscriptionId}-${PUB.gallery.toUpperCase()}`);
  });

  it("share Add for 2 subscriptions and 1 tenant is a long-running operation that updates the sharing profile", async () => {
    const client = publisherCompute(w);
    const result = await client.gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, {
      operationType: "Add",
      groups: [
        { type: "Subscriptions", ids: [w.consumer(1).subscriptionId, w.consumer(2).subscriptionId] },
        { type: "AADTenants", ids: [w.consumer(3).tenantId] },
      ],
    });
    expect(result.operationType).toBe("Add");
    const g = await client.galleries.get(PUB.resourceGroup, PUB.gallery, { expand: "SharingProfile/Groups" });
    expect(g.sharingProfile?.groups).toEqual([
      { type: "Subscriptions", ids: [w.consumer(1).subscriptionId, w.consumer(2).subscriptionId] },
      { type: "AADTenants", ids: [w.consumer(3).tenantId] },
    ]);
    // Real traffic: 202, empty body, azure-asyncoperation + location(monitor=true).
    const post = w.emu.control.requestLog().find((e) => e.method === "POST" && e.url.includes("/share?"));
    expect(post?.status).toBe(202);
    expect(post?.responseBody).toBeNull();
    expect(post?.responseHeaders["azure-asyncoperation"]).toMatch(/\/capsOperations\/[0-9a-f-]{36}\?api-version=2025-12-03$/);
    expect(post?.responseHeaders.location).toMatch(/\/capsOperations\/[0-9a-f-]{36}\?monitor=true&api-version=2025-12-03$/);
  });

  it("a shared subscription and a shared tenant see the gallery; the version only where it is replicated", async () => {
    const unique = `${PUB.subscriptionId}-${PUB.gallery.toUpperCase()}`;
    const bySub = await collect(consumerCompute(1).sharedGalleries.list("eastus"));
    expect(bySub.map((g) => g.uniqueId)).toEqual([`/SharedGalleries/${unique}`]);
    const byTenant = await collect(consumerCompute(3).sharedGalleries.list("eastus", { sharedTo: "tenant" }));
    expect(byTenant.map((g) => g.name)).toEqual([unique]);
    // A subscription-level share is not a tenant-level one.
    expect(await collect(consumerCompute(1).sharedGalleries.list("eastus", { sharedTo: "tenant" }))).toEqual([]);

    const images = await collect(consumerCompute(3).sharedGalleryImages.list("eastus", unique));
    expect(images.map((i) => [i.name, i.osType, i.identifier?.sku])).toEqual([[PUB.image, "Linux", "hardened"]]);
    // Not replicated yet: no version anywhere.
    expect(await collect(consumerCompute(3).sharedGalleryImageVersions.list("eastus", unique, PUB.image))).toEqual([]);
    w.clock.advance(31 * 60_000);
    const east = await collect(consumerCompute(3).sharedGalleryImageVersions.list("eastus", unique, PUB.image));
    expect(east.map((v) => v.uniqueId)).toEqual([`/SharedGalleries/${unique}/Images/${PUB.image}/Versions/1.0.0`]);
    const west = await restError(consumerCompute(3).sharedGalleryImageVersions.get("westeurope", unique, PUB.image, "1.0.0"));
    expect(west.statusCode).toBe(404);
    w.clock.advance(40 * 60_000);
    const v = await consumerCompute(3).sharedGalleryImageVersions.get("westeurope", unique, PUB.image, "1.0.0");
    expect(v.name).toBe("1.0.0");
  });

  it("a subscription that was not added sees nothing", async () => {
    expect(await collect(consumerCompute(4).sharedGalleries.list("eastus"))).toEqual([]);
    expect(await collect(consumerCompute(4).sharedGalleries.list("eastus", { sharedTo: "tenant" }))).toEqual([]);
    const get = await restError(consumerCompute(4).sharedGalleries.get("eastus", `${PUB.subscriptionId}-${PUB.gallery.toUpperCase()}`));
    expect(get.statusCode).toBe(404);
  });

  it("Remove takes access away", async () => {
    await publisherCompute(w).gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, {
      operationType: "Remove",
      groups: [{ type: "Subscriptions", ids: [w.consumer(2).subscriptionId] }],
    });
    expect(await collect(consumerCompute(2).sharedGalleries.list("eastus"))).toEqual([]);
    expect((await collect(consumerCompute(1).sharedGalleries.list("eastus"))).length).toBe(1);
  });

  it("a shared subscription creates a VM from sharedGalleryImageId without any auxiliary token; others cannot", async () => {
    const k = w.consumer(1);
    const c = w.emu.control;
    c.addResourceGroup(k.subscriptionId, "rg-vm", "eastus");
    c.addRoleAssignment({
      scope: `/subscriptions/${k.subscriptionId}/resourceGroups/rg-vm`,
      principalId: c.servicePrincipalId(k.appId, k.tenantId) ?? "",
      role: "Contributor",
    });
    const subnet = `${c.createVirtualNetwork({ subscriptionId: k.subscriptionId, resourceGroup: "rg-vm", name: "vnet", location: "eastus" })}/subnets/default`;
    const cred = credential(w.emu, k.tenantId, k.appId, k.secret);
    const network = new NetworkManagementClient(cred, k.subscriptionId, { endpoint: w.emu.armEndpoint });
    const nic = await network.networkInterfaces.createOrUpdate("rg-vm", "nic", {
      location: "eastus",
      ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet } }],
    });
    const sharedId = `/SharedGalleries/${PUB.subscriptionId}-${PUB.gallery.toUpperCase()}/Images/${PUB.image}/Versions/1.0.0`;
    const vm = (imageReference: { sharedGalleryImageId?: string; id?: string }) => ({
      location: "eastus",
      hardwareProfile: { vmSize: "Standard_B2s" },
      storageProfile: { imageReference },
      osProfile: { computerName: "vm", adminUsername: "azureuser", linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [] } } },
      networkProfile: { networkInterfaces: [{ id: nic.id ?? "" }] },
    });
    const client = compute(w.emu, cred, k.subscriptionId);
    const created = await client.virtualMachines.createOrUpdate("rg-vm", "vm-direct", vm({ sharedGalleryImageId: sharedId }));
    expect(created.storageProfile?.imageReference).toEqual({ sharedGalleryImageId: sharedId, exactVersion: "1.0.0" });
    // `id` must be an ARM id: a /SharedGalleries path there is LinkedInvalidPropertyId.
    const wrongField = await restError(client.virtualMachines.createOrUpdate("rg-vm", "vm-wrong", vm({ id: sharedId })));
    expect(wrongField.code).toBe("LinkedInvalidPropertyId");
    // Consumer 2 was removed from the share.
    const k2 = w.consumer(2);
    c.addResourceGroup(k2.subscriptionId, "rg-vm", "eastus");
    c.addRoleAssignment({
      scope: `/subscriptions/${k2.subscriptionId}/resourceGroups/rg-vm`,
      principalId: c.servicePrincipalId(k2.appId, k2.tenantId) ?? "",
      role: "Contributor",
    });
    const subnet2 = `${c.createVirtualNetwork({ subscriptionId: k2.subscriptionId, resourceGroup: "rg-vm", name: "vnet", location: "eastus" })}/subnets/default`;
    const cred2 = credential(w.emu, k2.tenantId, k2.appId, k2.secret);
    const nic2 = await new NetworkManagementClient(cred2, k2.subscriptionId, { endpoint: w.emu.armEndpoint }).networkInterfaces.createOrUpdate("rg-vm", "nic", {
      location: "eastus",
      ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet2 } }],
    });
    const refused = await restError(
      compute(w.emu, cred2, k2.subscriptionId).virtualMachines.createOrUpdate("rg-vm", "vm", {
        ...vm({ sharedGalleryImageId: sharedId }),
        networkProfile: { networkInterfaces: [{ id: nic2.id ?? "" }] },
      }),
    );
    expect(refused.statusCode).toBe(404);
    expect(refused.code).toBe("GalleryImageNotFound");
  });

  it("a 6th tenant is refused with the limit error, synchronously, and nothing changes", async () => {
    const client = publisherCompute(w);
    await client.gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, {
      operationType: "Add",
      groups: [{ type: "AADTenants", ids: [2, 4, 5, 6].map((n) => w.consumer(n).tenantId) }],
    });
    const err = await restError(
      client.gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, {
        operationType: "Add",
        groups: [{ type: "AADTenants", ids: [w.consumer(7).tenantId] }],
      }),
    );
    expect(err.statusCode).toBe(409);
    expect(err.code).toBe("OperationNotAllowed");
    expect(err.message).toContain("Current Limit: 5");
    const g = await client.galleries.get(PUB.resourceGroup, PUB.gallery, { expand: "SharingProfile/Groups" });
    expect(g.sharingProfile?.groups?.find((x) => x.type === "AADTenants")?.ids).toHaveLength(5);
  });

  it("sharing needs Owner or Compute Gallery Sharing Admin: Contributor is refused naming the action", async () => {
    // Another app of the publisher tenant, Contributor on the gallery only.
    const c = w.emu.control;
    const operator = { appId: "c0000000-0000-4000-8000-0000000000f1", secret: "operator-secret" };
    const sp = c.addApp({ appId: operator.appId, homeTenantId: PUB.tenantId, secret: operator.secret }).servicePrincipalId;
    c.addRoleAssignment({ scope: GALLERY_ID, principalId: sp, role: "Contributor" });
    const client = compute(w.emu, credential(w.emu, PUB.tenantId, operator.appId, operator.secret), PUB.subscriptionId);
    const err = await restError(client.gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, { operationType: "Reset" }));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("AuthorizationFailed");
    expect(err.message).toContain("'Microsoft.Compute/galleries/share/action'");
    expect(err.message).toContain(`over scope '${GALLERY_ID}'`);
    c.addRoleAssignment({ scope: GALLERY_ID, principalId: sp, role: "Compute Gallery Sharing Admin" });
    await client.gallerySharingProfile.update(PUB.resourceGroup, PUB.gallery, { operationType: "Reset" });
    const g = await client.galleries.get(PUB.resourceGroup, PUB.gallery, { select: "Permissions" });
    expect(g.sharingProfile).toEqual({ permissions: "Private" });
  });
});
