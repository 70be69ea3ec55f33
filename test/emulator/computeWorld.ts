// Shared set-up for the VM and scale-set tests: the publisher's gallery image with versions in
// different regions, a community gallery, direct sharing to consumer 1, and the multi-tenant
// "distribution" app that creates VMs in consumer 1's resource group with the real SDKs (with or
// without its publisher-tenant token in x-ms-authorization-auxiliary).
import type { ComputeManagementClient } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import { auxiliaryAuthenticationHeaderPolicy } from "@azure/core-rest-pipeline";
import { compute, credential, GALLERY_ID, PUB, publisherCompute, startWorld, type TestWorld } from "./helpers";

export const DIST = { appId: "d0000000-0000-4000-8000-0000000000a1", secret: "distribution-secret" };
export const RG = "rg-work";
export const NET_RG = "rg-net";
export const ARM_SCOPE = "https://management.azure.com/.default";
export const IMAGE_ID = `${GALLERY_ID}/images/${PUB.image}`;
export const versionId = (v: string): string => `${IMAGE_ID}/versions/${v}`;
export const UNIQUE = `${PUB.subscriptionId}-${PUB.gallery.toUpperCase()}`;
export const SHARED_IMAGE = `/SharedGalleries/${UNIQUE}/Images/${PUB.image}`;
export const COMMUNITY_GALLERY = "community_gallery";

export interface ComputeWorld extends TestWorld {
  consumer1: ReturnType<TestWorld["consumer"]>;
  /** The distribution app's service principal in consumer 1's tenant. */
  distSp: string;
  subnet: { eastus: string; westeurope: string; foreign: string };
  communityImage: string;
  /** The distribution app acting in consumer 1's subscription; `aux` adds its publisher-tenant token. */
  client(aux?: boolean): ComputeManagementClient;
  network(): NetworkManagementClient;
}

/**
 * Versions of the publisher's image (gallery in eastus):
 * 1.0.0 eastus + westeurope; 1.1.0 eastus only; 2.0.0 eastus but excludeFromLatest; 1.2.0 still
 * replicating to eastus. So `latest` is 1.1.0 in eastus and 1.0.0 in westeurope.
 */
export async function startComputeWorld(): Promise<ComputeWorld> {
  const w = await startWorld({ throttling: false });
  const c = w.emu.control;
  const consumer1 = w.consumer(1);
  const pub = { subscriptionId: PUB.subscriptionId, resourceGroup: PUB.resourceGroup, gallery: PUB.gallery, image: PUB.image };
  c.publishVersion({ ...pub, version: "1.0.0", targetRegions: ["eastus", "westeurope"], regionMinutes: { eastus: 10, westeurope: 10 } });
  c.publishVersion({ ...pub, version: "1.1.0", targetRegions: ["eastus"], regionMinutes: { eastus: 10 } });
  c.publishVersion({ ...pub, version: "2.0.0", targetRegions: ["eastus"], regionMinutes: { eastus: 10 }, excludeFromLatest: true });
  c.createGallery({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: COMMUNITY_GALLERY,
    location: PUB.location,
    permissions: "Community",
    communityGalleryInfo: {
      publisherUri: "https://contoso.example",
      publisherContact: "images@contoso.example",
      eula: "https://contoso.example/eula",
      publicNamePrefix: "contoso",
    },
  });
  c.createImageDefinition({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: COMMUNITY_GALLERY,
    image: "debian",
    location: PUB.location,
  });
  c.publishVersion({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: COMMUNITY_GALLERY,
    image: "debian",
    version: "1.0.0",
    targetRegions: ["eastus"],
    regionMinutes: { eastus: 10 },
  });
  w.clock.advance(25 * 60_000);
  c.publishVersion({ ...pub, version: "1.2.0", targetRegions: ["eastus"], regionMinutes: { eastus: 600 } });
  c.shareGallery({ subscriptionId: PUB.subscriptionId, resourceGroup: PUB.resourceGroup, gallery: PUB.gallery, subscriptions: [consumer1.subscriptionId] });
  const publisher = publisherCompute(w);
  await publisher.gallerySharingProfile.update(PUB.resourceGroup, COMMUNITY_GALLERY, { operationType: "EnableCommunity", groups: [] });
  const publicName = (await publisher.galleries.get(PUB.resourceGroup, COMMUNITY_GALLERY)).sharingProfile?.communityGalleryInfo?.publicNames?.[0] ?? "";

  // The distribution app: Reader on the gallery at home, consented into consumers 1-3, Contributor on consumer 1's work group.
  const home = c.addApp({ appId: DIST.appId, homeTenantId: PUB.tenantId, secret: DIST.secret, multiTenant: true, displayName: "gallery-share distribution" });
  c.addRoleAssignment({ scope: GALLERY_ID, principalId: home.servicePrincipalId, role: "Reader" });
  for (const n of [1, 2, 3]) c.consent(DIST.appId, w.consumer(n).tenantId);
  const distSp = c.servicePrincipalId(DIST.appId, consumer1.tenantId) ?? "";
  c.addResourceGroup(consumer1.subscriptionId, RG, "eastus");
  c.addResourceGroup(consumer1.subscriptionId, NET_RG, "eastus");
  c.addRoleAssignment({ scope: `/subscriptions/${consumer1.subscriptionId}/resourceGroups/${RG}`, principalId: distSp, role: "Contributor" });
  c.addRoleAssignment({ scope: `/subscriptions/${consumer1.subscriptionId}/resourceGroups/${NET_RG}`, principalId: distSp, role: "Reader" });
  const east = c.createVirtualNetwork({ subscriptionId: consumer1.subscriptionId, resourceGroup: RG, name: "vnet-east", location: "eastus" });
  const west = c.createVirtualNetwork({
    subscriptionId: consumer1.subscriptionId,
    resourceGroup: RG,
    name: "vnet-west",
    location: "westeurope",
    addressPrefix: "10.1.0.0/16",
    subnets: [{ name: "default", addressPrefix: "10.1.0.0/24" }],
  });
  const foreign = c.createVirtualNetwork({
    subscriptionId: consumer1.subscriptionId,
    resourceGroup: NET_RG,
    name: "vnet-shared",
    location: "eastus",
    addressPrefix: "10.2.0.0/16",
    subnets: [{ name: "default", addressPrefix: "10.2.0.0/24" }],
  });

  const consumerCredential = credential(w.emu, consumer1.tenantId, DIST.appId, DIST.secret);
  const auxPolicy = auxiliaryAuthenticationHeaderPolicy({ credentials: [credential(w.emu, PUB.tenantId, DIST.appId, DIST.secret)], scopes: ARM_SCOPE });
  return {
    ...w,
    consumer1,
    distSp,
    subnet: { eastus: `${east}/subnets/default`, westeurope: `${west}/subnets/default`, foreign: `${foreign}/subnets/default` },
    communityImage: `/CommunityGalleries/${publicName}/Images/debian`,
    client: (aux = false) =>
      compute(w.emu, consumerCredential, consumer1.subscriptionId, aux ? { additionalPolicies: [{ policy: auxPolicy, position: "perRetry" }] } : {}),
    network: () => new NetworkManagementClient(consumerCredential, consumer1.subscriptionId, { endpoint: w.emu.armEndpoint }),
  };
}

/** A NIC configuration the VM or scale set creates its own NIC from. */
export function nicConfig(subnetId: string) {
  return { name: "nic", primary: true, ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetId } }] };
}
