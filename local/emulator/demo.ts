// The small world `npm run emulator` starts with (documented in README.md). Fixed ids so that
// scripts and other processes can rely on them.
import type { EmulatorControl } from "./control";

export const DEMO = {
  publisher: {
    tenantId: "0a1b2c3d-0000-4000-8000-00000000a001",
    name: "Contoso Images (publisher)",
    subscriptionId: "0a1b2c3d-0000-4000-8000-00000000b001",
    resourceGroup: "rg-images",
    location: "westeurope",
    gallery: "contoso_golden",
    image: "ubuntu-2404-hardened",
  },
  app: {
    appId: "0a1b2c3d-0000-4000-8000-00000000c001",
    secret: "demo-secret-not-for-production",
    displayName: "gallery-share (demo)",
  },
  consumers: [
    { name: "Fabrikam", tenantId: "0a1b2c3d-0000-4000-8000-00000000a002", subscriptionId: "0a1b2c3d-0000-4000-8000-00000000b002", consented: true },
    { name: "Northwind", tenantId: "0a1b2c3d-0000-4000-8000-00000000a003", subscriptionId: "0a1b2c3d-0000-4000-8000-00000000b003", consented: false },
  ],
  consumerResourceGroup: "rg-workloads",
  consumerLocation: "westeurope",
  version: "1.0.0",
  versionRegions: ["westeurope", "northeurope", "eastus"],
} as const;

export function seedDemoWorld(c: EmulatorControl): void {
  const p = DEMO.publisher;
  c.addTenant(p.tenantId, p.name);
  c.addSubscription(p.subscriptionId, p.tenantId);
  c.addResourceGroup(p.subscriptionId, p.resourceGroup, p.location);
  const { servicePrincipalId } = c.addApp({
    appId: DEMO.app.appId,
    homeTenantId: p.tenantId,
    secret: DEMO.app.secret,
    multiTenant: true,
    displayName: DEMO.app.displayName,
  });
  const rgScope = `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}`;
  const galleryScope = `${rgScope}/providers/Microsoft.Compute/galleries/${p.gallery}`;
  c.createGallery({ subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, gallery: p.gallery, location: p.location, permissions: "Groups" });
  c.createImageDefinition({
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    gallery: p.gallery,
    image: p.image,
    location: p.location,
    osType: "Linux",
    publisher: "contoso",
    offer: "ubuntu",
    sku: "2404-hardened",
  });
  // The app manages the gallery (Contributor) and may share it (Contributor excludes share/action).
  c.addRoleAssignment({ scope: rgScope, principalId: servicePrincipalId, role: "Contributor" });
  c.addRoleAssignment({ scope: galleryScope, principalId: servicePrincipalId, role: "Compute Gallery Sharing Admin" });
  c.publishVersion({
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    gallery: p.gallery,
    image: p.image,
    version: DEMO.version,
    targetRegions: [...DEMO.versionRegions],
  });
  for (const consumer of DEMO.consumers) {
    c.addTenant(consumer.tenantId, consumer.name);
    c.addSubscription(consumer.subscriptionId, consumer.tenantId);
    c.addResourceGroup(consumer.subscriptionId, DEMO.consumerResourceGroup, DEMO.consumerLocation);
    c.createVirtualNetwork({
      subscriptionId: consumer.subscriptionId,
      resourceGroup: DEMO.consumerResourceGroup,
      name: "vnet-workloads",
      location: DEMO.consumerLocation,
    });
    if (consumer.consented) {
      const sp = c.consent(DEMO.app.appId, consumer.tenantId).servicePrincipalId;
      c.addRoleAssignment({
        scope: `/subscriptions/${consumer.subscriptionId}/resourceGroups/${DEMO.consumerResourceGroup}`,
        principalId: sp,
        role: "Contributor",
      });
    }
  }
}

export function describeDemoWorld(): string[] {
  const p = DEMO.publisher;
  return [
    `  publisher tenant   ${p.tenantId}  (${p.name})`,
    `    subscription     ${p.subscriptionId}, resource group ${p.resourceGroup} (${p.location})`,
    `    gallery          ${p.gallery} (permissions Groups), image ${p.image}`,
    `    version          ${DEMO.version} replicating to ${DEMO.versionRegions.join(", ")}`,
    `  app registration   ${DEMO.app.appId}  secret "${DEMO.app.secret}" (multi-tenant)`,
    `    roles            Contributor on ${p.resourceGroup}, Compute Gallery Sharing Admin on the gallery`,
    ...DEMO.consumers.map(
      (c) =>
        `  consumer tenant    ${c.tenantId}  (${c.name}) subscription ${c.subscriptionId}, ${DEMO.consumerResourceGroup} + vnet-workloads; ${c.consented ? "app consented, Contributor on the resource group" : "app not consented yet"}`,
    ),
  ];
}
