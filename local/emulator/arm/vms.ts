// Microsoft.Compute virtual machines, created from a gallery image: `imageReference.id` (a version
// or image definition id, possibly in another tenant: then ARM needs an `x-ms-authorization-auxiliary`
// token for that tenant whose principal may read the image, else LinkedAuthorizationFailed),
// `sharedGalleryImageId` (direct sharing: the VM's subscription or tenant must be in the gallery's
// sharing profile) or `communityGalleryImageId`. The image must be replicated to the VM's region.
import { auxiliaryCallers, isAllowed, requireAction } from "../authz";
import { callerOf, type Caller, type Ctx } from "../context";
import { arr, at, obj, queryParam, str, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Route } from "../router";
import { key, uniqueNameOf, type Gallery, type GalleryImage, type GalleryImageVersion, type VirtualMachine } from "../store";
import { opTime } from "../util/time";
import { json, lroResponse, pick, requireRegion, requireResourceGroup, startOperation, tagsOf } from "./common";
import { ArmError, errors } from "./errors";
import { imageIdOf, versionIdOf } from "./galleries";
import { findNicById, nicId } from "./network";
import { isReplicatedIn } from "./replication";
import { sharedWith, versionUsableIn } from "./sharedGalleries";

const VERSION_READ = "Microsoft.Compute/galleries/images/versions/read";

const vmIdOf = (vm: Pick<VirtualMachine, "subscriptionId" | "resourceGroup" | "name">): string =>
  `/subscriptions/${vm.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** "latest": the highest version usable in the region and not excluded from latest. */
function latest(img: GalleryImage, usable: (v: GalleryImageVersion) => boolean): GalleryImageVersion | undefined {
  return [...img.versions.values()]
    .filter((v) => usable(v) && !v.excludeFromLatest)
    .sort((a, b) => compareVersions(b.name, a.name))[0];
}

interface ResolvedImage {
  reference: JsonObject;
  osType: string;
}

function galleryImageById(ctx: Ctx, caller: Caller, req: EmuRequest, vmId: string, region: string, id: string): ResolvedImage {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/galleries\/([^/]+)\/images\/([^/]+)(?:\/versions\/([^/]+))?$/i.exec(id);
  if (!m) {
    // Managed images and other sources are not emulated.
    throw errors.invalidParameter(`The image reference id '${id}' is not a gallery image or gallery image version id.`, "properties.storageProfile.imageReference.id");
  }
  const [, sub = "", rg = "", galleryName = "", imageName = "", versionName] = m;
  const imageTenant = ctx.core.world.subscriptions.get(sub.toLowerCase())?.tenantId;
  // Linked authorization: the caller (or, across tenants, the auxiliary token's principal) must be allowed to read the image.
  const linkedScope = id;
  if (imageTenant === undefined || imageTenant === caller.tenantId) {
    if (!isAllowed(ctx.core, caller.objectId, VERSION_READ, linkedScope)) {
      throw errors.linkedPermissionMissing(caller.objectId, caller.appId, "Microsoft.Compute/virtualMachines/write", vmId, VERSION_READ, linkedScope);
    }
  } else {
    const aux = auxiliaryCallers(ctx.core, req).find((c) => c.tenantId === imageTenant);
    if (!aux) throw errors.linkedTenantNotAuthorized(VERSION_READ, vmId, caller.tenantId, sub.toLowerCase());
    if (!isAllowed(ctx.core, aux.objectId, VERSION_READ, linkedScope)) {
      throw errors.linkedPermissionMissing(aux.objectId, aux.appId, "Microsoft.Compute/virtualMachines/write", vmId, VERSION_READ, linkedScope);
    }
  }
  const g = ctx.core.world.gallery(sub, rg, galleryName);
  const img = g?.images.get(imageName.toLowerCase());
  if (!g || !img) throw errors.galleryImageNotFound(id);
  const now = ctx.core.clock.now();
  let v: GalleryImageVersion | undefined;
  if (versionName === undefined || versionName.toLowerCase() === "latest") {
    v = latest(img, (x) => x.provisioning.state !== "Deleting" && isReplicatedIn(x, region, now));
    if (!v) throw errors.notFoundInRegion(imageIdOf(g, img), region);
  } else {
    v = img.versions.get(versionName.toLowerCase());
    if (!v) throw errors.galleryImageVersionNotFound(id);
    if (!isReplicatedIn(v, region, now)) throw errors.notFoundInRegion(versionIdOf(g, img, v), region);
  }
  return { reference: { id, exactVersion: v.name }, osType: String(img.properties.osType ?? "Linux") };
}

function sharedImage(ctx: Ctx, vmSub: string, region: string, sharedId: string): ResolvedImage {
  const m = /^\/SharedGalleries\/([^/]+)\/Images\/([^/]+)(?:\/Versions\/([^/]+))?$/i.exec(sharedId);
  if (!m) throw errors.invalidParameter(`The shared gallery image id '${sharedId}' is invalid. Expected '/SharedGalleries/{galleryUniqueName}/Images/{imageName}[/Versions/{version}]'.`, "properties.storageProfile.imageReference.sharedGalleryImageId");
  const [, unique = "", imageName = "", versionName] = m;
  const tenantId = ctx.core.world.subscriptions.get(vmSub.toLowerCase())?.tenantId ?? "";
  const g: Gallery | undefined = ctx.core.world.galleryByUniqueName(unique);
  const img = g?.images.get(imageName.toLowerCase());
  if (!g || !img || !sharedWith(g, vmSub, tenantId, "any")) throw errors.galleryImageNotFound(sharedId);
  const now = ctx.core.clock.now();
  const usable = (v: GalleryImageVersion): boolean => versionUsableIn(v, region, now);
  const v = versionName === undefined || versionName.toLowerCase() === "latest" ? latest(img, usable) : img.versions.get(versionName.toLowerCase());
  if (!v) throw errors.notFoundInRegion(sharedId, region);
  if (!usable(v)) throw errors.notFoundInRegion(`/SharedGalleries/${uniqueNameOf(g)}/Images/${img.name}/Versions/${v.name}`, region);
  return { reference: { sharedGalleryImageId: sharedId, exactVersion: v.name }, osType: String(img.properties.osType ?? "Linux") };
}

function communityImage(ctx: Ctx, region: string, communityId: string): ResolvedImage {
  const m = /^\/CommunityGalleries\/([^/]+)\/Images\/([^/]+)(?:\/Versions\/([^/]+))?$/i.exec(communityId);
  const [, publicName = "", imageName = "", versionName] = m ?? [];
  const g = [...ctx.core.world.galleries.values()].find((x) => x.community?.enabled && x.community.publicNames.some((n) => n.toLowerCase() === publicName.toLowerCase()));
  const img = g?.images.get(imageName.toLowerCase());
  if (!m || !g || !img) throw errors.galleryImageNotFound(communityId);
  const now = ctx.core.clock.now();
  const usable = (v: GalleryImageVersion): boolean => versionUsableIn(v, region, now);
  const v = versionName === undefined || versionName.toLowerCase() === "latest" ? latest(img, usable) : img.versions.get(versionName.toLowerCase());
  if (!v || !usable(v)) throw errors.notFoundInRegion(communityId, region);
  return { reference: { communityGalleryImageId: communityId, exactVersion: v.name }, osType: String(img.properties.osType ?? "Linux") };
}

function resolveImage(ctx: Ctx, caller: Caller, req: EmuRequest, vmId: string, vmSub: string, region: string, ref: JsonObject): ResolvedImage {
  const id = str(ref.id);
  const shared = str(ref.sharedGalleryImageId);
  const community = str(ref.communityGalleryImageId);
  const marketplace = ["publisher", "offer", "sku"].some((k) => str(ref[k]) !== undefined);
  if ([id, shared, community].filter((x) => x !== undefined).length + (marketplace ? 1 : 0) > 1) {
    throw errors.invalidParameter("The properties 'id', 'sharedGalleryImageId', 'communityGalleryImageId' and publisher/offer/sku/version of imageReference are mutually exclusive: specify only one.", "properties.storageProfile.imageReference");
  }
  if (id !== undefined) {
    if (!/^\/subscriptions\//i.test(id)) {
      throw new ArmError(
        400,
        "LinkedInvalidPropertyId",
        `Property id '${id}' at path 'properties.storageProfile.imageReference.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
      );
    }
    return galleryImageById(ctx, caller, req, vmId, region, id);
  }
  if (shared !== undefined) return sharedImage(ctx, vmSub, region, shared);
  if (community !== undefined) return communityImage(ctx, region, community);
  if (marketplace) return { reference: pick(ref, ["publisher", "offer", "sku", "version"]), osType: "Linux" };
  throw errors.invalidParameter("Required parameter 'imageReference' is missing (null).", "properties.storageProfile.imageReference");
}

function vmView(ctx: Ctx, vm: VirtualMachine, instanceView: boolean): JsonObject {
  const properties: JsonObject = { ...structuredClone(vm.properties), provisioningState: vm.provisioning.state, vmId: vm.vmId, timeCreated: opTime(vm.timeCreated) };
  if (instanceView) {
    properties.instanceView = {
      computerName: str(at(vm.properties, "osProfile", "computerName")) ?? vm.name,
      statuses: [
        { code: `ProvisioningState/${vm.provisioning.state.toLowerCase()}`, level: "Info", displayStatus: `Provisioning ${vm.provisioning.state.toLowerCase()}` },
        { code: "PowerState/running", level: "Info", displayStatus: "VM running" },
      ],
    };
  }
  return { name: vm.name, id: vmIdOf(vm), type: "Microsoft.Compute/virtualMachines", location: vm.location, ...(vm.tags ? { tags: vm.tags } : {}), properties };
}

function names(req: EmuRequest): { sub: string; rg: string; name: string; id: string } {
  const sub = req.params.subscriptionId ?? "";
  const rg = req.params.resourceGroupName ?? "";
  const name = req.params.vmName ?? "";
  return { sub, rg, name, id: vmIdOf({ subscriptionId: sub, resourceGroup: rg, name }) };
}

function putVm(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg: rgName, name, id } = names(req);
  const caller = callerOf(ctx);
  requireAction(ctx, caller, "Microsoft.Compute/virtualMachines/write", id);
  const rg = requireResourceGroup(ctx, sub, rgName);
  const b = obj(req.body);
  if (!b) throw errors.invalidRequestContent("The request content was invalid and could not be deserialized: the body must be a JSON object.");
  const region = requireRegion(b.location, "Microsoft.Compute/virtualMachines");
  const props = obj(b.properties) ?? {};
  const vmSize = str(at(props, "hardwareProfile", "vmSize"));
  if (!vmSize) throw errors.invalidParameter("Required parameter 'hardwareProfile.vmSize' is missing (null).", "properties.hardwareProfile.vmSize");
  const imageRef = obj(at(props, "storageProfile", "imageReference"));
  const k = key(sub, rgName, name);
  const existing = ctx.core.world.virtualMachines.get(k);
  if (existing && existing.location !== region.name) throw errors.invalidResourceLocation(name, existing.location, rgName, region.name);
  let reference: JsonObject;
  let osType: string;
  if (existing && imageRef) {
    const before = obj(at(existing.properties, "storageProfile", "imageReference")) ?? {};
    const changed = ["id", "sharedGalleryImageId", "communityGalleryImageId", "publisher", "offer", "sku", "version"].some((f) => (str(before[f]) ?? "").toLowerCase() !== (str(imageRef[f]) ?? "").toLowerCase());
    if (changed) throw new ArmError(409, "PropertyChangeNotAllowed", "Changing property 'imageReference' is not allowed.", { target: "imageReference" });
    reference = before;
    osType = str(at(existing.properties, "storageProfile", "osDisk", "osType")) ?? "Linux";
  } else {
    const resolved = resolveImage(ctx, caller, req, id, sub, region.name, imageRef ?? {});
    reference = resolved.reference;
    osType = resolved.osType;
  }
  // Network: existing NICs (which must be joinable and in the VM's region) or VM-managed NIC configurations.
  const nics = arr(at(props, "networkProfile", "networkInterfaces")) ?? [];
  const nicConfigs = arr(at(props, "networkProfile", "networkInterfaceConfigurations")) ?? [];
  if (nics.length === 0 && nicConfigs.length === 0) {
    throw errors.invalidParameter("The value of parameter networkProfile is invalid: at least one network interface is required.", "properties.networkProfile");
  }
  for (const n of nics) {
    const nid = str(at(n, "id")) ?? "";
    const nic = findNicById(ctx, nid);
    if (!nic || nic.location !== region.name) {
      throw new ArmError(400, "InvalidResourceReference", `Resource ${nid} referenced by resource ${id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`);
    }
    if (!isAllowed(ctx.core, caller.objectId, "Microsoft.Network/networkInterfaces/join/action", nid)) {
      throw errors.linkedPermissionMissing(caller.objectId, caller.appId, "Microsoft.Compute/virtualMachines/write", id, "Microsoft.Network/networkInterfaces/join/action", nid);
    }
    const user = [...ctx.core.world.virtualMachines.values()].find(
      (vm) => vm !== existing && (arr(at(vm.properties, "networkProfile", "networkInterfaces")) ?? []).some((x) => str(at(x, "id"))?.toLowerCase() === nicId(nic).toLowerCase()),
    );
    if (user) throw new ArmError(400, "NicInUse", `Network Interface ${nicId(nic)} is used by existing resource ${vmIdOf(user)}.`);
  }
  const vmId = existing?.vmId ?? ctx.core.guid("vm-id", k);
  const osDiskIn = obj(at(props, "storageProfile", "osDisk")) ?? {};
  const diskName = str(osDiskIn.name) ?? `${name}_OsDisk_1_${vmId.replace(/-/g, "")}`;
  const osProfileIn = obj(props.osProfile);
  const properties: JsonObject = {
    hardwareProfile: { vmSize },
    storageProfile: {
      imageReference: reference,
      osDisk: {
        osType,
        name: diskName,
        createOption: "FromImage",
        caching: str(osDiskIn.caching) ?? "ReadWrite",
        managedDisk: {
          storageAccountType: str(at(osDiskIn, "managedDisk", "storageAccountType")) ?? "Premium_LRS",
          id: `/subscriptions/${sub}/resourceGroups/${rg.name.toUpperCase()}/providers/Microsoft.Compute/disks/${diskName}`,
        },
        deleteOption: str(osDiskIn.deleteOption) ?? "Detach",
        diskSizeGB: 30,
      },
      dataDisks: [],
    },
    ...(osProfileIn
      ? {
          osProfile: {
            computerName: str(osProfileIn.computerName) ?? name,
            adminUsername: str(osProfileIn.adminUsername) ?? "azureuser",
            ...(osType === "Windows"
              ? { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true } }
              : { linuxConfiguration: { disablePasswordAuthentication: at(osProfileIn, "linuxConfiguration", "disablePasswordAuthentication") === true, provisionVMAgent: true } }),
            secrets: [],
            allowExtensionOperations: true,
          },
        }
      : {}),
    networkProfile: pick(obj(props.networkProfile), ["networkInterfaces", "networkInterfaceConfigurations", "networkApiVersion"]),
    ...pick(props, ["diagnosticsProfile", "securityProfile", "priority", "licenseType", "userData"]),
  };
  const tags = tagsOf(b.tags);
  const vm: VirtualMachine = existing ?? {
    subscriptionId: sub.toLowerCase(),
    resourceGroup: rg.name,
    name,
    location: region.name,
    properties,
    vmId,
    timeCreated: ctx.core.clock.now(),
    provisioning: { state: "Creating" },
  };
  vm.properties = properties;
  if (tags) vm.tags = tags;
  else delete vm.tags;
  vm.provisioning.state = existing ? "Updating" : "Creating";
  ctx.core.world.virtualMachines.set(k, vm);
  // Real VM creates take one to two minutes.
  const op = startOperation(ctx, { family: "compute", subscriptionId: vm.subscriptionId, location: vm.location, durationMs: 90_000 });
  vm.provisioning.opId = op.id;
  op.onComplete = (done) => {
    if (vm.provisioning.opId !== done.id) return;
    vm.provisioning.state = done.status === "Succeeded" ? "Succeeded" : "Failed";
    delete vm.provisioning.opId;
  };
  return lroResponse(ctx, op, existing ? 200 : 201, vmView(ctx, vm, false), { pretty: true });
}

function getVm(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/virtualMachines/read", id);
  requireResourceGroup(ctx, sub, rg);
  const vm = ctx.core.world.virtualMachines.get(key(sub, rg, name));
  if (!vm) throw errors.resourceNotFound("Microsoft.Compute/virtualMachines", name, rg);
  return json(200, vmView(ctx, vm, (queryParam(req, "$expand") ?? "").toLowerCase() === "instanceview"), undefined, true);
}

function listVms(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = req.params.subscriptionId ?? "";
  const rgName = req.params.resourceGroupName ?? "";
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/virtualMachines/read", `/subscriptions/${sub}/resourceGroups/${rgName}`);
  const rg = requireResourceGroup(ctx, sub, rgName);
  const value = [...ctx.core.world.virtualMachines.values()].filter((vm) => vm.subscriptionId === sub.toLowerCase() && vm.resourceGroup.toLowerCase() === rg.name.toLowerCase()).map((vm) => vmView(ctx, vm, false));
  return json(200, { value });
}

function deleteVm(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/virtualMachines/delete", id);
  requireResourceGroup(ctx, sub, rg);
  const k = key(sub, rg, name);
  const vm = ctx.core.world.virtualMachines.get(k);
  if (!vm) return { status: 204 };
  vm.provisioning.state = "Deleting";
  const op = startOperation(ctx, { family: "compute", subscriptionId: vm.subscriptionId, location: vm.location, durationMs: 60_000 });
  vm.provisioning.opId = op.id;
  op.onComplete = (done) => {
    if (done.status === "Succeeded") ctx.core.world.virtualMachines.delete(k);
    else vm.provisioning.state = "Failed";
  };
  return lroResponse(ctx, op, 202, undefined, { location: true });
}

export function vmRoutes(): Route<Ctx>[] {
  const rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines";
  const r = (method: string, pattern: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({ method, pattern, kind: "arm", family: "virtualMachines", handler });
  return [r("GET", rg, listVms), r("PUT", `${rg}/{vmName}`, putVm), r("GET", `${rg}/{vmName}`, getVm), r("DELETE", `${rg}/{vmName}`, deleteVm)];
}
