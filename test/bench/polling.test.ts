// The app's polling strategy against the targets, over the benchmark's replication model for
// the default seed and two more: the bench's copy of the orchestration's read loop, the real
// nextPollDelaySeconds, the app's default settings.
import { describe, expect, it } from "vitest";
import { APP_STRATEGY, BENCH_SEEDS, POLLING_TARGETS, pollingTargetMisses, runPollingBench } from "../../bench/polling";

const report = runPollingBench({ appOnly: true });

describe("polling strategy over the replication model", () => {
  it("runs the default seed and two more", () => {
    expect(BENCH_SEEDS).toHaveLength(3);
    expect(BENCH_SEEDS[0]).toBe(2026);
    expect(report.seeds.map((s) => s.seed)).toEqual(BENCH_SEEDS);
    expect(report.count).toBe(500);
  });

  it.each(BENCH_SEEDS)("seed %i: p95 delay at most 60 s, max at most 180 s, at most 20 reads per hour of replication", (seed) => {
    const row = report.seeds.find((s) => s.seed === seed)?.rows.find((r) => r.name === APP_STRATEGY);
    expect(row).toBeDefined();
    expect(row!.p95DelaySeconds).toBeLessThanOrEqual(POLLING_TARGETS.maxP95DelaySeconds);
    expect(row!.maxDelaySeconds).toBeLessThanOrEqual(POLLING_TARGETS.maxDelaySeconds);
    expect(row!.readsPerHour).toBeLessThanOrEqual(POLLING_TARGETS.maxReadsPerHour);
    // Never early: a read that shows Completed comes at or after the real completion.
    expect(row!.meanDelaySeconds).toBeGreaterThanOrEqual(0);
  });

  it("holds the issue's numbers and reports no miss", () => {
    expect(POLLING_TARGETS).toEqual({ maxReadsPerHour: 20, maxP95DelaySeconds: 60, maxDelaySeconds: 180 });
    expect(pollingTargetMisses(report)).toEqual([]);
  });

  it("reports a miss when a target is not met", () => {
    const slow = runPollingBench({ appOnly: true, count: 50, seeds: [2026], polling: { minSeconds: 300, maxSeconds: 900, timeoutMinutes: 720 } });
    expect(pollingTargetMisses(slow).join("\n")).toMatch(/seed 2026: p95 delay \d+ s > 60 s/);
  });
});
