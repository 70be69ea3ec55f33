// When to read an image version's replication status next.
//
// Replication takes 20 minutes to a few hours and ARM reports per-region progress in whole percents,
// but progress is uneven: a region sits at 0% before its copy starts, crawls, stalls and bursts, and
// holds at 99% while it finalises. The home region is copied first, the others after it. A rate
// estimate alone is late whenever a stall ends in a burst, and a fixed interval pays for its delay in
// reads. So, before the settings bound it, the wait is:
//
// 1. In the final hold (the region furthest behind reports 99%): none. Completion can come any
//    second, so reads come at the minimum interval.
// 2. Otherwise the estimate, the time the slowest region needs at its current rate (between the last
//    two reads; otherwise since the version was published), so reads close in on its end...
// 3. ...but never more than a cap that shrinks as the region furthest behind progresses: 270 s at
//    0%, 140 s just before 99%. After a stall a region can burst through what it has left in a
//    minute or two, whatever the estimate said, and a longer wait would see completion minutes late.
// 4. Before any region has completed, regions at 0% are waiting their turn: they copy after the
//    leading region, so the end is at least what that region has left plus one whole copy away. The
//    cap counts both, and the wait may grow to the time the leading copy has taken so far, which a
//    whole copy is likely to take again.
//
// The bench (bench/README.md) measures it against fixed intervals over a seeded replication model.

export interface PollingSettings {
  readonly minSeconds: number;
  readonly maxSeconds: number;
}

interface RegionSample {
  readonly region: string;
  /** 0-100. */
  readonly progress: number;
}

export interface ProgressSample {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly regions: readonly RegionSample[];
}

export interface PollPlanInput {
  readonly now: number;
  /** When replication started (the version's publishedDate), if ARM reported it. */
  readonly startedAt?: number;
  /** The read before the latest one. */
  readonly previous?: ProgressSample;
  readonly latest: ProgressSample;
  readonly settings: PollingSettings;
}

/** ARM holds a region at this percent while it finalises; 100 only comes with Completed. */
const FINAL_HOLD_PERCENT = 99;
// The caps trade reads for lateness (bench/README.md has the curve). In the bench's model a region at
// 0% can be Completed 80 s later, so no cap bounds lateness; 270 s kept it under 3 minutes over 1000
// seeds at under 19 reads an hour. Longer caps see completion later, shorter ones cost reads.
/** The longest wait while the region furthest behind is at 0%. */
const FAR_CAP_SECONDS = 270;
/** The longest wait just before the region furthest behind reaches its final hold. */
const NEAR_CAP_SECONDS = 140;

/** Whole seconds to wait before the next read, within the configured bounds. */
export function nextPollDelaySeconds(input: PollPlanInput): number {
  const { minSeconds, maxSeconds } = input.settings;
  return Math.round(Math.min(maxSeconds, Math.max(minSeconds, plannedWait(input))));
}

/** Seconds to wait before the bounds apply; 0 means "as soon as the minimum allows". */
function plannedWait(input: PollPlanInput): number {
  const open = input.latest.regions.filter((r) => r.progress < 100);
  if (open.length === 0) return 0;
  const behind = Math.min(...open.map((r) => r.progress));
  if (behind >= FINAL_HOLD_PERCENT) return 0;

  const elapsed = input.startedAt === undefined ? 0 : Math.max(0, (input.latest.at - input.startedAt) / 1000);
  const ahead = Math.max(...open.map((r) => r.progress));
  if (open.length === input.latest.regions.length && behind === 0 && open.length > 1) {
    // No region has completed and some wait their turn at 0%: they copy after the leading region,
    // the same image it has been copying for `elapsed`, so the end is at least that far away.
    return Math.max(cap(FINAL_HOLD_PERCENT - ahead + FINAL_HOLD_PERCENT), elapsed);
  }
  const estimate = slowestRemainingSeconds(input, open, elapsed);
  const limit = cap(FINAL_HOLD_PERCENT - behind);
  return estimate === undefined ? limit : Math.min(limit, estimate);
}

/** The longest wait while `percentLeft` percent remain before the final hold: the near cap at 0, the far cap at 99, and on, linearly, for copies still to come. */
function cap(percentLeft: number): number {
  return NEAR_CAP_SECONDS + ((FAR_CAP_SECONDS - NEAR_CAP_SECONDS) * percentLeft) / FINAL_HOLD_PERCENT;
}

/** Seconds the slowest open region needs at its current rate; undefined while any has no rate yet. */
function slowestRemainingSeconds(input: PollPlanInput, open: readonly RegionSample[], elapsed: number): number | undefined {
  let slowest = 0;
  for (const sample of open) {
    const rate = progressRate(sample, input, elapsed);
    if (rate === undefined) return undefined;
    slowest = Math.max(slowest, (100 - sample.progress) / rate);
  }
  return slowest;
}

/** Percent per second for one region: since the previous read if it moved, else since replication started. */
function progressRate(sample: RegionSample, input: PollPlanInput, elapsed: number): number | undefined {
  const before = input.previous?.regions.find((r) => r.region === sample.region);
  if (input.previous && before) {
    const seconds = (input.latest.at - input.previous.at) / 1000;
    const gained = sample.progress - before.progress;
    if (seconds > 0 && gained > 0) return gained / seconds;
  }
  return elapsed > 0 && sample.progress > 0 ? sample.progress / elapsed : undefined;
}
