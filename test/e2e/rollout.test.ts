// Safe rollouts end to end: a gated image's version waits outside `latest` while the app's canaries
// move ring by ring, becomes `latest` when every ring succeeded and soaked, and a revoked version
// falls out of `latest` everywhere while the canaries move back. Three consumer tenants in direct
// mode, each with a VM that follows new versions, one per ring; a consumer's own VM on `latest` is
// created with the real @azure/arm-compute as that consumer's own app.
import { ClientSecretCredential } from "@azure/identity";
import { ComputeManagementClient } from "@azure/arm-compute";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, GALLERY_ID, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId, versionKeyOf } from "../../src/domain/instanceIds";
import type { RolloutStatus } from "../../src/domain/rollout";
import { armLog, sendRequests, timeOf, useWorlds } from "./support";

const worlds = useWorlds();
const RG = "rg-apps";
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk4sZ1Xb7Dd1t5p3F5m0lqXQ7rJ1v6y0QwY0b7kq9Xs ops@contoso";
const IMAGE_ID = `${GALLERY_ID}/images/${PUBLISHER.image}`;
const SOAK_MINUTES = 30;
const OWN_APP = { appId: "0c0c0c0c-0000-4000-8000-00000000c0de", secret: "consumer-own-app-secret" };
const rid = (n: number) => `7b7b7b7b-0000-4000-8000-${String(n).padStart(12, "0")}`;
const subnetOf = (subscriptionId: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`;

async function start(): Promise<World> {
  const w = await worlds.start({
    clock: new VirtualClock(Date.now()),
    settings: { SHARE_TENANT_IDS: "", GATED_IMAGES: IMAGE_ID, ROLLOUT_RINGS: "3", ROLLOUT_SOAK_MINUTES: String(SOAK_MINUTES) },
  });
  const control = w.emulator.control;
  for (const c of CONSUMERS) {
    control.addResourceGroup(c.subscriptionId, RG, "westeurope");
    control.createVirtualNetwork({ subscriptionId: c.subscriptionId, resourceGroup: RG, name: "vnet-apps", location: "westeurope" });
    const sp = control.servicePrincipalId(PUBLISHER.appId, c.tenantId);
    control.addRoleAssignment({ scope: `/subscriptions/${c.subscriptionId}/resourceGroups/${RG}`, principalId: sp!, role: "Contributor" });
    control.addRoleAssignment({ scope: `/subscriptions/${c.subscriptionId}`, principalId: sp!, role: "Reader" });
  }
  // Fabrikam's own app, which deploys its own VMs from the shared image.
  const own = control.addApp({ appId: OWN_APP.appId, homeTenantId: CONSUMERS[0].tenantId, secret: OWN_APP.secret });
  control.addRoleAssignment({
    scope: `/subscriptions/${CONSUMERS[0].subscriptionId}/resourceGroups/${RG}`,
    principalId: own.servicePrincipalId,
    role: "Contributor",
  });
  control.addRoleAssignment({ scope: `/subscriptions/${CONSUMERS[0].subscriptionId}`, principalId: own.servicePrincipalId, role: "Reader" });
  return w;
}

async function publish(w: World, version: string, wait = true, excludeFromLatest = true) {
  const id = w.publishVersion(version, { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 }, excludeFromLatest });
  expect((await w.deliver([versionWriteEvent(id)])).status).toBe(202);
  return wait ? w.host.durable.waitFor(publishInstanceId(id), undefined, { maxSimulatedMs: 24 * 3600_000 }) : undefined;
}

/** Tenant n (1-3) onboarded in direct mode with a canary VM in ring n-1. */
async function onboardAll(w: World): Promise<void> {
  await sendRequests(
    w,
    CONSUMERS.map((c, i) => ({
      schema: "onboarding/v1",
      requestId: rid(i + 1),
      tenantId: c.tenantId,
      displayName: c.name,
      mode: "direct",
      subscriptionIds: [c.subscriptionId],
      galleries: [GALLERY_ID],
      consumer: { subscriptionId: c.subscriptionId, resourceGroup: RG, location: "westeurope" },
      vm: {
        image: PUBLISHER.image,
        version: "latest",
        size: "Standard_B2s",
        subnetId: subnetOf(c.subscriptionId),
        adminUsername: "azureuser",
        sshPublicKey: SSH,
        updateOnPublish: true,
      },
      ring: i,
    })),
  );
  for (let i = 1; i <= CONSUMERS.length; i++) {
    const done = await w.host.durable.waitFor(`onboard-${rid(i)}`, undefined, { maxSimulatedMs: 3600_000 });
    expect(done.output, `tenant ${i}`).toMatchObject({ state: "active", workloads: [{ provisioningState: "Succeeded" }] });
  }
}

/** The version each tenant's canary VM runs, by the registry. */
async function canaryVersions(w: World): Promise<string[]> {
  const out: string[] = [];
  for (const c of CONSUMERS) {
    const response = await fetch(`${w.host.baseUrl}/api/tenants/${c.tenantId}`, { headers: { "x-functions-key": w.host.functionKey } });
    const body = (await response.json()) as { vms: { imageVersion: string }[] };
    out.push(body.vms[0]?.imageVersion.split("/").pop() ?? "none");
  }
  return out;
}

/** What `latest` gives Fabrikam's own new VM (sharedGalleryImageId …/Versions/latest) in westeurope. */
async function latestForConsumer(w: World, name: string): Promise<string | undefined> {
  const c = CONSUMERS[0];
  const credential = new ClientSecretCredential(c.tenantId, OWN_APP.appId, OWN_APP.secret, {
    authorityHost: w.emulator.authorityHost,
    disableInstanceDiscovery: true,
  });
  const compute = new ComputeManagementClient(credential, c.subscriptionId, { endpoint: w.emulator.armEndpoint });
  const shared = await compute.sharedGalleries.list("westeurope").next();
  const unique = (shared.value as { uniqueId?: string } | undefined)?.uniqueId?.split("/").pop();
  const vm = await compute.virtualMachines.createOrUpdate(RG, name, {
    location: "westeurope",
    hardwareProfile: { vmSize: "Standard_B2s" },
    storageProfile: {
      imageReference: { sharedGalleryImageId: `/SharedGalleries/${unique}/Images/${PUBLISHER.image}/Versions/latest` },
      osDisk: { createOption: "FromImage" },
    },
    osProfile: {
      computerName: name,
      adminUsername: "azureuser",
      linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: "/home/azureuser/.ssh/authorized_keys", keyData: SSH }] } },
    },
    networkProfile: {
      networkApiVersion: "2020-11-01",
      networkInterfaceConfigurations: [
        { name: `${name}-nic`, primary: true, ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetOf(c.subscriptionId) } }] },
      ],
    },
  });
  return vm.storageProfile?.imageReference?.exactVersion;
}

/** Runs the host until the publish's rollout says `until` (or the publish ends), moving the virtual clock to each timer. */
async function runUntilRollout(w: World, instanceId: string, until: (r: RolloutStatus) => boolean): Promise<RolloutStatus> {
  for (let step = 0; step < 500; step++) {
    await w.host.durable.runUntilIdle();
    const status = w.host.durable.getStatus(instanceId);
    const rollout = (status?.customStatus as { rollout?: RolloutStatus } | undefined)?.rollout;
    if (rollout && until(rollout)) return rollout;
    if (status && ["Completed", "Failed", "Terminated"].includes(status.runtimeStatus)) throw new Error(`publish ended ${status.runtimeStatus} first`);
    const next = w.host.durable.nextTimerAt();
    if (next === undefined) throw new Error("idle with no timer");
    w.emulator.control.advance(Math.max(0, next - w.emulator.control.now()));
  }
  throw new Error("the rollout never got there");
}

const vmPutTimes = (w: World, subscriptionId: string, after: number) =>
  armLog(w)
    .filter((x) => x.method === "PUT" && x.url.includes(`/subscriptions/${subscriptionId}/`) && /\/virtualMachines\/gs-/.test(x.url) && timeOf(x) >= after)
    .map(timeOf);

describe("safe rollouts", () => {
  it("a gated version stays out of latest while ring 0's canary moves, then every ring in order, then it is promoted", async () => {
    const w = await start();
    // 1.0.0: gated, no canaries yet: promoted after one soak.
    const first = await publish(w, "1.0.0");
    expect(first?.output).toMatchObject({ rollout: { state: "done", promotion: { state: "promoted" } } });
    await onboardAll(w);
    expect(await canaryVersions(w)).toEqual(["1.0.0", "1.0.0", "1.0.0"]);

    const startedAt = w.emulator.control.now();
    const id = (await publish(w, "1.1.0", false), `${IMAGE_ID}/versions/1.1.0`);
    const instanceId = publishInstanceId(id);
    const soaking = await runUntilRollout(w, instanceId, (r) => r.state === "soaking" && r.ring === 0);
    expect(soaking.rings.map((r) => r.state)).toEqual(["soaking", "waiting", "waiting"]);
    expect(soaking.promotion).toEqual({ state: "pending" });
    expect(soaking.waitingFor).toBe("soak after ring 0");
    expect(Date.parse(soaking.until ?? "") - w.emulator.control.now()).toBeGreaterThan((SOAK_MINUTES - 1) * 60_000);
    expect(await canaryVersions(w)).toEqual(["1.1.0", "1.0.0", "1.0.0"]);
    // A consumer's VM on latest meanwhile gets the previous version.
    expect(await latestForConsumer(w, "own-vm-before")).toBe("1.0.0");
    // GET /api/versions/{versionId} shows the same rollout.
    const view = (await (await fetch(`${w.host.baseUrl}/api/versions/${versionKeyOf(id)}`, { headers: { "x-functions-key": w.host.functionKey } })).json()) as {
      imageVersionId: string;
      publish: { status: { rollout: RolloutStatus } };
    };
    expect(view.imageVersionId).toBe(id);
    expect(view.publish.status.rollout).toMatchObject({ state: "soaking", ring: 0, waitingFor: "soak after ring 0" });

    const done = await w.host.durable.waitFor(instanceId, undefined, { maxSimulatedMs: 24 * 3600_000 });
    expect(done.runtimeStatus).toBe("Completed");
    const rollout = (done.output as { rollout: RolloutStatus }).rollout;
    expect(rollout.rings.map((r) => [r.ring, r.state, r.total, r.succeeded])).toEqual([
      [0, "succeeded", 1, 1],
      [1, "succeeded", 1, 1],
      [2, "succeeded", 1, 1],
    ]);
    expect(rollout.promotion.state).toBe("promoted");
    expect(await canaryVersions(w)).toEqual(["1.1.0", "1.1.0", "1.1.0"]);
    // Ring by ring, a soak apart: each ring's VM was written after the one before and its soak.
    const [ring0, ring1, ring2] = CONSUMERS.map((c) => Math.min(...vmPutTimes(w, c.subscriptionId, startedAt)));
    expect(ring1! - ring0!).toBeGreaterThanOrEqual(SOAK_MINUTES * 60_000);
    expect(ring2! - ring1!).toBeGreaterThanOrEqual(SOAK_MINUTES * 60_000);
    // After promotion, latest is the new version.
    expect(await latestForConsumer(w, "own-vm-after")).toBe("1.1.0");
    const promoted = w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string; subject: string }[];
    expect(promoted.filter((e) => e.type === "GalleryShare.ImageVersionPromoted").map((e) => e.subject)).toEqual([`${IMAGE_ID}/versions/1.0.0`, id]);
  });

  it("three rings, a canary failure in ring 1: ring 0 moved, ring 1 stopped with the tenant and ARM's reason, ring 2 untouched, no promotion", async () => {
    const w = await start();
    await publish(w, "1.0.0");
    await onboardAll(w);
    const [, northwind, tailspin] = CONSUMERS;
    w.emulator.control.fault({
      method: "PUT",
      path: new RegExp(`/subscriptions/${northwind.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/`, "i"),
      lro: "fail",
      code: "OSProvisioningTimedOut",
      message: "OS Provisioning for VM did not finish in the allotted time.",
    });
    const startedAt = w.emulator.control.now();
    const done = await publish(w, "1.1.0");
    expect(done?.runtimeStatus).toBe("Completed");
    const rollout = (done?.output as { rollout: RolloutStatus }).rollout;
    expect(rollout.state).toBe("stopped");
    expect(rollout.rings.map((r) => [r.ring, r.state, r.total, r.succeeded, r.failed])).toEqual([
      [0, "succeeded", 1, 1, 0],
      [1, "stopped", 1, 0, 1],
      [2, "waiting", 1, 0, 0],
    ]);
    expect(rollout.stoppedBy).toEqual({
      ring: 1,
      tenantId: northwind.tenantId,
      kind: "vm",
      code: "OSProvisioningTimedOut",
      message: expect.stringContaining("did not finish in the allotted time"),
    });
    expect(rollout.promotion).toEqual({ state: "withheld", reason: "ring 1 failed" });
    // Ring 2 was never touched: no write to its VM since the publish started, still on 1.0.0.
    expect(vmPutTimes(w, tailspin.subscriptionId, startedAt)).toEqual([]);
    expect((await canaryVersions(w))[2]).toBe("1.0.0");
    // Not promoted: latest is still the previous version.
    expect(await latestForConsumer(w, "own-vm-stopped")).toBe("1.0.0");
    const events = w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string; data: { stoppedBy?: { tenantId: string } } }[];
    expect(events.filter((e) => e.type === "GalleryShare.RolloutStopped").map((e) => e.data.stoppedBy?.tenantId)).toEqual([northwind.tenantId]);
    expect(events.filter((e) => e.type === "GalleryShare.ImageVersionPromoted")).toHaveLength(1); // 1.0.0 only
  });

  it("revoke: out of latest in every region, the canaries back on the previous version, recorded with who and why; no later publish promotes it", async () => {
    const w = await start();
    await publish(w, "1.0.0");
    await onboardAll(w);
    const id = `${IMAGE_ID}/versions/1.1.0`;
    await publish(w, "1.1.0", false);
    const instanceId = publishInstanceId(id);
    // Revoked while its rollout soaks after ring 0 (ring 0's canary already runs it).
    await runUntilRollout(w, instanceId, (r) => r.state === "soaking" && r.ring === 0);
    expect(await canaryVersions(w)).toEqual(["1.1.0", "1.0.0", "1.0.0"]);
    const key = versionKeyOf(id);
    const headers = { "x-functions-key": w.host.functionKey, "content-type": "application/json" };
    const refused = await fetch(`${w.host.baseUrl}/api/versions/${key}/revoke`, {
      method: "POST",
      headers,
      body: JSON.stringify({ requestedBy: "ops@contoso" }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { fields: { path: string }[] } }).error.fields.map((f) => f.path)).toEqual(["reason"]);
    const answer = await fetch(`${w.host.baseUrl}/api/versions/${key}/revoke`, {
      method: "POST",
      headers,
      body: JSON.stringify({ reason: "kernel panic on Dv5 sizes <script>", requestedBy: "ops@contoso" }),
    });
    expect(answer.status).toBe(202);
    const revoked = await w.host.durable.waitFor(`revoke-${key}`, undefined, { maxSimulatedMs: 24 * 3600_000 });
    expect(revoked.runtimeStatus, JSON.stringify(revoked.customStatus)).toBe("Completed");
    expect(revoked.output).toMatchObject({ result: "Revoked", excludedFromLatest: true, fallbackVersion: "1.0.0" });
    const publishDone = await w.host.durable.waitFor(instanceId, undefined, { maxSimulatedMs: 24 * 3600_000 });
    expect((publishDone.output as { rollout: RolloutStatus }).rollout).toMatchObject({ state: "stopped", promotion: { state: "revoked" } });

    // Out of latest on the version and in every region (the revocation's PATCH).
    const patches = w.emulator.control.requestLog().filter((e) => e.method === "PATCH" && e.url.includes("/versions/1.1.0?"));
    expect(patches.map((e) => e.status)).toEqual([200]);
    const body = patches.at(-1)?.requestBody as {
      properties: { publishingProfile: { excludeFromLatest: boolean; targetRegions: { excludeFromLatest: boolean }[] } };
    };
    expect(body.properties.publishingProfile.excludeFromLatest).toBe(true);
    expect(body.properties.publishingProfile.targetRegions.map((r) => r.excludeFromLatest)).toEqual([true, true, true]);
    expect(await latestForConsumer(w, "own-vm-revoked")).toBe("1.0.0");
    const latestIn = (region: string) =>
      w.emulator.control.latestVersion({
        subscriptionId: PUBLISHER.subscriptionId,
        resourceGroup: PUBLISHER.resourceGroup,
        gallery: PUBLISHER.gallery,
        image: PUBLISHER.image,
        region,
      });
    expect(["westeurope", "northeurope", "eastus"].map(latestIn)).toEqual(["1.0.0", "1.0.0", "1.0.0"]);
    // The app's canaries run the previous version again; the others never left it.
    expect(await canaryVersions(w)).toEqual(["1.0.0", "1.0.0", "1.0.0"]);
    // Recorded with who and why; the event carries them.
    const view = (await (await fetch(`${w.host.baseUrl}/api/versions/${key}`, { headers })).json()) as { revocation: { reason: string; by: string } };
    expect(view.revocation).toMatchObject({ reason: "kernel panic on Dv5 sizes <script>", by: "ops@contoso" });
    const events = w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string; subject: string; data: Record<string, unknown> }[];
    expect(events.filter((e) => e.type === "GalleryShare.ImageVersionRevoked")).toEqual([
      expect.objectContaining({
        subject: id,
        data: expect.objectContaining({ reason: "kernel panic on Dv5 sizes <script>", revokedBy: "ops@contoso", fallbackVersion: "1.0.0" }),
      }),
    ]);

    // A later version is promoted; the revoked one stays out of latest.
    const next = await publish(w, "1.2.0");
    expect((next?.output as { rollout: RolloutStatus }).rollout.promotion.state).toBe("promoted");
    expect(await latestForConsumer(w, "own-vm-next")).toBe("1.2.0");
    const promotions = (w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string; subject: string }[]).filter(
      (e) => e.type === "GalleryShare.ImageVersionPromoted",
    );
    expect(promotions.map((e) => e.subject)).toEqual([`${IMAGE_ID}/versions/1.0.0`, `${IMAGE_ID}/versions/1.2.0`]);
  });

  it("an operator moves a tenant to ring 0, recorded with who; a gated image's version published inside latest is reported and still rolls out by ring", async () => {
    const w = await start();
    await publish(w, "1.0.0");
    await onboardAll(w);
    const tailspin = CONSUMERS[2];
    const headers = { "x-functions-key": w.host.functionKey, "content-type": "application/json" };
    const put = (tenantId: string, body: unknown) =>
      fetch(`${w.host.baseUrl}/api/tenants/${tenantId}/ring`, { method: "PUT", headers, body: JSON.stringify(body) });
    const invalid = await put(tailspin.tenantId, { ring: 3 });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { fields: { path: string; rule: string }[] } }).error.fields).toEqual([
      { path: "ring", rule: "must be a whole number from 0 to 2 (ROLLOUT_RINGS is 3; 0 are the canaries)" },
      { path: "requestedBy", rule: "is required without App Service Authentication: who moves the tenant" },
    ]);
    expect((await put("00000000-0000-4000-8000-000000000999", { ring: 0, requestedBy: "ops@contoso" })).status).toBe(404);
    const moved = await put(tailspin.tenantId, { ring: 0, requestedBy: "ops@contoso" });
    expect(moved.status).toBe(200);
    const tenant = (await (await fetch(`${w.host.baseUrl}/api/tenants/${tailspin.tenantId}`, { headers })).json()) as {
      ring: number;
      ringSet: { by: string };
    };
    expect(tenant).toMatchObject({ ring: 0, ringSet: { by: "ops@contoso" } });

    const done = await publish(w, "1.1.0", true, false);
    const rollout = (done?.output as { rollout: RolloutStatus }).rollout;
    expect(rollout.promotion).toEqual({ state: "bypassed" });
    expect(rollout.rings.map((r) => [r.ring, r.state, r.total])).toEqual([
      [0, "succeeded", 2],
      [1, "succeeded", 1],
      [2, "skipped", 0],
    ]);
    const events = w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string; subject: string }[];
    expect(events.filter((e) => e.type === "GalleryShare.LatestGateBypassed").map((e) => e.subject)).toEqual([`${IMAGE_ID}/versions/1.1.0`]);
    // It was latest from the start: nothing to promote.
    expect(events.filter((e) => e.type === "GalleryShare.ImageVersionPromoted")).toHaveLength(1);
    expect(await latestForConsumer(w, "own-vm-bypassed")).toBe("1.1.0");
  });
});
