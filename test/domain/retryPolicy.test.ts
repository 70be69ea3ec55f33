import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_BACKOFF_SECONDS, retryDelaySeconds, retryPolicyOf, stableSpread } from "../../src/domain/retryPolicy";

const policy = { attempts: 6, firstSeconds: 5, maxSeconds: 300 };

describe("retryDelaySeconds", () => {
  it("doubles from the first retry up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelaySeconds(policy, n))).toEqual([5, 10, 20, 40, 80, 160, 300, 300]);
  });

  it("waits at least as long as Retry-After asks, never less than the backoff", () => {
    expect(retryDelaySeconds(policy, 1, 120)).toBe(120);
    expect(retryDelaySeconds(policy, 5, 1)).toBe(80);
    expect(retryDelaySeconds(policy, 1, 900)).toBe(900);
  });

  it("cuts an absurd Retry-After to an hour and ignores one that is not a positive number", () => {
    expect(retryDelaySeconds(policy, 1, 86_400 * 30)).toBe(3600);
    expect(retryDelaySeconds(policy, 2, Number.NaN)).toBe(10);
    expect(retryDelaySeconds(policy, 2, -5)).toBe(10);
    expect(retryDelaySeconds(policy, 2, 0)).toBe(10);
  });

  it("spreads a throttled wait over up to twice its length, never below Retry-After", () => {
    expect(retryDelaySeconds(policy, 1, 120, 0)).toBe(120);
    expect(retryDelaySeconds(policy, 1, 120, 0.5)).toBe(180);
    expect(retryDelaySeconds(policy, 1, 120, 7)).toBe(240);
    expect(retryDelaySeconds(policy, 3, undefined, Number.NaN)).toBe(20);
  });

  it("draws the spread from the text, the same every time, evenly enough to part a herd", () => {
    expect(stableSpread("onboard-1|ensureGalleryReader|1")).toBe(stableSpread("onboard-1|ensureGalleryReader|1"));
    const spreads = Array.from({ length: 500 }, (_, i) => stableSpread(`onboard-${i}|ensureGalleryReader|1`));
    expect(spreads.every((s) => s >= 0 && s < 1)).toBe(true);
    // 500 instances throttled together come back over ten buckets of the window, none holding a fifth.
    const buckets = Array.from({ length: 10 }, (_, b) => spreads.filter((s) => Math.floor(s * 10) === b).length);
    expect(Math.max(...buckets)).toBeLessThan(100);
    expect(Math.min(...buckets)).toBeGreaterThan(20);
  });

  it("stays finite for any attempt number", () => {
    expect(retryDelaySeconds(policy, 10_000)).toBe(300);
    expect(retryDelaySeconds({ ...policy, maxSeconds: 1e12 }, 10_000)).toBe(5 * 2 ** 30);
  });
});

describe("retryPolicyOf", () => {
  it("takes the attempts and first delay given and caps the backoff at five minutes", () => {
    expect(retryPolicyOf({ attempts: 6, firstSeconds: 5 })).toEqual({ attempts: 6, firstSeconds: 5, maxSeconds: 300 });
    expect(DEFAULT_MAX_BACKOFF_SECONDS).toBe(300);
    expect(retryDelaySeconds(retryPolicyOf({ attempts: 20, firstSeconds: 5 }), 10)).toBe(300);
  });
});
