// Acceptance: cross-tenant (rbac) sharing with the real SDKs. A multi-tenant app gets Reader on
// the publisher's gallery, the consumer's admin consents (adminconsent redirect) and grants it
// Contributor on a resource group, and a VM is created in the consumer tenant from the publisher's
// image version with the publisher-tenant token in x-ms-authorization-auxiliary. Without that
// header: LinkedAuthorizationFailed; with a token of the wrong tenant: InvalidAuthenticationTokenTenant.
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { VirtualMachine } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import { auxiliaryAuthenticationHeaderPolicy } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compute, credential, GALLERY_ID, PUB, restError, startWorld, type TestWorld } from "./helpers";

const DIST = { appId: "d0000000-0000-4000-8000-000000000001", secret: "distribution-secret" };
const RG = "rg-vms";
const ARM_SCOPE = "https://management.azure.com/.default";
const VERSION_ID = `${GALLERY_ID}/images/${PUB.image}/versions/1.0.0`;

let w: TestWorld;
let consumer: TestWorld["consumer"] extends (n: number) => infer R ? R : never;
let nicId: string;

beforeAll(async () => {
  w = await startWorld();
  consumer = w.consumer(1);
  const c = w.emu.control;
  // The distribution app: multi-tenant, Reader on the gallery in its home (publisher) tenant.
  const { servicePrincipalId } = c.addApp({
    appId: DIST.appId,
    homeTenantId: PUB.tenantId,
    secret: DIST.secret,
    multiTenant: true,
    displayName: "gallery-share distribution",
  });
  c.addRoleAssignment({ scope: GALLERY_ID, principalId: servicePrincipalId, role: "Reader" });
  c.publishVersion({
    subscriptionId: PUB.subscriptionId,
    resourceGroup: PUB.resourceGroup,
    gallery: PUB.gallery,
    image: PUB.image,
    version: "1.0.0",
    targetRegions: ["eastus"],
    regionMinutes: { eastus: 20 },
  });
  w.clock.advance(21 * 60_000);
  c.addResourceGroup(consumer.subscriptionId, RG, "eastus");
  // The consumer's own admin app is Owner of its subscription (it grants roles below with arm-authorization).
  const adminSp = c.servicePrincipalId(consumer.appId, consumer.tenantId) ?? "";
  c.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}`, principalId: adminSp, role: "Owner" });
});

afterAll(async () => {
  await w.emu.close();
});

function distCredential(tenantId: string) {
  return credential(w.emu, tenantId, DIST.appId, DIST.secret);
}

function consumerVm(name: string): VirtualMachine {
  return {
    location: "eastus",
    hardwareProfile: { vmSize: "Standard_D2s_v5" },
    storageProfile: { imageReference: { id: VERSION_ID }, osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } } },
    osProfile: { computerName: name, adminUsername: "azureuser", adminPassword: "P@ssw0rd-not-real-1" },
    networkProfile: { networkInterfaces: [{ id: nicId, primary: true }] },
  };
}

describe("cross-tenant RBAC sharing", () => {
  it("before consent the app has no service principal in the consumer tenant: AADSTS700016", async () => {
    await expect(distCredential(consumer.tenantId).getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS700016/);
  });

  it("admin consent redirects back with tenant, admin_consent=True and state, and creates the service principal", async () => {
    const url = `${w.emu.authorityHost}/${consumer.tenantId}/adminconsent?client_id=${DIST.appId}&redirect_uri=${encodeURIComponent("https://app.example/consent/callback")}&state=abc123`;
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location") ?? "");
    expect(back.origin + back.pathname).toBe("https://app.example/consent/callback");
    expect(Object.fromEntries(back.searchParams)).toEqual({ admin_consent: "True", tenant: consumer.tenantId, state: "abc123" });
    expect(w.emu.control.servicePrincipalId(DIST.appId, consumer.tenantId)).toMatch(/^[0-9a-f-]{36}$/);
    const token = await distCredential(consumer.tenantId).getToken(ARM_SCOPE);
    const claims = JSON.parse(Buffer.from(token.token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    expect(claims).toMatchObject({
      tid: consumer.tenantId,
      appid: DIST.appId,
      oid: w.emu.control.servicePrincipalId(DIST.appId, consumer.tenantId),
      aud: "https://management.azure.com/",
    });
    expect(typeof claims.exp).toBe("number");
  });

  it("the consumer grants the app Contributor on a resource group with @azure/arm-authorization", async () => {
    const admin = new AuthorizationManagementClient(credential(w.emu, consumer.tenantId, consumer.appId, consumer.secret), consumer.subscriptionId, {
      endpoint: w.emu.armEndpoint,
    });
    const scope = `/subscriptions/${consumer.subscriptionId}/resourceGroups/${RG}`;
    const principalId = w.emu.control.servicePrincipalId(DIST.appId, consumer.tenantId) ?? "";
    const ra = await admin.roleAssignments.create(scope, "e0000000-0000-4000-8000-000000000001", {
      roleDefinitionId: `/subscriptions/${consumer.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
      principalId,
      principalType: "ServicePrincipal",
    });
    expect(ra.scope).toBe(scope);
    const again = await restError(
      admin.roleAssignments.create(scope, "e0000000-0000-4000-8000-000000000002", {
        roleDefinitionId: `/subscriptions/${consumer.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
        principalId,
      }),
    );
    expect(again.code).toBe("RoleAssignmentExists");
    const listed = [];
    for await (const x of admin.roleAssignments.listForScope(scope, { filter: `principalId eq '${principalId}'` })) listed.push(x);
    expect(listed.map((x) => x.name)).toEqual(["e0000000-0000-4000-8000-000000000001"]);
  });

  it("the app creates a virtual network and a NIC in the consumer resource group with @azure/arm-network", async () => {
    const network = new NetworkManagementClient(distCredential(consumer.tenantId), consumer.subscriptionId, { endpoint: w.emu.armEndpoint });
    const vnet = await network.virtualNetworks.createOrUpdate(RG, "vnet1", {
      location: "eastus",
      addressSpace: { addressPrefixes: ["10.1.0.0/16"] },
      subnets: [{ name: "default", addressPrefix: "10.1.0.0/24" }],
    });
    const subnetId = vnet.subnets?.[0]?.id ?? "";
    const nic = await network.networkInterfaces.createOrUpdate(RG, "nic1", {
      location: "eastus",
      ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetId }, privateIPAllocationMethod: "Dynamic" }],
    });
    expect(nic.provisioningState).toBe("Succeeded");
    nicId = nic.id ?? "";
    const got = await network.networkInterfaces.get(RG, "nic1");
    expect(got.ipConfigurations?.[0]?.subnet?.id).toBe(subnetId);
  });

  it("without the auxiliary header the VM create fails with LinkedAuthorizationFailed", async () => {
    const client = compute(w.emu, distCredential(consumer.tenantId), consumer.subscriptionId);
    const err = await restError(client.virtualMachines.createOrUpdate(RG, "vm-noaux", consumerVm("vm-noaux")));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("LinkedAuthorizationFailed");
    // As recorded (MicrosoftDocs/azure-docs#114801): the caller named, the generic action 'read' on the linked scope.
    const sp = w.emu.control.servicePrincipalId(DIST.appId, consumer.tenantId) ?? "";
    expect(err.message).toBe(
      `The client '${DIST.appId}' with object id '${sp}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '/subscriptions/${consumer.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/vm-noaux'; however, it does not have permission to perform action 'read' on the linked scope(s) '${VERSION_ID}' or the linked scope(s) are invalid.`,
    );
  });

  it("with the publisher-tenant token in x-ms-authorization-auxiliary the VM is created", async () => {
    const policy = auxiliaryAuthenticationHeaderPolicy({ credentials: [distCredential(PUB.tenantId)], scopes: ARM_SCOPE });
    const client = compute(w.emu, distCredential(consumer.tenantId), consumer.subscriptionId, { additionalPolicies: [{ policy, position: "perRetry" }] });
    const vm = await client.virtualMachines.createOrUpdate(RG, "vm1", consumerVm("vm1"));
    expect(vm.provisioningState).toBe("Succeeded");
    expect(vm.storageProfile?.imageReference).toMatchObject({ id: VERSION_ID, exactVersion: "1.0.0" });
    const put = w.emu.control.requestLog().find((e) => e.method === "PUT" && e.url.includes("/virtualMachines/vm1?"));
    expect(put?.requestHeaders["x-ms-authorization-auxiliary"]).toBe("Bearer REDACTED");
    expect(put?.status).toBe(201);
    expect(put?.responseHeaders["azure-asyncoperation"]).toContain("/providers/Microsoft.Compute/locations/eastus/operations/");
  });

  it("an auxiliary token whose principal cannot read the image still fails, naming that principal and the linked scope", async () => {
    const other = { appId: "d0000000-0000-4000-8000-000000000002", secret: "other-secret" };
    const c = w.emu.control;
    c.addApp({ appId: other.appId, homeTenantId: PUB.tenantId, secret: other.secret, multiTenant: true });
    const policy = auxiliaryAuthenticationHeaderPolicy({ credentials: [credential(w.emu, PUB.tenantId, other.appId, other.secret)], scopes: ARM_SCOPE });
    const client = compute(w.emu, distCredential(consumer.tenantId), consumer.subscriptionId, { additionalPolicies: [{ policy, position: "perRetry" }] });
    const err = await restError(client.virtualMachines.createOrUpdate(RG, "vm2", consumerVm("vm2")));
    expect(err.code).toBe("LinkedAuthorizationFailed");
    expect(err.message).toContain(`The client '${other.appId}'`);
    expect(err.message).toContain(`does not have permission to perform action 'read' on the linked scope(s) '${VERSION_ID}'`);
  });

  it("a token of the wrong tenant fails with InvalidAuthenticationTokenTenant", async () => {
    const client = compute(w.emu, distCredential(PUB.tenantId), consumer.subscriptionId);
    const err = await restError(client.virtualMachines.get(RG, "vm1"));
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe("InvalidAuthenticationTokenTenant");
  });

  it("a request without Authorization fails with 401 AuthenticationFailed", async () => {
    const res = await fetch(
      `${w.emu.armEndpoint}/subscriptions/${consumer.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`,
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("AuthenticationFailed");
  });

  it("an image not replicated to the VM's region is refused", async () => {
    const network = new NetworkManagementClient(distCredential(consumer.tenantId), consumer.subscriptionId, { endpoint: w.emu.armEndpoint });
    const vnet = await network.virtualNetworks.createOrUpdate(RG, "vnet-we", {
      location: "westeurope",
      addressSpace: { addressPrefixes: ["10.2.0.0/16"] },
      subnets: [{ name: "default", addressPrefix: "10.2.0.0/24" }],
    });
    const nic = await network.networkInterfaces.createOrUpdate(RG, "nic-we", {
      location: "westeurope",
      ipConfigurations: [{ name: "ipconfig1", subnet: { id: vnet.subnets?.[0]?.id ?? "" } }],
    });
    const policy = auxiliaryAuthenticationHeaderPolicy({ credentials: [distCredential(PUB.tenantId)], scopes: ARM_SCOPE });
    const client = compute(w.emu, distCredential(consumer.tenantId), consumer.subscriptionId, { additionalPolicies: [{ policy, position: "perRetry" }] });
    const err = await restError(
      client.virtualMachines.createOrUpdate(RG, "vm-we", {
        ...consumerVm("vm-we"),
        location: "westeurope",
        networkProfile: { networkInterfaces: [{ id: nic.id ?? "" }] },
      }),
    );
    expect(err.statusCode).toBe(404);
    expect(err.message).toContain("is not available in westeurope region");
  });

  it("the VM is deleted as a long-running operation", async () => {
    const client = compute(w.emu, distCredential(consumer.tenantId), consumer.subscriptionId);
    await client.virtualMachines.delete(RG, "vm1");
    expect((await restError(client.virtualMachines.get(RG, "vm1"))).code).toBe("ResourceNotFound");
  });
});
