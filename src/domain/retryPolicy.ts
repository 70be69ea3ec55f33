// How long to wait before the next attempt of a failed activity. The orchestration waits on a
// durable timer for this long: Durable's own retry (callActivityWithRetry) ignores Retry-After, and
// an activity that slept through a throttle would hold a worker and still not be durable.

import { stableHash } from "./instanceIds";

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly attempts: number;
  readonly firstSeconds: number;
  /** Backoff doubles from firstSeconds up to this cap. */
  readonly maxSeconds: number;
}

/** The longest Retry-After honoured; a larger value (a misbehaving proxy, a typo) is cut to this. */
const MAX_RETRY_AFTER_SECONDS = 3600;

export const DEFAULT_MAX_BACKOFF_SECONDS = 300;

/** The policy an orchestration uses for the retry settings it was given (ACTIVITY_RETRY_*), backoff capped at five minutes. */
export function retryPolicyOf(settings: { readonly attempts: number; readonly firstSeconds: number }): RetryPolicy {
  return { attempts: settings.attempts, firstSeconds: settings.firstSeconds, maxSeconds: DEFAULT_MAX_BACKOFF_SECONDS };
}

/**
 * Seconds to wait after failed attempt number `attempt` (1-based): the exponential backoff, or the
 * server's Retry-After when that asks for longer. `spread` (0 to 1) lengthens the wait by up to as
 * much again: many instances throttled at the same moment (an onboarding wave's role assignments
 * against ARM's write budget) then come back spread out instead of together, into the next 429.
 */
export function retryDelaySeconds(policy: RetryPolicy, attempt: number, retryAfterSeconds?: number, spread?: number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const backoff = Math.min(policy.firstSeconds * 2 ** exponent, policy.maxSeconds);
  const asked =
    retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS) : 0;
  const wait = Math.max(backoff, asked);
  return spread === undefined || !(spread > 0) ? wait : wait * (1 + Math.min(spread, 1));
}

/** A number from 0 to 1 that is always the same for the same text (a deterministic spread). */
export function stableSpread(text: string): number {
  return Number.parseInt(stableHash(text).slice(0, 8), 16) / 2 ** 32;
}
