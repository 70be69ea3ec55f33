// When to read an image version's replication status next.
//
// Replication takes 30-100 minutes and ARM reports per-region progress in percent. Polling at a fixed
// interval either detects completion late or reads far too often, so the next read is scheduled from
// an estimate: each region's current rate (between the last two reads; on the first read, since the
// version was published) gives the time left for the slowest region. The latest rate matters because
// regions do not all start together: the home region is copied first, the others after it. Far from
// the end the wait covers most of the estimate; near the end the read lands just before the estimated
// completion; from there, reads come at the minimum interval so completion is detected within it.

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

/** Wait used before any rate can be measured: long enough for progress to show, short next to a 30-minute replication. */
const NO_ESTIMATE_SECONDS = 300;
/** Below this many seconds left, aim the read at the estimated completion itself. */
const FINAL_APPROACH_SECONDS = 600;
/** Far from the end, cover this share of the estimate: rates drift, so approach in shrinking steps. */
const APPROACH_SHARE = 0.75;

/** Whole seconds to wait before the next read, within the configured bounds. */
export function nextPollDelaySeconds(input: PollPlanInput): number {
  const { minSeconds, maxSeconds } = input.settings;
  const slowest = slowestRegion(input);
  let wait: number;
  if (slowest === undefined) wait = NO_ESTIMATE_SECONDS;
  else if (slowest.remaining > FINAL_APPROACH_SECONDS) wait = slowest.remaining * APPROACH_SHARE;
  // ARM reports whole percents, so the estimate is uncertain by about one percent's worth of time:
  // land that much early and let the minimum interval take it from there.
  else wait = slowest.remaining - slowest.secondsPerPercent;
  return Math.round(Math.min(maxSeconds, Math.max(minSeconds, wait)));
}

/** The region estimated to finish last: its time left and how long one percent takes it. */
function slowestRegion(input: Omit<PollPlanInput, "settings">): { remaining: number; secondsPerPercent: number } | undefined {
  let slowest = { remaining: 0, secondsPerPercent: 0 };
  for (const sample of input.latest.regions) {
    if (sample.progress >= 100) continue;
    const rate = progressRate(sample, input);
    if (rate === undefined) return undefined;
    const remaining = (100 - sample.progress) / rate;
    if (remaining > slowest.remaining) slowest = { remaining, secondsPerPercent: 1 / rate };
  }
  return slowest;
}

/** Percent per second for one region: since the previous read if it moved, else since replication started. */
function progressRate(sample: RegionSample, input: Omit<PollPlanInput, "settings">): number | undefined {
  const before = input.previous?.regions.find((r) => r.region === sample.region);
  if (input.previous && before) {
    const elapsed = (input.latest.at - input.previous.at) / 1000;
    const gained = sample.progress - before.progress;
    if (elapsed > 0 && gained > 0) return gained / elapsed;
  }
  const sinceStart = input.startedAt === undefined ? 0 : (input.latest.at - input.startedAt) / 1000;
  return sinceStart > 0 && sample.progress > 0 ? sample.progress / sinceStart : undefined;
}
