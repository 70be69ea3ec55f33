import { describe, expect, it } from "vitest";
import { nextPollDelaySeconds, type ProgressSample } from "../../src/domain/polling";

const settings = { minSeconds: 30, maxSeconds: 900 };
// A maximum above every cap below, so each rule shows its own number.
const wide = { minSeconds: 30, maxSeconds: 3600 };
const MIN = 60_000;

/** One read at `minutes` after publishing, with the regions' percents in order (100 = Completed). */
function at(minutes: number, ...progress: number[]): ProgressSample {
  return { at: minutes * MIN, regions: progress.map((p, i) => ({ region: `r${i}`, progress: p })) };
}

/** The wait after `latest`, with `previous` if given, replication published at 0. */
function wait(latest: ProgressSample, previous?: ProgressSample, s = wide): number {
  return nextPollDelaySeconds({ now: latest.at, startedAt: 0, ...(previous ? { previous } : {}), latest, settings: s });
}

describe("nextPollDelaySeconds", () => {
  describe("final hold", () => {
    it("reads at the minimum once the region furthest behind is at 99%, however slow it was", () => {
      expect(wait(at(40, 100, 99, 99), at(39, 100, 98, 99))).toBe(30);
      expect(wait(at(40, 99, 99.5))).toBe(30);
      expect(wait(at(40, 99), undefined, { minSeconds: 45, maxSeconds: 900 })).toBe(45);
    });

    it("does not when only a region ahead is at 99%: the one behind decides", () => {
      // r2 at 50%, 2% a minute: 25 minutes left, so its cap (204 s) decides.
      expect(wait(at(40, 100, 99, 50), at(35, 100, 97, 40))).toBe(204);
    });

    it("reads at the minimum when every region is complete", () => {
      expect(wait(at(40, 100, 100))).toBe(30);
      expect(nextPollDelaySeconds({ now: 0, latest: { at: 0, regions: [] }, settings })).toBe(30);
    });
  });

  describe("the cap, from the region furthest behind", () => {
    it("is 270 s at 0% and shrinks linearly to 140 s just before 99%", () => {
      // The region at 0% or 50% has no rate (no movement, no publishedDate), so the cap alone decides.
      const still = (p: number): number => nextPollDelaySeconds({ now: MIN, previous: at(0, 100, p), latest: at(1, 100, p), settings: wide });
      expect(still(0)).toBe(270);
      expect(still(49.5)).toBe(205);
      expect(still(98)).toBe(141);
    });

    it("holds a slow estimate down: 10% in 20 minutes would leave 2 hours", () => {
      expect(wait(at(40, 100, 20), at(20, 100, 10))).toBe(Math.round(140 + (130 * 79) / 99));
    });

    it("follows the region furthest behind, not the slowest by estimate", () => {
      // r1 at 90% crawls (over an hour left at its rate), r2 at 10% has 45 minutes left: the cap is r2's
      // (89% left, 257 s), not r1's (9% left, 152 s).
      expect(wait(at(30, 100, 90, 10), at(25, 100, 89.9, 0))).toBe(Math.round(140 + (130 * 89) / 99));
    });

    it("applies whatever the maximum setting, which still bounds it", () => {
      expect(wait(at(40, 100, 0), at(39, 100, 0), settings)).toBe(270);
      expect(wait(at(40, 100, 0), at(39, 100, 0), { minSeconds: 30, maxSeconds: 120 })).toBe(120);
      expect(wait(at(40, 100, 0), at(39, 100, 0), { minSeconds: 600, maxSeconds: 900 })).toBe(600);
    });
  });

  describe("the estimate, within the cap", () => {
    it("waits the time the slowest region needs at its rate between the last two reads", () => {
      // 8% a minute at 92%: one minute left.
      expect(wait(at(31, 100, 92), at(30, 100, 84))).toBe(60);
      // r1 at 50%, 30% a minute: 100 s left; r2 at 90%, 5% a minute: 120 s left, below the cap at 50% (204 s).
      expect(wait(at(31, 100, 50, 90), at(30, 100, 20, 85))).toBe(120);
      // The same estimate at 4% a minute (4 minutes left) is above that cap: the cap decides.
      expect(wait(at(31, 100, 50, 84), at(30, 100, 20, 80))).toBe(204);
    });

    it("prefers the latest rate to the rate since publishing (a region that started late)", () => {
      // 90% after 40 minutes: the rate since publishing (2.25% a minute) would give 4.4 minutes, capped to 152 s;
      // 10% a minute over the last 5 minutes gives 60 s.
      expect(wait(at(40, 100, 90), at(35, 100, 40))).toBe(60);
      // Without movement since the previous read, it falls back to the rate since publishing: 96% in 48 minutes -> 2 minutes.
      expect(wait(at(48, 100, 96), at(47, 100, 96))).toBe(120);
    });

    it("ignores completed regions", () => {
      // r0 is complete and has no rate; r1's 20% a minute leaves 30 s.
      expect(nextPollDelaySeconds({ now: 10 * MIN, previous: at(9, 100, 70), latest: at(10, 100, 90), settings })).toBe(30);
    });

    it("never waits less than the minimum", () => {
      expect(wait(at(20, 100, 98.9), at(19, 100, 50))).toBe(30);
    });
  });

  describe("before any region has completed", () => {
    it("counts the copy still to come for regions waiting their turn at 0%", () => {
      // The leading region at 50% has 49% left, a waiting one 99%: 140 + 130 * 148 / 99 s.
      const latest = at(5, 50, 0, 0);
      expect(nextPollDelaySeconds({ now: latest.at, latest, settings: wide })).toBe(Math.round(140 + (130 * 148) / 99));
      // On the first read all are at 0%: the home region's copy and another.
      expect(nextPollDelaySeconds({ now: 0, latest: at(0, 0, 0), settings: wide })).toBe(400);
    });

    it("grows to the time the leading copy has taken so far, bounded by the maximum", () => {
      expect(wait(at(20, 90, 0), at(15, 60, 0))).toBe(20 * 60);
      expect(wait(at(20, 90, 0), at(15, 60, 0), settings)).toBe(900);
    });

    it("treats a single region at 0% as any region at 0%: nothing waits behind it", () => {
      expect(nextPollDelaySeconds({ now: 0, latest: at(0, 0), settings: wide })).toBe(270);
    });

    it("stops once one region has completed: the others' copies are under way", () => {
      expect(wait(at(20, 100, 0), at(15, 60, 0))).toBe(270);
    });
  });

  it("is deterministic: the same input, the same wait", () => {
    const input = { now: 30 * MIN, startedAt: 0, previous: at(25, 100, 40, 10), latest: at(30, 100, 60, 20), settings };
    expect(nextPollDelaySeconds(input)).toBe(nextPollDelaySeconds({ ...input }));
  });

  // Even progress: home region first, then the others in parallel, as the emulator copies them.
  it.each([
    [30, 10, 20],
    [60, 20, 40],
    [120, 45, 75],
    [90, 0, 90],
  ])("detects a %i-minute replication (home %i min, then %i min) within 60 s using at most 20 reads an hour", (minutes, homeMinutes, otherMinutes) => {
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
    expect(delaySeconds).toBeGreaterThanOrEqual(0);
    expect(delaySeconds).toBeLessThanOrEqual(60);
    expect(reads).toBeLessThanOrEqual(Math.ceil((20 * minutes) / 60));
  });
});
