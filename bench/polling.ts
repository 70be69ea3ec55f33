// npm run bench: how the replication polling strategy compares with fixed intervals, over seeded
// replications of 20-180 simulated minutes (home region first, then the others). Reports reads and
// detection delay per strategy and the ratios against the estimate-driven strategy, all measured
// in one run. Counts and simulated seconds, not wall time, so the numbers repeat exactly.
import { nextPollDelaySeconds, type ProgressSample } from "../src/domain/polling";

interface Scenario {
  readonly homeMinutes: number;
  readonly otherMinutes: readonly number[];
}

interface Result {
  readonly reads: number;
  readonly delaySeconds: number;
}

type Strategy = (input: { now: number; previous?: ProgressSample; latest: ProgressSample }) => number;

const MIN = 60_000;
const settings = { minSeconds: 30, maxSeconds: 900 };

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function scenarios(count: number, seed: number): Scenario[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const homeMinutes = 5 + Math.round(random() * 40);
    const regions = 1 + Math.floor(random() * 4);
    return { homeMinutes, otherMinutes: Array.from({ length: regions }, () => 15 + Math.round(random() * 120)) };
  });
}

function sample(s: Scenario, t: number): ProgressSample {
  const linear = (start: number, length: number): number => (t <= start ? 0 : Math.min(100, Math.floor((100 * (t - start)) / length)));
  return {
    at: t,
    regions: [
      { region: "home", progress: linear(0, s.homeMinutes * MIN) },
      ...s.otherMinutes.map((m, i) => ({ region: `r${i}`, progress: linear(s.homeMinutes * MIN, m * MIN) })),
    ],
  };
}

function run(s: Scenario, strategy: Strategy): Result {
  const completesAt = (s.homeMinutes + Math.max(...s.otherMinutes)) * MIN;
  let now = 0;
  let reads = 0;
  let previous: ProgressSample | undefined;
  for (;;) {
    reads++;
    const latest = sample(s, now);
    if (latest.regions.every((r) => r.progress >= 100)) return { reads, delaySeconds: (now - completesAt) / 1000 };
    now += strategy({ now, ...(previous ? { previous } : {}), latest }) * 1000;
    previous = latest;
  }
}

const strategies: Record<string, Strategy> = {
  estimate: (input) => nextPollDelaySeconds({ ...input, startedAt: 0, settings }),
  "fixed 60 s": () => 60,
  "fixed 5 min": () => 300,
};

const all = scenarios(500, 2026);
const rows = Object.entries(strategies).map(([name, strategy]) => {
  const results = all.map((s) => run(s, strategy));
  const hours = all.reduce((sum, s) => sum + (s.homeMinutes + Math.max(...s.otherMinutes)) / 60, 0);
  const delays = results.map((r) => r.delaySeconds).sort((a, b) => a - b);
  return {
    name,
    readsPerHour: results.reduce((sum, r) => sum + r.reads, 0) / hours,
    meanDelay: delays.reduce((a, b) => a + b, 0) / delays.length,
    p95Delay: delays[Math.floor(delays.length * 0.95)] ?? 0,
    maxDelay: delays[delays.length - 1] ?? 0,
  };
});

const base = rows[0]!;
console.log(`${all.length} seeded replications, ${settings.minSeconds}-${settings.maxSeconds} s poll bounds`);
console.log("strategy      reads/hour  mean delay  p95 delay  max delay   reads vs estimate  mean delay vs estimate");
for (const r of rows) {
  console.log(
    `${r.name.padEnd(12)} ${r.readsPerHour.toFixed(1).padStart(10)} ${r.meanDelay.toFixed(0).padStart(9)} s ${r.p95Delay.toFixed(0).padStart(8)} s ${r.maxDelay.toFixed(0).padStart(8)} s ${(r.readsPerHour / base.readsPerHour).toFixed(2).padStart(18)}x ${(r.meanDelay / Math.max(1, base.meanDelay)).toFixed(2).padStart(22)}x`,
  );
}
