// A VM in a consumer tenant, made by the onboarding when the request asks for one: in direct mode
// from sharedGalleryImageId with the consumer's credential only; in rbac mode from the gallery
// version's id with the publisher-tenant token in x-ms-authorization-auxiliary from the first request.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, GALLERY_ID, PUBLISHER, type World } from "../../local/demo/world";
import { armLog, consentLinksOf, followLikeBrowser, sendRequests, useWorlds } from "./support";

const worlds = useWorlds();
const consumer = CONSUMERS[0];
const RG = "rg-fabrikam-apps";
const RG_ID = `/subscriptions/${consumer.subscriptionId}/resourceGroups/${RG}`;
const SUBNET = `${RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`;
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk4sZ1Xb7Dd1t5p3F5m0lqXQ7rJ1v6y0QwY0b7kq9Xs demo@fabrikam";
const rid = (n: number) => `7a7a7a7a-0000-4000-8000-${String(n).padStart(12, "0")}`;

async function start(options: { consented: boolean }): Promise<World> {
  const w = await worlds.start({
    clock: new VirtualClock(Date.now()),
    settings: { SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: randomBytes(32).toString("base64") },
    publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
    ...(options.consented ? {} : { consentedTenants: [] }),
  });
  const control = w.emulator.control;
  control.addResourceGroup(consumer.subscriptionId, RG, "westeurope");
  control.createVirtualNetwork({ subscriptionId: consumer.subscriptionId, resourceGroup: RG, name: "vnet-apps", location: "westeurope" });
  // 1.0.0 is in westeurope; 1.1.0 is newer but still replicating there.
  w.publishVersion("1.0.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
  control.advance(10 * 60_000);
  w.publishVersion("1.1.0", { regionMinutes: { westeurope: 600, northeurope: 5, eastus: 5 } });
  return w;
}

/** The customer lets the app work in its resource group (and look around its subscription). */
function grantApp(w: World): void {
  const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId);
  w.emulator.control.addRoleAssignment({ scope: RG_ID, principalId: sp!, role: "Contributor" });
  w.emulator.control.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}`, principalId: sp!, role: "Reader" });
}

const send = (w: World, body: Record<string, unknown>): Promise<void> => sendRequests(w, [body]);

const request = (n: number, mode: "direct" | "rbac") => ({
  schema: "onboarding/v1",
  requestId: rid(n),
  tenantId: consumer.tenantId,
  displayName: consumer.name,
  mode,
  galleries: [GALLERY_ID],
  consumer: { subscriptionId: consumer.subscriptionId, resourceGroup: RG, location: "westeurope" },
  vm: { image: PUBLISHER.image, version: "latest", size: "Standard_B2s", subnetId: SUBNET, adminUsername: "azureuser", sshPublicKey: SSH },
});

async function settle(w: World, instanceId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50 && !w.host.durable.getStatus(instanceId); i++) await w.host.durable.runUntilIdle();
  return (await w.host.durable.waitFor(instanceId)).output as Record<string, unknown>;
}

const firstWorkload = (output: Record<string, unknown>) => (output.workloads as unknown[] | undefined)?.[0];

const vmPuts = (w: World) => armLog(w).filter((x) => x.method === "PUT" && /\/virtualMachines\/[^/?]+\?/.test(x.url));
const nicPuts = (w: World) => armLog(w).filter((x) => x.method === "PUT" && /\/networkInterfaces\/[^/?]+\?/.test(x.url));

describe("VMs in consumer tenants", () => {
  it("direct mode: builds the VM from sharedGalleryImageId, latest being the newest version replicated to the VM's region", async () => {
    const w = await start({ consented: true });
    grantApp(w);
    await send(w, request(1, "direct"));
    const output = await settle(w, `onboard-${rid(1)}`);
    expect(output.state).toBe("active");
    expect(firstWorkload(output)).toMatchObject({ imageVersion: expect.stringMatching(/\/versions\/1\.0\.0$/), provisioningState: "Succeeded" });
    const put = vmPuts(w)[0]!;
    const body = put.requestBody as { properties: { storageProfile: { imageReference: Record<string, string> }; osProfile: { linuxConfiguration: { disablePasswordAuthentication: boolean } } } };
    expect(body.properties.storageProfile.imageReference).toEqual({ sharedGalleryImageId: expect.stringMatching(/^\/SharedGalleries\/[^/]+\/Images\/ubuntu-2404-hardened\/Versions\/1\.0\.0$/) });
    expect(body.properties.osProfile.linuxConfiguration.disablePasswordAuthentication).toBe(true);
    expect(Object.keys(put.requestHeaders).map((h) => h.toLowerCase())).not.toContain("x-ms-authorization-auxiliary");
    const tenant = await (await fetch(`${w.host.baseUrl}/api/tenants/${consumer.tenantId}`, { headers: { "x-functions-key": w.host.functionKey } })).json();
    expect((tenant as { vms: { imageVersion: string }[] }).vms.map((v) => v.imageVersion.split("/").pop())).toEqual(["1.0.0"]);

    // The same provisioning again (a second request for the same tenant and image): still one VM and one NIC.
    await send(w, { ...request(2, "direct") });
    await settle(w, `onboard-${rid(2)}`);
    expect(new Set(vmPuts(w).map((x) => x.url.split("?")[0])).size).toBe(1);
    expect(new Set(nicPuts(w).map((x) => x.url.split("?")[0])).size).toBe(1);
  });

  it("rbac mode: builds the VM from the gallery version's id, with the auxiliary token on the very first VM and NIC request", async () => {
    const w = await start({ consented: false });
    await send(w, request(3, "rbac"));
    const instanceId = `onboard-${rid(3)}`;
    const { adminConsentUrl } = await consentLinksOf(w, instanceId);
    // The admin grants the role as the browser comes back from Microsoft.
    await followLikeBrowser(adminConsentUrl, (next) => {
      if (next.includes("/api/consent/callback")) grantApp(w);
    });
    const output = await settle(w, instanceId);
    expect(output.state, JSON.stringify(output)).toBe("active");
    expect(firstWorkload(output)).toMatchObject({ imageVersion: expect.stringMatching(/\/versions\/1\.0\.0$/), provisioningState: "Succeeded" });
    const [firstVm] = vmPuts(w);
    const [firstNic] = nicPuts(w);
    for (const first of [firstVm!, firstNic!]) expect(Object.keys(first.requestHeaders).map((h) => h.toLowerCase())).toContain("x-ms-authorization-auxiliary");
    expect((firstVm!.requestBody as { properties: { storageProfile: { imageReference: Record<string, string> } } }).properties.storageProfile.imageReference).toEqual({
      id: expect.stringMatching(/\/galleries\/contoso_golden\/images\/ubuntu-2404-hardened\/versions\/1\.0\.0$/),
    });
    expect(JSON.stringify(armLog(w))).not.toContain("LinkedAuthorizationFailed");
  });

  it("says what to fix when the app holds no role in the consumer's resource group", async () => {
    const w = await start({ consented: true });
    // Reader on the subscription only: the share can be seen, but nothing can be created.
    const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId);
    w.emulator.control.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}`, principalId: sp!, role: "Reader" });
    await send(w, request(4, "direct"));
    const output = await settle(w, `onboard-${rid(4)}`);
    expect(firstWorkload(output)).toMatchObject({ error: { code: "AuthorizationFailed" } });
    expect(JSON.stringify(firstWorkload(output))).toMatch(/Microsoft\.Network\/networkInterfaces\/write|Microsoft\.Compute\/virtualMachines\/write/);
  });
});
