// VM creations are held to VM_CREATIONS_IN_FLIGHT across the app: 50 rbac tenants onboarded at
// once with `vm.updateOnPublish`, then a publish that moves all their canary VMs to the new
// version, with a cap of 10 and one tenant whose VM create is scripted to fail.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { GALLERY_ID, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { armLog, consentLinksOf, followLikeBrowser, sendRequests, useWorlds } from "./support";

const worlds = useWorlds();
const guid = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, "0")}`;
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk4sZ1Xb7Dd1t5p3F5m0lqXQ7rJ1v6y0QwY0b7kq9Xs ops@contoso";
const TENANTS = 50;
const CAP = 10;
const FAILING = 7;

/** Publishes a version as the publisher's pipeline would, and waits for its publish orchestration. */
async function publish(w: World, version: string) {
  const id = w.publishVersion(version, { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
  expect((await w.deliver([versionWriteEvent(id)])).status).toBe(202);
  return w.host.durable.waitFor(publishInstanceId(id), undefined, { maxSimulatedMs: 6 * 3600_000 });
}

describe("moving consumer VMs to a new version", () => {
  it("keeps at most VM_CREATIONS_IN_FLIGHT creations in flight across 50 tenants, onboarding and publishing, finishes all, and reports the one that failed", async () => {
    const w = await worlds.start({
      clock: new VirtualClock(Date.now()),
      consentedTenants: [],
      settings: { SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: randomBytes(32).toString("base64"), VM_CREATIONS_IN_FLIGHT: String(CAP) },
      publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
    });
    const control = w.emulator.control;
    const tenants = Array.from({ length: TENANTS }, (_, i) => {
      const n = i + 1;
      const t = { n, tenantId: guid("5e5e5e5e", n), subscriptionId: guid("6f6f6f6f", n), requestId: guid("7a7a7a7b", n) };
      control.addTenant(t.tenantId, `Customer ${n}`);
      control.addSubscription(t.subscriptionId, t.tenantId);
      control.addResourceGroup(t.subscriptionId, "rg-apps", "westeurope");
      control.createVirtualNetwork({ subscriptionId: t.subscriptionId, resourceGroup: "rg-apps", name: "vnet-apps", location: "westeurope" });
      return t;
    });
    expect((await publish(w, "1.0.0")).runtimeStatus).toBe("Completed");

    await sendRequests(
      w,
      tenants.map((t) => ({
        schema: "onboarding/v1",
        requestId: t.requestId,
        tenantId: t.tenantId,
        displayName: `Customer ${t.n}`,
        mode: "rbac",
        galleries: [GALLERY_ID],
        consumer: { subscriptionId: t.subscriptionId, resourceGroup: "rg-apps", location: "westeurope" },
        vm: {
          image: PUBLISHER.image,
          version: "latest",
          size: "Standard_B2s",
          subnetId: `/subscriptions/${t.subscriptionId}/resourceGroups/rg-apps/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`,
          adminUsername: "azureuser",
          sshPublicKey: SSH,
          updateOnPublish: true,
        },
      })),
    );
    // Each customer's administrator consents, and grants the app Contributor on the resource group.
    for (const t of tenants) {
      const { adminConsentUrl } = await consentLinksOf(w, `onboard-${t.requestId}`);
      await followLikeBrowser(adminConsentUrl, (next) => {
        if (!next.includes("/api/consent/callback")) return;
        const sp = control.servicePrincipalId(PUBLISHER.appId, t.tenantId);
        control.addRoleAssignment({ scope: `/subscriptions/${t.subscriptionId}/resourceGroups/rg-apps`, principalId: sp!, role: "Contributor" });
      });
    }
    for (const t of tenants) {
      const onboarded = await w.host.durable.waitFor(`onboard-${t.requestId}`, undefined, { maxSimulatedMs: 3600_000 });
      expect(onboarded.output, `tenant ${t.n}`).toMatchObject({
        state: "active",
        workloads: [{ kind: "vm", provisioningState: "Succeeded", imageVersion: expect.stringMatching(/\/versions\/1\.0\.0$/) }],
      });
    }

    // The 50 onboardings arrived together: their creations were held to the same cap.
    expect(control.creations()).toMatchObject({ started: TENANTS, succeeded: TENANTS, inFlight: 0 });
    expect(control.creations().maxInFlight).toBeLessThanOrEqual(CAP);

    // 1.1.0: every canary is rebuilt on it; tenant 7's new VM fails to provision.
    control.resetCreations();
    const failing = tenants[FAILING - 1]!;
    control.fault({
      method: "PUT",
      path: new RegExp(`/subscriptions/${failing.subscriptionId}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/`, "i"),
      lro: "fail",
      code: "OSProvisioningTimedOut",
      message: "OS Provisioning for VM did not finish in the allotted time.",
    });
    const published = await publish(w, "1.1.0");
    expect(published.runtimeStatus, JSON.stringify(published.customStatus)).toBe("Completed");

    const creations = control.creations();
    expect(creations.maxInFlight).toBeLessThanOrEqual(CAP);
    expect(creations.maxInFlight).toBe(CAP);
    expect(creations.started).toBe(TENANTS);
    expect(creations).toMatchObject({ inFlight: 0, succeeded: TENANTS - 1, failed: 1 });

    const summary = (published.output as { workloads: Record<string, unknown> }).workloads;
    expect(summary).toMatchObject({ total: TENANTS, succeeded: TENANTS - 1, failed: 1, running: 0, maxInFlight: CAP });
    expect(summary.failures).toEqual([
      { tenantId: failing.tenantId, kind: "vm", code: "OSProvisioningTimedOut", message: expect.stringContaining("did not finish in the allotted time") },
    ]);
    // The status a client polls stays far below Azure's 16 KB cap on custom status.
    expect(JSON.stringify(published.customStatus).length).toBeLessThan(16 * 1024);

    // Per-VM results are on each tenant.
    const tenantView = async (tenantId: string) =>
      (await (await fetch(`${w.host.baseUrl}/api/tenants/${tenantId}`, { headers: { "x-functions-key": w.host.functionKey } })).json()) as {
        vms: { imageVersion: string; provisioningState: string; error?: { code: string } }[];
      };
    expect((await tenantView(tenants[0]!.tenantId)).vms).toEqual([
      expect.objectContaining({ imageVersion: expect.stringMatching(/\/versions\/1\.1\.0$/), provisioningState: "Succeeded" }),
    ]);
    expect((await tenantView(failing.tenantId)).vms).toEqual([
      expect.objectContaining({ provisioningState: "Failed", error: expect.objectContaining({ code: "OSProvisioningTimedOut" }) }),
    ]);
    // Rebuilt under the same names: one VM and one NIC per tenant.
    const puts = (type: string) =>
      new Set(
        armLog(w)
          .filter((x) => x.method === "PUT" && x.url.includes(`/${type}/`))
          .map((x) => x.url.split("?")[0]!.toLowerCase()),
      );
    expect(puts("virtualMachines").size).toBe(TENANTS);
    expect(puts("networkInterfaces").size).toBe(TENANTS);
  }, 600_000);
});
