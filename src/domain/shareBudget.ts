// When one subscription may make its next gallery share call (`POST .../galleries/{g}/share`,
// Compute's `PostShareGallery` policy). Compute counts the calls per subscription in sliding
// windows (about 10 per 3 minutes and 60 per 30 minutes); a call over the limit costs a 429 and a
// Retry-After wait, so a coordinator spaces its calls by this budget instead of finding out.
// Times are epoch milliseconds passed in: nothing here reads the clock.

import { DomainValidationError, type FieldError } from "./validation";

interface BudgetWindow {
  /** Length of the sliding window, in milliseconds. */
  readonly ms: number;
  /** Most calls any window of that length may hold. */
  readonly calls: number;
}

export interface CallBudget {
  readonly windows: readonly BudgetWindow[];
}

/** Compute's PostShareGallery policy: PostShareGallery3Min and PostShareGallery30Min. */
export const SHARE_BUDGET: CallBudget = {
  windows: [
    { ms: 180_000, calls: 10 },
    { ms: 1_800_000, calls: 60 },
  ],
};

function check(budget: CallBudget, callTimes: readonly number[], now: number): void {
  const errors: FieldError[] = [];
  if (budget.windows.length === 0) errors.push({ path: "budget.windows", rule: "must list at least one window" });
  budget.windows.forEach((w, i) => {
    if (!Number.isSafeInteger(w.ms) || w.ms <= 0) errors.push({ path: `budget.windows[${i}].ms`, rule: "must be a whole number of milliseconds, at least 1" });
    // A window that allows no call would make every schedule wait forever.
    if (!Number.isSafeInteger(w.calls) || w.calls <= 0) errors.push({ path: `budget.windows[${i}].calls`, rule: "must be a whole number, at least 1" });
  });
  callTimes.forEach((t, i) => {
    if (!Number.isFinite(t)) errors.push({ path: `callTimes[${i}]`, rule: "must be a finite number of epoch milliseconds" });
  });
  if (!Number.isFinite(now)) errors.push({ path: "now", rule: "must be a finite number of epoch milliseconds" });
  if (errors.length > 0) throw new DomainValidationError("invalid call budget input", errors);
}

function longest(budget: CallBudget): number {
  return Math.max(...budget.windows.map((w) => w.ms));
}

/** A call at `t` counts in every window `(end - ms, end]` with `t` in it, so it stops counting at `t + ms`. */
function visible(budget: CallBudget, callTimes: readonly number[], now: number): number[] {
  const horizon = now - longest(budget);
  return callTimes.filter((t) => t > horizon);
}

/**
 * The earliest time ≥ `now` at which `calls` more calls, made together, keep every window within
 * its limit: one call where each window allows `calls - 1` fewer (the calls made then count in the
 * same windows; the past ones only in fewer as time goes on).
 */
export function nextCallsAt(budget: CallBudget, callTimes: readonly number[], now: number, calls: number): number {
  const most = Math.min(...budget.windows.map((w) => w.calls));
  if (!Number.isSafeInteger(calls) || calls < 1 || calls > most)
    throw new DomainValidationError("invalid call budget input", [{ path: "calls", rule: `must be a whole number from 1 to ${most} (the tightest window)` }]);
  const tighter = { windows: budget.windows.map((w) => ({ ms: w.ms, calls: w.calls - (calls - 1) })) };
  return nextCallAt(tighter, callTimes, now);
}

/**
 * The earliest time ≥ `now` at which one more call keeps every window within its limit, given the
 * times of the calls already made for the subscription (any order).
 */
export function nextCallAt(budget: CallBudget, callTimes: readonly number[], now: number): number {
  check(budget, callTimes, now);
  const sorted = visible(budget, callTimes, now).sort((a, b) => a - b);
  // A call at t is blocked by `calls` neighbours that fit in one window with it: for the run
  // sorted[j .. j+calls-1], every t in (sorted[j+calls-1] - ms, sorted[j] + ms). Open intervals, so
  // the first free instant is now or the end of one of them.
  const blocked: [number, number][] = [];
  for (const w of budget.windows) {
    for (let j = 0; j + w.calls - 1 < sorted.length; j++) {
      const start = (sorted[j + w.calls - 1] as number) - w.ms;
      const end = (sorted[j] as number) + w.ms;
      if (start < end) blocked.push([start, end]);
    }
  }
  blocked.sort((a, b) => a[0] - b[0]);
  let at = now;
  for (const [start, end] of blocked) {
    if (start >= at) break;
    if (end > at) at = end;
  }
  return at;
}

/**
 * The call times any window can still see at `now` or later, in their given order: what a
 * long-lived coordinator keeps, so its state holds at most about one longest window of calls.
 */
export function pruneCallTimes(budget: CallBudget, callTimes: readonly number[], now: number): number[] {
  check(budget, callTimes, now);
  return visible(budget, callTimes, now);
}
