// Seeded model of image version replication for the polling benchmark.
//
// Shaped like the emulator (local/emulator/arm/replication.ts): the home region replicates first,
// the others start when it is done and run in parallel. Unlike the emulator, progress is not
// linear: a region sits at 0% for a start delay, then moves through segments that crawl, burst or
// stall, then holds at 99% while it finalises. ARM reports whole percents, never 100 before the
// region's state is Completed, and the version's provisioningState stays Creating until every
// region is done. Lengths are continuous (milliseconds), so no interval lines up with them.
import type { ImageVersionSnapshot } from "../src/domain/replication";

const MIN = 60_000;

/** One stretch of a region's copy: `rate` is relative speed, 0 for a stall. */
export interface Segment {
  readonly from: number;
  readonly to: number;
  readonly rate: number;
}

export interface RegionPlan {
  /** Display name, as ARM reports it in targetRegions and the summary. */
  readonly region: string;
  /** When the region's turn comes (publish time for home, home's completion for the others). */
  readonly startAt: number;
  /** Progress starts moving here; before it the region reports 0%. */
  readonly workFrom: number;
  /** Progress reaches its last whole percent here and holds while the region finalises. */
  readonly workTo: number;
  /** The region is Completed from here on. */
  readonly endAt: number;
  readonly segments: readonly Segment[];
}

export interface Replication {
  readonly index: number;
  /** Epoch ms; ARM's publishedDate. */
  readonly publishedAt: number;
  /** When the write event reaches the app and the orchestration makes its first read. */
  readonly firstReadAt: number;
  /** When the last region completes: the earliest moment a read can show Completed. */
  readonly completesAt: number;
  /** Home region first, then the others. */
  readonly regions: readonly RegionPlan[];
}

export interface RegionReading {
  readonly region: string;
  readonly state: "Replicating" | "Completed";
  /** Whole percent, as ARM reports it. */
  readonly progress: number;
}

export interface ModelOptions {
  readonly count: number;
  readonly seed: number;
  /** Bounds of a replication's length (publish to last region done), minutes. */
  readonly minMinutes?: number;
  readonly maxMinutes?: number;
}

const HOME = "West Europe";
const OTHERS = ["East US", "East US 2", "North Europe", "Southeast Asia", "Australia East", "West US 3", "UK South", "Japan East"];
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
/** Rejection-sampling attempts for a length within bounds; after that the length is clamped. */
const LENGTH_TRIES = 16;

/** mulberry32: small, fast, and the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function between(random: () => number, low: number, high: number): number {
  return low + (high - low) * random();
}

/** Right-skewed lengths (log-normal, median 60 min) kept within the bounds: most copies take about an hour, a few take three. */
function lengthMs(random: () => number, minMinutes: number, maxMinutes: number): number {
  let minutes = 60;
  for (let attempt = 0; attempt < LENGTH_TRIES; attempt++) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    minutes = 60 * Math.exp(0.55 * normal);
    if (minutes >= minMinutes && minutes <= maxMinutes) break;
  }
  return Math.round(Math.min(maxMinutes, Math.max(minMinutes, minutes)) * MIN);
}

/** 3-8 segments of random length; about one in fourteen stalls, one in five bursts. At least one moves. */
function segments(random: () => number, from: number, to: number): Segment[] {
  const count = 3 + Math.floor(random() * 6);
  const weights = Array.from({ length: count }, () => -Math.log(1 - random()) + 0.05);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: Segment[] = [];
  let at = from;
  for (const [i, w] of weights.entries()) {
    const end = i === count - 1 ? to : at + ((to - from) * w) / total;
    const kind = random();
    const rate = kind < 0.07 ? 0 : kind < 0.27 ? between(random, 2.5, 5) : between(random, 0.4, 1.6);
    out.push({ from: at, to: end, rate });
    at = end;
  }
  if (out.every((s) => s.rate === 0)) out[0] = { ...out[0]!, rate: 1 };
  return out;
}

function plan(random: () => number, region: string, startAt: number, endAt: number, maxStartDelayMs: number): RegionPlan {
  const length = endAt - startAt;
  const workFrom = startAt + Math.min(0.2 * length, between(random, 0.1 * MIN, maxStartDelayMs));
  const workTo = endAt - Math.min(0.1 * length, between(random, 0.2 * MIN, 3 * MIN));
  return { region, startAt, workFrom, workTo, endAt, segments: segments(random, workFrom, workTo) };
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The same options always give the same replications. */
export function replications(options: ModelOptions): Replication[] {
  const random = seededRandom(options.seed);
  const minMinutes = options.minMinutes ?? 20;
  const maxMinutes = options.maxMinutes ?? 180;
  return Array.from({ length: options.count }, (_, index): Replication => {
    const publishedAt = EPOCH + index * 24 * 60 * MIN + Math.round(random() * 60 * MIN);
    const completesAt = publishedAt + lengthMs(random, minMinutes, maxMinutes);
    const length = completesAt - publishedAt;
    const homeEnd = publishedAt + Math.round(length * between(random, 0.15, 0.4));
    const others = shuffled(random, OTHERS).slice(0, 1 + Math.floor(random() * 4));
    // One region is the slowest and ends the replication; the others finish somewhat earlier.
    const slowest = Math.floor(random() * others.length);
    const regions = [
      plan(random, HOME, publishedAt, homeEnd, 4 * MIN),
      ...others.map((region, i) => {
        const endAt = i === slowest ? completesAt : homeEnd + Math.round((completesAt - homeEnd) * between(random, 0.45, 0.99));
        return plan(random, region, homeEnd, endAt, 6 * MIN);
      }),
    ];
    // Event Grid delivery plus the orchestration's start.
    const firstReadAt = publishedAt + Math.round(between(random, 5_000, 60_000));
    return { index, publishedAt, firstReadAt, completesAt, regions };
  });
}

/** Share of the region's work done at `t`, 0-1. */
function workDone(r: RegionPlan, t: number): number {
  let done = 0;
  let total = 0;
  for (const s of r.segments) {
    const work = s.rate * (s.to - s.from);
    total += work;
    if (t >= s.to) done += work;
    else if (t > s.from) done += s.rate * (t - s.from);
  }
  return total > 0 ? done / total : 0;
}

export function regionReading(r: RegionPlan, t: number): RegionReading {
  if (t >= r.endAt) return { region: r.region, state: "Completed", progress: 100 };
  return { region: r.region, state: "Replicating", progress: Math.min(99, Math.floor(100 * workDone(r, t))) };
}

/** What a `$expand=ReplicationStatus` read at `t` returns, in the shape the app's readImageVersion activity produces. */
export function readVersion(v: Replication, t: number): { snapshot: ImageVersionSnapshot; publishedDate: string } {
  const summary = v.regions.map((r) => regionReading(r, t));
  const done = summary.every((s) => s.state === "Completed");
  return {
    snapshot: {
      provisioningState: done ? "Succeeded" : "Creating",
      targetRegions: v.regions.map((r) => r.region),
      replicationStatus: { aggregatedState: done ? "Completed" : "InProgress", summary },
    },
    publishedDate: new Date(v.publishedAt).toISOString(),
  };
}
