// A VM in a consumer tenant, made by the onboarding when the request asks for one: in direct mode
// from sharedGalleryImageId with the consumer's credential only; in rbac mode from the gallery
// version's id with the publisher-tenant token in x-ms-authorization-auxiliary from the first request.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { ComputeManagementClient } from "@azure/arm-compute";
import { CONSUMERS, GALLERY_ID, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { armLog, consentLinksOf, followLikeBrowser, sendRequests, timeOf, useWorlds } from "./support";

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
    const body = put.requestBody as {
      properties: { storageProfile: { imageReference: Record<string, string> }; osProfile: { linuxConfiguration: { disablePasswordAuthentication: boolean } } };
    };
    expect(body.properties.storageProfile.imageReference).toEqual({
      sharedGalleryImageId: expect.stringMatching(/^\/SharedGalleries\/[^/]+\/Images\/ubuntu-2404-hardened\/Versions\/1\.0\.0$/),
    });
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
    expect(
      (firstVm!.requestBody as { properties: { storageProfile: { imageReference: Record<string, string> } } }).properties.storageProfile.imageReference,
    ).toEqual({
      id: expect.stringMatching(/\/galleries\/contoso_golden\/images\/ubuntu-2404-hardened\/versions\/1\.0\.0$/),
    });
    expect(JSON.stringify(armLog(w))).not.toContain("LinkedAuthorizationFailed");
  });

  it("waits out a throttled VM create on a durable timer, as long as Retry-After says, then makes the VM", async () => {
    const w = await start({ consented: true });
    grantApp(w);
    w.emulator.control.fault({
      method: "PUT",
      path: /\/virtualMachines\/[^/?]+\?/,
      status: 429,
      code: "OperationNotAllowed",
      message: "The server rejected the request because too many requests have been received for this subscription.",
      retryAfterSeconds: 120,
    });
    await send(w, request(9, "direct"));
    const output = await settle(w, `onboard-${rid(9)}`);
    expect(firstWorkload(output)).toMatchObject({ provisioningState: "Succeeded" });
    const [throttled, created] = vmPuts(w);
    expect([throttled!.status, created!.status]).toEqual([429, 201]);
    expect(timeOf(created!) - timeOf(throttled!)).toBeGreaterThanOrEqual(120_000);
  });

  it("says what to fix when the app holds no role in the consumer's resource group", async () => {
    const w = await start({ consented: true });
    // Reader on the subscription only: the share can be seen, but nothing can be created.
    const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId);
    w.emulator.control.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}`, principalId: sp!, role: "Reader" });
    await send(w, request(4, "direct"));
    const output = await settle(w, `onboard-${rid(4)}`);
    expect(firstWorkload(output)).toMatchObject({
      error: { code: "AuthorizationFailed", message: expect.stringContaining(`the customer grants it Contributor (or a role with that action) on ${RG_ID}`) },
    });
    expect(JSON.stringify(firstWorkload(output))).toMatch(/Microsoft\.Network\/networkInterfaces\/write|Microsoft\.Compute\/virtualMachines\/write/);
    // The failure is on the tenant's record too, for the next look.
    expect((await tenantView(w, consumer.tenantId)).vms).toEqual([
      expect.objectContaining({ provisioningState: "NotStarted", error: expect.objectContaining({ code: "AuthorizationFailed" }) }),
    ]);
  });

  it("says which tenant owns the subscription when the request pairs a tenant with another tenant's subscription", async () => {
    const w = await start({ consented: true });
    grantApp(w);
    const other = CONSUMERS[1];
    const body = request(5, "direct");
    // Fabrikam's tenant, Northwind's subscription: every token the app gets is for the wrong issuer.
    await send(w, { ...body, consumer: { ...body.consumer, subscriptionId: other.subscriptionId } });
    const output = await settle(w, `onboard-${rid(5)}`);
    expect(firstWorkload(output)).toMatchObject({
      error: {
        code: "InvalidAuthenticationTokenTenant",
        message: expect.stringContaining(`subscription ${other.subscriptionId} does not belong to tenant ${consumer.tenantId}`),
      },
    });
    // ARM's own text ("The access token is from the wrong issuer …") is lost by the SDK on a paged list; the code and the fix are not.
  });

  it("says to replicate the version when a pinned version is not in the VM's region yet", async () => {
    const w = await start({ consented: true });
    grantApp(w);
    const body = request(6, "direct");
    await send(w, { ...body, vm: { ...body.vm, version: "1.1.0" } });
    const output = await settle(w, `onboard-${rid(6)}`);
    expect(firstWorkload(output)).toMatchObject({
      error: {
        code: "GalleryImageNotFound",
        message: expect.stringContaining("version 1.1.0 is not replicated to westeurope: the publisher adds westeurope to the version's target regions"),
      },
    });
    expect(JSON.stringify(firstWorkload(output))).toContain("is not available in westeurope region");
  });
});

describe("scale sets in consumer tenants", () => {
  it("makes one in each mode and moves both to a newly shared version, instances following the upgrade policy", async () => {
    const w = await start({ consented: false });
    const rbac = CONSUMERS[1];
    const rbacRg = `/subscriptions/${rbac.subscriptionId}/resourceGroups/${RG}`;
    w.emulator.control.addResourceGroup(rbac.subscriptionId, RG, "westeurope");
    w.emulator.control.createVirtualNetwork({ subscriptionId: rbac.subscriptionId, resourceGroup: RG, name: "vnet-apps", location: "westeurope" });
    const vmss = (subnetId: string, more: Record<string, unknown>) => ({
      image: PUBLISHER.image,
      version: "latest",
      size: "Standard_B2s",
      subnetId,
      adminUsername: "azureuser",
      sshPublicKey: SSH,
      updateOnPublish: true,
      ...more,
    });

    // Direct mode, Uniform, two instances.
    w.emulator.control.consent(PUBLISHER.appId, consumer.tenantId);
    grantApp(w);
    const direct = request(7, "direct");
    await send(w, { ...direct, vm: undefined, vmss: vmss(SUBNET, { instanceCount: 2 }) });
    expect(firstWorkload(await settle(w, `onboard-${rid(7)}`))).toMatchObject({
      kind: "vmss",
      provisioningState: "Succeeded",
      imageVersion: expect.stringMatching(/\/versions\/1\.0\.0$/),
    });

    // rbac mode, Flexible, one instance.
    const rbacRequest = {
      ...request(8, "rbac"),
      tenantId: rbac.tenantId,
      displayName: rbac.name,
      consumer: { subscriptionId: rbac.subscriptionId, resourceGroup: RG, location: "westeurope" },
    };
    await send(w, {
      ...rbacRequest,
      vm: undefined,
      vmss: vmss(`${rbacRg}/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`, { orchestrationMode: "Flexible", instanceCount: 1 }),
    });
    const { adminConsentUrl } = await consentLinksOf(w, `onboard-${rid(8)}`);
    await followLikeBrowser(adminConsentUrl, (next) => {
      if (!next.includes("/api/consent/callback")) return;
      const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, rbac.tenantId);
      w.emulator.control.addRoleAssignment({ scope: rbacRg, principalId: sp!, role: "Contributor" });
    });
    const rbacOut = await settle(w, `onboard-${rid(8)}`);
    expect(firstWorkload(rbacOut), JSON.stringify(rbacOut)).toMatchObject({
      kind: "vmss",
      provisioningState: "Succeeded",
      imageVersion: expect.stringMatching(/\/versions\/1\.0\.0$/),
    });
    const firstRbacPut = armLog(w).find(
      (x) => x.method === "PUT" && x.url.includes(`/subscriptions/${rbac.subscriptionId}/`) && x.url.includes("/virtualMachineScaleSets/"),
    );
    expect(Object.keys(firstRbacPut!.requestHeaders).map((h) => h.toLowerCase())).toContain("x-ms-authorization-auxiliary");

    // 1.1.0 finishes replicating and is published: both scale sets get the new model.
    const v2 = GALLERY_ID + `/images/${PUBLISHER.image}/versions/1.1.0`;
    expect((await w.deliver([versionWriteEvent(v2)])).status).toBe(202);
    const published = await w.host.durable.waitFor(publishInstanceId(v2), undefined, { maxSimulatedMs: 24 * 3600_000 });
    expect(published.output, JSON.stringify(published.customStatus)).toMatchObject({ workloads: { total: 2, succeeded: 2, failed: 0 } });
    for (const [tenantId, sub] of [
      [consumer.tenantId, consumer.subscriptionId],
      [rbac.tenantId, rbac.subscriptionId],
    ] as const) {
      const [set] = (await tenantView(w, tenantId)).scaleSets;
      expect(set).toMatchObject({
        provisioningState: "Succeeded",
        imageVersion: expect.stringMatching(/\/versions\/1\.1\.0$/),
        updateOnPublish: true,
        upgradePolicy: "Automatic",
      });
      // The instances run 1.1.0 (Automatic upgrade policy), as the consumer's own ARM view shows.
      const compute = consumerCompute(w, tenantId, sub);
      const name = set!.resourceId.split("/").pop()!;
      const instances: string[] = [];
      for await (const i of compute.virtualMachineScaleSetVMs.list(RG, name))
        instances.push(
          i.storageProfile?.imageReference?.exactVersion ??
            (await compute.virtualMachines.get(RG, i.name!)).storageProfile?.imageReference?.exactVersion ??
            "?",
        );
      expect(instances, tenantId).toEqual(tenantId === consumer.tenantId ? ["1.1.0", "1.1.0"] : ["1.1.0"]);
    }
    expect(JSON.stringify(armLog(w))).not.toContain("LinkedAuthorizationFailed");
  });
});

async function tenantView(w: World, tenantId: string) {
  const response = await fetch(`${w.host.baseUrl}/api/tenants/${tenantId}`, { headers: { "x-functions-key": w.host.functionKey } });
  return (await response.json()) as {
    vms: { imageVersion: string; provisioningState: string }[];
    scaleSets: { resourceId: string; imageVersion: string; provisioningState: string }[];
  };
}

/** The consumer's own view of its subscription, through the real SDK, as the app in that tenant. */
function consumerCompute(w: World, tenantId: string, subscriptionId: string): ComputeManagementClient {
  const token = w.emulator.control.issueToken({ tenantId, appId: PUBLISHER.appId });
  return new ComputeManagementClient({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) }, subscriptionId, {
    endpoint: w.emulator.armEndpoint,
  });
}
