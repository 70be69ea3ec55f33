// Shared set-up for the emulator tests: a publisher tenant with a gallery, consumer tenants, and
// real SDK clients configured only with endpoint, authority host and (process-wide) trust root.
import { ComputeManagementClient, type ComputeManagementClientOptionalParams } from "@azure/arm-compute";
import { ClientSecretCredential } from "@azure/identity";
import { expect } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../local/emulator";

export const PUB = {
  tenantId: "a0000000-0000-4000-8000-000000000001",
  subscriptionId: "b0000000-0000-4000-8000-000000000001",
  resourceGroup: "rg-images",
  location: "eastus",
  gallery: "golden_gallery",
  image: "ubuntu-hardened",
  appId: "c0000000-0000-4000-8000-000000000001",
  secret: "publisher-app-secret",
};

export const CONSUMERS = [1, 2, 3, 4, 5, 6, 7].map((n) => ({
  tenantId: `a0000000-0000-4000-8000-00000000001${n}`,
  subscriptionId: `b0000000-0000-4000-8000-00000000001${n}`,
  appId: `c0000000-0000-4000-8000-00000000001${n}`,
  secret: `consumer-${n}-secret`,
}));

export const GALLERY_ID = `/subscriptions/${PUB.subscriptionId}/resourceGroups/${PUB.resourceGroup}/providers/Microsoft.Compute/galleries/${PUB.gallery}`;

export interface TestWorld {
  emu: Emulator;
  clock: VirtualClock;
  publisherSp: string;
  consumer(n: number): (typeof CONSUMERS)[number];
}

/** Publisher tenant + gallery (Groups) + image definition; consumers with their own app (Reader on their subscription). */
export async function startWorld(options: EmulatorOptions = {}): Promise<TestWorld> {
  const clock = new VirtualClock();
  const emu = await startEmulator({ clock, ...options });
  const c = emu.control;
  c.addTenant(PUB.tenantId, "Publisher");
  c.addSubscription(PUB.subscriptionId, PUB.tenantId);
  c.addResourceGroup(PUB.subscriptionId, PUB.resourceGroup, PUB.location);
  const { servicePrincipalId } = c.addApp({
    appId: PUB.appId,
    homeTenantId: PUB.tenantId,
    secret: PUB.secret,
    multiTenant: true,
    displayName: "gallery-share",
  });
  c.addRoleAssignment({ scope: `/subscriptions/${PUB.subscriptionId}`, principalId: servicePrincipalId, role: "Owner" });
  c.createGallery({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: PUB.gallery,
    location: PUB.location,
    permissions: "Groups",
  });
  c.createImageDefinition({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: PUB.gallery,
    image: PUB.image,
    location: PUB.location,
    osType: "Linux",
    publisher: "contoso",
    offer: "ubuntu",
    sku: "hardened",
  });
  for (const [i, k] of CONSUMERS.entries()) {
    c.addTenant(k.tenantId, `Consumer ${i + 1}`);
    c.addSubscription(k.subscriptionId, k.tenantId);
    const sp = c.addApp({ appId: k.appId, homeTenantId: k.tenantId, secret: k.secret }).servicePrincipalId;
    c.addRoleAssignment({ scope: `/subscriptions/${k.subscriptionId}`, principalId: sp, role: "Reader" });
  }
  return {
    emu,
    clock,
    publisherSp: servicePrincipalId,
    consumer: (n) => {
      const k = CONSUMERS[n - 1];
      if (!k) throw new Error(`no consumer ${n}`);
      return k;
    },
  };
}

export function credential(emu: Emulator, tenantId: string, appId: string, secret: string): ClientSecretCredential {
  return new ClientSecretCredential(tenantId, appId, secret, { authorityHost: emu.authorityHost, disableInstanceDiscovery: true });
}

export function compute(
  emu: Emulator,
  cred: ClientSecretCredential,
  subscriptionId: string,
  options: ComputeManagementClientOptionalParams = {},
): ComputeManagementClient {
  return new ComputeManagementClient(cred, subscriptionId, { endpoint: emu.armEndpoint, ...options });
}

export function publisherCompute(w: TestWorld, options: ComputeManagementClientOptionalParams = {}): ComputeManagementClient {
  return compute(w.emu, credential(w.emu, PUB.tenantId, PUB.appId, PUB.secret), PUB.subscriptionId, options);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Awaits a rejection and returns the SDK's RestError fields (status and ARM error code). */
export async function restError(
  p: Promise<unknown> | PromiseLike<unknown>,
): Promise<{ statusCode: number | undefined; code: string | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { statusCode?: number; code?: string; message?: string };
    return { statusCode: err.statusCode, code: err.code, message: err.message ?? "" };
  }
  expect.fail("expected the call to fail");
}
