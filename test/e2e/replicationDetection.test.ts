// (h) How soon completion is detected and how many reads it takes, over seeded replications of
// 30, 60 and 120 simulated minutes: at most 60 s late and at most 20 reads per hour of replication
// (the budget the issue on replication detection sets; bench/polling.ts measures the strategy).
// Simulated time and counts only; wall time plays no part.
import { describe, expect, it } from "vitest";
import { versionWriteEvent } from "../../local/fixtures/world";
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
});
