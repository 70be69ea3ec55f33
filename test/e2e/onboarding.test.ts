// Tenant onboarding and offboarding through the queue: the real ServiceBusSender puts requests on
// the local broker, the app's queue trigger takes them, onboardTenant / offboardTenant do the work
// through the share coordinator and ARM, and the registry (Azurite) records it.
import { describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, ONBOARDING_QUEUE, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { createServices } from "../../src/services";
import { loadConfig } from "../../src/config";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { armLog, isShareCall, sendRequests, timeOf, useWorlds } from "./support";

const worlds = useWorlds();
const GALLERY_2 = GALLERY_ID.replace(PUBLISHER.gallery, "contoso_extras");

/** A GUID that is the same every run: `n` in the last group. */
const id = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, "0")}`;

async function start(): Promise<World> {
  const w = await worlds.start({
    settings: { SHARE_TENANT_IDS: "", GALLERY_IDS: `${GALLERY_ID},${GALLERY_2}` },
    publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
  });
  w.emulator.control.createGallery({
    subscriptionId: PUBLISHER.subscriptionId,
    resourceGroup: PUBLISHER.resourceGroup,
    gallery: "contoso_extras",
    location: PUBLISHER.location,
    permissions: "Groups",
  });
  for (const role of ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"] as const) {
    w.emulator.control.addRoleAssignment({ scope: GALLERY_2, principalId: w.identity.objectId, role });
  }
  return w;
}

const send = sendRequests;

async function get(w: World, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${w.host.baseUrl}/api/${path}`, { headers: { "x-functions-key": w.host.functionKey } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The role assignments at the gallery's scope, read with the app's own identity and the real SDK. */
async function assignmentsOf(galleryId: string): Promise<string[]> {
  const authorization = createServices(loadConfig(process.env)).arm.authorization(PUBLISHER.subscriptionId);
  const names: string[] = [];
  for await (const a of authorization.roleAssignments.listForScope(galleryId)) names.push(`${a.principalId}|${a.roleDefinitionId?.split("/").pop()}`);
  return names.sort();
}

/** The gallery's direct-sharing groups, read with the app's own identity and the real SDK. */
async function sharingOf(galleryName: string): Promise<{ subscriptionIds: string[]; tenantIds: string[] }> {
  const compute = createServices(loadConfig(process.env)).arm.compute(PUBLISHER.subscriptionId);
  const gallery = await compute.galleries.get(PUBLISHER.resourceGroup, galleryName, { expand: "SharingProfile/Groups" });
  const groups = gallery.sharingProfile?.groups ?? [];
  const ids = (type: string) =>
    groups
      .filter((g) => g.type === type)
      .flatMap((g) => g.ids ?? [])
      .map((x) => x.toLowerCase())
      .sort();
  return { subscriptionIds: ids("Subscriptions"), tenantIds: ids("AADTenants") };
}

const onboarding = (n: number, tenantId: string, extra: Record<string, unknown> = {}) => ({
  schema: "onboarding/v1",
  requestId: id("aaaaaaaa", n),
  tenantId,
  displayName: `Tenant ${n}`,
  mode: "direct",
  galleries: [GALLERY_ID],
  ...extra,
});

describe("tenant onboarding over the queue", () => {
  it("onboards two tenants with three subscriptions each in direct mode, and shows them", async () => {
    const w = await start();
    const subs = [0, 1].map((t) => [1, 2, 3].map((s) => id("bbbbbbbb", t * 10 + s)));
    [0, 1].forEach((t) => subs[t]!.forEach((s) => w.emulator.control.addSubscription(s, CONSUMERS[t]!.tenantId)));
    await send(
      w,
      [0, 1].map((t) => onboarding(t + 1, CONSUMERS[t]!.tenantId, { subscriptionIds: subs[t] })),
    );
    await w.host.durable.runUntilIdle();
    for (const t of [0, 1]) {
      const status = await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", t + 1)}`);
      expect(status.runtimeStatus, JSON.stringify(status.output)).toBe("Completed");
      expect(status.output).toMatchObject({ state: "active", galleries: [{ galleryId: GALLERY_ID, result: "granted" }] });
      const tenant = await get(w, `tenants/${CONSUMERS[t]!.tenantId}`);
      expect(tenant.status).toBe(200);
      expect(tenant.body).toMatchObject({ state: "active", mode: "direct", subscriptionIds: subs[t] });
      expect((tenant.body.grants as unknown[]).length).toBe(3);
      expect((await get(w, `requests/${id("aaaaaaaa", t + 1)}`)).body).toMatchObject({ state: "succeeded" });
    }
    // Both onboardings arrived together: the coordinator made one share call for the six subscriptions.
    const shares = armLog(w).filter(isShareCall);
    expect(shares).toHaveLength(1);
    const added = (shares[0]!.requestBody as { groups: { type: string; ids: string[] }[] }).groups.flatMap((g) => g.ids).sort();
    expect(added).toEqual(subs.flat().sort());
    expect(((await get(w, "tenants")).body.tenants as unknown[]).length).toBe(2);
  });

  it("verifies a direct share from the consumer's side, and says when the newest version has not reached the consumer's region", async () => {
    const w = await start();
    const version = w.publishVersion("2.0.0", { regions: ["westeurope"], regionMinutes: { westeurope: 5 } });
    w.emulator.control.advance(10 * 60_000);
    expect(version).toContain("/versions/2.0.0");
    const consumer = CONSUMERS[0];
    // The customer lets the app look around in its subscription (Reader), as rbac mode has it grant a role.
    const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId);
    w.emulator.control.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}`, principalId: sp!, role: "Reader" });
    await send(w, [
      onboarding(20, consumer.tenantId, { consumer: { subscriptionId: consumer.subscriptionId, resourceGroup: "rg-apps", location: "westeurope" } }),
    ]);
    await w.host.durable.runUntilIdle();
    const here = await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 20)}`);
    expect(here.output).toMatchObject({
      state: "active",
      galleries: [{ result: "granted", verification: { visible: true, newestVersion: `${PUBLISHER.image}/2.0.0` } }],
    });
    await send(w, [onboarding(21, consumer.tenantId, { consumer: { subscriptionId: consumer.subscriptionId, resourceGroup: "rg-apps", location: "eastus" } })]);
    await w.host.durable.runUntilIdle();
    const there = await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 21)}`);
    const gallery = (there.output as { galleries: { result: string; verification?: { visible: boolean; newestVersion?: string; note?: string } }[] })
      .galleries[0]!;
    expect(gallery.result).toBe("granted");
    expect(gallery.verification?.newestVersion).toBeUndefined();
    expect(gallery.verification).toMatchObject({ visible: true, note: expect.stringMatching(/no version of it is replicated to eastus yet/) });
  });

  it("fails only the gallery whose tenant limit is full, naming the limit, and grants the others", async () => {
    const w = await start();
    const full = [1, 2, 3, 4, 5].map((n) => id("cccccccc", n));
    w.emulator.control.shareGallery({
      subscriptionId: PUBLISHER.subscriptionId,
      resourceGroup: PUBLISHER.resourceGroup,
      gallery: PUBLISHER.gallery,
      tenants: full,
    });
    await send(w, [onboarding(6, CONSUMERS[2].tenantId, { galleries: [GALLERY_ID, GALLERY_2] })]);
    await w.host.durable.runUntilIdle();
    const status = await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 6)}`);
    const output = status.output as { state: string; galleries: { galleryId: string; result: string; error?: { code: string; message: string } }[] };
    expect(output.state).toBe("active");
    expect(output.galleries[0]).toMatchObject({ galleryId: GALLERY_ID, result: "failed", error: { code: "tenant-limit" } });
    expect(output.galleries[0]!.error!.message).toMatch(/over the limit of 5 per gallery.*use rbac mode/);
    expect(output.galleries[1]).toMatchObject({ galleryId: GALLERY_2, result: "granted" });
    expect((await get(w, `requests/${id("aaaaaaaa", 6)}`)).body).toMatchObject({ state: "failed", reason: expect.stringMatching(/tenant-limit/) });
  });

  it("rejects an onboarding naming 300 galleries, or a gallery the app does not manage, with the reason shown; nothing is dead-lettered", async () => {
    const w = await start();
    const many = Array.from({ length: 300 }, (_, i) => GALLERY_ID.replace(/galleries\/[^/]+$/, `galleries/g${String(i).padStart(4, "0")}`));
    const tooMany = id("eeeeeeee", 1);
    const unmanaged = id("eeeeeeee", 2);
    const base = { schema: "onboarding/v1", tenantId: CONSUMERS[0].tenantId, displayName: CONSUMERS[0].name, mode: "direct" };
    await send(w, [
      { ...base, requestId: tooMany, galleries: many },
      { ...base, requestId: unmanaged, galleries: [GALLERY_ID, many[7]] },
    ]);
    await w.host.durable.runUntilIdle();
    const first = await get(w, `requests/${tooMany}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: "rejected" });
    expect(first.body.fields).toContainEqual({ path: "galleries", rule: "must list at most 50 galleries" });
    const second = await get(w, `requests/${unmanaged}`);
    expect(second.body).toMatchObject({ state: "rejected", fields: [{ path: "galleries[1]", rule: "is not a gallery this app manages (GALLERY_IDS)" }] });
    expect(w.serviceBus.queues.get(ONBOARDING_QUEUE)).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 0 });
    expect(w.host.durable.listInstances().filter((i) => i.name === "onboardTenant")).toEqual([]);
  });

  it("rejects a malformed message with every field named, never retries it, and shows it", async () => {
    const w = await start();
    const requestId = id("dddddddd", 1);
    await send(w, [{ schema: "onboarding/v1", requestId, tenantId: "contoso", mode: "sideways", galleries: [], surprise: true }]);
    await w.host.durable.runUntilIdle();
    const request = await get(w, `requests/${requestId}`);
    expect(request.status).toBe(200);
    expect(request.body.state).toBe("rejected");
    expect((request.body.fields as { path: string }[]).map((f) => f.path).sort()).toEqual(["displayName", "galleries", "mode", "surprise", "tenantId"]);
    // Delivered once and completed: no redelivery, nothing dead-lettered, no orchestration.
    const deliveries = w.serviceBus.records().filter((r) => r.event === "deliver" && r.messageId === requestId);
    expect(deliveries).toHaveLength(1);
    expect(w.serviceBus.queues.get(ONBOARDING_QUEUE)).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 0 });
    expect(w.host.durable.listInstances().filter((i) => i.name === "onboardTenant")).toEqual([]);
    expect((w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string }[]).map((e) => e.type)).toContain("GalleryShare.RequestRejected");
  });

  it("does the work of one requestId once, even when it arrives twice", async () => {
    const w = await start();
    const message = onboarding(7, CONSUMERS[0].tenantId);
    // Two different Service Bus message ids, so duplicate detection does not catch it: the app must.
    await send(w, [message, message], ["first-delivery", "second-delivery"]);
    await w.host.durable.runUntilIdle();
    await w.host.durable.waitFor(`onboard-${message.requestId}`);
    expect(w.host.durable.listInstances().filter((i) => i.name === "onboardTenant")).toHaveLength(1);
    expect(armLog(w).filter(isShareCall)).toHaveLength(1);
  });

  it("onboarding then offboarding leaves the gallery's sharing and role assignments as they were (direct and principal)", async () => {
    const w = await start();
    const before = w.emulator.control.requestLog().length;
    const sharingBefore = await sharingOf(PUBLISHER.gallery);
    const assignmentsBefore = await assignmentsOf(GALLERY_ID);
    // A B2B guest of the publisher tenant: a user object there, as the invitation creates it.
    const guest = w.emulator.control.addUser({ tenantId: PUBLISHER.tenantId, objectId: id("eeeeeeee", 1), displayName: "guest from Northwind" });
    const principal = { objectId: guest.objectId, type: "User" };
    await send(w, [onboarding(8, CONSUMERS[0].tenantId), onboarding(9, CONSUMERS[1].tenantId, { mode: "principal", principal })]);
    await w.host.durable.runUntilIdle();
    expect((await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 8)}`)).output).toMatchObject({ state: "active" });
    const principalOnboarding = await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 9)}`);
    expect(principalOnboarding.output, JSON.stringify(principalOnboarding.output)).toMatchObject({ state: "active" });
    const assignments = armLog(w)
      .slice(before)
      .filter((x) => x.method === "PUT" && x.url.includes("/roleAssignments/"));
    expect(assignments.map((x) => x.status)).toEqual([201]);

    await send(w, [
      { schema: "offboarding/v1", requestId: id("ffffffff", 8), tenantId: CONSUMERS[0].tenantId },
      { schema: "offboarding/v1", requestId: id("ffffffff", 9), tenantId: CONSUMERS[1].tenantId },
    ]);
    await w.host.durable.runUntilIdle();
    for (const n of [8, 9]) expect((await w.host.durable.waitFor(`offboard-${id("ffffffff", n)}`)).output).toMatchObject({ state: "offboarded" });
    const deletes = armLog(w).filter((x) => x.method === "DELETE" && x.url.includes("/roleAssignments/"));
    expect(deletes.map((x) => x.status)).toEqual([200]);
    // What the gallery holds now, read as the app reads it: what it held before.
    expect(await sharingOf(PUBLISHER.gallery)).toEqual(sharingBefore);
    expect(sharingBefore).toEqual({ subscriptionIds: [], tenantIds: [] });
    expect(await assignmentsOf(GALLERY_ID)).toEqual(assignmentsBefore);
    expect(assignmentsBefore.length).toBeGreaterThan(0);
    expect((await get(w, `tenants/${CONSUMERS[0].tenantId}`)).body).toMatchObject({ state: "offboarded", grants: [] });
  });

  it("offboarding from one gallery keeps the tenant active on its other, and later publishes share only where it still is", async () => {
    const w = await start();
    await send(w, [onboarding(30, CONSUMERS[1].tenantId, { galleries: [GALLERY_ID, GALLERY_2] })]);
    await w.host.durable.runUntilIdle();
    expect((await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 30)}`)).output).toMatchObject({ state: "active" });
    await send(w, [{ schema: "offboarding/v1", requestId: id("ffffffff", 30), tenantId: CONSUMERS[1].tenantId, galleries: [GALLERY_ID] }]);
    await w.host.durable.runUntilIdle();
    expect((await w.host.durable.waitFor(`offboard-${id("ffffffff", 30)}`)).output).toMatchObject({ state: "active" });
    const tenant = (await get(w, `tenants/${CONSUMERS[1].tenantId}`)).body as { state: string; grants: { galleryId: string }[] };
    expect(tenant.state).toBe("active");
    expect(tenant.grants.map((g) => g.galleryId)).toEqual([GALLERY_2]);
    expect(await sharingOf(PUBLISHER.gallery)).toEqual({ subscriptionIds: [], tenantIds: [] });
    // A new version of the first gallery does not give the tenant its access back.
    const versionId = w.publishVersion("12.0.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
    await w.deliver([versionWriteEvent(versionId)]);
    expect((await w.host.durable.waitFor(publishInstanceId(versionId))).runtimeStatus).toBe("Completed");
    expect(await sharingOf(PUBLISHER.gallery)).toEqual({ subscriptionIds: [], tenantIds: [] });
    expect(await sharingOf("contoso_extras")).toEqual({ subscriptionIds: [], tenantIds: [CONSUMERS[1].tenantId] });
  });

  it("a publish that was waiting for replication while a tenant was onboarded shares to that tenant too", async () => {
    const w = await start();
    const versionId = w.publishVersion("11.0.0", { regionMinutes: { westeurope: 60, northeurope: 60, eastus: 60 } });
    await w.deliver([versionWriteEvent(versionId)]);
    await w.host.durable.runUntilIdle();
    await send(w, [onboarding(12, CONSUMERS[2].tenantId)]);
    await w.host.durable.runUntilIdle();
    expect((await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 12)}`)).output).toMatchObject({ state: "active" });
    const status = await w.host.durable.waitFor(publishInstanceId(versionId));
    expect(status.runtimeStatus).toBe("Completed");
    const output = status.output as { added: { tenantIds: string[] }; alreadyShared: { tenantIds: string[] } };
    expect([...output.added.tenantIds, ...output.alreadyShared.tenantIds]).toEqual([CONSUMERS[2].tenantId]);
  });

  it("holds a principal's role assignment back until its slot when the subscription's ARM write budget is spent", async () => {
    const w = await start();
    const t0 = w.clock.now();
    // 200 writes booked a moment ago (an onboarding wave): the role assignment's slot is 2.1 s on,
    // leaving 20 writes for share calls.
    const schedule = createServices(loadConfig(process.env)).armWrites;
    for (let i = 0; i < 200; i++) await schedule.reserve(PUBLISHER.subscriptionId, t0, 0);
    const guest = w.emulator.control.addUser({ tenantId: PUBLISHER.tenantId, objectId: id("eeeeeeee", 2), displayName: "guest" });
    await send(w, [onboarding(12, CONSUMERS[1].tenantId, { mode: "principal", principal: { objectId: guest.objectId, type: "User" } })]);
    const status = await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", 12)}`);
    expect(status.output, JSON.stringify(status.output)).toMatchObject({ state: "active" });
    const writes = armLog(w).filter((x) => x.method === "PUT" && /\/roleAssignments\//i.test(x.url));
    expect(writes).toHaveLength(1);
    // Sent once, after the slot: held back by the app, not refused by ARM.
    expect(writes[0]!.status).toBe(201);
    expect(timeOf(writes[0]!) - t0).toBeGreaterThanOrEqual(2_100);
    expect(armLog(w).filter((x) => x.status === 429)).toEqual([]);
  });
});
