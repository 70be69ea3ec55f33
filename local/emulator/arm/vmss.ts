// Microsoft.Compute virtual machine scale sets (ComputeRP `virtualMachineScaleSet.json`,
// 2024-11-01 and later): create or update (PUT → 201 / 200, `azure-asyncoperation`), update (PATCH →
// 200), get, list by resource group, delete (202 + `location`, 204 when absent), the instances
// (`GET …/virtualMachineScaleSets/{name}/virtualMachines[/{instanceId}]`) and `POST …/manualupgrade`
// ({instanceIds}, 202).
//
// The model's `virtualMachineProfile.storageProfile.imageReference` follows the VM rules
// (imageReference.ts: ARM's linked checks with the auxiliary header, then the Compute RP's
// exclusivity and regional availability). `sku.capacity` instances run the model; each records the
// model version it runs and the exact image version it was built from. Changing the profile makes
// a new model: with `upgradePolicy.mode` Automatic (or Rolling) every instance moves to it when the
// update's operation ends; with Manual the instances keep the old one (`latestModelApplied: false`)
// until `manualupgrade` names them; new instances always get the newest model (upgrade-policy docs).
// Orchestration mode is fixed at creation. Uniform instances exist only under the scale set
// (instance ids "0", "1", …, names `{set}_{id}`); Flexible instances are also ordinary VMs
// (`{set}_{8 hex}`, instance id = VM name, `properties.virtualMachineScaleSet.id`), as Microsoft's
// "names and instance IDs" page describes. See README.md for what differs from Azure.
import { requireAction } from "../authz";
import { callerOf, type Caller, type Ctx } from "../context";
import { arr, at, isObject, num, obj, str, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Route } from "../router";
import { key, type OrchestrationMode, type ScaleSetInstance, type UpgradeMode, type VirtualMachine, type VirtualMachineScaleSet } from "../store";
import { opTime } from "../util/time";
import { json, lroResponse, pick, requireRegion, requireResourceGroup, startOperation, tagsOf } from "./common";
import { ArmError, errors } from "./errors";
import { checkLinkedImage, requestedReference, resolveImage, type ImageTarget, type ResolvedImage } from "./imageReference";
import { checkNicConfigurations } from "./network";
import { osDiskOf, osProfileOf, vmIdOf } from "./vms";

const TYPE = "Microsoft.Compute/virtualMachineScaleSets";
const WRITE = `${TYPE}/write`;
const READ = `${TYPE}/read`;
const DELETE = `${TYPE}/delete`;
const MANUAL_UPGRADE = `${TYPE}/manualUpgrade/action`;
const INSTANCES_READ = `${TYPE}/virtualMachines/read`;
const IMAGE_PATH = "properties.virtualMachineProfile.storageProfile.imageReference";
/** Request properties kept as given (read-only ones are the emulator's). */
const STORED_PROPERTIES = [
  "overprovision",
  "singlePlacementGroup",
  "platformFaultDomainCount",
  "zoneBalance",
  "scaleInPolicy",
  "doNotRunExtensionsOnOverprovisionedVMs",
  "additionalCapabilities",
  "automaticRepairsPolicy",
] as const;

export const vmssIdOf = (s: Pick<VirtualMachineScaleSet, "subscriptionId" | "resourceGroup" | "name">): string =>
  `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/${TYPE}/${s.name}`;

function names(req: EmuRequest): { sub: string; rg: string; name: string; id: string } {
  const sub = req.params.subscriptionId ?? "";
  const rg = req.params.resourceGroupName ?? "";
  const name = req.params.vmScaleSetName ?? "";
  return { sub, rg, name, id: vmssIdOf({ subscriptionId: sub, resourceGroup: rg, name }) };
}

function findScaleSet(ctx: Ctx, sub: string, rg: string, name: string): VirtualMachineScaleSet {
  requireResourceGroup(ctx, sub, rg);
  const s = ctx.core.world.virtualMachineScaleSets.get(key(sub, rg, name));
  if (!s) throw errors.resourceNotFound(TYPE, name, rg);
  return s;
}

/** JSON with sorted keys: two profiles are the same model when these strings are equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined && v[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** The profile as stored and reported: the image as chosen (no exactVersion), no secrets. */
function sanitizeProfile(profile: JsonObject | undefined): JsonObject | undefined {
  if (!profile) return undefined;
  const p = structuredClone(profile);
  const os = obj(p.osProfile);
  if (os) {
    delete os.adminPassword;
    delete os.customData;
  }
  const storage = obj(p.storageProfile);
  if (storage && obj(storage.imageReference)) storage.imageReference = requestedReference(obj(storage.imageReference));
  return p;
}

function profileOf(s: VirtualMachineScaleSet): JsonObject | undefined {
  return obj(s.properties.virtualMachineProfile);
}

function upgradeModeOf(s: VirtualMachineScaleSet): UpgradeMode {
  return (str(at(s.properties, "upgradePolicy", "mode")) as UpgradeMode | undefined) ?? "Manual";
}

function parseUpgradePolicy(v: unknown, fallback: JsonObject | undefined): JsonObject {
  const given = obj(v);
  const mode = str(given?.mode) ?? str(fallback?.mode) ?? "Manual";
  const found = (["Automatic", "Rolling", "Manual"] as const).find((m) => m.toLowerCase() === mode.toLowerCase());
  if (!found)
    throw errors.invalidParameter(
      `The value '${mode}' of parameter 'upgradePolicy.mode' is invalid. Allowed values are 'Automatic', 'Manual' and 'Rolling'.`,
      "properties.upgradePolicy.mode",
    );
  return { ...(given ?? fallback ?? {}), mode: found };
}

function parseOrchestrationMode(v: unknown): OrchestrationMode {
  const mode = str(v) ?? "Uniform";
  const found = (["Uniform", "Flexible"] as const).find((m) => m.toLowerCase() === mode.toLowerCase());
  if (!found)
    throw errors.invalidParameter(
      `The value '${mode}' of parameter 'orchestrationMode' is invalid. Allowed values are 'Uniform' and 'Flexible'.`,
      "properties.orchestrationMode",
    );
  return found;
}

function parseSku(v: unknown, fallback: VirtualMachineScaleSet["sku"] | undefined): VirtualMachineScaleSet["sku"] {
  const given = obj(v);
  const capacityIn = given?.capacity;
  if (capacityIn !== undefined && (num(capacityIn) === undefined || !Number.isInteger(capacityIn) || (capacityIn as number) < 0)) {
    throw errors.invalidParameter(
      `The value '${String(capacityIn)}' of parameter 'sku.capacity' is invalid: a whole number of virtual machines, 0 or more.`,
      "sku.capacity",
    );
  }
  const name = str(given?.name) ?? fallback?.name;
  const tier = str(given?.tier) ?? fallback?.tier;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(tier !== undefined ? { tier } : {}),
    capacity: (capacityIn as number | undefined) ?? fallback?.capacity ?? 0,
  };
}

/** PATCH: objects merge, everything else (arrays, scalars, the imageReference object) replaces. */
function merge(base: unknown, patch: unknown, path = ""): unknown {
  if (!isObject(base) || !isObject(patch) || path.endsWith("/imageReference")) return structuredClone(patch);
  const out: JsonObject = { ...structuredClone(base) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = merge(base[k], v, `${path}/${k}`);
  }
  return out;
}

// Views.

function computerNameOf(s: VirtualMachineScaleSet, inst: ScaleSetInstance): string {
  const prefix = str(at(profileOf(s), "osProfile", "computerNamePrefix")) ?? s.name;
  // Uniform: the prefix and the instance id in base 36, six characters.
  return s.orchestrationMode === "Uniform"
    ? `${prefix}${Number(inst.instanceId).toString(36).padStart(6, "0")}`
    : `${prefix}${inst.vmId.replace(/-/g, "").slice(0, 6)}`;
}

function scaleSetView(s: VirtualMachineScaleSet): JsonObject {
  const profile = profileOf(s);
  const os = obj(profile?.osProfile);
  const osType = s.instances[0]?.osType ?? "Linux";
  const reportedProfile = profile
    ? {
        ...structuredClone(profile),
        ...(os
          ? {
              osProfile: {
                ...pick(os, ["computerNamePrefix", "adminUsername"]),
                computerNamePrefix: str(os.computerNamePrefix) ?? s.name,
                secrets: [],
                ...(osType === "Windows"
                  ? { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true } }
                  : { linuxConfiguration: { disablePasswordAuthentication: at(os, "linuxConfiguration", "disablePasswordAuthentication") === true } }),
              },
            }
          : {}),
      }
    : undefined;
  return {
    name: s.name,
    id: vmssIdOf(s),
    type: TYPE,
    location: s.location,
    ...(s.tags ? { tags: s.tags } : {}),
    ...(s.sku.name !== undefined || s.sku.capacity > 0
      ? { sku: { ...(s.sku.name !== undefined ? { name: s.sku.name } : {}), tier: s.sku.tier ?? "Standard", capacity: s.sku.capacity } }
      : {}),
    properties: {
      ...pick(s.properties, STORED_PROPERTIES),
      orchestrationMode: s.orchestrationMode,
      upgradePolicy: structuredClone(obj(s.properties.upgradePolicy) ?? { mode: "Manual" }),
      ...(reportedProfile ? { virtualMachineProfile: reportedProfile } : {}),
      provisioningState: s.provisioning.state,
      uniqueId: s.uniqueId,
      timeCreated: opTime(s.timeCreated),
    },
  };
}

function instanceView(ctx: Ctx, s: VirtualMachineScaleSet, inst: ScaleSetInstance): JsonObject {
  const latestModelApplied = inst.modelVersion === s.modelVersion;
  if (s.orchestrationMode === "Flexible") {
    // Flexible instances are VMs: the list names them by VM id; full details come from the VM API.
    const vm = ctx.core.world.virtualMachines.get(key(s.subscriptionId, s.resourceGroup, inst.name));
    return {
      name: inst.name,
      id: vmIdOf({ subscriptionId: s.subscriptionId, resourceGroup: s.resourceGroup, name: inst.name }),
      type: "Microsoft.Compute/virtualMachines",
      location: s.location,
      instanceId: inst.instanceId,
      properties: {
        latestModelApplied,
        vmId: inst.vmId,
        storageProfile: { imageReference: structuredClone(obj(at(vm?.properties, "storageProfile", "imageReference")) ?? inst.imageReference) },
        provisioningState: inst.provisioning.state,
        timeCreated: opTime(inst.timeCreated),
      },
    };
  }
  const profile = profileOf(s) ?? {};
  const id = `${vmssIdOf(s)}/virtualMachines/${inst.instanceId}`;
  const nicConfigs = arr(at(profile, "networkProfile", "networkInterfaceConfigurations")) ?? [];
  const diskName = `${s.name}_${s.name}_${inst.instanceId}_OsDisk_1_${inst.vmId.replace(/-/g, "")}`;
  return {
    name: inst.name,
    id,
    type: "Microsoft.Compute/virtualMachines",
    location: s.location,
    ...(s.tags ? { tags: s.tags } : {}),
    instanceId: inst.instanceId,
    ...(s.sku.name !== undefined ? { sku: { name: s.sku.name, tier: s.sku.tier ?? "Standard" } } : {}),
    properties: {
      latestModelApplied,
      modelDefinitionApplied: "VirtualMachineScaleSet",
      vmId: inst.vmId,
      hardwareProfile: {},
      storageProfile: {
        imageReference: structuredClone(inst.imageReference),
        osDisk: osDiskOf(obj(at(profile, "storageProfile", "osDisk")) ?? {}, diskName, inst.osType, s.subscriptionId, s.resourceGroup),
        dataDisks: [],
      },
      ...(obj(profile.osProfile) ? { osProfile: osProfileOf(obj(profile.osProfile) ?? {}, computerNameOf(s, inst), inst.osType) } : {}),
      networkProfile: { networkInterfaces: nicConfigs.map((c) => ({ id: `${id}/networkInterfaces/${str(at(c, "name")) ?? "nic"}` })) },
      networkProfileConfiguration: { networkInterfaceConfigurations: structuredClone(nicConfigs) },
      provisioningState: inst.provisioning.state,
      timeCreated: opTime(inst.timeCreated),
    },
  };
}

// Instances.

function newInstance(ctx: Ctx, s: VirtualMachineScaleSet, image: ResolvedImage): ScaleSetInstance {
  const k = key(s.subscriptionId, s.resourceGroup, s.name);
  const n = s.nextInstanceId++;
  const vmId = ctx.core.guid("vmss-vm-id", k, String(n));
  const instanceId = s.orchestrationMode === "Uniform" ? String(n) : `${s.name}_${ctx.core.guid("vmss-flex-name", k, String(n)).slice(0, 8)}`;
  const inst: ScaleSetInstance = {
    instanceId,
    name: s.orchestrationMode === "Uniform" ? `${s.name}_${instanceId}` : instanceId,
    vmId,
    modelVersion: s.modelVersion,
    imageReference: structuredClone(image.reference),
    osType: image.osType,
    timeCreated: ctx.core.clock.now(),
    provisioning: { state: "Creating" },
  };
  if (s.orchestrationMode === "Flexible") ctx.core.world.virtualMachines.set(key(s.subscriptionId, s.resourceGroup, inst.name), flexibleVm(s, inst));
  return inst;
}

/** The VM resource behind a Flexible instance (it shares the instance's provisioning state). */
function flexibleVm(s: VirtualMachineScaleSet, inst: ScaleSetInstance): VirtualMachine {
  const profile = profileOf(s) ?? {};
  const osProfileIn = obj(profile.osProfile);
  const diskName = `${inst.name}_OsDisk_1_${inst.vmId.replace(/-/g, "")}`;
  return {
    subscriptionId: s.subscriptionId,
    resourceGroup: s.resourceGroup,
    name: inst.name,
    location: s.location,
    ...(s.tags ? { tags: { ...s.tags } } : {}),
    vmId: inst.vmId,
    timeCreated: inst.timeCreated,
    provisioning: inst.provisioning,
    scaleSet: key(s.subscriptionId, s.resourceGroup, s.name),
    properties: {
      hardwareProfile: { vmSize: s.sku.name ?? "" },
      storageProfile: {
        imageReference: structuredClone(inst.imageReference),
        osDisk: osDiskOf(obj(at(profile, "storageProfile", "osDisk")) ?? {}, diskName, inst.osType, s.subscriptionId, s.resourceGroup),
        dataDisks: [],
      },
      ...(osProfileIn
        ? { osProfile: osProfileOf(osProfileIn, `${str(osProfileIn.computerNamePrefix) ?? s.name}${inst.vmId.replace(/-/g, "").slice(0, 6)}`, inst.osType) }
        : {}),
      networkProfile: pick(obj(profile.networkProfile), ["networkInterfaceConfigurations", "networkApiVersion"]),
      virtualMachineScaleSet: { id: vmssIdOf(s) },
    },
  };
}

/** Moves an instance to a model version and the image it resolved to. */
function upgrade(ctx: Ctx, s: VirtualMachineScaleSet, inst: ScaleSetInstance, modelVersion: number, image: ResolvedImage): void {
  if (inst.modelVersion >= modelVersion) return;
  inst.modelVersion = modelVersion;
  inst.imageReference = structuredClone(image.reference);
  inst.osType = image.osType;
  if (s.orchestrationMode === "Flexible") {
    const vm = ctx.core.world.virtualMachines.get(key(s.subscriptionId, s.resourceGroup, inst.name));
    if (vm) vm.properties = { ...vm.properties, ...flexibleVm(s, inst).properties, ...pick(vm.properties, ["osProfile"]) };
  }
}

function dropInstance(ctx: Ctx, s: VirtualMachineScaleSet, inst: ScaleSetInstance): void {
  s.instances = s.instances.filter((x) => x !== inst);
  if (s.orchestrationMode === "Flexible") ctx.core.world.virtualMachines.delete(key(s.subscriptionId, s.resourceGroup, inst.name));
}

/** A Flexible instance deleted through the VM API leaves the set, which shrinks by one. */
export function removeFlexibleInstance(ctx: Ctx, scaleSetKey: string, vmName: string): void {
  const s = ctx.core.world.virtualMachineScaleSets.get(scaleSetKey);
  if (!s) return;
  const before = s.instances.length;
  s.instances = s.instances.filter((x) => x.name.toLowerCase() !== vmName.toLowerCase());
  if (s.instances.length < before) s.sku.capacity = Math.max(0, s.sku.capacity - 1);
}

// Writes.

interface Desired {
  location: string;
  tags: Record<string, string> | undefined;
  sku: VirtualMachineScaleSet["sku"];
  orchestrationMode: OrchestrationMode;
  upgradePolicy: JsonObject;
  profile: JsonObject | undefined;
  stored: JsonObject;
  /** The imageReference the request body itself carries (ARM's linked checks look only there). */
  bodyImage: JsonObject | undefined;
}

function write(
  ctx: Ctx,
  caller: Caller,
  ids: ReturnType<typeof names>,
  desired: Desired,
  existing: VirtualMachineScaleSet | undefined,
  createdStatus: number,
): EmuResponse {
  const { sub, rg: rgName, name, id } = ids;
  const rg = requireResourceGroup(ctx, sub, rgName);
  const profile = desired.profile;
  if (!profile && (desired.orchestrationMode === "Uniform" || desired.sku.capacity > 0)) {
    throw errors.invalidParameter("Required parameter 'virtualMachineProfile' is missing (null).", "properties.virtualMachineProfile");
  }
  if (profile && desired.sku.name === undefined) throw errors.invalidParameter("Required parameter 'sku.name' is missing (null).", "sku.name");
  const target: ImageTarget = {
    ctx,
    caller,
    resourceId: id,
    writeAction: WRITE,
    subscriptionId: sub,
    region: desired.location,
    path: IMAGE_PATH,
    update: existing !== undefined,
  };
  checkLinkedImage(target, desired.bodyImage);
  const model = sanitizeProfile(profile);
  const changed = !existing || canonical(model) !== canonical(profileOf(existing));
  const adding = desired.sku.capacity - (existing?.instances.length ?? 0);
  const nicConfigs = arr(at(profile, "networkProfile", "networkInterfaceConfigurations")) ?? [];
  if (profile && changed) {
    if (nicConfigs.length === 0) {
      throw errors.invalidParameter(
        "The value of parameter networkProfile is invalid: at least one network interface configuration is required.",
        "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations",
      );
    }
    checkNicConfigurations(ctx, caller, nicConfigs, desired.location, id, WRITE);
  }
  // The image the new model (and any new instance) is built from, resolved now as the Compute RP does.
  const image = profile && (changed || adding > 0) ? resolveImage(target, obj(at(profile, "storageProfile", "imageReference"))) : undefined;

  const k = key(sub, rgName, name);
  const s: VirtualMachineScaleSet = existing ?? {
    subscriptionId: sub.toLowerCase(),
    resourceGroup: rg.name,
    name,
    location: desired.location,
    sku: desired.sku,
    orchestrationMode: desired.orchestrationMode,
    properties: {},
    modelVersion: 0,
    uniqueId: ctx.core.guid("vmss-unique-id", k),
    timeCreated: ctx.core.clock.now(),
    provisioning: { state: "Creating" },
    instances: [],
    nextInstanceId: 0,
  };
  s.sku = desired.sku;
  s.properties = { ...desired.stored, upgradePolicy: desired.upgradePolicy, ...(model ? { virtualMachineProfile: model } : {}) };
  if (desired.tags) s.tags = desired.tags;
  else delete s.tags;
  if (changed) s.modelVersion += 1;
  const modelVersion = s.modelVersion;
  // Scale out with the newest model; scale in from the highest instance id (the default scale-in policy).
  const created: ScaleSetInstance[] = [];
  for (let i = 0; i < adding && image; i++) created.push(newInstance(ctx, s, image));
  s.instances.push(...created);
  const removed = adding < 0 ? s.instances.slice(adding) : [];
  for (const inst of removed) inst.provisioning.state = "Deleting";
  s.provisioning.state = existing ? "Updating" : "Creating";
  ctx.core.world.virtualMachineScaleSets.set(k, s);

  const op = startOperation(ctx, { family: "compute", subscriptionId: s.subscriptionId, location: s.location, durationMs: existing ? 60_000 : 90_000 });
  s.provisioning.opId = op.id;
  const upgradeAll = changed && existing !== undefined && upgradeModeOf(s) !== "Manual";
  op.onComplete = (done) => {
    const ok = done.status === "Succeeded";
    for (const inst of created) inst.provisioning.state = ok ? "Succeeded" : "Failed";
    if (ok) {
      for (const inst of removed) dropInstance(ctx, s, inst);
      if (upgradeAll && image) for (const inst of s.instances) upgrade(ctx, s, inst, modelVersion, image);
    } else for (const inst of removed) inst.provisioning.state = "Failed";
    if (s.provisioning.opId !== done.id) return;
    s.provisioning.state = ok ? "Succeeded" : "Failed";
    delete s.provisioning.opId;
  };
  if (!existing) ctx.core.creations.begin(op, "virtualMachineScaleSet", vmssIdOf(s), ctx.core.clock.now());
  return lroResponse(ctx, op, existing ? 200 : createdStatus, scaleSetView(s), { pretty: true });
}

function putScaleSet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const ids = names(req);
  const caller = callerOf(ctx);
  requireAction(ctx, caller, WRITE, ids.id);
  requireResourceGroup(ctx, ids.sub, ids.rg);
  const b = obj(req.body);
  if (!b) throw errors.invalidRequestContent("The request content was invalid and could not be deserialized: the body must be a JSON object.");
  const region = requireRegion(b.location, TYPE);
  const props = obj(b.properties) ?? {};
  const existing = ctx.core.world.virtualMachineScaleSets.get(key(ids.sub, ids.rg, ids.name));
  if (existing && existing.location !== region.name) throw errors.invalidResourceLocation(ids.name, existing.location, ids.rg, region.name);
  const orchestrationMode = parseOrchestrationMode(props.orchestrationMode ?? existing?.orchestrationMode);
  // "The orchestration mode is defined when you create the scale set and cannot be changed or updated later."
  if (existing && orchestrationMode !== existing.orchestrationMode) throw errors.propertyChangeNotAllowed("orchestrationMode");
  const profile = obj(props.virtualMachineProfile);
  return write(
    ctx,
    caller,
    ids,
    {
      location: region.name,
      tags: tagsOf(b.tags),
      sku: parseSku(b.sku, existing?.sku),
      orchestrationMode,
      upgradePolicy: parseUpgradePolicy(props.upgradePolicy, undefined),
      profile,
      stored: pick(props, STORED_PROPERTIES),
      bodyImage: obj(at(profile, "storageProfile", "imageReference")),
    },
    existing,
    201,
  );
}

function patchScaleSet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const ids = names(req);
  const caller = callerOf(ctx);
  requireAction(ctx, caller, WRITE, ids.id);
  const existing = findScaleSet(ctx, ids.sub, ids.rg, ids.name);
  const b = obj(req.body);
  if (!b) throw errors.invalidRequestContent("The request content was invalid and could not be deserialized: the body must be a JSON object.");
  const props = obj(b.properties) ?? {};
  const patchProfile = obj(props.virtualMachineProfile);
  const profile = patchProfile ? obj(merge(profileOf(existing), patchProfile)) : profileOf(existing);
  const tags = tagsOf(b.tags) ?? existing.tags;
  return write(
    ctx,
    caller,
    ids,
    {
      location: existing.location,
      tags,
      sku: parseSku(b.sku, existing.sku),
      orchestrationMode: existing.orchestrationMode,
      upgradePolicy: parseUpgradePolicy(
        props.upgradePolicy ? merge(existing.properties.upgradePolicy, props.upgradePolicy) : existing.properties.upgradePolicy,
        undefined,
      ),
      // The stored model has no secrets; a PATCH need not repeat them.
      profile,
      stored: { ...pick(existing.properties, STORED_PROPERTIES), ...pick(props, STORED_PROPERTIES) },
      bodyImage: obj(at(patchProfile, "storageProfile", "imageReference")),
    },
    existing,
    200,
  );
}

function getScaleSet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  requireAction(ctx, callerOf(ctx), READ, id);
  return json(200, scaleSetView(findScaleSet(ctx, sub, rg, name)), undefined, true);
}

function listScaleSets(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = req.params.subscriptionId ?? "";
  const rgName = req.params.resourceGroupName ?? "";
  requireAction(ctx, callerOf(ctx), READ, `/subscriptions/${sub}/resourceGroups/${rgName}`);
  const rg = requireResourceGroup(ctx, sub, rgName);
  const value = [...ctx.core.world.virtualMachineScaleSets.values()]
    .filter((s) => s.subscriptionId === sub.toLowerCase() && s.resourceGroup.toLowerCase() === rg.name.toLowerCase())
    .map(scaleSetView);
  return json(200, { value });
}

function deleteScaleSet(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  requireAction(ctx, callerOf(ctx), DELETE, id);
  requireResourceGroup(ctx, sub, rg);
  const k = key(sub, rg, name);
  const s = ctx.core.world.virtualMachineScaleSets.get(k);
  if (!s) return { status: 204 };
  s.provisioning.state = "Deleting";
  for (const inst of s.instances) inst.provisioning.state = "Deleting";
  const op = startOperation(ctx, { family: "compute", subscriptionId: s.subscriptionId, location: s.location, durationMs: 60_000 });
  s.provisioning.opId = op.id;
  op.onComplete = (done) => {
    if (done.status === "Succeeded") {
      for (const inst of [...s.instances]) dropInstance(ctx, s, inst);
      ctx.core.world.virtualMachineScaleSets.delete(k);
    } else s.provisioning.state = "Failed";
  };
  return lroResponse(ctx, op, 202, undefined, { location: true });
}

function listInstances(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  requireAction(ctx, callerOf(ctx), INSTANCES_READ, id);
  const s = findScaleSet(ctx, sub, rg, name);
  return json(200, { value: s.instances.map((inst) => instanceView(ctx, s, inst)) });
}

function getInstance(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  const instanceId = req.params.instanceId ?? "";
  requireAction(ctx, callerOf(ctx), INSTANCES_READ, `${id}/virtualMachines/${instanceId}`);
  const s = findScaleSet(ctx, sub, rg, name);
  if (s.orchestrationMode === "Flexible") {
    // Flexible instances are read with the VM API (Microsoft's orchestration-mode API comparison);
    // the wording follows the recorded refusal of another Uniform-only call (hashicorp/nomad-autoscaler#1096).
    throw new ArmError(409, "OperationNotAllowed", `Operation 'VirtualMachineScaleSetVMs.GET' is not allowed on Virtual Machine Scale Set '${s.name}'.`);
  }
  const inst = s.instances.find((x) => x.instanceId === instanceId);
  if (!inst) throw errors.resourceNotFound(`${TYPE}/virtualMachines`, `${s.name}/${instanceId}`, rg);
  return json(200, instanceView(ctx, s, inst), undefined, true);
}

function manualUpgrade(req: EmuRequest, ctx: Ctx): EmuResponse {
  const { sub, rg, name, id } = names(req);
  const caller = callerOf(ctx);
  requireAction(ctx, caller, MANUAL_UPGRADE, id);
  const s = findScaleSet(ctx, sub, rg, name);
  const wanted = (arr(at(req.body, "instanceIds")) ?? []).filter((x): x is string => typeof x === "string");
  if (wanted.length === 0) throw errors.invalidParameter("Required parameter 'instanceIds' is missing (null).", "instanceIds");
  const instances = wanted.map((w) => {
    const inst = s.instances.find((x) => x.instanceId.toLowerCase() === w.toLowerCase());
    if (!inst) throw errors.invalidParameter(`The virtual machine scale set '${s.name}' has no instance with id '${w}'.`, "instanceIds");
    return inst;
  });
  const image = resolveImage(
    { ctx, subscriptionId: s.subscriptionId, region: s.location, path: IMAGE_PATH },
    obj(at(profileOf(s), "storageProfile", "imageReference")),
  );
  const modelVersion = s.modelVersion;
  for (const inst of instances) inst.provisioning.state = "Updating";
  const op = startOperation(ctx, { family: "compute", subscriptionId: s.subscriptionId, location: s.location, durationMs: 60_000 });
  op.onComplete = (done) => {
    const ok = done.status === "Succeeded";
    for (const inst of instances) {
      if (ok) upgrade(ctx, s, inst, modelVersion, image);
      inst.provisioning.state = ok ? "Succeeded" : "Failed";
    }
  };
  return lroResponse(ctx, op, 202, undefined, { location: true });
}

export function vmssRoutes(): Route<Ctx>[] {
  const rg = `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/${TYPE}`;
  const r = (method: string, pattern: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({
    method,
    pattern,
    kind: "arm",
    family: "virtualMachineScaleSets",
    handler,
  });
  return [
    r("GET", rg, listScaleSets),
    r("PUT", `${rg}/{vmScaleSetName}`, putScaleSet),
    r("PATCH", `${rg}/{vmScaleSetName}`, patchScaleSet),
    r("GET", `${rg}/{vmScaleSetName}`, getScaleSet),
    r("DELETE", `${rg}/{vmScaleSetName}`, deleteScaleSet),
    r("GET", `${rg}/{vmScaleSetName}/virtualMachines`, listInstances),
    r("GET", `${rg}/{vmScaleSetName}/virtualMachines/{instanceId}`, getInstance),
    r("POST", `${rg}/{vmScaleSetName}/manualupgrade`, manualUpgrade),
  ];
}
