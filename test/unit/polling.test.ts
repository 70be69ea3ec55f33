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

  it("estimates from the previous read, using the slowest region", () => {
    const previous: ProgressSample = { at: 0, regions: [{ region: "a", progress: 10 }, { region: "b", progress: 0 }] };
    const latest: ProgressSample = { at: 5 * MIN, regions: [{ region: "a", progress: 60 }, { region: "b", progress: 10 }] };
    // a: 50%/5min -> 5 min left; b: 10%/5min -> 45 min left.
    expect(estimateRemainingSeconds({ now: latest.at, previous, latest })).toBeCloseTo(45 * 60);
  });

  it("prefers the latest rate to the rate since publishing (a region that started late)", () => {
    const previous: ProgressSample = { at: 30 * MIN, regions: [{ region: "b", progress: 0 }] };
    const latest: ProgressSample = { at: 40 * MIN, regions: [{ region: "b", progress: 50 }] };
    expect(estimateRemainingSeconds({ now: latest.at, startedAt: 0, previous, latest })).toBeCloseTo(10 * 60);
    // Without movement since the previous read, it falls back to the rate since publishing.
    const still: ProgressSample = { at: 50 * MIN, regions: [{ region: "b", progress: 50 }] };
    expect(estimateRemainingSeconds({ now: still.at, startedAt: 0, previous: latest, latest: still })).toBeCloseTo(50 * 60);
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

  it("lands one percent's worth of time before the estimated completion when it is near", () => {
    const latest: ProgressSample = { at: 16 * MIN, regions: [{ region: "a", progress: 80 }] };
    // 5% a minute: 4 minutes left, one percent takes 12 s -> 228 s.
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings })).toBe(228);
  });

  it("never waits less than the minimum", () => {
    const latest: ProgressSample = { at: 99 * MIN, regions: [{ region: "a", progress: 99.99 }] };
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings })).toBe(30);
  });

  // The aim: completion detected within 60 s, at most 15 reads per hour of replication.
  // Home region first, then the others in parallel, as the emulator (and Azure) copy them.
  it.each([
    [30, 10, 20],
    [60, 20, 40],
    [120, 45, 75],
    [90, 0, 90],
  ])("detects a %i-minute replication (home %i min, then %i min) within 60 s using at most 15 reads an hour", (minutes, homeMinutes, otherMinutes) => {
    const duration = minutes * MIN;
    const linear = (t: number, start: number, length: number): number =>
      t <= start ? 0 : Math.min(100, Math.floor((100 * (t - start)) / length));
    const sample = (t: number): ProgressSample => ({
      at: t,
      regions: [
        { region: "home", progress: homeMinutes === 0 ? 100 : linear(t, 0, homeMinutes * MIN) },
        { region: "other", progress: linear(t, homeMinutes * MIN, otherMinutes * MIN) },
      ],
    });
    let now = 0;
    let reads = 0;
    let previous: ProgressSample | undefined;
    for (;;) {
      reads++;
      const latest = sample(now);
      if (latest.regions.every((r) => r.progress >= 100)) break;
      now += nextPollDelaySeconds({ now, startedAt: 0, ...(previous ? { previous } : {}), latest, settings }) * 1000;
      previous = latest;
    }
    const delaySeconds = (now - duration) / 1000;
    console.log(`${minutes} min replication: ${reads} reads, detected ${delaySeconds} s after completion`);
    expect(delaySeconds).toBeGreaterThanOrEqual(0);
    expect(delaySeconds).toBeLessThanOrEqual(60);
    expect(reads).toBeLessThanOrEqual(Math.ceil((15 * minutes) / 60));
  });
});
