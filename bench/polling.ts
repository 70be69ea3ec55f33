// Polling benchmark: how many replication reads each strategy makes and how late it sees completion,
// over seeded replications from ./replicationModel (non-linear, whole-percent progress, home region
// first). The app's strategy runs the real nextPollDelaySeconds inside a copy of the orchestration's
// read loop (src/orchestrations/publishImageVersion.ts). Simulated time, so the numbers repeat exactly.
import { nextPollDelaySeconds, type PollPlanInput, type ProgressSample } from "../src/domain/polling";
import { replicationVerdict } from "../src/domain/replication";
import { readVersion, replications, type Replication } from "./replicationModel";

export interface PollingSettings {
  readonly minSeconds: number;
  readonly maxSeconds: number;
  readonly timeoutMinutes: number;
}

export interface StrategyRow {
  readonly name: string;
  readonly readsPerHour: number;
  readonly readsPerVersion: number;
  readonly meanDelaySeconds: number;
  readonly p95DelaySeconds: number;
  readonly maxDelaySeconds: number;
}

export interface PollingReport {
  readonly count: number;
  readonly seed: number;
  readonly polling: PollingSettings;
  readonly minutes: { readonly min: number; readonly median: number; readonly max: number };
  readonly regions: { readonly min: number; readonly max: number };
  /** Share of replications with a region that stalls mid-copy for five minutes or more. */
  readonly withStall: number;
  readonly rows: readonly StrategyRow[];
}

/** The app's defaults (src/config.ts): REPLICATION_POLL_MIN/MAX_SECONDS, REPLICATION_TIMEOUT_MINUTES. */
export const DEFAULT_POLLING: PollingSettings = { minSeconds: 30, maxSeconds: 900, timeoutMinutes: 720 };

type Strategy = { readonly name: string; readonly delaySeconds: (input: PollPlanInput) => number } | { readonly name: string; readonly oracle: true };

const STRATEGIES: readonly Strategy[] = [
  { name: "app estimate (nextPollDelaySeconds)", delaySeconds: nextPollDelaySeconds },
  // Stands for the Azure SDK's LRO poller at a 30 s Retry-After; without one, core-lro's default is 2 s.
  { name: "fixed 30 s", delaySeconds: () => 30 },
  { name: "fixed 60 s", delaySeconds: () => 60 },
  { name: "fixed 5 min", delaySeconds: () => 300 },
  { name: "oracle (one read at completion)", oracle: true },
];

interface Run {
  readonly reads: number;
  readonly delayMs: number;
}

/** The orchestration's read loop, step for step, with the activity's read replaced by the model. */
function runOrchestration(v: Replication, delaySeconds: (input: PollPlanInput) => number, polling: PollingSettings): Run {
  // The orchestration's startedAt is its own start (currentUtcDateTime), i.e. when the event arrived.
  const startedAt = v.firstReadAt;
  const deadline = startedAt + polling.timeoutMinutes * 60_000;
  let previous: ProgressSample | undefined;
  let now = startedAt;
  // One read a second until the deadline, and one at it: more means a strategy that does not wait.
  const maxReads = polling.timeoutMinutes * 60 + 1;
  for (let reads = 1; reads <= maxReads; reads++) {
    const reading = readVersion(v, now);
    const verdict = replicationVerdict(reading.snapshot);
    if (verdict.state === "Completed") return { reads, delayMs: now - v.completesAt };
    if (verdict.state === "Failed") throw new Error(`replication ${v.index} failed in the model: ${verdict.details}`);
    if (now >= deadline) throw new Error(`replication ${v.index} timed out after ${polling.timeoutMinutes} minutes`);

    const latest: ProgressSample = { at: now, regions: verdict.regions.map((r) => ({ region: r.region, progress: r.progress })) };
    const published = reading.publishedDate ? Date.parse(reading.publishedDate) : Number.NaN;
    const wait = delaySeconds({
      now,
      ...(Number.isFinite(published) ? { startedAt: published } : {}),
      ...(previous ? { previous } : {}),
      latest,
      settings: polling,
    });
    previous = latest;
    now = Math.min(now + wait * 1000, deadline);
  }
  throw new Error(`replication ${v.index} needed more than ${maxReads} reads`);
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

export function runPollingBench(options: { count?: number; seed?: number; polling?: PollingSettings } = {}): PollingReport {
  const count = options.count ?? 500;
  const seed = options.seed ?? 2026;
  const polling = options.polling ?? DEFAULT_POLLING;
  const versions = replications({ count, seed });
  const hours = versions.reduce((sum, v) => sum + (v.completesAt - v.publishedAt) / 3_600_000, 0);

  const rows = STRATEGIES.map((strategy): StrategyRow => {
    const runs = versions.map((v) => ("oracle" in strategy ? { reads: 1, delayMs: 0 } : runOrchestration(v, strategy.delaySeconds, polling)));
    const delays = runs.map((r) => r.delayMs / 1000).sort((a, b) => a - b);
    const reads = runs.reduce((sum, r) => sum + r.reads, 0);
    return {
      name: strategy.name,
      readsPerHour: reads / hours,
      readsPerVersion: reads / count,
      meanDelaySeconds: delays.reduce((a, b) => a + b, 0) / count,
      p95DelaySeconds: percentile(delays, 0.95),
      maxDelaySeconds: delays[delays.length - 1] ?? 0,
    };
  });

  const minutes = versions.map((v) => (v.completesAt - v.publishedAt) / 60_000).sort((a, b) => a - b);
  const regionCounts = versions.map((v) => v.regions.length);
  return {
    count,
    seed,
    polling,
    minutes: { min: minutes[0] ?? 0, median: percentile(minutes, 0.5), max: minutes[minutes.length - 1] ?? 0 },
    regions: { min: Math.min(...regionCounts), max: Math.max(...regionCounts) },
    withStall: versions.filter((v) => v.regions.some((r) => r.segments.some((s) => s.rate === 0 && s.to - s.from >= 5 * 60_000))).length / count,
    rows,
  };
}

export function formatPollingReport(report: PollingReport): string {
  const { minutes, regions, polling } = report;
  const lines = [
    `Polling: ${report.count} seeded replications (seed ${report.seed}), ${minutes.min.toFixed(1)}-${minutes.max.toFixed(1)} min (median ${minutes.median.toFixed(1)}),`,
    `${regions.min}-${regions.max} regions (home first), ${(report.withStall * 100).toFixed(0)}% with a region stalled 5+ min; poll bounds ${polling.minSeconds}-${polling.maxSeconds} s`,
    "",
    `${"strategy".padEnd(36)} ${"reads/hour".padStart(10)} ${"reads/version".padStart(13)} ${"mean delay".padStart(10)} ${"p95 delay".padStart(9)} ${"max delay".padStart(9)}`,
  ];
  for (const r of report.rows) {
    lines.push(
      `${r.name.padEnd(36)} ${r.readsPerHour.toFixed(1).padStart(10)} ${r.readsPerVersion.toFixed(1).padStart(13)} ${`${r.meanDelaySeconds.toFixed(0)} s`.padStart(10)} ${`${r.p95DelaySeconds.toFixed(0)} s`.padStart(9)} ${`${r.maxDelaySeconds.toFixed(0)} s`.padStart(9)}`,
    );
  }
  return lines.join("\n");
}

if (require.main === module) console.log(formatPollingReport(runPollingBench()));
