// Microsoft.Compute virtual machines, created from a gallery image: `imageReference.id` (a version
// or image definition id, possibly in another tenant: then ARM needs an `x-ms-authorization-auxiliary`
// token for that tenant whose principal may read the image, else LinkedAuthorizationFailed),
// `sharedGalleryImageId` (direct sharing: the VM's subscription or tenant must be in the gallery's
// sharing profile) or `communityGalleryImageId`. The image must be replicated to the VM's region
// (see imageReference.ts). PUT answers 201 (create) or 200 (update, including an identical PUT)
// with `azure-asyncoperation`; a create counts as in flight until its operation ends (creations.ts).
// Instances of Flexible scale sets are VMs too (created by vmss.ts, `properties.virtualMachineScaleSet`).
import { isAllowed, requireAction } from "../authz";
import { callerOf, type Ctx } from "../context";
import { arr, at, obj, queryParam, str, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Route } from "../router";
import { key, type VirtualMachine } from "../store";
import { opTime } from "../util/time";
import { json, lroResponse, pick, requireRegion, requireResourceGroup, startOperation, tagsOf } from "./common";
import { ArmError, errors } from "./errors";
import { checkLinkedImage, resolveImage, sameImageReference, type ImageTarget } from "./imageReference";
import { checkNicConfigurations, findNicById, nicId } from "./network";
import { removeFlexibleInstance } from "./vmss";

export const vmIdOf = (vm: Pick<VirtualMachine, "subscriptionId" | "resourceGroup" | "name">): string =>
  `/subscriptions/${vm.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;

/** The OS disk a VM (or scale-set instance) reports. */
export function osDiskOf(osDiskIn: JsonObject, diskName: string, osType: string, subscriptionId: string, resourceGroup: string): JsonObject {
  return {
    osType,
    name: diskName,
    createOption: "FromImage",
    caching: str(osDiskIn.caching) ?? "ReadWrite",
    managedDisk: {
      storageAccountType: str(at(osDiskIn, "managedDisk", "storageAccountType")) ?? "Premium_LRS",
      id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup.toUpperCase()}/providers/Microsoft.Compute/disks/${diskName}`,
    },
    deleteOption: str(osDiskIn.deleteOption) ?? "Detach",
    diskSizeGB: 30,
  };
}

/** The osProfile a VM reports (secrets such as adminPassword are never echoed). */
export function osProfileOf(osProfileIn: JsonObject, computerName: string, osType: string): JsonObject {
  return {
    computerName,
    adminUsername: str(osProfileIn.adminUsername) ?? "azureuser",
    ...(osType === "Windows"
      ? { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true } }
      : {
          linuxConfiguration: {
            disablePasswordAuthentication: at(osProfileIn, "linuxConfiguration", "disablePasswordAuthentication") === true,
            provisionVMAgent: true,
          },
        }),
    secrets: [],
    allowExtensionOperations: true,
  };
}

function vmView(ctx: Ctx, vm: VirtualMachine, instanceView: boolean): JsonObject {
  const properties: JsonObject = {
    ...structuredClone(vm.properties),
    provisioningState: vm.provisioning.state,
    vmId: vm.vmId,
    timeCreated: opTime(vm.timeCreated),
  };
  if (instanceView) {
    properties.instanceView = {
      computerName: str(at(vm.properties, "osProfile", "computerName")) ?? vm.name,
      // A failed create names its error in the provisioning status, as Azure's instance view does.
      statuses:
        vm.provisioning.state === "Failed" && vm.provisioning.error
          ? [
              {
                code: `ProvisioningState/failed/${vm.provisioning.error.code}`,
                level: "Error",
                displayStatus: "Provisioning failed",
                message: vm.provisioning.error.message,
              },
            ]
          : [
              {
                code: `ProvisioningState/${vm.provisioning.state.toLowerCase()}`,
                level: "Info",
                displayStatus: `Provisioning ${vm.provisioning.state.toLowerCase()}`,
              },
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
  const target: ImageTarget = {
    ctx,
    caller,
    resourceId: id,
    writeAction: "Microsoft.Compute/virtualMachines/write",
    subscriptionId: sub,
    region: region.name,
    path: "properties.storageProfile.imageReference",
    update: existing !== undefined,
  };
  // ARM's linked checks run on every PUT whose body names an image id, updates included.
  checkLinkedImage(target, imageRef);
  let reference: JsonObject;
  let osType: string;
  if (existing) {
    const before = obj(at(existing.properties, "storageProfile", "imageReference")) ?? {};
    if (imageRef && !sameImageReference(before, imageRef)) throw errors.propertyChangeNotAllowed("imageReference");
    reference = before;
    osType = str(at(existing.properties, "storageProfile", "osDisk", "osType")) ?? "Linux";
  } else {
    const resolved = resolveImage(target, imageRef);
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
      throw new ArmError(
        400,
        "InvalidResourceReference",
        `Resource ${nid} referenced by resource ${id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
      );
    }
    if (!isAllowedToJoinNic(ctx, caller.objectId, nid)) {
      throw errors.linkedPermissionMissing(
        caller.objectId,
        caller.appId,
        "Microsoft.Compute/virtualMachines/write",
        id,
        "Microsoft.Network/networkInterfaces/join/action",
        nid,
      );
    }
    const user = [...ctx.core.world.virtualMachines.values()].find(
      (vm) =>
        vm !== existing &&
        (arr(at(vm.properties, "networkProfile", "networkInterfaces")) ?? []).some((x) => str(at(x, "id"))?.toLowerCase() === nicId(nic).toLowerCase()),
    );
    if (user) throw new ArmError(400, "NicInUse", `Network Interface ${nicId(nic)} is used by existing resource ${vmIdOf(user)}.`);
  }
  checkNicConfigurations(ctx, caller, nicConfigs, region.name, id, "Microsoft.Compute/virtualMachines/write");
  const vmId = existing?.vmId ?? ctx.core.guid("vm-id", k);
  const osDiskIn = obj(at(props, "storageProfile", "osDisk")) ?? {};
  const diskName = str(osDiskIn.name) ?? `${name}_OsDisk_1_${vmId.replace(/-/g, "")}`;
  const osProfileIn = obj(props.osProfile);
  const properties: JsonObject = {
    hardwareProfile: { vmSize },
    storageProfile: { imageReference: reference, osDisk: osDiskOf(osDiskIn, diskName, osType, sub, rg.name), dataDisks: [] },
    ...(osProfileIn ? { osProfile: osProfileOf(osProfileIn, str(osProfileIn.computerName) ?? name, osType) } : {}),
    networkProfile: pick(obj(props.networkProfile), ["networkInterfaces", "networkInterfaceConfigurations", "networkApiVersion"]),
    ...pick(props, ["diagnosticsProfile", "securityProfile", "priority", "licenseType", "userData"]),
    ...pick(existing?.properties, ["virtualMachineScaleSet"]),
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
    if (done.error) vm.provisioning.error = { ...done.error };
    else delete vm.provisioning.error;
    delete vm.provisioning.opId;
  };
  if (!existing) ctx.core.creations.begin(op, "virtualMachine", vmIdOf(vm), ctx.core.clock.now());
  return lroResponse(ctx, op, existing ? 200 : 201, vmView(ctx, vm, false), { pretty: true });
}

function isAllowedToJoinNic(ctx: Ctx, objectId: string, nid: string): boolean {
  return isAllowed(ctx.core, objectId, "Microsoft.Network/networkInterfaces/join/action", nid);
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
  const value = [...ctx.core.world.virtualMachines.values()]
    .filter((vm) => vm.subscriptionId === sub.toLowerCase() && vm.resourceGroup.toLowerCase() === rg.name.toLowerCase())
    .map((vm) => vmView(ctx, vm, false));
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
    if (done.status === "Succeeded") {
      ctx.core.world.virtualMachines.delete(k);
      // A Flexible scale set's instance leaves the set (and its capacity) with it.
      if (vm.scaleSet) removeFlexibleInstance(ctx, vm.scaleSet, vm.name);
    } else vm.provisioning.state = "Failed";
  };
  return lroResponse(ctx, op, 202, undefined, { location: true });
}

export function vmRoutes(): Route<Ctx>[] {
  const rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines";
  const r = (method: string, pattern: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({
    method,
    pattern,
    kind: "arm",
    family: "virtualMachines",
    handler,
  });
  return [r("GET", rg, listVms), r("PUT", `${rg}/{vmName}`, putVm), r("GET", `${rg}/{vmName}`, getVm), r("DELETE", `${rg}/{vmName}`, deleteVm)];
}
