import { describe, expect, it } from "vitest";
import { byRing, firstFailure, initialRings, ringOf } from "../../src/domain/rollout";

describe("rollout rings", () => {
  it("a tenant without a ring, or with one beyond the last, is in the last ring", () => {
    expect(ringOf(undefined, 3)).toBe(2);
    expect(ringOf(0, 3)).toBe(0);
    expect(ringOf(1, 3)).toBe(1);
    expect(ringOf(7, 3)).toBe(2);
    expect(ringOf(-1, 3)).toBe(2);
    expect(ringOf(1.5, 3)).toBe(2);
    expect(ringOf(0, 1)).toBe(0);
    expect(ringOf(undefined, 1)).toBe(0);
  });

  it("groups items by ring, ring 0 first, every ring present", () => {
    const items = [{ id: "a", ring: 2 }, { id: "b" }, { id: "c", ring: 0 }, { id: "d", ring: 9 }, { id: "e", ring: 0 }];
    expect(byRing(items, 3).map((g) => g.map((i) => i.id))).toEqual([["c", "e"], [], ["a", "b", "d"]]);
    expect(byRing([], 2)).toEqual([[], []]);
  });

  it("starts every ring waiting with its size, and names the first failure of a stopped ring", () => {
    expect(initialRings([1, 0, 4])).toEqual([
      { ring: 0, state: "waiting", total: 1, succeeded: 0, failed: 0 },
      { ring: 1, state: "waiting", total: 0, succeeded: 0, failed: 0 },
      { ring: 2, state: "waiting", total: 4, succeeded: 0, failed: 0 },
    ]);
    const summary = {
      total: 2,
      succeeded: 1,
      failed: 1,
      running: 0,
      maxInFlight: 2,
      failures: [{ tenantId: "t1", kind: "vm" as const, code: "OSProvisioningTimedOut", message: "did not finish" }],
      moreFailures: 0,
    };
    expect(firstFailure(1, summary)).toEqual({ ring: 1, tenantId: "t1", kind: "vm", code: "OSProvisioningTimedOut", message: "did not finish" });
    expect(firstFailure(1, { ...summary, failures: [] })).toBeUndefined();
  });
});
