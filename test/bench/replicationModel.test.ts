// The polling benchmark is only as honest as its model: these are the properties that would
// flatter a strategy if they broke (whole-minute lengths, linear or fractional progress, early Completed).
import { describe, expect, it } from "vitest";
import { readVersion, regionReading, replications, type RegionPlan, type Replication } from "../../bench/replicationModel";
import { replicationVerdict } from "../../src/domain/replication";

const MIN = 60_000;
const versions = replications({ count: 500, seed: 2026 });
/** Readings every 20 simulated seconds, from publish to a minute past completion. */
const STEP = 20_000;

function readings(v: Replication, r: RegionPlan): { t: number; state: string; progress: number }[] {
  const out = [];
  for (let t = v.publishedAt; t <= v.completesAt + MIN; t += STEP) out.push({ t, ...regionReading(r, t) });
  return out;
}

describe("replication model", () => {
  it("gives lengths of 20-180 minutes that are not whole minutes", () => {
    const minutes = versions.map((v) => (v.completesAt - v.publishedAt) / MIN);
    expect(Math.min(...minutes)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...minutes)).toBeLessThanOrEqual(180);
    expect(minutes.filter((m) => Number.isInteger(m)).length).toBeLessThan(5);
    // A spread, not a cluster: both short and long replications occur.
    expect(minutes.filter((m) => m < 40).length).toBeGreaterThan(25);
    expect(minutes.filter((m) => m > 120).length).toBeGreaterThan(10);
  });

  it("reports whole, non-decreasing percents, and 100 only once the region is Completed", () => {
    const broken: string[] = [];
    for (const v of versions.slice(0, 100)) {
      for (const r of v.regions) {
        let last = 0;
        for (const x of readings(v, r)) {
          const done = x.t >= r.endAt;
          const ok = Number.isInteger(x.progress) && x.progress >= last && (x.state === "Completed") === done && (done || x.progress < 100);
          if (!ok) broken.push(`version ${v.index} ${r.region} at +${(x.t - v.publishedAt) / 1000} s: ${x.state} ${x.progress}% after ${last}%`);
          last = x.progress;
        }
      }
    }
    expect(broken.slice(0, 5)).toEqual([]);
  });

  it("completes the home region first and the version only when every region is done", () => {
    for (const v of versions) {
      const [home, ...others] = v.regions;
      expect(others.length).toBeGreaterThan(0);
      for (const r of others) {
        expect(r.startAt).toBeGreaterThanOrEqual(home!.endAt);
        expect(r.endAt).toBeGreaterThan(home!.endAt);
      }
      expect(replicationVerdict(readVersion(v, v.completesAt - 1).snapshot).state).toBe("Replicating");
      expect(replicationVerdict(readVersion(v, v.completesAt).snapshot).state).toBe("Completed");
    }
  });

  it("is not linear: some versions have a region that stalls mid-copy, most regions drift far from a straight line", () => {
    let withStall = 0;
    let regions = 0;
    let curved = 0;
    for (const v of versions) {
      let stalled = false;
      for (const r of v.regions) {
        regions++;
        const xs = readings(v, r).filter((x) => x.state !== "Completed");
        // A stall: the same percent, between 1 and 98, for five minutes or more.
        let since = 0;
        for (const [i, x] of xs.entries()) {
          if (i === 0 || x.progress !== xs[i - 1]!.progress) since = x.t;
          else if (x.progress > 0 && x.progress < 99 && x.t - since >= 5 * MIN) stalled = true;
        }
        const linear = (t: number): number => (100 * (t - r.startAt)) / (r.endAt - r.startAt);
        if (xs.some((x) => Math.abs(x.progress - linear(x.t)) > 15)) curved++;
      }
      if (stalled) withStall++;
    }
    expect(withStall).toBeGreaterThan(versions.length / 10);
    expect(withStall).toBeLessThan(versions.length);
    expect(curved).toBeGreaterThan(regions / 2);
  });

  it("gives the same runs for the same seed and different runs for another", () => {
    expect(replications({ count: 50, seed: 2026 })).toEqual(versions.slice(0, 50));
    expect(replications({ count: 50, seed: 2027 })).not.toEqual(versions.slice(0, 50));
  });
});
