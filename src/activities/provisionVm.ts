// Creates (or makes sure of) a VM in a consumer tenant from a shared image, as Microsoft's
// cross-tenant docs describe it, without the two logins and `az vm create` they have a person do:
// - direct mode: the consumer tenant's credential only; imageReference.sharedGalleryImageId
//   (/SharedGalleries/{uniqueName}/Images/{image}/Versions/{version});
// - rbac mode: imageReference.id = the gallery version's resource id, with the publisher tenant's
//   token for the same app in x-ms-authorization-auxiliary on every request from the first one
//   (a header added only after LinkedAuthorizationFailed is the most reported failure here).
// `latest` is resolved here to the newest version replicated to the VM's region and not excluded
// from latest, so the record says which version the VM runs. Names are deterministic (one canary
// VM per tenant and image), PUTs idempotent, SSH keys only, and tags link the VM to its tenant,
// request and image version.
import type { Services } from "../app";
import { stableHash } from "../domain/instanceIds";
import { formatImageVersionId, parseGalleryId, parseSubnetId } from "../domain/resourceIds";
import { ActivityRuleError, runActivity } from "./activityResult";
import type { ActivityResult, ProvisionVmInput, ProvisionedVm } from "./descriptors";
import { managedGalleryId } from "./managedGallery";
import { MAX_LISTED, sharedUniqueName } from "./sharedGalleries";

export function vmNames(tenantId: string, image: string): { vm: string; nic: string } {
  const vm = `gs-${stableHash(`${tenantId.toLowerCase()}|${image.toLowerCase()}`).slice(0, 12)}`;
  return { vm, nic: `${vm}-nic` };
}

export function createProvisionVm(services: Services) {
  return (input: ProvisionVmInput): Promise<ActivityResult<ProvisionedVm>> =>
    runActivity(async () => {
      const galleryId = managedGalleryId(services.config, input.galleryId);
      const ref = parseGalleryId(galleryId);
      const { consumer, vm } = input;
      const aux = input.mode === "rbac" ? { auxiliaryTenantIds: [services.config.tenantId] } : {};
      const compute = services.arm.compute(consumer.subscriptionId, { tenantId: input.tenantId, ...aux });
      const network = services.arm.network(parseSubnetId(vm.subnetId).subscriptionId, { tenantId: input.tenantId, ...aux });

      // Which version, and how the VM names it.
      let version: string;
      let imageReference: { sharedGalleryImageId: string } | { id: string };
      if (input.mode === "direct") {
        const uniqueName = await sharedUniqueName(compute, consumer.location, ref.gallery);
        if (!uniqueName) throw new ActivityRuleError("GalleryNotShared", `the consumer tenant does not see ${ref.gallery} among the galleries shared with it in ${consumer.location}`);
        version = vm.version === "latest" ? await newestShared(compute, consumer.location, uniqueName, vm.image) : vm.version;
        imageReference = { sharedGalleryImageId: `/SharedGalleries/${uniqueName}/Images/${vm.image}/Versions/${version}` };
      } else {
        version = vm.version === "latest" ? await newestReplicated(services, ref, vm.image, consumer.location) : vm.version;
        imageReference = { id: formatImageVersionId({ ...ref, image: vm.image, version }) };
      }
      const imageVersion = formatImageVersionId({ ...ref, image: vm.image, version });
      const names = vmNames(input.tenantId, vm.image);
      const tags = { "gallery-share-tenant": input.tenantId, "gallery-share-request": input.requestId, "gallery-share-image-version": `${vm.image}/${version}` };

      const nic = await network.networkInterfaces.createOrUpdate(consumer.resourceGroup, names.nic, {
        location: consumer.location,
        tags,
        ipConfigurations: [{ name: "ipconfig1", subnet: { id: vm.subnetId } }],
      });
      const created = await compute.virtualMachines.createOrUpdate(consumer.resourceGroup, names.vm, {
        location: consumer.location,
        tags,
        hardwareProfile: { vmSize: vm.size },
        storageProfile: { imageReference, osDisk: { createOption: "FromImage" } },
        osProfile: {
          computerName: names.vm,
          adminUsername: vm.adminUsername,
          linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: `/home/${vm.adminUsername}/.ssh/authorized_keys`, keyData: vm.sshPublicKey }] } },
        },
        networkProfile: { networkInterfaces: [{ id: nic.id ?? "", primary: true }] },
      });
      return { resourceId: created.id ?? "", imageVersion, provisioningState: created.provisioningState ?? "Unknown" };
    });
}

type Compute = ReturnType<Services["arm"]["compute"]>;


/** The newest version the consumer can use in its region (the shared view lists only replicated ones), not excluded from latest. */
async function newestShared(compute: Compute, location: string, uniqueName: string, image: string): Promise<string> {
  let best: { name: string; published: number } | undefined;
  let n = 0;
  for await (const v of compute.sharedGalleryImageVersions.list(location, uniqueName, image)) {
    if (++n > MAX_LISTED) break;
    if (!v.name || v.excludeFromLatest) continue;
    const published = v.publishedDate ? new Date(v.publishedDate).getTime() : 0;
    if (!best || published > best.published) best = { name: v.name, published };
  }
  if (!best) throw new ActivityRuleError("NoVersionInRegion", `no version of ${image} is replicated to ${location} yet`);
  return best.name;
}

/** The newest version replicated to the region (read as the app in the publisher tenant), not excluded from latest there. */
async function newestReplicated(services: Services, ref: ReturnType<typeof parseGalleryId>, image: string, location: string): Promise<string> {
  const publisher = services.arm.compute(ref.subscriptionId, { asApp: true });
  const sameRegion = (a: string | undefined): boolean => (a ?? "").replace(/\s/g, "").toLowerCase() === location.replace(/\s/g, "").toLowerCase();
  let best: { name: string; published: number } | undefined;
  let n = 0;
  for await (const listed of publisher.galleryImageVersions.listByGalleryImage(ref.resourceGroup, ref.gallery, image)) {
    if (!listed.name || ++n > MAX_LISTED) break;
    const v = await publisher.galleryImageVersions.get(ref.resourceGroup, ref.gallery, image, listed.name, { expand: "ReplicationStatus" });
    const target = v.publishingProfile?.targetRegions?.find((t) => sameRegion(t.name));
    const done = v.replicationStatus?.summary?.some((s) => sameRegion(s.region) && s.state === "Completed");
    if (!target || !done || v.publishingProfile?.excludeFromLatest || target.excludeFromLatest) continue;
    const published = v.publishingProfile?.publishedDate ? new Date(v.publishingProfile.publishedDate).getTime() : 0;
    if (!best || published > best.published) best = { name: listed.name, published };
  }
  if (!best) throw new ActivityRuleError("NoVersionInRegion", `no version of ${image} is replicated to ${location} yet`);
  return best.name;
}
