// The publish-to-share workflow end to end: the app's functions in the local host, the real
// @azure/arm-compute / @azure/identity / @azure/eventgrid clients, the emulator, one virtual clock.
import { describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, OUTCOME_TOPIC, PUBLISHER, imageVersionId, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { readAuditRows } from "../../local/auditTrail";
import { aggregatedState, armLog, isShareCall, isVersionRead, timeOf, useWorlds } from "./support";

const MINUTE = 60_000;
const worlds = useWorlds();
const start = (settings: Record<string, string> = {}): Promise<World> => worlds.start({ settings });

async function publishAndDeliver(w: World, version: string, regionMinutes: Record<string, number>, failRegions?: Record<string, string>) {
  const versionId = w.publishVersion(version, { regionMinutes, ...(failRegions ? { failRegions } : {}) });
  const response = await w.deliver([versionWriteEvent(versionId)]);
  expect(response.status).toBe(202);
  return { versionId, instanceId: publishInstanceId(versionId) };
}

describe("publish -> share", () => {
  it("(a) shares only after replication completed, with one share call for all targets", async () => {
    const w = await start({ AUDIT_TABLE_NAME: "auditsharedonce" });
    const publishedAt = w.clock.now();
    // Home region (westeurope) first, then the others: complete after 20 + 50 minutes.
    const { instanceId } = await publishAndDeliver(w, "1.0.0", { westeurope: 20, northeurope: 42, eastus: 50 });
    const status = await w.host.durable.waitFor(instanceId, undefined, { maxSimulatedMs: 6 * 60 * MINUTE });
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");

    const log = armLog(w);
    const shares = log.filter(isShareCall);
    expect(shares).toHaveLength(1);
    const shareIndex = log.indexOf(shares[0]!);
    const reads = log.filter(isVersionRead);
    const firstCompleted = log.findIndex((x) => isVersionRead(x) && aggregatedState(x) === "Completed");
    expect(firstCompleted).toBeGreaterThanOrEqual(0);
    expect(shareIndex).toBeGreaterThan(firstCompleted);
    expect(reads.slice(0, -1).every((x) => aggregatedState(x) !== "Completed")).toBe(true);
    expect(timeOf(shares[0]!)).toBeGreaterThanOrEqual(publishedAt + 70 * MINUTE);

    const output = status.output as { added: { tenantIds: string[] }; shareCalls: number };
    expect(output.shareCalls).toBe(1);
    expect([...output.added.tenantIds].sort()).toEqual(CONSUMERS.map((c) => c.tenantId).sort());

    const events = w.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string; subject: string }>;
    expect(events.map((e) => e.type)).toEqual(["GalleryShare.ImageVersionShared"]);
    expect(events[0]!.subject.toLowerCase()).toBe(imageVersionId("1.0.0").toLowerCase());

    // The audit table (Azurite) says who got access to what.
    const rows = await readAuditRows(w.settings, GALLERY_ID);
    expect(rows.map((r) => [r.targetKind, r.targetId, r.result, r.rowKey.split("|")[1]]).sort()).toEqual(
      CONSUMERS.map((c) => ["tenant", c.tenantId, "added", "1.0.0"]).sort(),
    );
  });

  it("(a) makes no share call when every target already has access", async () => {
    const w = await start();
    const first = await publishAndDeliver(w, "1.0.0", { westeurope: 30, northeurope: 30, eastus: 30 });
    await w.host.durable.waitFor(first.instanceId);
    const second = await publishAndDeliver(w, "1.0.1", { westeurope: 30, northeurope: 30, eastus: 30 });
    const status = await w.host.durable.waitFor(second.instanceId);
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    expect((status.output as { shareCalls: number }).shareCalls).toBe(0);
    expect(armLog(w).filter(isShareCall)).toHaveLength(1);
  });

  it("(b) ten interleaved deliveries of one event start one orchestration and make one share call", async () => {
    const w = await start();
    const versionId = w.publishVersion("2.0.0", { regionMinutes: { westeurope: 30, northeurope: 30, eastus: 30 } });
    const event = versionWriteEvent(versionId);
    const instanceId = publishInstanceId(versionId);
    // Five at once, then five more while the orchestration waits, one of them in CloudEvents form
    // with different id casing: Azure may deliver any of these.
    const burst = await Promise.all(Array.from({ length: 5 }, () => w.deliver([event])));
    expect(burst.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    await w.host.durable.runUntilIdle();
    const cloudEvent = {
      specversion: "1.0",
      id: "evt-cloud",
      source: `/subscriptions/${PUBLISHER.subscriptionId}/resourceGroups/${PUBLISHER.resourceGroup}`,
      subject: versionId.toUpperCase(),
      type: "Microsoft.Resources.ResourceWriteSuccess",
      time: "2026-01-01T08:00:00Z",
      data: { ...(event.data as object), resourceUri: versionId.toLowerCase() },
    };
    const later = await Promise.all([w.deliver([event]), w.deliver(event), w.deliver([cloudEvent]), w.deliver([event, event])]);
    expect(later.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    expect(w.host.durable.listInstances().filter((i) => i.name === "publishImageVersion")).toHaveLength(1);
    expect(armLog(w).filter(isShareCall)).toHaveLength(1);
    // Delivered again after completion: still nothing new.
    expect((await w.deliver([event])).status).toBe(202);
    await w.host.durable.runUntilIdle();
    expect(w.host.durable.listInstances().filter((i) => i.name === "publishImageVersion")).toHaveLength(1);
    expect(armLog(w).filter(isShareCall)).toHaveLength(1);
  });

  it("(c) a region failure ends Failed naming the region, with no share call", async () => {
    const w = await start();
    const { instanceId } = await publishAndDeliver(
      w,
      "3.0.0",
      { westeurope: 30, northeurope: 45, eastus: 40 },
      { northeurope: "Disk copy failed: storage account throttled" },
    );
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus).toBe("Failed");
    const custom = status.customStatus as { step: string; error: { code: string; failedRegions: Array<{ region: string }> } };
    expect(custom.step).toBe("failed");
    expect(custom.error.code).toBe("ReplicationFailed");
    expect(custom.error.failedRegions.map((r) => r.region.replace(/\s/g, "").toLowerCase())).toEqual(["northeurope"]);
    expect(JSON.stringify(status.output)).toMatch(/North ?Europe/i);
    expect(armLog(w).filter(isShareCall)).toHaveLength(0);
    const events = w.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string }>;
    expect(events.map((e) => e.type)).toEqual(["GalleryShare.ImageVersionShareFailed"]);
  });

  it("(c) the same event delivered again after a failure starts nothing: 200 deliveries, 20 at once", async () => {
    const w = await start();
    const { versionId, instanceId } = await publishAndDeliver(w, "3.0.1", { westeurope: 30, northeurope: 45, eastus: 40 }, { eastus: "Quota exceeded" });
    expect((await w.host.durable.waitFor(instanceId)).runtimeStatus).toBe("Failed");
    const reads = (): number => armLog(w).filter((x) => x.method === "GET" && x.url.includes("/versions/3.0.1")).length;
    const readsBefore = reads();
    const event = versionWriteEvent(versionId);
    for (let wave = 0; wave < 10; wave++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => w.deliver([event])));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 202));
    }
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus).toBe("Failed");
    expect(reads()).toBe(readsBefore);
    const failed = (w.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string }>).filter(
      (e) => e.type === "GalleryShare.ImageVersionShareFailed",
    );
    expect(failed).toHaveLength(1);
  });

  it("(c) starts again after a failure once the publisher fixes the version", async () => {
    const w = await start();
    const { versionId, instanceId } = await publishAndDeliver(w, "3.1.0", { westeurope: 30, northeurope: 45, eastus: 40 }, { eastus: "Quota exceeded" });
    expect((await w.host.durable.waitFor(instanceId)).runtimeStatus).toBe("Failed");
    // The publisher drops the failing region (a version PUT, which fires a new write event).
    w.publishVersion("3.1.0", { regions: ["westeurope", "northeurope"] });
    expect((await w.deliver([versionWriteEvent(versionId, { id: "evt-retry" })])).status).toBe(202);
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    expect((status.output as { shareCalls: number }).shareCalls).toBe(1);
    expect(armLog(w).filter(isShareCall)).toHaveLength(1);
  });

  it("gives up after REPLICATION_TIMEOUT_MINUTES, naming the regions still replicating", async () => {
    const w = await start({ REPLICATION_TIMEOUT_MINUTES: "45" });
    const publishedAt = w.clock.now();
    const { instanceId } = await publishAndDeliver(w, "3.2.0", { westeurope: 20, northeurope: 60, eastus: 30 });
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus).toBe("Failed");
    const error = (status.customStatus as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("ReplicationTimeout");
    expect(error.message).toMatch(/did not complete within 45 minutes/);
    expect(error.message).toMatch(/North Europe Replicating/);
    expect(w.clock.now() - publishedAt).toBeLessThanOrEqual(46 * MINUTE);
    expect(armLog(w).filter(isShareCall)).toHaveLength(0);
  });

  it("refuses to direct-share an encrypted version, naming the rule, without a share call", async () => {
    const w = await start();
    const versionId = w.publishVersion("3.3.0", { regionMinutes: { westeurope: 10, northeurope: 10, eastus: 10 }, encrypted: true });
    expect((await w.deliver([versionWriteEvent(versionId)])).status).toBe(202);
    const status = await w.host.durable.waitFor(publishInstanceId(versionId));
    expect(status.runtimeStatus).toBe("Failed");
    const error = (status.customStatus as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("encrypted-version");
    expect(armLog(w).filter(isShareCall)).toHaveLength(0);
  });

  it("confirms the share by reading it back when ARM ends the share LRO with an empty body", async () => {
    // @azure/arm-compute 25 throws a TypeError on that body although the share succeeded.
    const w = await worlds.start({ emulator: { replication: { jitter: 0 }, lro: { emptyShareResult: true } } });
    const { instanceId } = await publishAndDeliver(w, "3.4.0", { westeurope: 10, northeurope: 10, eastus: 10 });
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    expect((status.output as { shareCalls: number }).shareCalls).toBe(1);
    const log = armLog(w);
    expect(log.filter(isShareCall)).toHaveLength(1);
    const finalPoll = log.filter((x) => /monitor=true/.test(x.url) && x.status === 200);
    expect(finalPoll.length).toBeGreaterThan(0);
    expect(finalPoll.every((x) => x.responseBody === null || x.responseBody === "")).toBe(true);
    // The read-back after the share.
    const shareIndex = log.findIndex(isShareCall);
    expect(log.slice(shareIndex).some((x) => x.method === "GET" && /SharingProfile/i.test(x.url))).toBe(true);
  });

  it("with no registered targets, waits for replication and reports it without changing the gallery", async () => {
    const w = await start({ SHARE_TENANT_IDS: "" });
    const { instanceId } = await publishAndDeliver(w, "3.5.0", { westeurope: 10, northeurope: 10, eastus: 10 });
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    expect(status.output).toMatchObject({ shareCalls: 0, added: { subscriptionIds: [], tenantIds: [] } });
    // The gallery is read (a community gallery would need publishing), never written.
    expect(armLog(w).filter((x) => isShareCall(x) || (x.method !== "GET" && /\/galleries\//.test(x.url)))).toEqual([]);
  });

  it("gives up after ACTIVITY_RETRY_ATTEMPTS when ARM keeps failing, saying what failed", async () => {
    const w = await start({ ACTIVITY_RETRY_ATTEMPTS: "2", ACTIVITY_RETRY_FIRST_SECONDS: "1" });
    w.emulator.control.fault({ method: "GET", path: "/versions/", status: 503, count: 1000 });
    const { instanceId } = await publishAndDeliver(w, "3.6.0", { westeurope: 10, northeurope: 10, eastus: 10 });
    const status = await w.host.durable.waitFor(instanceId, undefined, { timeoutMs: 60_000 });
    expect(status.runtimeStatus).toBe("Failed");
    const error = (status.customStatus as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("RetriesExhausted");
    expect(error.message).toMatch(/^readImageVersion failed 2 times: ServiceUnavailable \(503\): /);
    expect(error.message).not.toContain("\n");
    expect(error.message.length).toBeLessThanOrEqual(600);
  });

  it("(d) waits out Retry-After 120 s on a durable timer, though the first retry is 5 s, and ends right", async () => {
    const w = await start({ ACTIVITY_RETRY_FIRST_SECONDS: "5" });
    const control = w.emulator.control;
    control.fault({ method: "GET", path: "/versions/", status: 429, count: 2, retryAfterSeconds: 120 });
    control.fault({ method: "POST", path: "/share", status: 503, count: 1, retryAfterSeconds: 120 });
    const { instanceId } = await publishAndDeliver(w, "4.0.0", { westeurope: 30, northeurope: 30, eastus: 30 });
    const status = await w.host.durable.waitFor(instanceId, undefined, { timeoutMs: 50_000 });
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");

    const log = armLog(w);
    const refused = log.filter((x) => x.status === 429 || x.status === 503);
    expect(refused.map((x) => x.status)).toEqual([429, 429, 503]);
    expect(refused.every((x) => x.responseHeaders?.["retry-after"] === "120")).toBe(true);
    // The SDK does not retry inside the activity: every next attempt is the orchestration's, after
    // a durable timer of at least Retry-After in simulated time (never the 5 s first backoff).
    for (const x of refused) {
      const i = log.indexOf(x);
      const next = log.slice(i + 1).find((y) => y.method === x.method && y.url === x.url);
      expect(next, `an attempt after ${x.method} ${x.url}`).toBeDefined();
      expect(timeOf(next!) - timeOf(x)).toBeGreaterThanOrEqual(120_000);
      expect(next!.realTime! - x.realTime!).toBeLessThan(5_000);
    }
    expect(log.filter((x) => isShareCall(x) && x.status < 300)).toHaveLength(1);
  });

  it("(d) retries 5xx storms with the backoff doubling from the first retry, within the attempt budget", async () => {
    const w = await start({ ACTIVITY_RETRY_FIRST_SECONDS: "5", ACTIVITY_RETRY_ATTEMPTS: "6" });
    w.emulator.control.fault({ method: "POST", path: "/share", status: 500, count: 4 });
    const { instanceId } = await publishAndDeliver(w, "4.1.0", { westeurope: 30, northeurope: 30, eastus: 30 });
    const status = await w.host.durable.waitFor(instanceId, undefined, { timeoutMs: 50_000 });
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    const shares = armLog(w).filter(isShareCall);
    expect(shares.map((x) => x.status)).toEqual([500, 500, 500, 500, expect.any(Number)]);
    const gaps = shares.slice(1).map((x, i) => Math.round((timeOf(x) - timeOf(shares[i]!)) / 1000));
    // The gallery is read before each share attempt, in the same activity: gaps are the backoff (5, 10, 20, 40 s).
    expect(gaps).toEqual([5, 10, 20, 40]);
  });

  it("(e) ignores events for an unconfigured gallery, for a storage account, and for a failed write", async () => {
    const w = await start();
    const otherGallery = versionWriteEvent(imageVersionId("5.0.0").replace(PUBLISHER.gallery, "other_gallery"), { id: "e1" });
    const storage = versionWriteEvent(
      `/subscriptions/${PUBLISHER.subscriptionId}/resourceGroups/${PUBLISHER.resourceGroup}/providers/Microsoft.Storage/storageAccounts/sa1`,
      { id: "e2" },
    );
    (storage.data as Record<string, unknown>).operationName = "Microsoft.Storage/storageAccounts/write";
    (storage.data as Record<string, unknown>).resourceProvider = "Microsoft.Storage";
    const failedWrite = versionWriteEvent(w.publishVersion("5.0.1"), { id: "e3", status: "Failed" });
    const response = await w.deliver([otherGallery, storage, failedWrite]);
    expect(response.status).toBe(202);
    await w.host.durable.runUntilIdle();
    expect(w.host.durable.listInstances()).toEqual([]);
    expect(armLog(w).filter((x) => x.url.includes("/providers/Microsoft.Compute/"))).toEqual([]);
  });

  it("(e) a malformed event is refused with 500 so Event Grid retries and dead-letters it", async () => {
    const w = await start();
    const bad = versionWriteEvent(imageVersionId("6.0.0"));
    (bad.data as Record<string, unknown>).resourceUri = "/subscriptions/not-a-guid/whatever";
    const response = await w.deliver([bad]);
    expect(response.status).toBe(500);
    expect(w.host.durable.listInstances()).toEqual([]);
  });

  it("(g) answers the SubscriptionValidation handshake and refuses a request without aeg-event-type", async () => {
    const w = await start();
    const validation = [
      {
        id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        topic: `/subscriptions/${PUBLISHER.subscriptionId}`,
        subject: "",
        data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://example.invalid/validate" },
        eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
        eventTime: "2026-01-01T08:00:00Z",
        metadataVersion: "1",
        dataVersion: "1",
      },
    ];
    const ok = await w.deliver(validation, "SubscriptionValidation");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
    const missing = await fetch(w.host.eventGridUrl("imageVersionEvents"), { method: "POST", body: "[]", headers: { "content-type": "application/json" } });
    expect(missing.status).toBe(400);
  });

  it("serves the documented status shape over GET /api/status/{instanceId} with the function key", async () => {
    const w = await start();
    const { instanceId } = await publishAndDeliver(w, "7.0.0", { westeurope: 30, northeurope: 30, eastus: 30 });
    await w.host.durable.runUntilIdle();
    const url = `${w.host.baseUrl}/api/status/${instanceId}`;
    expect((await fetch(url)).status).toBe(401);
    const running = await fetch(url, { headers: { "x-functions-key": w.host.functionKey } });
    expect(running.status).toBe(200);
    const body = (await running.json()) as { runtimeStatus: string; customStatus: { step: string; replication: { regions: unknown[]; nextReadAt?: string } } };
    expect(body.runtimeStatus).toBe("Running");
    expect(body.customStatus.step).toBe("waiting-for-replication");
    expect(body.customStatus.replication.regions).toHaveLength(3);
    expect(body.customStatus.replication.nextReadAt).toBeDefined();
    const missing = await fetch(`${w.host.baseUrl}/api/status/publish-nope?code=${w.host.functionKey}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "InstanceNotFound", message: "no orchestration instance publish-nope" } });
    const bad = await fetch(`${w.host.baseUrl}/api/status/${encodeURIComponent("a b")}?code=${w.host.functionKey}`);
    expect(bad.status).toBe(400);
  });

  it("stops at once with the ARM error code when the app lacks the sharing role", async () => {
    const w = await worlds.start({ publisherRoles: ["Reader"] });
    const { instanceId } = await publishAndDeliver(w, "8.0.0", { westeurope: 30, northeurope: 30, eastus: 30 });
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus).toBe("Failed");
    const error = (status.customStatus as { error: { code: string; missingAction?: string } }).error;
    expect(error.code).toBe("AuthorizationFailed");
    expect(error.missingAction).toMatch(/galleries\/share\/action/i);
    // Permanent: one share attempt, no retries.
    expect(armLog(w).filter(isShareCall)).toHaveLength(1);
  });
});

describe("publish -> share when Entra has a bad moment", () => {
  for (const fault of [
    {
      what: "503 temporarily_unavailable",
      spec: { status: 503, code: "temporarily_unavailable", message: "AADSTS50000: There was an error issuing a token." },
    },
    { what: "a dropped connection", spec: { drop: true } },
  ]) {
    it(`rides out 4 token-endpoint failures (${fault.what}) and completes`, async () => {
      const w = await start({ ACTIVITY_RETRY_FIRST_SECONDS: "5", ACTIVITY_RETRY_ATTEMPTS: "8" });
      // Whichever token endpoint the app's credential uses (managed identity or Entra's token endpoint) fails 4 times.
      const tokenPath = /\/msi\/token|\/oauth2\/v2\.0\/token/;
      w.emulator.control.fault({ path: tokenPath, count: 4, ...fault.spec });
      const { instanceId } = await publishAndDeliver(w, "6.0.0", { westeurope: 20, northeurope: 20, eastus: 20 });
      const status = await w.host.durable.waitFor(instanceId, undefined, { timeoutMs: 50_000 });
      expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");
      const tokenRequests = armLog(w).filter((x) => tokenPath.test(x.url));
      expect(tokenRequests.length).toBeGreaterThanOrEqual(5);
      expect(tokenRequests.slice(0, 4).every((x) => x.status === 0 || x.status >= 500 || x.status === undefined)).toBe(true);
      expect(armLog(w).filter((x) => isShareCall(x) && x.status < 300)).toHaveLength(1);
    });
  }
});

describe("publish -> share: what the workflow trusts and what it records", () => {
  it("stamps the audit rows with the time the share was confirmed, not when replication was detected", async () => {
    const w = await start({ AUDIT_TABLE_NAME: "auditsharetime" });
    // The share call is refused once with Retry-After 10 minutes: the share is confirmed that much later.
    w.emulator.control.fault({ method: "POST", path: "/share", status: 503, count: 1, retryAfterSeconds: 600 });
    const { instanceId } = await publishAndDeliver(w, "7.0.0", { westeurope: 20, northeurope: 20, eastus: 20 });
    const status = await w.host.durable.waitFor(instanceId, undefined, { timeoutMs: 50_000 });
    expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");
    const output = status.output as { replicationDetectedAt: string; sharedAt: string };
    expect(Date.parse(output.sharedAt) - Date.parse(output.replicationDetectedAt)).toBeGreaterThanOrEqual(600_000);
    const rows = await readAuditRows(w.settings, GALLERY_ID);
    expect(rows.length).toBe(CONSUMERS.length);
    expect(new Set(rows.map((r) => r.at))).toEqual(new Set([output.sharedAt]));
  });

  it("reports the share it made when the share call's answer was lost and the retry finds it applied", async () => {
    const w = await start({ ACTIVITY_RETRY_FIRST_SECONDS: "5", ACTIVITY_RETRY_ATTEMPTS: "4" });
    // The share call is accepted; every poll of its operation then loses its answer until the SDK gives up.
    w.emulator.control.fault({ method: "GET", path: "/capsOperations/", drop: true, count: 8 });
    const { instanceId } = await publishAndDeliver(w, "7.1.0", { westeurope: 20, northeurope: 20, eastus: 20 });
    const status = await w.host.durable.waitFor(instanceId, undefined, { timeoutMs: 50_000 });
    expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");
    expect(armLog(w).filter((x) => x.url.includes("/capsOperations/") && x.status === 0).length).toBeGreaterThan(0);
    expect(armLog(w).filter((x) => isShareCall(x) && x.status < 300)).toHaveLength(1);
    const output = status.output as { shareCalls: number; added: { tenantIds: string[] }; alreadyShared: { tenantIds: string[] } };
    expect(output.shareCalls).toBe(1);
    expect([...output.added.tenantIds].sort()).toEqual(CONSUMERS.map((c) => c.tenantId).sort());
    expect(output.alreadyShared.tenantIds).toEqual([]);
  });

  it("refuses an orchestration started for a gallery the app does not manage, before touching it", async () => {
    const w = await start();
    const foreign = imageVersionId("1.0.0").replace(PUBLISHER.gallery, "someone_elses");
    const input = {
      imageVersionId: foreign,
      polling: { minSeconds: 30, maxSeconds: 900, timeoutMinutes: 60 },
      retry: { attempts: 3, firstSeconds: 5 },
      trigger: { eventId: "forged" },
    };
    // The durable HTTP API accepts any input from a caller with the system key: the workflow checks it.
    const id = await w.host.durable.startNew("publishImageVersion", { instanceId: "forged-start", input });
    const status = await w.host.durable.waitFor(id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(status.customStatus)).toMatch(/GalleryNotManaged.*someone_elses.*is not one this app manages/);
    expect(armLog(w).filter((x) => x.url.includes("/providers/Microsoft.Compute/"))).toEqual([]);

    const malformed = await w.host.durable.startNew("publishImageVersion", {
      instanceId: "forged-input",
      input: { imageVersionId: "../../etc", retry: { attempts: 1e9 } },
    });
    const refused = await w.host.durable.waitFor(malformed);
    expect(refused.runtimeStatus).toBe("Failed");
    expect(String(refused.output)).toMatch(/InvalidInput: imageVersionId must be .*; polling must .*; retry must .*; trigger\.eventId is required/);
    expect(armLog(w).filter((x) => x.url.includes("/providers/Microsoft.Compute/"))).toEqual([]);
  });

  it("bounds caller-supplied ids and strips control characters before they reach logs, the status and the outcome event", async () => {
    const lines: string[] = [];
    const w = await worlds.start({ log: (line) => lines.push(line) });
    const versionId = w.publishVersion("8.0.0", { regionMinutes: { westeurope: 10, northeurope: 10, eastus: 10 } });
    const hostileId = `evt\nFORGED LOG LINE ${"x".repeat(1_000_000)}`;
    const event = versionWriteEvent(versionId, { id: hostileId, correlationId: "c\r\nFORGED" });
    expect((await w.deliver([event])).status).toBe(202);
    const status = await w.host.durable.waitFor(publishInstanceId(versionId));
    expect(status.runtimeStatus).toBe("Completed");
    const [sent] = w.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ data: { trigger: { eventId: string; correlationId: string } } }>;
    expect(sent!.data.trigger.eventId.length).toBeLessThanOrEqual(129);
    expect(sent!.data.trigger.eventId).not.toMatch(/[\r\n]/);
    expect(sent!.data.trigger.correlationId).toBe("c  FORGED");
    expect(JSON.stringify(status.input).length).toBeLessThan(2_000);
    expect(lines.some((l) => l.startsWith("FORGED"))).toBe(false);
    expect(lines.join("\n").length).toBeLessThan(200_000);
  });
});
