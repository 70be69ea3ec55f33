// (h) How soon completion is detected and how many reads it takes, over seeded replications of
// 30, 60 and 120 simulated minutes: at most 60 s late and at most 20 reads per hour of replication
// (the budget the issue on replication detection sets; bench/polling.ts measures the strategy).
// Simulated time and counts only; wall time plays no part.
import { describe, expect, it } from "vitest";
import type { VirtualClock } from "../../local/clock";
import { versionWriteEvent } from "../../local/fixtures/world";
import type { PublishStatus } from "../../src/orchestrations/publishImageVersion";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { aggregatedState, armLog, isVersionRead, timeOf, useWorlds } from "./support";

const MINUTE = 60_000;
const worlds = useWorlds();

describe("replication detection", () => {
  it.each([
    // The home region (westeurope) is copied first, the others after it in parallel.
    [30, { westeurope: 10, northeurope: 20, eastus: 15 }],
    [60, { westeurope: 20, northeurope: 40, eastus: 33 }],
    [120, { westeurope: 45, northeurope: 62, eastus: 75 }],
  ])("detects a %i-minute replication within 60 s using at most 20 reads per hour", async (minutes, regionMinutes) => {
    const world = await worlds.start({ seed: minutes });
    const publishedAt = world.clock.now();
    const versionId = world.publishVersion(`9.${minutes}.0`, { regionMinutes });
    expect((await world.deliver([versionWriteEvent(versionId)])).status).toBe(202);
    const status = await world.host.durable.waitFor(publishInstanceId(versionId), undefined, { maxSimulatedMs: 4 * minutes * MINUTE });
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");

    const reads = armLog(world).filter((x) => isVersionRead(x) && x.status === 200);
    const detected = reads.find((x) => aggregatedState(x) === "Completed");
    expect(detected).toBeDefined();
    const completedAt = publishedAt + minutes * MINUTE;
    const delaySeconds = (timeOf(detected!) - completedAt) / 1000;
    const readsPerHour = reads.length / (minutes / 60);
    console.log(`${minutes}-minute replication: detected ${delaySeconds} s after completion with ${reads.length} reads (${readsPerHour.toFixed(1)} per hour)`);
    expect(delaySeconds).toBeGreaterThanOrEqual(0);
    expect(delaySeconds).toBeLessThanOrEqual(60);
    expect(readsPerHour).toBeLessThanOrEqual(20);
    expect((status.output as { replicationReads: number }).replicationReads).toBe(reads.length);
  });

  it("a Resource Notifications event for the version makes the waiting publish read at once", async () => {
    const world = await worlds.start({ seed: 7 });
    const clock = world.clock as VirtualClock;
    const publishedAt = clock.now();
    const versionId = world.publishVersion("9.7.0", { regionMinutes: { westeurope: 20, northeurope: 40, eastus: 33 } });
    const instanceId = publishInstanceId(versionId);
    expect((await world.deliver([versionWriteEvent(versionId)])).status).toBe(202);
    await world.host.durable.runUntilIdle();

    // Time moves in 5 s steps until the emulator reports the write done (replication ends at 60 min).
    let notifications: unknown[] = [];
    for (let step = 0; step < 2 * 720 && notifications.length === 0; step++) {
      clock.advance(5_000);
      await world.host.durable.runUntilIdle();
      notifications = world.emulator.control.resourceNotifications();
    }
    expect(notifications).toHaveLength(1);
    const event = notifications[0] as { eventType: string; eventTime: string; data: { resourceInfo: { id: string; type: string } } };
    expect(event.eventType).toBe("Microsoft.ResourceNotifications.Resources.CreatedOrUpdated");
    expect(event.data.resourceInfo.type).toBe("Microsoft.Compute/galleries/images/versions");
    expect(event.data.resourceInfo.id.toLowerCase()).toBe(versionId.toLowerCase());
    expect(Date.parse(event.eventTime)).toBe(publishedAt + 60 * MINUTE);
    const waiting = world.host.durable.getStatus(instanceId)?.customStatus as PublishStatus;
    expect(waiting.step).toBe("waiting-for-replication");

    // Delivered now, the hint is read at once: detection at the delivery's time, not at the next poll.
    const deliveredAt = clock.now();
    expect((await world.deliver(notifications)).status).toBe(202);
    const status = await world.host.durable.waitFor(instanceId, undefined, { maxSimulatedMs: 60 * MINUTE });
    expect(status.runtimeStatus, JSON.stringify(status)).toBe("Completed");
    const done = status.customStatus as PublishStatus;
    expect(done.replication.hints).toBe(1);
    expect(Date.parse(done.replication.completedDetectedAt ?? "")).toBeLessThanOrEqual(Math.max(deliveredAt, Date.parse(waiting.replication.nextReadAt ?? "")));
    const reads = armLog(world).filter((x) => isVersionRead(x) && x.status === 200);
    expect(timeOf(reads.at(-1)!)).toBeLessThan(Date.parse(waiting.replication.nextReadAt ?? ""));

    // A hint about a version nobody is publishing changes nothing.
    expect((await world.deliver(notifications)).status).toBe(202);
    expect(armLog(world).filter((x) => isVersionRead(x) && x.status === 200)).toHaveLength(reads.length);
  });
});
