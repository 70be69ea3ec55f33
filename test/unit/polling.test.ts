import { describe, expect, it } from "vitest";
import { estimateRemainingSeconds, nextPollDelaySeconds, NO_ESTIMATE_SECONDS, type ProgressSample } from "../../src/domain/polling";

const settings = { minSeconds: 30, maxSeconds: 900 };
const MIN = 60_000;

describe("nextPollDelaySeconds", () => {
  it("waits the no-estimate delay when no progress has been measured yet", () => {
    const latest: ProgressSample = { at: 0, regions: [{ region: "eastus", progress: 0 }] };
    expect(estimateRemainingSeconds({ now: 0, latest })).toBeUndefined();
    expect(nextPollDelaySeconds({ now: 0, latest, settings })).toBe(NO_ESTIMATE_SECONDS);
  });

  it("estimates from publishedDate: 50% after 10 minutes leaves 10 minutes", () => {
    const latest: ProgressSample = { at: 10 * MIN, regions: [{ region: "eastus", progress: 50 }] };
    expect(estimateRemainingSeconds({ now: latest.at, startedAt: 0, latest })).toBeCloseTo(600);
  });

  it("estimates from the first sample when publishedDate is unknown, using the slowest region", () => {
    const first: ProgressSample = { at: 0, regions: [{ region: "a", progress: 10 }, { region: "b", progress: 0 }] };
    const latest: ProgressSample = { at: 5 * MIN, regions: [{ region: "a", progress: 60 }, { region: "b", progress: 10 }] };
    // a: 50%/5min -> 5 min left; b: 10%/5min -> 45 min left.
    expect(estimateRemainingSeconds({ now: latest.at, first, latest })).toBeCloseTo(45 * 60);
  });

  it("ignores completed regions and returns 0 when all are complete", () => {
    const latest: ProgressSample = { at: MIN, regions: [{ region: "a", progress: 100 }] };
    expect(estimateRemainingSeconds({ now: MIN, latest })).toBe(0);
    expect(nextPollDelaySeconds({ now: MIN, latest, settings })).toBe(30);
  });

  it("covers three quarters of a long estimate, capped by the maximum", () => {
    const latest: ProgressSample = { at: 10 * MIN, regions: [{ region: "a", progress: 25 }] };
    // 30 minutes left -> 22.5 minutes.
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings })).toBe(900);
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings: { minSeconds: 30, maxSeconds: 3600 } })).toBe(1350);
  });

  it("lands just after the estimated completion when it is near", () => {
    const latest: ProgressSample = { at: 16 * MIN, regions: [{ region: "a", progress: 80 }] };
    // 4 minutes left -> 250 s (4 min + 10 s margin).
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings })).toBe(250);
  });

  it("never waits less than the minimum", () => {
    const latest: ProgressSample = { at: 99 * MIN, regions: [{ region: "a", progress: 99.99 }] };
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings })).toBe(30);
  });

  // The aim: completion detected within 60 s, at most 15 reads per hour of replication.
  it.each([30, 60, 120])("detects a linear %i-minute replication within 60 s using at most 15 reads an hour", (minutes) => {
    const duration = minutes * MIN;
    const progressAt = (t: number): number => Math.min(100, Math.floor((100 * t) / duration));
    let now = 0;
    let reads = 0;
    let first: ProgressSample | undefined;
    for (;;) {
      reads++;
      const latest: ProgressSample = { at: now, regions: [{ region: "eastus", progress: progressAt(now) }] };
      if (progressAt(now) >= 100) break;
      first ??= latest;
      now += nextPollDelaySeconds({ now, startedAt: 0, first, latest, settings }) * 1000;
    }
    const delaySeconds = (now - duration) / 1000;
    console.log(`${minutes} min replication: ${reads} reads, detected ${delaySeconds} s after completion`);
    expect(delaySeconds).toBeGreaterThanOrEqual(0);
    expect(delaySeconds).toBeLessThanOrEqual(60);
    expect(reads).toBeLessThanOrEqual(Math.ceil((15 * minutes) / 60));
  });
});
