// The activities of provisionWorkload: a VM or scale set in a consumer tenant from a shared image,
// as Microsoft's cross-tenant docs describe it, without the two logins and `az vm create` they have
// a person do:
// - direct mode: the consumer tenant's credential only; imageReference.sharedGalleryImageId
//   (/SharedGalleries/{uniqueName}/Images/{image}/Versions/{version});
// - rbac mode: imageReference.id = the gallery version's resource id, with the publisher tenant's
//   token for the same app in x-ms-authorization-auxiliary on every request from the first one
//   (a header added only after LinkedAuthorizationFailed is the most reported failure here).
// Each activity does one short step (resolve the version, send the PUT, read the state); the
// orchestration waits between reads on durable timers, so nothing sleeps here. Names are
// deterministic, PUTs idempotent, SSH keys only, and tags link each resource to its tenant, the
// request or publish that made it, and its image version.
//
// Also here: the creation cap (a provisionWorkload holds one of VM_CREATIONS_IN_FLIGHT slots, rows
// of the registry table taken with ETag-checked writes, from before its PUT until its VM or scale
// set is done; a lease runs out on its own when a holder never frees it), and the durable-client
// side of a publish's fan-out: starting provisionWorkload instances, and each of them telling the
// publish it ended. Both are safe to run twice: a start of an instance that exists starts nothing
// (one that already ended tells its outcome again), and a repeated notice is one the publish
// recognises by its index and ignores.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import type { Services } from "../services";
import { blocksRestart, findInstance } from "../azure/durableInstances";
import type { ActivityResult } from "../domain/activityResult";
import { PROVISION_WORKLOAD } from "../domain/orchestrationNames";
import { formatImageVersionId, parseGalleryId, parseSubnetId } from "../domain/resourceIds";
import {
  compareImageVersions,
  workloadNames,
  workloadResourceId,
  type ProvisionWorkloadInput,
  type WorkloadNotice,
  type WorkloadTarget,
} from "../domain/workloads";
import { ActivityRuleError, runActivity, withDurableClient } from "./activity";
import { managedGalleryId } from "./managedGallery";
import { MAX_LISTED, sharedUniqueName } from "./sharedGalleries";

export interface ResolvedImage {
  /** The version number (`latest` resolved). */
  readonly version: string;
  /** The gallery image version's resource id. */
  readonly imageVersion: string;
  /** How the VM names it: sharedGalleryImageId in direct mode, the version's id in rbac mode. */
  readonly imageReference: { readonly sharedGalleryImageId: string } | { readonly id: string };
}

export interface StartWorkloadInput extends WorkloadTarget {
  readonly changedBy: string;
  readonly image: ResolvedImage;
}

export interface StartedWorkload {
  /** deleting: a VM built from another version is removed first (a VM's image cannot change); start again when it is gone. */
  readonly phase: "creating" | "updating" | "deleting";
  readonly resourceId: string;
}

export interface WorkloadState {
  readonly exists: boolean;
  /** ARM's provisioningState: Creating, Updating, Deleting, Succeeded, Failed, Canceled. */
  readonly provisioningState?: string;
  /** Why a create or update failed, from the VM's instance view. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface CreationSlotInput {
  /** The provisionWorkload instance that holds the slot. */
  readonly holder: string;
  /** Orchestration time (ISO), and when the lease runs out unless renewed. */
  readonly now: string;
  readonly until: string;
  readonly creationsInFlight: number;
}

export interface StartProvisioningInput {
  readonly starts: readonly { readonly instanceId: string; readonly input: ProvisionWorkloadInput }[];
}

/** What these activities use of the app's services. */
type Deps = Pick<Services, "config" | "arm" | "registry">;

export function createWorkloadActivities(services: Deps) {
  return {
    resolveWorkloadImage: (target: WorkloadTarget) => runActivity(() => resolveWorkloadImage(services, target)),
    startWorkload: (input: StartWorkloadInput) => runActivity(() => startWorkload(services, input)),
    readWorkload: (target: WorkloadTarget) => runActivity(() => readWorkload(services, target)),
    acquireCreationSlot: (input: CreationSlotInput): Promise<ActivityResult<{ granted: boolean }>> =>
      runActivity(async () => ({ granted: await services.registry.acquireCreationSlot(input.holder, input.now, input.until, input.creationsInFlight) })),
    releaseCreationSlot: (input: { holder: string }): Promise<ActivityResult<{ released: boolean }>> =>
      runActivity(async () => ({ released: await services.registry.releaseCreationSlot(input.holder) })),
    startProvisioning: withDurableClient((input: StartProvisioningInput, context: InvocationContext) =>
      runActivity(() => startProvisioning(input, df.getClient(context))),
    ),
    notifyWorkloadDone: withDurableClient((input: WorkloadNotice, context: InvocationContext) =>
      runActivity(() => notifyWorkloadDone(input, df.getClient(context))),
    ),
  };
}

async function resolveWorkloadImage(services: Deps, target: WorkloadTarget): Promise<ResolvedImage> {
  const ref = parseGalleryId(managedGalleryId(services.config, target.galleryId));
  const { image, version: asked } = target.spec;
  const { location } = target.consumer;
  if (target.mode === "direct") {
    const { compute } = consumerClients(services, target);
    const uniqueName = await sharedUniqueName(compute, location, ref.gallery);
    if (!uniqueName)
      throw new ActivityRuleError("GalleryNotShared", `the consumer tenant does not see ${ref.gallery} among the galleries shared with it in ${location}`);
    const version = asked === "latest" ? await newestShared(compute, location, uniqueName, image) : asked;
    return {
      version,
      imageVersion: formatImageVersionId({ ...ref, image, version }),
      imageReference: { sharedGalleryImageId: `/SharedGalleries/${uniqueName}/Images/${image}/Versions/${version}` },
    };
  }
  const version = asked === "latest" ? await newestReplicated(services, ref, image, location) : asked;
  const imageVersion = formatImageVersionId({ ...ref, image, version });
  return { version, imageVersion, imageReference: { id: imageVersion } };
}

async function startWorkload(services: Deps, input: StartWorkloadInput): Promise<StartedWorkload> {
  const { compute, network } = consumerClients(services, input);
  const { consumer, spec } = input;
  const names = workloadNames(spec.kind, input.tenantId, spec.image);
  const resourceId = workloadResourceId(spec.kind, consumer, names.name);
  const tags = {
    "gallery-share-tenant": input.tenantId,
    "gallery-share-changed-by": input.changedBy,
    "gallery-share-image-version": `${spec.image}/${input.image.version}`,
  };
  const linux = {
    adminUsername: spec.adminUsername,
    linuxConfiguration: {
      disablePasswordAuthentication: true,
      ssh: { publicKeys: [{ path: `/home/${spec.adminUsername}/.ssh/authorized_keys`, keyData: spec.sshPublicKey }] },
    },
  };

  if (spec.kind === "vmss") {
    const existed = await exists(() => compute.virtualMachineScaleSets.get(consumer.resourceGroup, names.name));
    const flexible = spec.orchestrationMode === "Flexible";
    // A PUT of the whole model: on an existing scale set a new image makes a new model, which the
    // instances take as the scale set's upgrade policy says.
    await compute.virtualMachineScaleSets.beginCreateOrUpdate(consumer.resourceGroup, names.name, {
      location: consumer.location,
      tags,
      sku: { name: spec.size, capacity: spec.instanceCount ?? 2 },
      orchestrationMode: flexible ? "Flexible" : "Uniform",
      ...(flexible ? { platformFaultDomainCount: 1 } : {}),
      upgradePolicy: { mode: spec.upgradePolicy ?? "Automatic" },
      virtualMachineProfile: {
        storageProfile: {
          imageReference: input.image.imageReference,
          osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } },
        },
        osProfile: { computerNamePrefix: names.name, ...linux },
        networkProfile: {
          ...(flexible ? { networkApiVersion: "2020-11-01" } : {}),
          networkInterfaceConfigurations: [{ name: names.nic, primary: true, ipConfigurations: [{ name: "ipconfig1", subnet: { id: spec.subnetId } }] }],
        },
      },
    });
    return { phase: existed ? "updating" : "creating", resourceId };
  }

  // A VM's image cannot change in place (ARM: PropertyChangeNotAllowed): one built from another
  // version is deleted, with its OS disk, and made again under the same name.
  const current = await exists(() => compute.virtualMachines.get(consumer.resourceGroup, names.name));
  if (current) {
    const ref = current.storageProfile?.imageReference;
    const wanted = input.image.imageReference;
    const same = "id" in wanted ? sameText(ref?.id, wanted.id) : sameText(ref?.sharedGalleryImageId, wanted.sharedGalleryImageId);
    if (!same) {
      await compute.virtualMachines.beginDelete(consumer.resourceGroup, names.name);
      return { phase: "deleting", resourceId };
    }
  }
  const nic = await network.networkInterfaces.createOrUpdate(consumer.resourceGroup, names.nic, {
    location: consumer.location,
    tags,
    ipConfigurations: [{ name: "ipconfig1", subnet: { id: spec.subnetId } }],
  });
  await compute.virtualMachines.beginCreateOrUpdate(consumer.resourceGroup, names.name, {
    location: consumer.location,
    tags,
    hardwareProfile: { vmSize: spec.size },
    storageProfile: { imageReference: input.image.imageReference, osDisk: { createOption: "FromImage", deleteOption: "Delete" } },
    osProfile: { computerName: names.name, ...linux },
    networkProfile: { networkInterfaces: [{ id: nic.id ?? "", primary: true }] },
  });
  return { phase: current ? "updating" : "creating", resourceId };
}

async function readWorkload(services: Deps, target: WorkloadTarget): Promise<WorkloadState> {
  const { compute } = consumerClients(services, target);
  const { name } = workloadNames(target.spec.kind, target.tenantId, target.spec.image);
  const rg = target.consumer.resourceGroup;
  if (target.spec.kind === "vmss") {
    const set = await exists(() => compute.virtualMachineScaleSets.get(rg, name));
    return set ? { exists: true, provisioningState: set.provisioningState ?? "Unknown" } : { exists: false };
  }
  const vm = await exists(() => compute.virtualMachines.get(rg, name, { expand: "instanceView" }));
  if (!vm) return { exists: false };
  const state = vm.provisioningState ?? "Unknown";
  // A failed create names its reason in the instance view: ProvisioningState/failed/{code}.
  const failed = vm.instanceView?.statuses?.find((s) => s.code?.startsWith("ProvisioningState/failed/"));
  const error =
    state === "Failed" ? { code: failed?.code?.split("/")[2] ?? "ProvisioningFailed", message: failed?.message ?? "the VM's provisioning failed" } : undefined;
  return { exists: true, provisioningState: state, ...(error ? { error } : {}) };
}

async function startProvisioning(input: StartProvisioningInput, client: DurableClient): Promise<{ started: number; existing: number }> {
  let started = 0;
  let existing = 0;
  for (const start of input.starts) {
    const status = await findInstance(client, start.instanceId);
    if (blocksRestart(status)) {
      existing++;
      // Ended before the publish heard of it (this activity ran again): tell the outcome again.
      if (status?.runtimeStatus === "Completed" && start.input.notify) {
        await client.raiseEvent(start.input.notify.instanceId, start.input.notify.eventName, { index: start.input.notify.index, outcome: status.output });
      }
      continue;
    }
    await client.startNew(PROVISION_WORKLOAD, { instanceId: start.instanceId, input: start.input });
    started++;
  }
  return { started, existing };
}

async function notifyWorkloadDone(input: WorkloadNotice, client: DurableClient): Promise<{ delivered: boolean }> {
  try {
    await client.raiseEvent(input.instanceId, input.eventName, { index: input.index, outcome: input.outcome });
    return { delivered: true };
  } catch (err) {
    // The publish ended or was purged: nobody waits for this outcome any more (it is on the tenant).
    if (err instanceof Error && /\b(404|410)\b/.test(err.message)) return { delivered: false };
    throw err;
  }
}

type Compute = ReturnType<Services["arm"]["compute"]>;

/** The consumer tenant's clients; in rbac mode every request carries the publisher tenant's token as auxiliary. */
function consumerClients(services: Deps, target: WorkloadTarget): { compute: Compute; network: ReturnType<Services["arm"]["network"]> } {
  const aux = target.mode === "rbac" ? { auxiliaryTenantIds: [services.config.tenantId] } : {};
  return {
    compute: services.arm.compute(target.consumer.subscriptionId, { tenantId: target.tenantId, ...aux }),
    network: services.arm.network(parseSubnetId(target.spec.subnetId).subscriptionId, { tenantId: target.tenantId, ...aux }),
  };
}

/** The resource, or undefined when ARM answers 404. */
async function exists<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

const sameText = (a: string | undefined, b: string): boolean => (a ?? "").toLowerCase() === b.toLowerCase();

/** Azure's `latest`: the highest version the consumer can use in its region (the shared view lists only replicated ones), not excluded from latest. */
async function newestShared(compute: Compute, location: string, uniqueName: string, image: string): Promise<string> {
  let best: string | undefined;
  let n = 0;
  for await (const v of compute.sharedGalleryImageVersions.list(location, uniqueName, image)) {
    if (++n > MAX_LISTED) break;
    if (!v.name || v.excludeFromLatest) continue;
    if (best === undefined || compareImageVersions(v.name, best) > 0) best = v.name;
  }
  if (best === undefined)
    throw new ActivityRuleError(
      "NoVersionInRegion",
      `no version of ${image} is replicated to ${location} yet: the publisher adds ${location} to a version's target regions`,
    );
  return best;
}

/** The same, read as the app in the publisher tenant: replicated to the region, not excluded from latest there. */
async function newestReplicated(services: Deps, ref: ReturnType<typeof parseGalleryId>, image: string, location: string): Promise<string> {
  const publisher = services.arm.compute(ref.subscriptionId, { asApp: true });
  const sameRegion = (a: string | undefined): boolean => (a ?? "").replace(/\s/g, "").toLowerCase() === location.replace(/\s/g, "").toLowerCase();
  let best: string | undefined;
  let n = 0;
  for await (const listed of publisher.galleryImageVersions.listByGalleryImage(ref.resourceGroup, ref.gallery, image)) {
    if (!listed.name || ++n > MAX_LISTED) break;
    if (best !== undefined && compareImageVersions(listed.name, best) <= 0) continue;
    const v = await publisher.galleryImageVersions.get(ref.resourceGroup, ref.gallery, image, listed.name, { expand: "ReplicationStatus" });
    const target = v.publishingProfile?.targetRegions?.find((t) => sameRegion(t.name));
    const done = v.replicationStatus?.summary?.some((s) => sameRegion(s.region) && s.state === "Completed");
    if (!target || !done || v.publishingProfile?.excludeFromLatest || target.excludeFromLatest) continue;
    best = listed.name;
  }
  if (best === undefined)
    throw new ActivityRuleError(
      "NoVersionInRegion",
      `no version of ${image} is replicated to ${location} yet: the publisher adds ${location} to a version's target regions`,
    );
  return best;
}
