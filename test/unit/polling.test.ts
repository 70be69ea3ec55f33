import { describe, expect, it } from "vitest";
import { nextPollDelaySeconds, type ProgressSample } from "../../src/domain/polling";

const settings = { minSeconds: 30, maxSeconds: 900 };
// A maximum above the waits below, so each shows its estimate (three quarters of it, far from the end).
const wide = { minSeconds: 30, maxSeconds: 3600 };
const MIN = 60_000;

describe("nextPollDelaySeconds", () => {
  it("waits the no-estimate delay when no progress has been measured yet", () => {
    const latest: ProgressSample = { at: 0, regions: [{ region: "eastus", progress: 0 }] };
    expect(nextPollDelaySeconds({ now: 0, latest, settings })).toBe(300);
  });

  it("estimates from publishedDate: 50% after 20 minutes leaves 20 minutes", () => {
    const latest: ProgressSample = { at: 20 * MIN, regions: [{ region: "eastus", progress: 50 }] };
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, latest, settings: wide })).toBe(900);
    // Without publishedDate one read gives no rate.
    expect(nextPollDelaySeconds({ now: latest.at, latest, settings: wide })).toBe(300);
  });

  it("estimates from the previous read, using the slowest region", () => {
    const previous: ProgressSample = {
      at: 0,
      regions: [
        { region: "a", progress: 10 },
        { region: "b", progress: 0 },
      ],
    };
    const latest: ProgressSample = {
      at: 5 * MIN,
      regions: [
        { region: "a", progress: 60 },
        { region: "b", progress: 10 },
      ],
    };
    // a: 50%/5min -> 5 min left; b: 10%/5min -> 45 min left -> 33.75 min.
    expect(nextPollDelaySeconds({ now: latest.at, previous, latest, settings: wide })).toBe(2025);
  });

  it("prefers the latest rate to the rate since publishing (a region that started late)", () => {
    const previous: ProgressSample = { at: 30 * MIN, regions: [{ region: "b", progress: 0 }] };
    const latest: ProgressSample = { at: 40 * MIN, regions: [{ region: "b", progress: 40 }] };
    // 40%/10min -> 15 min left -> 11.25 min (the rate since publishing would give 60 min left).
    expect(nextPollDelaySeconds({ now: latest.at, startedAt: 0, previous, latest, settings: wide })).toBe(675);
    // Without movement since the previous read, it falls back to the rate since publishing: 40%/50min -> 75 min left.
    const still: ProgressSample = { at: 50 * MIN, regions: [{ region: "b", progress: 40 }] };
    expect(nextPollDelaySeconds({ now: still.at, startedAt: 0, previous: latest, latest: still, settings: wide })).toBe(3375);
  });

  it("ignores completed regions and waits the minimum when all are complete", () => {
    const latest: ProgressSample = { at: MIN, regions: [{ region: "a", progress: 100 }] };
    expect(nextPollDelaySeconds({ now: MIN, latest, settings })).toBe(30);
    // a has no rate (no publishedDate, no movement) but is complete, so it does not hide b's estimate:
    // 40%/10min -> 15 min left -> 11.25 min, not the no-estimate delay.
    const before: ProgressSample = {
      at: 0,
      regions: [
        { region: "a", progress: 100 },
        { region: "b", progress: 0 },
      ],
    };
    const mixed: ProgressSample = {
      at: 10 * MIN,
      regions: [
        { region: "a", progress: 100 },
        { region: "b", progress: 40 },
      ],
    };
    expect(nextPollDelaySeconds({ now: mixed.at, previous: before, latest: mixed, settings: wide })).toBe(675);
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
    const linear = (t: number, start: number, length: number): number => (t <= start ? 0 : Math.min(100, Math.floor((100 * (t - start)) / length)));
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
