// Virtual machines from gallery images with the real @azure/arm-compute (and @azure/arm-network for
// NICs): every image-reference form (`id` of a version, of an image definition, `…/versions/latest`,
// `sharedGalleryImageId`, `communityGalleryImageId`), cross-tenant with and without the
// x-ms-authorization-auxiliary header, `latest` resolution per region, the mutual exclusivity and
// LinkedInvalidPropertyId rules, regional availability, the create LRO and an idempotent PUT.
import type { ImageReference, VirtualMachine } from "@azure/arm-compute";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, IMAGE_ID, nicConfig, RG, SHARED_IMAGE, startComputeWorld, versionId, type ComputeWorld } from "./computeWorld";
import { compute, credential, PUB, publisherCompute, restError } from "./helpers";

let w: ComputeWorld;

beforeAll(async () => {
  w = await startComputeWorld();
});

afterAll(async () => {
  await w.emu.close();
});

function vm(imageReference: ImageReference, location = "eastus"): VirtualMachine {
  return {
    location,
    hardwareProfile: { vmSize: "Standard_D2s_v5" },
    storageProfile: { imageReference, osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } } },
    osProfile: { computerName: "vm", adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
    networkProfile: {
      networkApiVersion: "2020-11-01",
      networkInterfaceConfigurations: [nicConfig(location === "eastus" ? w.subnet.eastus : w.subnet.westeurope)],
    },
  };
}

const vmId = (name: string): string => `/subscriptions/${w.consumer1.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${name}`;

function lastPut(name: string) {
  return w.emu.control
    .requestLog()
    .filter((e) => e.method === "PUT" && e.url.includes(`/virtualMachines/${name}?`))
    .at(-1);
}

describe("cross-tenant imageReference.id and x-ms-authorization-auxiliary", () => {
  it("without the auxiliary header: 403 LinkedAuthorizationFailed, the caller has virtualMachines/write but not 'read' on the linked scope", async () => {
    const err = await restError(w.client(false).virtualMachines.createOrUpdate(RG, "vm-noaux", vm({ id: versionId("1.0.0") })));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toBe(
      `The client '${DIST.appId}' with object id '${w.distSp}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '${vmId("vm-noaux")}'; however, it does not have permission to perform action 'read' on the linked scope(s) '${versionId("1.0.0")}' or the linked scope(s) are invalid.`,
    );
    expect(w.emu.control.creations().started).toBe(0);
  });

  it("with the publisher-tenant token: 201 + Azure-AsyncOperation, provisioningState Creating, then Succeeded", async () => {
    const created = await w.client(true).virtualMachines.createOrUpdate(RG, "vm1", vm({ id: versionId("1.0.0") }));
    expect(created.provisioningState).toBe("Succeeded");
    expect(created.storageProfile?.imageReference).toEqual({ id: versionId("1.0.0"), exactVersion: "1.0.0" });
    const put = lastPut("vm1");
    expect(put?.status).toBe(201);
    expect(put?.responseHeaders["azure-asyncoperation"]).toMatch(
      /\/providers\/Microsoft\.Compute\/locations\/eastus\/operations\/[0-9a-f-]{36}\?p=[0-9a-f-]{36}&api-version=2026-04-01$/,
    );
    expect(put?.responseHeaders.location).toBeUndefined();
    expect((put?.responseBody as { properties: { provisioningState: string } }).properties.provisioningState).toBe("Creating");
    expect(put?.requestHeaders["x-ms-authorization-auxiliary"]).toBe("Bearer REDACTED");
  });

  it("a second identical PUT is idempotent: 200, same vmId and creation time, still Succeeded", async () => {
    const client = w.client(true);
    const before = await client.virtualMachines.get(RG, "vm1");
    const again = await client.virtualMachines.createOrUpdate(RG, "vm1", vm({ id: versionId("1.0.0") }));
    expect(lastPut("vm1")?.status).toBe(200);
    expect(again.provisioningState).toBe("Succeeded");
    expect(again.vmId).toBe(before.vmId);
    expect(again.timeCreated).toEqual(before.timeCreated);
    expect(again.storageProfile?.imageReference).toEqual(before.storageProfile?.imageReference);
    expect(again.storageProfile?.osDisk?.name).toBe(before.storageProfile?.osDisk?.name);
  });

  it("a create whose operation fails leaves the VM Failed, its instance view naming the error as ProvisioningState/failed/{code}", async () => {
    const fault = w.emu.control.fault({
      method: "PUT",
      path: "/virtualMachines/vm-fails?",
      lro: "fail",
      code: "OSProvisioningTimedOut",
      message: "OS Provisioning for VM 'vm-fails' did not finish in the allotted time.",
    });
    const client = w.client(true);
    await expect(client.virtualMachines.createOrUpdate(RG, "vm-fails", vm({ id: versionId("1.0.0") }))).rejects.toThrow(/did not finish in the allotted time/);
    w.emu.control.removeFault(fault);
    const failed = await client.virtualMachines.get(RG, "vm-fails", { expand: "instanceView" });
    expect(failed.provisioningState).toBe("Failed");
    expect(failed.instanceView?.statuses).toEqual([
      {
        code: "ProvisioningState/failed/OSProvisioningTimedOut",
        level: "Error",
        displayStatus: "Provisioning failed",
        message: "OS Provisioning for VM 'vm-fails' did not finish in the allotted time.",
      },
    ]);
    // PUT again (what a retry does): it succeeds, and the instance view is back to normal.
    await client.virtualMachines.createOrUpdate(RG, "vm-fails", vm({ id: versionId("1.0.0") }));
    const fixed = await client.virtualMachines.get(RG, "vm-fails", { expand: "instanceView" });
    expect(fixed.instanceView?.statuses?.map((x) => x.code)).toEqual(["ProvisioningState/succeeded", "PowerState/running"]);
  });

  it("the same PUT on the existing VM without the auxiliary token: LinkedAuthorizationFailed, the tenant not authorized to access the linked subscription", async () => {
    const err = await restError(w.client(false).virtualMachines.createOrUpdate(RG, "vm1", vm({ id: versionId("1.0.0") })));
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toBe(
      `The client has permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on scope '${vmId("vm1")}', however the current tenant '${w.consumer1.tenantId}' is not authorized to access linked subscription '${PUB.subscriptionId}'.`,
    );
  });

  it("changing the image of an existing VM is refused: 409 PropertyChangeNotAllowed", async () => {
    const err = await restError(w.client(true).virtualMachines.createOrUpdate(RG, "vm1", vm({ id: versionId("1.1.0") })));
    expect(err.statusCode).toBe(409);
    expect(err.code).toBe("PropertyChangeNotAllowed");
  });

  it("an auxiliary token whose principal cannot read the image: LinkedAuthorizationFailed naming that principal", async () => {
    const other = { appId: "d0000000-0000-4000-8000-0000000000b2", secret: "other-secret" };
    const sp = w.emu.control.addApp({ appId: other.appId, homeTenantId: PUB.tenantId, secret: other.secret }).servicePrincipalId;
    const otherToken = w.emu.control.issueToken({ tenantId: PUB.tenantId, appId: other.appId });
    const client = compute(w.emu, credential(w.emu, w.consumer1.tenantId, DIST.appId, DIST.secret), w.consumer1.subscriptionId, {
      additionalPolicies: [{ policy: setAuxiliary(`Bearer ${otherToken}`), position: "perRetry" }],
    });
    const err = await restError(client.virtualMachines.createOrUpdate(RG, "vm-other", vm({ id: versionId("1.0.0") })));
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toContain(`The client '${other.appId}' with object id '${sp}'`);
    expect(err.message).toContain(`does not have permission to perform action 'read' on the linked scope(s) '${versionId("1.0.0")}'`);
  });

  it("the header carries up to 3 tokens (the same app in other tenants); a 4th is refused with 401", async () => {
    const token = (tenantId: string) => w.emu.control.issueToken({ tenantId, appId: DIST.appId });
    const three = [PUB.tenantId, w.consumer(2).tenantId, w.consumer(3).tenantId].map((t) => `Bearer ${token(t)}`);
    const base = credential(w.emu, w.consumer1.tenantId, DIST.appId, DIST.secret);
    const ok = compute(w.emu, base, w.consumer1.subscriptionId, { additionalPolicies: [{ policy: setAuxiliary(three.join(", ")), position: "perRetry" }] });
    expect((await ok.virtualMachines.createOrUpdate(RG, "vm-three-aux", vm({ id: versionId("1.0.0") }))).provisioningState).toBe("Succeeded");
    const four = compute(w.emu, base, w.consumer1.subscriptionId, {
      additionalPolicies: [{ policy: setAuxiliary([...three, `Bearer ${token(w.consumer(2).tenantId)}`].join(", ")), position: "perRetry" }],
    });
    const err = await restError(four.virtualMachines.createOrUpdate(RG, "vm-four-aux", vm({ id: versionId("1.0.0") })));
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe("InvalidAuthenticationToken");
  });

  it("an auxiliary token that is not valid: 401 naming its client and tenant", async () => {
    const token = w.emu.control.issueToken({ tenantId: PUB.tenantId, appId: DIST.appId });
    const tampered = `${token.slice(0, -4)}AAAA`;
    const client = compute(w.emu, credential(w.emu, w.consumer1.tenantId, DIST.appId, DIST.secret), w.consumer1.subscriptionId, {
      additionalPolicies: [{ policy: setAuxiliary(`Bearer ${tampered}`), position: "perRetry" }],
    });
    const err = await restError(client.virtualMachines.get(RG, "vm1"));
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe("InvalidAuthenticationToken");
    expect(err.message).toContain(`client '${DIST.appId}' in tenant '${PUB.tenantId}'`);
  });

  it("VM create with a token from the wrong tenant for the subscription: 401 InvalidAuthenticationTokenTenant", async () => {
    const client = compute(w.emu, credential(w.emu, PUB.tenantId, DIST.appId, DIST.secret), w.consumer1.subscriptionId);
    const err = await restError(client.virtualMachines.createOrUpdate(RG, "vm-wrong-tenant", vm({ id: versionId("1.0.0") })));
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe("InvalidAuthenticationTokenTenant");
    expect(err.message).toMatch(
      new RegExp(
        `^The access token is from the wrong issuer '${w.emu.authorityHost}/${PUB.tenantId}/v2\\.0'\\. It must match the tenant '${w.emu.authorityHost}/${w.consumer1.tenantId}/v2\\.0' associated with this subscription\\. Please use the authority \\(URL\\) '${w.emu.authorityHost}/${w.consumer1.tenantId}' to get the token\\.`,
      ),
    );
  });
});

describe("image-reference forms and latest", () => {
  it("imageReference.id of the image definition means latest: the highest version replicated to the region and not excludeFromLatest", async () => {
    const client = w.client(true);
    // eastus: 2.0.0 is excluded from latest and 1.2.0 is still replicating, so 1.1.0.
    expect((await client.virtualMachines.createOrUpdate(RG, "vm-def-east", vm({ id: IMAGE_ID }))).storageProfile?.imageReference).toEqual({
      id: IMAGE_ID,
      exactVersion: "1.1.0",
    });
    expect(
      (await client.virtualMachines.createOrUpdate(RG, "vm-latest-east", vm({ id: versionId("latest") }))).storageProfile?.imageReference?.exactVersion,
    ).toBe("1.1.0");
    // westeurope has 1.0.0 only.
    expect(
      (await client.virtualMachines.createOrUpdate(RG, "vm-def-west", vm({ id: IMAGE_ID }, "westeurope"))).storageProfile?.imageReference?.exactVersion,
    ).toBe("1.0.0");
    // An excluded version is still usable by its number.
    expect((await client.virtualMachines.createOrUpdate(RG, "vm-200", vm({ id: versionId("2.0.0") }))).storageProfile?.imageReference?.exactVersion).toBe(
      "2.0.0",
    );
  });

  it("sharedGalleryImageId with …/Versions/latest or no version resolves the same way, with no auxiliary token", async () => {
    const client = w.client(false);
    const latest = await client.virtualMachines.createOrUpdate(RG, "vm-shared-latest", vm({ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/latest` }));
    expect(latest.storageProfile?.imageReference).toEqual({ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/latest`, exactVersion: "1.1.0" });
    expect(
      (await client.virtualMachines.createOrUpdate(RG, "vm-shared-none", vm({ sharedGalleryImageId: SHARED_IMAGE }))).storageProfile?.imageReference
        ?.exactVersion,
    ).toBe("1.1.0");
    expect(
      (await client.virtualMachines.createOrUpdate(RG, "vm-shared-west", vm({ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/latest` }, "westeurope")))
        .storageProfile?.imageReference?.exactVersion,
    ).toBe("1.0.0");
    expect(
      (await client.virtualMachines.createOrUpdate(RG, "vm-shared-100", vm({ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/1.0.0` }))).storageProfile
        ?.imageReference?.exactVersion,
    ).toBe("1.0.0");
  });

  it("communityGalleryImageId creates with no auxiliary token", async () => {
    const created = await w
      .client(false)
      .virtualMachines.createOrUpdate(RG, "vm-community", vm({ communityGalleryImageId: `${w.communityImage}/Versions/latest` }));
    expect(created.storageProfile?.imageReference).toEqual({ communityGalleryImageId: `${w.communityImage}/Versions/latest`, exactVersion: "1.0.0" });
  });

  it("id, sharedGalleryImageId and communityGalleryImageId are mutually exclusive: any two is 400 InvalidParameter", async () => {
    const id = versionId("1.0.0");
    const shared = `${SHARED_IMAGE}/Versions/1.0.0`;
    const community = `${w.communityImage}/Versions/1.0.0`;
    const pairs: ImageReference[] = [
      { id, sharedGalleryImageId: shared },
      { id, communityGalleryImageId: community },
      { sharedGalleryImageId: shared, communityGalleryImageId: community },
      { id, sharedGalleryImageId: shared, communityGalleryImageId: community },
    ];
    for (const [i, ref] of pairs.entries()) {
      const err = await restError(w.client(true).virtualMachines.createOrUpdate(RG, `vm-both-${i}`, vm(ref)));
      expect(err.statusCode).toBe(400);
      expect(err.code).toBe("InvalidParameter");
    }
  });

  it("a /SharedGalleries/… or /CommunityGalleries/… path in imageReference.id: 400 LinkedInvalidPropertyId", async () => {
    for (const bad of [`${SHARED_IMAGE}/Versions/1.0.0`, `${w.communityImage}/Versions/1.0.0`]) {
      const err = await restError(w.client(false).virtualMachines.createOrUpdate(RG, "vm-bad-id", vm({ id: bad })));
      expect(err.statusCode).toBe(400);
      expect(err.code).toBe("LinkedInvalidPropertyId");
      expect(err.message).toBe(
        `Property id '${bad}' at path 'properties.storageProfile.imageReference.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
      );
    }
  });

  it("a version not replicated to the VM's region: 404 GalleryImageNotFound in every form", async () => {
    const notIn = (id: string, region: string) =>
      `The gallery image ${id} is not available in ${region} region. Please contact image owner to replicate to this region, or change your requested region.`;
    const client = w.client(true);
    const cases: [ImageReference, string, string][] = [
      [{ id: versionId("1.1.0") }, "westeurope", versionId("1.1.0")],
      [{ id: versionId("1.2.0") }, "eastus", versionId("1.2.0")],
      [{ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/1.1.0` }, "westeurope", `${SHARED_IMAGE}/Versions/1.1.0`],
      [{ communityGalleryImageId: `${w.communityImage}/Versions/1.0.0` }, "westeurope", `${w.communityImage}/Versions/1.0.0`],
    ];
    for (const [ref, region, id] of cases) {
      const err = await restError(client.virtualMachines.createOrUpdate(RG, "vm-not-here", vm(ref, region)));
      expect(err.statusCode).toBe(404);
      expect(err.code).toBe("GalleryImageNotFound");
      expect(err.message).toBe(notIn(id, region));
    }
  });
});

describe("network interfaces (@azure/arm-network)", () => {
  it("a NIC on a subnet the caller may not join: 403 LinkedAuthorizationFailed naming subnets/join/action", async () => {
    const err = await restError(
      w.network().networkInterfaces.createOrUpdate(RG, "nic-foreign", {
        location: "eastus",
        ipConfigurations: [{ name: "ipconfig1", subnet: { id: w.subnet.foreign } }],
      }),
    );
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toContain("'Microsoft.Network/networkInterfaces/write'");
    expect(err.message).toContain(`'Microsoft.Network/virtualNetworks/subnets/join/action' on the linked scope(s) '${w.subnet.foreign}'`);
  });

  it("a VM-managed NIC configuration is checked the same way, and its subnet must be in the VM's region", async () => {
    const foreign = await restError(
      w.client(true).virtualMachines.createOrUpdate(RG, "vm-foreign-net", {
        ...vm({ id: versionId("1.0.0") }),
        networkProfile: { networkApiVersion: "2020-11-01", networkInterfaceConfigurations: [nicConfig(w.subnet.foreign)] },
      }),
    );
    expect(foreign.code).toBe("LinkedAuthorizationFailed");
    const elsewhere = await restError(
      w.client(true).virtualMachines.createOrUpdate(RG, "vm-west-net", {
        ...vm({ id: versionId("1.0.0") }),
        networkProfile: { networkApiVersion: "2020-11-01", networkInterfaceConfigurations: [nicConfig(w.subnet.westeurope)] },
      }),
    );
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.code).toBe("InvalidResourceReference");
  });

  it("a VM on an existing NIC: the NIC reports the VM, cannot serve a second VM, and cannot be deleted while attached", async () => {
    const network = w.network();
    const nic = await network.networkInterfaces.createOrUpdate(RG, "nic-a", {
      location: "eastus",
      ipConfigurations: [{ name: "ipconfig1", subnet: { id: w.subnet.eastus } }],
    });
    expect(nic.provisioningState).toBe("Succeeded");
    const onNic = (): VirtualMachine => ({ ...vm({ id: versionId("1.0.0") }), networkProfile: { networkInterfaces: [{ id: nic.id ?? "", primary: true }] } });
    await w.client(true).virtualMachines.createOrUpdate(RG, "vm-nic", onNic());
    expect((await network.networkInterfaces.get(RG, "nic-a")).virtualMachine?.id).toBe(vmId("vm-nic"));
    expect((await restError(w.client(true).virtualMachines.createOrUpdate(RG, "vm-nic-2", onNic()))).code).toBe("NicInUse");
    expect((await restError(network.networkInterfaces.delete(RG, "nic-a"))).code).toBe("NicInUse");
    await w.client(true).virtualMachines.delete(RG, "vm-nic");
    await network.networkInterfaces.delete(RG, "nic-a");
    expect((await restError(network.networkInterfaces.get(RG, "nic-a"))).statusCode).toBe(404);
  });
});

describe("changing excludeFromLatest after publishing (GalleryImageVersions_Update, PATCH)", () => {
  const latestIn = async (name: string, location = "eastus"): Promise<string | undefined> =>
    (await w.client(true).virtualMachines.createOrUpdate(RG, name, vm({ id: IMAGE_ID }, location))).storageProfile?.imageReference?.exactVersion;

  it("promotes an excluded version to latest, and excludes it again per region, keeping its replication; 200 with a long-running operation", async () => {
    const publisher = publisherCompute(w);
    expect(await latestIn("vm-promote-before")).toBe("1.1.0");
    const promoted = await publisher.galleryImageVersions.beginUpdateAndWait(PUB.resourceGroup, PUB.gallery, PUB.image, "2.0.0", {
      publishingProfile: { excludeFromLatest: false },
    });
    expect(promoted.provisioningState).toBe("Succeeded");
    expect(promoted.publishingProfile?.excludeFromLatest).toBe(false);
    // Only the flag changed: the regions are the ones published, replicated as before.
    expect(promoted.publishingProfile?.targetRegions?.map((r) => [r.name, r.excludeFromLatest])).toEqual([["East US", false]]);
    const patch = w.emu.control
      .requestLog()
      .filter((e) => e.method === "PATCH" && e.url.includes("/versions/2.0.0?"))
      .at(-1);
    expect(patch?.status).toBe(200);
    expect(await latestIn("vm-promote-after")).toBe("2.0.0");
    const replication = await publisher.galleryImageVersions.get(PUB.resourceGroup, PUB.gallery, PUB.image, "2.0.0", { expand: "ReplicationStatus" });
    expect(replication.replicationStatus?.aggregatedState).toBe("Completed");

    // A region's own excludeFromLatest: latest in that region falls back, the version stays usable by number.
    await publisher.galleryImageVersions.beginUpdateAndWait(PUB.resourceGroup, PUB.gallery, PUB.image, "2.0.0", {
      publishingProfile: { targetRegions: [{ name: "eastus", excludeFromLatest: true }] },
    });
    expect(await latestIn("vm-region-excluded")).toBe("1.1.0");
    expect(
      (await w.client(true).virtualMachines.createOrUpdate(RG, "vm-200-pinned", vm({ id: versionId("2.0.0") }))).storageProfile?.imageReference?.exactVersion,
    ).toBe("2.0.0");

    // Back as the shared set-up had it.
    await publisher.galleryImageVersions.beginUpdateAndWait(PUB.resourceGroup, PUB.gallery, PUB.image, "2.0.0", {
      publishingProfile: { excludeFromLatest: true, targetRegions: [{ name: "eastus" }] },
    });
    expect(await latestIn("vm-restored")).toBe("1.1.0");
  });
});

/** Sets x-ms-authorization-auxiliary to a fixed value (what auxiliaryAuthenticationHeaderPolicy would send). */
function setAuxiliary(value: string): PipelinePolicy {
  return {
    name: "fixedAuxiliaryHeader",
    sendRequest: (request, next) => {
      request.headers.set("x-ms-authorization-auxiliary", value);
      return next(request);
    },
  };
}
