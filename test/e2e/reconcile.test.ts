// Self-healing: the reconciler (hourly, and on POST /api/reconcile) runs a publish that failed for a
// transient reason again once Azure answers, never a failed replication; and it reports and repairs
// drift between the registry and Azure: a share target or a role assignment removed behind the
// app's back comes back, a target nobody registered is reported and left alone.
import { describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, OUTCOME_TOPIC, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { VirtualClock } from "../../local/clock";
import { loadConfig } from "../../src/config";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { createServices } from "../../src/services";
import { armLog, isShareCall, sendRequests, useWorlds } from "./support";

const worlds = useWorlds();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const id = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, "0")}`;

/** Lets simulated time pass in steps, so hourly timers and durable timers fire on the way. */
async function pass(w: World, ms: number, step = 5 * MINUTE): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    virtual(w).advance(Math.min(step, ms - done));
    await w.host.durable.runUntilIdle();
  }
}

function virtual(w: World): VirtualClock {
  if (!(w.clock instanceof VirtualClock)) throw new Error("this test needs the world's virtual clock");
  return w.clock;
}

async function get(w: World, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${w.host.baseUrl}/api/${path}`, { headers: { "x-functions-key": w.host.functionKey } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function post(w: World, path: string): Promise<Response> {
  return fetch(`${w.host.baseUrl}/api/${path}`, { method: "POST", headers: { "x-functions-key": w.host.functionKey } });
}

describe("reconciler: failed publishes", () => {
  it("a publish failed by a two-hour ARM outage completes by itself within the next reconcile period; a failed replication is not re-run", async () => {
    const w = await worlds.start({ settings: { RECONCILE_SCHEDULE: "0 0 * * * *" } });
    // Start on the hour, so reconcile periods are whole hours from here.
    virtual(w).advance(HOUR - (w.clock.now() % HOUR));
    const broken = w.publishVersion("7.0.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 }, failRegions: { eastus: "Disk copy failed" } });
    expect((await w.deliver([versionWriteEvent(broken)])).status).toBe(202);
    expect((await w.host.durable.waitFor(publishInstanceId(broken))).runtimeStatus).toBe("Failed");

    const outageStart = w.clock.now();
    const outage = w.emulator.control.fault({ path: /^\/subscriptions\//, status: 503, probability: 1, code: "ServiceUnavailable" });
    const versionId = w.publishVersion("7.1.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
    const instanceId = publishInstanceId(versionId);
    expect((await w.deliver([versionWriteEvent(versionId)])).status).toBe(202);
    const failed = await w.host.durable.waitFor(instanceId);
    expect(failed.runtimeStatus).toBe("Failed");
    expect((failed.customStatus as { error: { code: string } }).error.code).toBe("RetriesExhausted");

    await pass(w, outageStart + 2 * HOUR - w.clock.now());
    w.emulator.control.removeFault(outage);
    const outageEnd = w.clock.now();
    await pass(w, HOUR + 15 * MINUTE);
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");
    expect(new Date(status.lastUpdatedTime).getTime()).toBeLessThanOrEqual(outageEnd + HOUR + 15 * MINUTE);
    expect((status.input as { recovery?: { attempt: number } }).recovery?.attempt).toBeGreaterThanOrEqual(1);
    expect(armLog(w).filter((x) => isShareCall(x) && x.status < 300)).toHaveLength(1);

    // The failed replication stays failed: nothing re-read it, one failure event.
    expect((await w.host.durable.waitFor(publishInstanceId(broken))).runtimeStatus).toBe("Failed");
    const failures = (w.emulator.control.receivedEvents(OUTCOME_TOPIC) as { type: string; subject: string }[]).filter(
      (e) => e.type === "GalleryShare.ImageVersionShareFailed" && e.subject.toLowerCase() === broken.toLowerCase(),
    );
    expect(failures).toHaveLength(1);
  });

  it("an operator runs a failed publish again; a running or completed one is refused", async () => {
    const w = await worlds.start();
    const fault = w.emulator.control.fault({ path: /^\/subscriptions\//, status: 503, probability: 1 });
    const versionId = w.publishVersion("7.2.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
    const instanceId = publishInstanceId(versionId);
    await w.deliver([versionWriteEvent(versionId)]);
    expect((await w.host.durable.waitFor(instanceId)).runtimeStatus).toBe("Failed");
    w.emulator.control.removeFault(fault);
    const retried = await post(w, `publishes/${instanceId}/retry`);
    expect(retried.status).toBe(202);
    expect(await retried.json()).toMatchObject({ instanceId, attempt: 1 });
    expect((await w.host.durable.waitFor(instanceId)).runtimeStatus).toBe("Completed");
    expect((await post(w, `publishes/${instanceId}/retry`)).status).toBe(409);
    expect((await post(w, "publishes/publish-nothing/retry")).status).toBe(404);
  });
});

describe("reconciler: drift", () => {
  it("reports and repairs a share target and a role assignment removed behind the app's back; an unknown tenant is reported and left alone", async () => {
    const w = await worlds.start({
      settings: { SHARE_TENANT_IDS: "" },
      publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
    });
    expect((await get(w, "drift")).status).toBe(404);
    const guest = w.emulator.control.addUser({ tenantId: PUBLISHER.tenantId, objectId: id("eeeeeeee", 2), displayName: "guest" });
    const base = { schema: "onboarding/v1", galleries: [GALLERY_ID] };
    await sendRequests(w, [
      { ...base, requestId: id("aaaaaaaa", 1), tenantId: CONSUMERS[0].tenantId, displayName: "Direct", mode: "direct" },
      {
        ...base,
        requestId: id("aaaaaaaa", 2),
        tenantId: CONSUMERS[1].tenantId,
        displayName: "Principal",
        mode: "principal",
        principal: { objectId: guest.objectId, type: "User" },
      },
    ]);
    await w.host.durable.runUntilIdle();
    for (const n of [1, 2]) expect((await w.host.durable.waitFor(`onboard-${id("aaaaaaaa", n)}`)).output).toMatchObject({ state: "active" });

    // Behind the app's back: the direct tenant's share removed, the guest's Reader deleted, a stranger added.
    const services = createServices(loadConfig(process.env));
    const compute = services.arm.compute(PUBLISHER.subscriptionId);
    const stranger = id("cccccccc", 9);
    await compute.gallerySharingProfile.update(PUBLISHER.resourceGroup, PUBLISHER.gallery, {
      operationType: "Remove",
      groups: [{ type: "AADTenants", ids: [CONSUMERS[0].tenantId] }],
    });
    await compute.gallerySharingProfile.update(PUBLISHER.resourceGroup, PUBLISHER.gallery, {
      operationType: "Add",
      groups: [{ type: "AADTenants", ids: [stranger] }],
    });
    const authorization = services.arm.authorization(PUBLISHER.subscriptionId);
    let deleted = 0;
    for await (const a of authorization.roleAssignments.listForScope(GALLERY_ID)) {
      if (a.principalId === guest.objectId && a.id) {
        await authorization.roleAssignments.deleteById(a.id);
        deleted++;
      }
    }
    expect(deleted).toBe(1);

    expect((await post(w, "reconcile")).status).toBe(202);
    await w.host.durable.runUntilIdle();
    expect((await w.host.durable.waitFor("reconcile")).runtimeStatus).toBe("Completed");
    const drift = (await get(w, "drift")).body as {
      galleries: {
        sharing: { missing: { tenantIds: string[] }; unexpected: { tenantIds: string[] } };
        missingRoleAssignments: { tenantId: string }[];
        tenants: { tenantId: string; state: string }[];
        repaired: { shareTargets: number; roleAssignments: number };
      }[];
    };
    const [gallery] = drift.galleries;
    expect(gallery?.sharing.missing.tenantIds).toEqual([CONSUMERS[0].tenantId.toLowerCase()]);
    expect(gallery?.sharing.unexpected.tenantIds).toEqual([stranger]);
    expect(gallery?.missingRoleAssignments.map((m) => m.tenantId)).toEqual([CONSUMERS[1].tenantId]);
    expect(gallery?.tenants.map((t) => t.state)).toEqual(["missing", "missing"]);
    expect(gallery?.repaired).toMatchObject({ shareTargets: 1, roleAssignments: 1, removedUnknown: 0 });
    const types = (w.emulator.control.receivedEvents(OUTCOME_TOPIC) as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["GalleryShare.DriftDetected", "GalleryShare.DriftRepaired"]));

    // Repaired in Azure: the next pass finds both tenants in sync, the stranger still there and still reported.
    const gallery2 = await compute.galleries.get(PUBLISHER.resourceGroup, PUBLISHER.gallery, { expand: "SharingProfile/Groups" });
    const tenantsShared = (gallery2.sharingProfile?.groups ?? []).filter((g) => g.type === "AADTenants").flatMap((g) => g.ids ?? []);
    expect(tenantsShared.map((t) => t.toLowerCase()).sort()).toEqual([CONSUMERS[0].tenantId.toLowerCase(), stranger].sort());
    expect((await post(w, "reconcile")).status).toBe(202);
    await w.host.durable.runUntilIdle();
    await w.host.durable.waitFor("reconcile");
    const again = (await get(w, "drift")).body as typeof drift;
    expect(again.galleries[0]?.tenants.map((t) => t.state)).toEqual(["in-sync", "in-sync"]);
    expect(again.galleries[0]?.sharing.unexpected.tenantIds).toEqual([stranger]);
  });
});
