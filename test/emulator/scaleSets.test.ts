// Virtual machine scale sets with the real @azure/arm-compute: create (Uniform and Flexible) from a
// gallery image of another tenant with and without x-ms-authorization-auxiliary, the VM image rules
// on virtualMachineProfile, get, the instances and their latestModelApplied, a model update with
// upgradePolicy Automatic vs Manual (and manualupgrade), scale out / in, and delete.
import type { ImageReference, VirtualMachineScaleSet } from "@azure/arm-compute";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, IMAGE_ID, nicConfig, RG, SHARED_IMAGE, startComputeWorld, versionId, type ComputeWorld } from "./computeWorld";
import { collect, PUB, restError } from "./helpers";

let w: ComputeWorld;

beforeAll(async () => {
  w = await startComputeWorld();
});

afterAll(async () => {
  await w.emu.close();
});

interface Options {
  mode?: "Uniform" | "Flexible";
  upgrade?: "Automatic" | "Manual" | "Rolling";
  capacity?: number;
  location?: string;
}

function scaleSet(imageReference: ImageReference, o: Options = {}): VirtualMachineScaleSet {
  const location = o.location ?? "eastus";
  return {
    location,
    sku: { name: "Standard_D2s_v5", tier: "Standard", capacity: o.capacity ?? 2 },
    orchestrationMode: o.mode ?? "Uniform",
    ...(o.mode === "Flexible" ? { platformFaultDomainCount: 1 } : {}),
    upgradePolicy: { mode: o.upgrade ?? "Manual" },
    virtualMachineProfile: {
      storageProfile: { imageReference, osDisk: { createOption: "FromImage", caching: "ReadWrite", managedDisk: { storageAccountType: "Premium_LRS" } } },
      osProfile: { computerNamePrefix: "web", adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
      networkProfile: {
        networkApiVersion: "2020-11-01",
        networkInterfaceConfigurations: [nicConfig(location === "eastus" ? w.subnet.eastus : w.subnet.westeurope)],
      },
    },
  };
}

const vmssId = (name: string): string =>
  `/subscriptions/${w.consumer1.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;

async function instances(name: string) {
  return (await collect(w.client(false).virtualMachineScaleSetVMs.list(RG, name))).map((i) => ({
    instanceId: i.instanceId,
    name: i.name,
    latestModelApplied: i.latestModelApplied,
    exactVersion: i.storageProfile?.imageReference?.exactVersion,
  }));
}

function lastWrite(method: string, name: string) {
  return w.emu.control
    .requestLog()
    .filter((e) => e.method === method && e.url.includes(`/virtualMachineScaleSets/${name}?`))
    .at(-1);
}

describe("scale set create and the image rules", () => {
  it("cross-tenant without the auxiliary header: 403 LinkedAuthorizationFailed on virtualMachineScaleSets/write", async () => {
    const err = await restError(w.client(false).virtualMachineScaleSets.createOrUpdate(RG, "ss-noaux", scaleSet({ id: versionId("1.0.0") })));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toBe(
      `The client '${DIST.appId}' with object id '${w.distSp}' has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope '${vmssId("ss-noaux")}'; however, it does not have permission to perform action 'read' on the linked scope(s) '${versionId("1.0.0")}' or the linked scope(s) are invalid.`,
    );
  });

  it("Uniform, with the auxiliary token: 201 + Azure-AsyncOperation (Creating), then Succeeded with instances 0 and 1 on the exact version", async () => {
    const created = await w.client(true).virtualMachineScaleSets.createOrUpdate(RG, "ss-uniform", scaleSet({ id: versionId("1.0.0") }));
    expect(created).toMatchObject({
      provisioningState: "Succeeded",
      orchestrationMode: "Uniform",
      upgradePolicy: { mode: "Manual" },
      sku: { name: "Standard_D2s_v5", capacity: 2 },
    });
    expect(created.virtualMachineProfile?.storageProfile?.imageReference).toEqual({ id: versionId("1.0.0") });
    expect(created.virtualMachineProfile?.osProfile?.adminPassword).toBeUndefined();
    expect(created.uniqueId).toMatch(/^[0-9a-f-]{36}$/);
    const put = lastWrite("PUT", "ss-uniform");
    expect(put?.status).toBe(201);
    expect(put?.responseHeaders["azure-asyncoperation"]).toMatch(/\/providers\/Microsoft\.Compute\/locations\/eastus\/operations\/[0-9a-f-]{36}\?p=/);
    expect((put?.responseBody as { properties: { provisioningState: string } }).properties.provisioningState).toBe("Creating");
    expect(await instances("ss-uniform")).toEqual([
      { instanceId: "0", name: "ss-uniform_0", latestModelApplied: true, exactVersion: "1.0.0" },
      { instanceId: "1", name: "ss-uniform_1", latestModelApplied: true, exactVersion: "1.0.0" },
    ]);
    const vm0 = await w.client(false).virtualMachineScaleSetVMs.get(RG, "ss-uniform", "0");
    expect(vm0.id).toBe(`${vmssId("ss-uniform")}/virtualMachines/0`);
    expect(vm0.osProfile?.computerName).toBe("web000000");
    expect(vm0.provisioningState).toBe("Succeeded");
    // Uniform instances are not VM resources.
    expect((await restError(w.client(false).virtualMachines.get(RG, "ss-uniform_0"))).statusCode).toBe(404);
  });

  it("a second identical PUT: 200, same model and instances", async () => {
    const before = await w.client(false).virtualMachineScaleSets.get(RG, "ss-uniform");
    const again = await w.client(true).virtualMachineScaleSets.createOrUpdate(RG, "ss-uniform", scaleSet({ id: versionId("1.0.0") }));
    expect(lastWrite("PUT", "ss-uniform")?.status).toBe(200);
    expect(again.uniqueId).toBe(before.uniqueId);
    expect(again.provisioningState).toBe("Succeeded");
    expect(await instances("ss-uniform")).toEqual([
      { instanceId: "0", name: "ss-uniform_0", latestModelApplied: true, exactVersion: "1.0.0" },
      { instanceId: "1", name: "ss-uniform_1", latestModelApplied: true, exactVersion: "1.0.0" },
    ]);
  });

  it("updating it without the auxiliary token: LinkedAuthorizationFailed, not authorized to access the linked subscription", async () => {
    const err = await restError(
      w
        .client(false)
        .virtualMachineScaleSets.update(RG, "ss-uniform", { virtualMachineProfile: { storageProfile: { imageReference: { id: versionId("1.1.0") } } } }),
    );
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toContain(
      `however the current tenant '${w.consumer1.tenantId}' is not authorized to access linked subscription '${PUB.subscriptionId}'`,
    );
  });

  it("sharedGalleryImageId …/Versions/latest and communityGalleryImageId need no auxiliary token; latest is resolved per instance", async () => {
    await w
      .client(false)
      .virtualMachineScaleSets.createOrUpdate(RG, "ss-shared", scaleSet({ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/latest` }, { capacity: 1 }));
    expect(await instances("ss-shared")).toEqual([{ instanceId: "0", name: "ss-shared_0", latestModelApplied: true, exactVersion: "1.1.0" }]);
    await w
      .client(false)
      .virtualMachineScaleSets.createOrUpdate(
        RG,
        "ss-community",
        scaleSet({ communityGalleryImageId: `${w.communityImage}/Versions/latest` }, { capacity: 1 }),
      );
    expect((await instances("ss-community"))[0]?.exactVersion).toBe("1.0.0");
    await w.client(true).virtualMachineScaleSets.createOrUpdate(RG, "ss-def-west", scaleSet({ id: IMAGE_ID }, { capacity: 1, location: "westeurope" }));
    expect((await instances("ss-def-west"))[0]?.exactVersion).toBe("1.0.0");
  });

  it("the VM image rules apply to virtualMachineProfile: exclusivity, LinkedInvalidPropertyId, regional availability", async () => {
    const both = await restError(
      w
        .client(true)
        .virtualMachineScaleSets.createOrUpdate(RG, "ss-bad", scaleSet({ id: versionId("1.0.0"), sharedGalleryImageId: `${SHARED_IMAGE}/Versions/1.0.0` })),
    );
    expect([both.statusCode, both.code]).toEqual([400, "InvalidParameter"]);
    const sharedInId = await restError(
      w.client(false).virtualMachineScaleSets.createOrUpdate(RG, "ss-bad", scaleSet({ id: `${SHARED_IMAGE}/Versions/1.0.0` })),
    );
    expect(sharedInId.code).toBe("LinkedInvalidPropertyId");
    expect(sharedInId.message).toContain("at path 'properties.virtualMachineProfile.storageProfile.imageReference.id' is invalid");
    const west = await restError(
      w.client(true).virtualMachineScaleSets.createOrUpdate(RG, "ss-bad", scaleSet({ id: versionId("1.1.0") }, { location: "westeurope" })),
    );
    expect([west.statusCode, west.code]).toEqual([404, "GalleryImageNotFound"]);
    expect(west.message).toContain(`${versionId("1.1.0")} is not available in westeurope region`);
    const sharedWest = await restError(
      w
        .client(false)
        .virtualMachineScaleSets.createOrUpdate(RG, "ss-bad", scaleSet({ sharedGalleryImageId: `${SHARED_IMAGE}/Versions/1.1.0` }, { location: "westeurope" })),
    );
    expect(sharedWest.code).toBe("GalleryImageNotFound");
    expect((await restError(w.client(false).virtualMachineScaleSets.get(RG, "ss-bad"))).statusCode).toBe(404);
  });

  it("Flexible: instances are VMs named {set}_{8 hex}, instance id = VM name, virtualMachineScaleSet.id set", async () => {
    const created = await w
      .client(true)
      .virtualMachineScaleSets.createOrUpdate(RG, "ss-flex", scaleSet({ id: versionId("1.0.0") }, { mode: "Flexible", capacity: 2 }));
    expect(created).toMatchObject({ orchestrationMode: "Flexible", provisioningState: "Succeeded", platformFaultDomainCount: 1 });
    const list = await instances("ss-flex");
    expect(list).toHaveLength(2);
    for (const inst of list) {
      expect(inst.name).toMatch(/^ss-flex_[0-9a-f]{8}$/);
      expect(inst.instanceId).toBe(inst.name);
      expect(inst).toMatchObject({ latestModelApplied: true, exactVersion: "1.0.0" });
      const vm = await w.client(false).virtualMachines.get(RG, inst.name ?? "");
      expect(vm.virtualMachineScaleSet?.id).toBe(vmssId("ss-flex"));
      expect(vm.storageProfile?.imageReference).toEqual({ id: versionId("1.0.0"), exactVersion: "1.0.0" });
      expect(vm.provisioningState).toBe("Succeeded");
    }
    const names = (await collect(w.client(false).virtualMachines.list(RG))).map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(list.map((i) => i.name)));
    // The scale-set VM API is Uniform's; Flexible instances are read with the VM API.
    expect((await restError(w.client(false).virtualMachineScaleSetVMs.get(RG, "ss-flex", list[0]?.instanceId ?? ""))).code).toBe("OperationNotAllowed");
  });

  it("the orchestration mode cannot change: 409 PropertyChangeNotAllowed", async () => {
    const err = await restError(
      w.client(true).virtualMachineScaleSets.createOrUpdate(RG, "ss-flex", scaleSet({ id: versionId("1.0.0") }, { mode: "Uniform", capacity: 2 })),
    );
    expect([err.statusCode, err.code]).toEqual([409, "PropertyChangeNotAllowed"]);
  });
});

describe("model updates", () => {
  it("Automatic: updating the image moves every instance to the new model when the update completes", async () => {
    const client = w.client(true);
    await client.virtualMachineScaleSets.createOrUpdate(RG, "ss-auto", scaleSet({ id: versionId("1.0.0") }, { upgrade: "Automatic", capacity: 2 }));
    const updated = await client.virtualMachineScaleSets.update(RG, "ss-auto", {
      virtualMachineProfile: { storageProfile: { imageReference: { id: versionId("1.1.0") } } },
    });
    expect(lastWrite("PATCH", "ss-auto")?.status).toBe(200);
    expect(updated.provisioningState).toBe("Succeeded");
    expect(updated.virtualMachineProfile?.storageProfile?.imageReference).toEqual({ id: versionId("1.1.0") });
    expect(await instances("ss-auto")).toEqual([
      { instanceId: "0", name: "ss-auto_0", latestModelApplied: true, exactVersion: "1.1.0" },
      { instanceId: "1", name: "ss-auto_1", latestModelApplied: true, exactVersion: "1.1.0" },
    ]);
  });

  it("Manual: instances keep the old model until manualupgrade names them; new instances get the new model", async () => {
    const client = w.client(true);
    await client.virtualMachineScaleSets.createOrUpdate(RG, "ss-manual", scaleSet({ id: versionId("1.0.0") }, { upgrade: "Manual", capacity: 2 }));
    await client.virtualMachineScaleSets.update(RG, "ss-manual", { virtualMachineProfile: { storageProfile: { imageReference: { id: versionId("1.1.0") } } } });
    expect((await client.virtualMachineScaleSets.get(RG, "ss-manual")).virtualMachineProfile?.storageProfile?.imageReference).toEqual({
      id: versionId("1.1.0"),
    });
    expect(await instances("ss-manual")).toEqual([
      { instanceId: "0", name: "ss-manual_0", latestModelApplied: false, exactVersion: "1.0.0" },
      { instanceId: "1", name: "ss-manual_1", latestModelApplied: false, exactVersion: "1.0.0" },
    ]);
    await client.virtualMachineScaleSets.updateInstances(RG, "ss-manual", { instanceIds: ["0"] });
    const upgrade = w.emu.control.requestLog().find((e) => e.method === "POST" && e.url.includes("/virtualMachineScaleSets/ss-manual/manualupgrade?"));
    expect(upgrade?.status).toBe(202);
    expect(upgrade?.requestBody).toEqual({ instanceIds: ["0"] });
    expect(upgrade?.responseHeaders.location).toContain("monitor=true");
    expect(await instances("ss-manual")).toEqual([
      { instanceId: "0", name: "ss-manual_0", latestModelApplied: true, exactVersion: "1.1.0" },
      { instanceId: "1", name: "ss-manual_1", latestModelApplied: false, exactVersion: "1.0.0" },
    ]);
    // Scale out: the new instance runs the newest model; the old one still does not.
    await client.virtualMachineScaleSets.update(RG, "ss-manual", { sku: { capacity: 3 } });
    expect(await instances("ss-manual")).toEqual([
      { instanceId: "0", name: "ss-manual_0", latestModelApplied: true, exactVersion: "1.1.0" },
      { instanceId: "1", name: "ss-manual_1", latestModelApplied: false, exactVersion: "1.0.0" },
      { instanceId: "2", name: "ss-manual_2", latestModelApplied: true, exactVersion: "1.1.0" },
    ]);
    // Scale in removes the highest instance ids.
    await client.virtualMachineScaleSets.update(RG, "ss-manual", { sku: { capacity: 1 } });
    expect((await instances("ss-manual")).map((i) => i.instanceId)).toEqual(["0"]);
    const unknown = await restError(client.virtualMachineScaleSets.updateInstances(RG, "ss-manual", { instanceIds: ["7"] }));
    expect([unknown.statusCode, unknown.code]).toEqual([400, "InvalidParameter"]);
  });

  it("Flexible, Manual then Automatic: the VM resources follow their instance's model", async () => {
    const client = w.client(true);
    await client.virtualMachineScaleSets.createOrUpdate(
      RG,
      "ss-flex-up",
      scaleSet({ id: versionId("1.0.0") }, { mode: "Flexible", upgrade: "Manual", capacity: 1 }),
    );
    const [inst] = await instances("ss-flex-up");
    const name = inst?.name ?? "";
    await client.virtualMachineScaleSets.update(RG, "ss-flex-up", {
      virtualMachineProfile: { storageProfile: { imageReference: { id: versionId("1.1.0") } } },
    });
    expect((await instances("ss-flex-up"))[0]).toMatchObject({ latestModelApplied: false, exactVersion: "1.0.0" });
    expect((await client.virtualMachines.get(RG, name)).storageProfile?.imageReference?.exactVersion).toBe("1.0.0");
    await client.virtualMachineScaleSets.updateInstances(RG, "ss-flex-up", { instanceIds: [name] });
    expect((await client.virtualMachines.get(RG, name)).storageProfile?.imageReference?.exactVersion).toBe("1.1.0");
    await client.virtualMachineScaleSets.update(RG, "ss-flex-up", {
      upgradePolicy: { mode: "Automatic" },
      virtualMachineProfile: { storageProfile: { imageReference: { id: versionId("2.0.0") } } },
    });
    expect((await instances("ss-flex-up"))[0]).toMatchObject({ latestModelApplied: true, exactVersion: "2.0.0" });
    expect((await client.virtualMachines.get(RG, name)).storageProfile?.imageReference?.exactVersion).toBe("2.0.0");
  });
});

describe("delete", () => {
  it("a Flexible instance deleted with the VM API leaves the set, whose capacity drops by one", async () => {
    const client = w.client(true);
    const [first, second] = await instances("ss-flex");
    await client.virtualMachines.delete(RG, first?.name ?? "");
    expect((await instances("ss-flex")).map((i) => i.name)).toEqual([second?.name]);
    expect((await client.virtualMachineScaleSets.get(RG, "ss-flex")).sku?.capacity).toBe(1);
  });

  it("202 + Location as a long-running operation; a Flexible set's VMs go with it; a missing set is 204", async () => {
    const client = w.client(true);
    const [inst] = await instances("ss-flex");
    await client.virtualMachineScaleSets.delete(RG, "ss-flex");
    const del = lastWrite("DELETE", "ss-flex");
    expect(del?.status).toBe(202);
    expect(del?.responseHeaders.location).toContain("monitor=true");
    expect((await restError(client.virtualMachineScaleSets.get(RG, "ss-flex"))).code).toBe("ResourceNotFound");
    expect((await restError(client.virtualMachines.get(RG, inst?.name ?? ""))).code).toBe("ResourceNotFound");
    await client.virtualMachineScaleSets.delete(RG, "ss-flex");
    expect(lastWrite("DELETE", "ss-flex")?.status).toBe(204);
    const left = (await collect(client.virtualMachineScaleSets.list(RG))).map((s) => s.name);
    expect(left).not.toContain("ss-flex");
    expect(left).toContain("ss-uniform");
  });
});
