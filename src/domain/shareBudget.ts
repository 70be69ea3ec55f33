// How many gallery share calls (`POST .../galleries/{g}/share`, Compute's `PostShareGallery`
// policy) one subscription may still make, and when the next one may go. Compute counts the calls
// per subscription in sliding windows (about 10 per 3 minutes and 60 per 30 minutes) and reports
// what is left in `x-ms-ratelimit-remaining-resource`; a call over the limit costs a 429 and a
// Retry-After wait, so a coordinator spaces its calls by this budget instead of finding out.
// Times are epoch milliseconds passed in: nothing here reads the clock.

import { DomainValidationError, type FieldError } from "./validation";

interface BudgetWindow {
  /** Length of the sliding window, in milliseconds. */
  readonly ms: number;
  /** Most calls any window of that length may hold. */
  readonly calls: number;
}

export interface CallBudget { readonly windows: readonly BudgetWindow[] }

/** Compute's PostShareGallery policy: PostShareGallery3Min and PostShareGallery30Min. */
export const SHARE_BUDGET: CallBudget = {
  windows: [
    { ms: 180_000, calls: 10 },
    { ms: 1_800_000, calls: 60 },
  ],
};

/** One `policy;remaining` part of `x-ms-ratelimit-remaining-resource`. */
export interface RemainingQuota { policy: string; remaining: number }

/** What the server reported in the response to the latest call, and when that response arrived. */
export interface ServerRemaining {
  at: number;
  quotas: readonly RemainingQuota[];
}

function check(budget: CallBudget, callTimes: readonly number[], now: number, server?: ServerRemaining): void {
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
  if (server !== undefined) {
    if (!Number.isFinite(server.at)) errors.push({ path: "server.at", rule: "must be a finite number of epoch milliseconds" });
    server.quotas.forEach((q, i) => {
      if (!Number.isSafeInteger(q.remaining) || q.remaining < 0) errors.push({ path: `server.quotas[${i}].remaining`, rule: "must be a whole number, at least 0" });
    });
  }
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

/** Index of the first sorted call after `t`. */
function firstAfter(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Most calls already held by one window of `w` that would also hold a call at `t`. Calls after `t`
 * count too (another instance's scheduled call, clock skew), so windows ending after `t` are
 * checked; a window's count only rises when its end reaches a call, so those ends are enough.
 */
function busiest(sorted: readonly number[], w: BudgetWindow, t: number): number {
  const inWindowEndingAt = (end: number) => firstAfter(sorted, end) - firstAfter(sorted, end - w.ms);
  let most = inWindowEndingAt(t);
  for (let i = firstAfter(sorted, t); i < sorted.length && (sorted[i] as number) < t + w.ms; i++) {
    most = Math.max(most, inWindowEndingAt(sorted[i] as number));
  }
  return most;
}

function usableAt(budget: CallBudget, sorted: readonly number[], t: number): number {
  return Math.min(...budget.windows.map((w) => w.calls - busiest(sorted, w, t)));
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

const QUOTA_PART = /^([^;,\s]+);(\d{1,9})$/;

/**
 * Parses `x-ms-ratelimit-remaining-resource`
 * (`Microsoft.Compute/PostShareGallery3Min;9,Microsoft.Compute/PostShareGallery30Min;59`).
 * Malformed parts are skipped: the header is advice, and a bad part must not stop a share.
 */
export function remainingFromHeader(header: string | undefined): RemainingQuota[] {
  if (header === undefined) return [];
  const quotas: RemainingQuota[] = [];
  for (const part of header.split(",")) {
    const m = QUOTA_PART.exec(part.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) quotas.push({ policy: m[1], remaining: Number(m[2]) });
  }
  return quotas;
}

/** `…PostShareGallery3Min` counts over 3 minutes; a name without a window counts over the budget's longest. */
function quotaWindowMs(policy: string, budget: CallBudget): number {
  const m = /(\d+)Min$/i.exec(policy);
  return m?.[1] !== undefined && Number(m[1]) > 0 ? Number(m[1]) * 60_000 : longest(budget);
}

/**
 * How many calls may be made at `now`: the fewer of what our own call times leave and what the
 * server last reported (it also counts calls others made in the subscription). A reported figure
 * is lowered by our calls made after the report, and is dropped once its window has passed since
 * the report, when every call it counted has left the window (a stale 0 would block forever).
 */
export function callsUsableNow(budget: CallBudget, callTimes: readonly number[], now: number, server?: ServerRemaining): number {
  check(budget, callTimes, now, server);
  const sorted = visible(budget, callTimes, now).sort((a, b) => a - b);
  let usable = usableAt(budget, sorted, now);
  if (server !== undefined) {
    const madeSince = callTimes.filter((t) => t > server.at).length;
    for (const q of server.quotas) {
      if (now < server.at + quotaWindowMs(q.policy, budget)) usable = Math.min(usable, q.remaining - madeSince);
    }
  }
  return Math.max(0, usable);
}
