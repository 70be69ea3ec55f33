// Throttling shaped like ARM and the Compute RP, on the shared clock.
// 1. ARM token buckets per subscription and principal: reads 250 burst refilling 25/s, writes 200
//    burst refilling 10/s; an empty bucket answers 429 SubscriptionRequestsThrottled + Retry-After.
// 2. Compute gallery policies counted in 3- and 30-minute windows per subscription and reported in
//    `x-ms-ratelimit-remaining-resource` (limits = the highest "remaining" values seen in real
//    traffic + 1); e.g. the share POST allows 10 per 3 min and 60 per 30 min.
import type { Clock } from "../clock";

export interface BucketConfig {
  burst: number;
  perSecond: number;
}

export interface ThrottleConfig {
  reads: BucketConfig;
  writes: BucketConfig;
  /** Compute RP per-operation windows; default true. */
  computeWindows: boolean;
}

export const DEFAULT_THROTTLE: ThrottleConfig = {
  reads: { burst: 250, perSecond: 25 },
  writes: { burst: 200, perSecond: 10 },
  computeWindows: true,
};

interface Bucket {
  tokens: number;
  last: number;
}

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: ThrottleConfig,
    private readonly clock: Clock,
  ) {}

  take(key: string, kind: "reads" | "writes"): TakeResult {
    const cfg = this.config[kind];
    const now = this.clock.now();
    const id = `${kind}|${key}`;
    const b = this.buckets.get(id) ?? { tokens: cfg.burst, last: now };
    b.tokens = Math.min(cfg.burst, b.tokens + ((now - b.last) / 1000) * cfg.perSecond);
    b.last = now;
    this.buckets.set(id, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / cfg.perSecond)) };
  }

  clear(): void {
    this.buckets.clear();
  }
}

/** Compute RP policy name -> [limit per 3 min, limit per 30 min]. */
export const COMPUTE_POLICIES: Record<string, readonly [number, number]> = {
  CreateUpdateGallery: [50, 300],
  GetGallery: [350, 2500],
  PostShareGallery: [10, 60],
  DeleteGallery: [50, 300],
  ListGalleryInResourceGroup: [100, 1000],
  ListGalleryInSubscription: [100, 1000],
  CreateUpdateGalleryImage: [150, 750],
  GetGalleryImage: [600, 3000],
  ListGalleryImagesInGallery: [1500, 10000],
  DeleteGalleryImage: [50, 300],
  CreateUpdateGalleryImageVersion: [375, 1200],
  GetGalleryImageVersion: [2000, 10000],
  ListGalleryImageVersionsInGalleryImage: [1500, 10000],
  DeleteGalleryImageVersion: [150, 1000],
  GetOperationStatus: [5000, 15000],
};

const WINDOWS = [
  { suffix: "3Min", ms: 3 * 60_000, index: 0 },
  { suffix: "30Min", ms: 30 * 60_000, index: 1 },
] as const;

export type WindowResult =
  | { ok: true; header: string }
  | { ok: false; retryAfterSeconds: number; policy: string; windowStart: number; windowEnd: number; allowed: number; measured: number };

export class ComputeWindows {
  private readonly counts = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** Counts one call of `policy` for the subscription; refuses it when a window is full. */
  count(subscriptionId: string, policy: string): WindowResult {
    const limits = COMPUTE_POLICIES[policy];
    if (!limits) return { ok: true, header: "" };
    const now = this.clock.now();
    const slots = WINDOWS.map((w) => {
      const start = Math.floor(now / w.ms) * w.ms;
      const id = `${subscriptionId.toLowerCase()}|${policy}${w.suffix}|${start}`;
      return { w, start, id, used: this.counts.get(id) ?? 0, limit: limits[w.index] };
    });
    for (const s of slots) {
      if (s.used >= s.limit) {
        const end = s.start + s.w.ms;
        return {
          ok: false,
          retryAfterSeconds: Math.max(1, Math.ceil((end - now) / 1000)),
          policy: `${policy}${s.w.suffix}`,
          windowStart: s.start,
          windowEnd: end,
          allowed: s.limit,
          measured: s.used + 1,
        };
      }
    }
    for (const s of slots) this.counts.set(s.id, s.used + 1);
    const header = slots.map((s) => `Microsoft.Compute/${policy}${s.w.suffix};${s.limit - s.used - 1}`).join(",");
    return { ok: true, header };
  }

  clear(): void {
    this.counts.clear();
  }
}
