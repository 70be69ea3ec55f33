// publishImageVersion on the local host with stub activities: no emulator, no Azurite. The real
// orchestrator runs on a virtual clock; each activity is a stub registered under its descriptor's
// name that answers what the test scripts. This covers the branches the end-to-end tests reach only
// through a whole world: replication failing, replication timing out, a permanent read error.
import "../../local/host";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { ImageVersionReading } from "../../src/activities/publishing";
import type { ActivityResult } from "../../src/domain/activityResult";
import { PUBLISH_IMAGE_VERSION, REPLICATION_HINT_EVENT } from "../../src/domain/orchestrationNames";
import type { OutcomeEvent } from "../../src/domain/outcomeEvents";
import { publishImageVersion, type PublishImageVersionInput, type PublishStatus } from "../../src/orchestrations/publishImageVersion";
import { registerStubActivities } from "../support/stubActivities";

const GALLERY = "/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/contoso_golden";
const VERSION = `${GALLERY}/images/ubuntu/versions/1.0.0`;
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

/** What the stub readImageVersion answers, read by read; the last answer repeats. */
let readings: ActivityResult<ImageVersionReading>[] = [];
let reads = 0;
const sent: OutcomeEvent[] = [];

df.app.orchestration(PUBLISH_IMAGE_VERSION, publishImageVersion);
registerStubActivities({
  readImageVersion: () => readings[Math.min(reads++, readings.length - 1)]!,
  sendOutcomeEvent: (event) => {
    sent.push(event);
    return { ok: true, value: { sent: true } };
  },
});

const reading = (
  aggregatedState: string,
  summary: Array<{ region: string; state: string; progress?: number; details?: string }>,
): ActivityResult<ImageVersionReading> => ({
  ok: true,
  value: {
    imageVersionId: VERSION,
    galleryId: GALLERY,
    encrypted: false,
    publishedDate: new Date(T0).toISOString(),
    snapshot: { provisioningState: "Succeeded", targetRegions: summary.map((s) => s.region), replicationStatus: { aggregatedState, summary } },
  },
});

const input = (timeoutMinutes = 60, imageVersionId = VERSION): PublishImageVersionInput => ({
  imageVersionId,
  polling: { minSeconds: 30, maxSeconds: 900, timeoutMinutes },
  retry: { attempts: 3, firstSeconds: 5 },
  trigger: { eventId: "evt-1" },
});

let host: LocalHost;
let clock: VirtualClock;
beforeAll(async () => {
  clock = new VirtualClock(T0);
  // The orchestration and its stubs are registered above; the host loads nothing else.
  host = await startLocalHost({ load: async () => undefined, settings: { TASK_HUB_NAME: "StubHub" }, clock });
});
afterAll(async () => {
  await host?.close();
});

async function run(id: string, script: ActivityResult<ImageVersionReading>[], timeoutMinutes?: number, imageVersionId?: string) {
  readings = script;
  reads = 0;
  sent.length = 0;
  await host.durable.startNew(PUBLISH_IMAGE_VERSION, { instanceId: id, input: input(timeoutMinutes, imageVersionId) });
  return host.durable.waitFor(id, undefined, { maxSimulatedMs: 24 * 3600_000 });
}

describe("publishImageVersion with stub activities", () => {
  it("fails with the failing regions when replication fails, and says so in one outcome event", async () => {
    const status = await run("stub-failed", [
      reading("InProgress", [{ region: "West Europe", state: "Replicating", progress: 40 }]),
      reading("Failed", [{ region: "West Europe", state: "Failed", details: "disk quota exceeded" }]),
    ]);
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toContain("ReplicationFailed");
    const custom = status.customStatus as PublishStatus;
    expect(custom.step).toBe("failed");
    expect(custom.error?.failedRegions).toEqual([{ region: "West Europe", details: "disk quota exceeded" }]);
    expect(reads).toBe(2);
    expect(sent.map((e) => e.type)).toEqual(["GalleryShare.ImageVersionShareFailed"]);
  });

  it("gives up after its timeout while replication is still running, naming the last state", async () => {
    const started = clock.now();
    const status = await run("stub-timeout", [reading("InProgress", [{ region: "West Europe", state: "Replicating", progress: 10 }])], 30);
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toContain("ReplicationTimeout");
    expect(String(status.output)).toContain("within 30 minutes");
    // Every wait is a durable timer; the last read is at the deadline, not after it.
    expect(clock.now() - started).toBe(30 * 60_000);
    expect(sent.map((e) => e.type)).toEqual(["GalleryShare.ImageVersionShareFailed"]);
  });

  it("ends at once on a permanent read error, without waiting or retrying", async () => {
    const started = clock.now();
    const status = await run("stub-forbidden", [{ ok: false, error: { code: "AuthorizationFailed", status: 403, message: "no Reader on the gallery" } }]);
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toContain("AuthorizationFailed: no Reader on the gallery");
    expect(reads).toBe(1);
    expect(clock.now()).toBe(started);
  });

  it("retries a retryable read after its Retry-After on a durable timer", async () => {
    const started = clock.now();
    const status = await run("stub-throttled", [
      { ok: false, error: { code: "TooManyRequests", status: 429, message: "throttled" }, retry: { afterSeconds: 120 } },
      reading("Failed", [{ region: "West Europe", state: "Failed", details: "gone" }]),
    ]);
    expect(status.runtimeStatus).toBe("Failed");
    expect(reads).toBe(2);
    // At least Retry-After, spread over up to as much again (a throttled herd must not come back together).
    expect(clock.now() - started).toBeGreaterThanOrEqual(120_000);
    expect(clock.now() - started).toBeLessThan(240_000);
  });

  it("speaks of the version as ARM spells it, not as the event did", async () => {
    const status = await run("stub-casing", [reading("Failed", [{ region: "West Europe", state: "Failed", details: "quota" }])], 60, VERSION.toUpperCase());
    expect(status.runtimeStatus).toBe("Failed");
    expect((status.customStatus as PublishStatus).imageVersionId).toBe(VERSION);
    expect(sent.map((e) => e.subject)).toEqual([VERSION]);
  });

  it("reads at once on a replication hint, never sooner than the shortest poll after the last read", async () => {
    readings = [
      reading("InProgress", [{ region: "West Europe", state: "Replicating", progress: 10 }]),
      reading("InProgress", [{ region: "West Europe", state: "Replicating", progress: 20 }]),
      reading("Failed", [{ region: "West Europe", state: "Failed", details: "quota" }]),
    ];
    reads = 0;
    sent.length = 0;
    const started = clock.now();
    const status = () => host.durable.getStatus("stub-hint")?.customStatus as PublishStatus;
    await host.durable.startNew(PUBLISH_IMAGE_VERSION, { instanceId: "stub-hint", input: input() });
    await host.durable.runUntilIdle();
    expect(reads).toBe(1);
    const firstWait = Date.parse(status().replication.nextReadAt ?? "") - started;
    expect(firstWait).toBeGreaterThan(60_000);

    // A hint 10 s after the read: the next read comes at the 30 s floor, not at the estimate.
    clock.advance(10_000);
    await host.durable.runUntilIdle();
    await host.durable.raiseEvent("stub-hint", REPLICATION_HINT_EVENT, { eventId: "hint-1" });
    await host.durable.runUntilIdle();
    expect(reads).toBe(1);
    clock.advance(20_000);
    await host.durable.runUntilIdle();
    expect(reads).toBe(2);
    expect(status().replication.hints).toBe(1);

    // A hint long after the floor reads at once; the version's failure then ends the run.
    clock.advance(45_000);
    await host.durable.runUntilIdle();
    expect(reads).toBe(2);
    await host.durable.raiseEvent("stub-hint", REPLICATION_HINT_EVENT, { eventId: "hint-2" });
    await host.durable.runUntilIdle();
    expect(reads).toBe(3);
    expect(clock.now() - started).toBe(75_000);
    expect(host.durable.getStatus("stub-hint")?.runtimeStatus).toBe("Failed");
  });
});
