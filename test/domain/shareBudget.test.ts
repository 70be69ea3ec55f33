import { describe, expect, it } from "vitest";
import { SHARE_BUDGET, nextCallAt, pruneCallTimes, type CallBudget } from "../../src/domain/shareBudget";
import { validationErrorOf } from "../support/validation";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const S = 1000;
const MIN = 60 * S;

/** mulberry32, so every run draws the same schedule. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** `count` calls `stepMs` apart from `from`. */
const calls = (from: number, count: number, stepMs: number): number[] => Array.from({ length: count }, (_, i) => from + i * stepMs);

describe("SHARE_BUDGET", () => {
  it("is Compute's PostShareGallery policy: 10 calls per 3 minutes and 60 per 30 minutes", () => {
    expect(SHARE_BUDGET).toEqual({
      windows: [
        { ms: 180_000, calls: 10 },
        { ms: 1_800_000, calls: 60 },
      ],
    });
  });
});

describe("nextCallAt", () => {
  it("allows a call at once when nothing was called, or when the windows have room", () => {
    expect(nextCallAt(SHARE_BUDGET, [], T0)).toBe(T0);
    expect(nextCallAt(SHARE_BUDGET, calls(T0 - 90 * S, 9, S), T0)).toBe(T0);
  });

  it("waits, when the 3-minute window is full, until its oldest call leaves it", () => {
    const made = calls(T0, 10, S); // T0 .. T0+9s
    expect(nextCallAt(SHARE_BUDGET, made, T0 + 10 * S)).toBe(T0 + 3 * MIN);
    // A call counts in a window for exactly its length: at T0 + 3 min the first one no longer does.
    expect(nextCallAt(SHARE_BUDGET, made, T0 + 3 * MIN - 1)).toBe(T0 + 3 * MIN);
    expect(nextCallAt(SHARE_BUDGET, made, T0 + 3 * MIN)).toBe(T0 + 3 * MIN);
    // The second slot opens when the second-oldest call leaves.
    expect(nextCallAt(SHARE_BUDGET, [...made, T0 + 3 * MIN], T0 + 3 * MIN)).toBe(T0 + 3 * MIN + S);
  });

  it("waits for the 30-minute window when 60 calls are spread thinly enough for the 3-minute one", () => {
    const made = calls(T0, 60, 30 * S); // 6 per 3 minutes, 60 within 29.5 minutes
    expect(nextCallAt(SHARE_BUDGET, made, T0 + 29.5 * MIN + 1)).toBe(T0 + 30 * MIN);
    // With only the 3-minute window the same calls leave room at once.
    expect(nextCallAt({ windows: [{ ms: 3 * MIN, calls: 10 }] }, made, T0 + 29.5 * MIN + 1)).toBe(T0 + 29.5 * MIN + 1);
  });

  it("waits for whichever window opens last", () => {
    // 50 calls over 24.5 minutes, then a burst of 10 at 26 minutes: the 3-minute window opens at
    // 29 minutes, but the 30-minute window holds 60 until the call at T0 leaves it at 30.
    const made = [...calls(T0, 50, 30 * S), ...calls(T0 + 26 * MIN, 10, S)];
    expect(nextCallAt({ windows: [{ ms: 3 * MIN, calls: 10 }] }, made, T0 + 26 * MIN + 10 * S)).toBe(T0 + 29 * MIN);
    expect(nextCallAt(SHARE_BUDGET, made, T0 + 26 * MIN + 10 * S)).toBe(T0 + 30 * MIN);
  });

  it("does not depend on the order of the call times", () => {
    const random = seededRandom(3);
    const made = [...calls(T0, 50, 30 * S), ...calls(T0 + 26 * MIN, 10, S)];
    for (let i = 0; i < 5; i++) expect(nextCallAt(SHARE_BUDGET, shuffled(random, made), T0 + 26 * MIN + 10 * S)).toBe(T0 + 30 * MIN);
  });

  it("counts a call timed after now (another instance's, or clock skew) in every window it will share", () => {
    const oneASecond: CallBudget = { windows: [{ ms: 1000, calls: 1 }] };
    // The call at 500 would share a window with a call at 0..1499, so the next one goes at 1500.
    expect(nextCallAt(oneASecond, [500], 0)).toBe(1500);
    expect(nextCallAt({ windows: [{ ms: 1000, calls: 2 }] }, [500], 0)).toBe(0);
    // Between a past call and a future one, exactly one window length from each, there is room.
    expect(nextCallAt(oneASecond, [0, 2000], 0)).toBe(1000);
    expect(nextCallAt(oneASecond, [0, 1999], 0)).toBe(2999);
    // Nine recent calls and one scheduled in a minute: a call now would make 11 in one window.
    const made = [...calls(T0 - 10 * S, 9, S), T0 + MIN];
    expect(nextCallAt(SHARE_BUDGET, made, T0)).toBe(T0 - 10 * S + 3 * MIN);
  });

  it("accepts any budget, and names every invalid field", () => {
    expect(nextCallAt({ windows: [{ ms: 10, calls: 2 }] }, [0, 1], 5)).toBe(10);
    const err = validationErrorOf(() =>
      nextCallAt(
        {
          windows: [
            { ms: 0, calls: 10 },
            { ms: 1000, calls: 0.5 },
          ],
        },
        [1, Number.NaN],
        Number.POSITIVE_INFINITY,
      ),
    );
    expect(err.errors).toEqual([
      { path: "budget.windows[0].ms", rule: "must be a whole number of milliseconds, at least 1" },
      { path: "budget.windows[1].calls", rule: "must be a whole number, at least 1" },
      { path: "callTimes[1]", rule: "must be a finite number of epoch milliseconds" },
      { path: "now", rule: "must be a finite number of epoch milliseconds" },
    ]);
    expect(validationErrorOf(() => nextCallAt({ windows: [] }, [], 0)).message).toBe(
      "invalid call budget input: budget.windows: must list at least one window",
    );
  });
});

describe("pruneCallTimes", () => {
  it("drops the times no window can see any more and keeps the rest in their order", () => {
    const now = T0 + 60 * MIN;
    const times = [now - 10 * S, now - 30 * MIN, now - 30 * MIN + 1, now - 40 * MIN, now + 5 * S, now - 2 * MIN];
    expect(pruneCallTimes(SHARE_BUDGET, times, now)).toEqual([now - 10 * S, now - 30 * MIN + 1, now + 5 * S, now - 2 * MIN]);
    expect(pruneCallTimes({ windows: [{ ms: 3 * MIN, calls: 10 }] }, times, now)).toEqual([now - 10 * S, now + 5 * S, now - 2 * MIN]);
  });

  it("never changes the answer for now or later", () => {
    const random = seededRandom(11);
    const times = Array.from({ length: 200 }, () => T0 + Math.floor(random() * 90 * MIN));
    const pruneAt = T0 + 80 * MIN;
    const kept = pruneCallTimes(SHARE_BUDGET, times, pruneAt);
    expect(kept.length).toBeLessThan(times.length);
    for (const later of [pruneAt, pruneAt + 1, pruneAt + 7 * MIN, pruneAt + 45 * MIN]) {
      expect(nextCallAt(SHARE_BUDGET, kept, later)).toBe(nextCallAt(SHARE_BUDGET, times, later));
    }
  });

  it("rejects invalid input like nextCallAt", () => {
    expect(validationErrorOf(() => pruneCallTimes(SHARE_BUDGET, [Number.NaN], 0)).errors).toEqual([
      { path: "callTimes[0]", rule: "must be a finite number of epoch milliseconds" },
    ]);
  });
});

// A coordinator serves requests for one subscription in arrival order: when a request arrives (or
// the previous call is made, if later) it asks nextCallAt, waits, and calls.
describe("a simulated schedule of share requests", () => {
  const TWO_HOURS = 120 * MIN;

  function arrivals(seed: number, resolutionMs: number): number[] {
    const random = seededRandom(seed);
    return Array.from({ length: 500 }, () => T0 + Math.floor((random() * TWO_HOURS) / resolutionMs) * resolutionMs).sort((a, b) => a - b);
  }

  interface Run {
    made: number[];
    largestState: number;
    sameFromArrival: boolean;
  }

  function schedule(requests: readonly number[]): Run {
    const made: number[] = [];
    let state: number[] = [];
    let largestState = 0;
    let sameFromArrival = true;
    for (const arrival of requests) {
      const now = Math.max(arrival, made.at(-1) ?? arrival);
      const at = nextCallAt(SHARE_BUDGET, state, now);
      // Asked at arrival, with the backlog's calls still in its future, the answer is the same.
      if (nextCallAt(SHARE_BUDGET, made, arrival) !== at) sameFromArrival = false;
      made.push(at);
      state = pruneCallTimes(SHARE_BUDGET, [...state, at], at);
      largestState = Math.max(largestState, state.length);
    }
    return { made, largestState, sameFromArrival };
  }

  /** Most calls in any window [start, start + ms): the fullest window starts at a call. */
  function fullest(times: readonly number[], ms: number): number {
    return Math.max(...times.map((start) => times.filter((t) => t >= start && t < start + ms).length));
  }

  /** Whether one more call at `t` fits, given calls all at or before `t`. */
  function fitsAfter(prior: readonly number[], t: number): boolean {
    return prior.filter((c) => c > t - 3 * MIN && c <= t).length < 10 && prior.filter((c) => c > t - 30 * MIN && c <= t).length < 60;
  }

  it.each([1, 7, 2026])("never exceeds either window and makes every call at the earliest allowed instant (seed %i)", (seed) => {
    const requests = arrivals(seed, 1);
    const { made, largestState, sameFromArrival } = schedule(requests);

    expect(made).toHaveLength(500);
    expect(fullest(made, 3 * MIN)).toBe(10);
    expect(fullest(made, 30 * MIN)).toBe(60);
    // The schedule is throttled for real: most calls wait, so the limits were binding.
    expect(made.filter((at, i) => at > (requests[i] as number)).length).toBeGreaterThan(250);

    made.forEach((at, i) => {
      const arrival = requests[i] as number;
      const earliest = Math.max(arrival, made[i - 1] ?? arrival);
      const prior = made.slice(0, i);
      expect(at).toBeGreaterThanOrEqual(earliest);
      expect(fitsAfter(prior, at)).toBe(true);
      // With every earlier call at or before `earliest`, the windows only empty as time passes: so
      // if a millisecond sooner was blocked, so was every instant since `earliest`.
      if (at > earliest) expect(fitsAfter(prior, at - 1)).toBe(false);
    });

    expect(sameFromArrival).toBe(true);
    // Pruned after every call, the coordinator never holds more than the 30-minute window's calls.
    expect(largestState).toBeLessThanOrEqual(60);
  });

  it("matches a brute-force schedule that tries every second (seed 99)", () => {
    const requests = arrivals(99, S);
    const expected: number[] = [];
    for (const arrival of requests) {
      let t = Math.max(arrival, expected.at(-1) ?? arrival);
      while (!fitsAfter(expected, t)) t += S;
      expected.push(t);
    }
    expect(schedule(requests).made).toEqual(expected);
  });
});
