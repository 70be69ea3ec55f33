import { describe, expect, it } from "vitest";
import { mergeShareRequests, type ShareChangeRequest } from "../../src/domain/shareTargets";

const guid = (n: number, prefix = "a"): string => `${prefix}${String(n).padStart(7, "0")}-0000-4000-8000-000000000000`;
const sub = (n: number): string => guid(n, "5");
const ten = (n: number): string => guid(n, "7");
const subs = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => sub(from + i));
const tens = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => ten(from + i));

const NONE = { subscriptionIds: [], tenantIds: [] };
const current = (subscriptionIds: string[], tenantIds: string[]) => ({ subscriptionIds, tenantIds });

describe("mergeShareRequests", () => {
  it("does nothing without requests", () => {
    expect(mergeShareRequests(current([sub(1)], [ten(1)]), [])).toEqual({
      plan: { add: NONE, remove: NONE, unchanged: { subscriptionIds: [sub(1)], tenantIds: [ten(1)] } },
      operations: [],
      results: [],
    });
  });

  it("adds only what is missing, lower-cased and once, as one Add operation", () => {
    const merged = mergeShareRequests(current([sub(1)], []), [
      { requestId: "r1", add: { subscriptionIds: [sub(1).toUpperCase(), sub(2), ` ${sub(2).toUpperCase()} `], tenantIds: [ten(1)] } },
    ]);
    expect(merged.plan.add).toEqual({ subscriptionIds: [sub(2)], tenantIds: [ten(1)] });
    expect(merged.operations).toEqual([
      {
        operationType: "Add",
        groups: [
          { type: "Subscriptions", ids: [sub(2)] },
          { type: "AADTenants", ids: [ten(1)] },
        ],
      },
    ]);
    expect(merged.results).toEqual([{ requestId: "r1", result: "applied" }]);
  });

  it("removes only what is there, comparing ids case-insensitively", () => {
    const merged = mergeShareRequests(current([sub(1).toUpperCase(), sub(2)], [ten(1)]), [
      { requestId: "r1", remove: { subscriptionIds: [sub(1), sub(9)], tenantIds: [ten(9)] } },
    ]);
    expect(merged.plan).toEqual({
      add: NONE,
      remove: { subscriptionIds: [sub(1)], tenantIds: [] },
      unchanged: { subscriptionIds: [sub(2)], tenantIds: [ten(1)] },
    });
    expect(merged.operations).toEqual([{ operationType: "Remove", groups: [{ type: "Subscriptions", ids: [sub(1)] }] }]);
    expect(merged.results).toEqual([{ requestId: "r1", result: "applied" }]);
  });

  it("merges many requests into at most one Remove and one Add, Remove first", () => {
    const merged = mergeShareRequests(current([sub(1), sub(2)], [ten(1)]), [
      { requestId: "r1", add: { tenantIds: [ten(2)] } },
      { requestId: "r2", remove: { subscriptionIds: [sub(1)] }, add: { subscriptionIds: [sub(3)] } },
      { requestId: "r3", add: { tenantIds: [ten(3)] }, remove: { tenantIds: [ten(1)] } },
      { requestId: "r4", remove: { subscriptionIds: [sub(2)] } },
    ]);
    expect(merged.operations).toEqual([
      {
        operationType: "Remove",
        groups: [
          { type: "Subscriptions", ids: [sub(1), sub(2)] },
          { type: "AADTenants", ids: [ten(1)] },
        ],
      },
      {
        operationType: "Add",
        groups: [
          { type: "Subscriptions", ids: [sub(3)] },
          { type: "AADTenants", ids: [ten(2), ten(3)] },
        ],
      },
    ]);
    expect(merged.results.map((r) => r.result)).toEqual(["applied", "applied", "applied", "applied"]);
  });

  it("lets a later request win over an earlier one for the same id", () => {
    // Add then remove: removed if it was there, nothing if it was not.
    const addThenRemove = mergeShareRequests(current([], [ten(1)]), [
      { requestId: "r1", add: { tenantIds: [ten(1), ten(2)] } },
      { requestId: "r2", remove: { tenantIds: [ten(1), ten(2)] } },
    ]);
    expect(addThenRemove.plan.remove.tenantIds).toEqual([ten(1)]);
    expect(addThenRemove.plan.add.tenantIds).toEqual([]);
    // Remove then add: kept if it was there, added if it was not.
    const removeThenAdd = mergeShareRequests(current([], [ten(1)]), [
      { requestId: "r1", remove: { tenantIds: [ten(1), ten(2)] } },
      { requestId: "r2", add: { tenantIds: [ten(1), ten(2)] } },
    ]);
    expect(removeThenAdd.plan).toEqual({
      add: { subscriptionIds: [], tenantIds: [ten(2)] },
      remove: NONE,
      unchanged: { subscriptionIds: [], tenantIds: [ten(1)] },
    });
  });

  it("rejects a request that would exceed the tenant limit, counting the requests before it, and still applies the rest", () => {
    const merged = mergeShareRequests(current([], tens(1, 4)), [
      { requestId: "r1", add: { tenantIds: [ten(5)] } },
      { requestId: "r2", add: { tenantIds: [ten(6)], subscriptionIds: [sub(1)] } },
      // Swapping one tenant for another needs no new slot.
      { requestId: "r3", remove: { tenantIds: [ten(1)] }, add: { tenantIds: [ten(7)] } },
    ]);
    expect(merged.results).toEqual([
      { requestId: "r1", result: "applied" },
      {
        requestId: "r2",
        result: "rejected",
        reason: `tenant-limit: adding 1 tenant(s) (${ten(6)}) would make 6 tenants, over the limit of 5 per gallery; the gallery has 4 now and 5 with the requests before this one; use rbac mode to share with more tenants`,
      },
      { requestId: "r3", result: "applied" },
    ]);
    // All or nothing: the rejected request's subscription is not added either.
    expect(merged.plan.add).toEqual({ subscriptionIds: [], tenantIds: [ten(5), ten(7)] });
    expect(merged.plan.remove).toEqual({ subscriptionIds: [], tenantIds: [ten(1)] });
  });

  it("names only the current count when no earlier request changed it", () => {
    const merged = mergeShareRequests(current([], tens(1, 5)), [{ requestId: "r1", add: { tenantIds: [ten(6), ten(7)] } }]);
    expect(merged.results[0]?.reason).toBe(
      `tenant-limit: adding 2 tenant(s) (${ten(6)}, ${ten(7)}) would make 7 tenants, over the limit of 5 per gallery; the gallery has 5 now; use rbac mode to share with more tenants`,
    );
    expect(merged.operations).toEqual([]);
  });

  it("rejects a request over the subscription limit, suggesting a tenant share or rbac mode", () => {
    const merged = mergeShareRequests(current(subs(1, 29), []), [{ requestId: "r1", add: { subscriptionIds: [sub(30), sub(31)] } }]);
    expect(merged.results[0]).toEqual({
      requestId: "r1",
      result: "rejected",
      reason: `subscription-limit: adding 2 subscription(s) (${sub(30)}, ${sub(31)}) would make 31 subscriptions, over the limit of 30 per gallery; the gallery has 29 now; share with the subscriptions' tenant instead (that covers all its subscriptions), or use rbac mode for more`,
    });
    expect(mergeShareRequests(current(subs(1, 29), []), [{ requestId: "r1", add: { subscriptionIds: [sub(30)] } }]).results[0]?.result).toBe("applied");
  });

  it("gives every broken limit in one reason", () => {
    const merged = mergeShareRequests(current(subs(1, 30), tens(1, 5)), [{ requestId: "r1", add: { subscriptionIds: [sub(31)], tenantIds: [ten(6)] } }]);
    expect(merged.results[0]?.reason).toMatch(/^subscription-limit: .*; tenant-limit: .*use rbac mode to share with more tenants$/);
  });

  it("does not count a rejected request against the ones after it", () => {
    const merged = mergeShareRequests(current([], tens(1, 3)), [
      { requestId: "big", add: { tenantIds: tens(4, 3) } },
      { requestId: "small", add: { tenantIds: tens(10, 2) } },
    ]);
    expect(merged.results.map((r) => r.result)).toEqual(["rejected", "applied"]);
    expect(merged.plan.add.tenantIds).toEqual(tens(10, 2));
  });

  it("lets a full gallery re-add what it holds, and lets an over-full one shrink", () => {
    const full = mergeShareRequests(current([], tens(1, 5)), [{ requestId: "r1", add: { tenantIds: [ten(1).toUpperCase()] } }]);
    expect(full.results[0]?.result).toBe("applied");
    expect(full.operations).toEqual([]);
    // Limits lowered below what the gallery holds: removing still works, adding does not.
    const overFull = mergeShareRequests(
      current([], tens(1, 5)),
      [
        { requestId: "r1", remove: { tenantIds: [ten(1)] } },
        { requestId: "r2", remove: { tenantIds: [ten(2)] }, add: { tenantIds: [ten(9)] } },
      ],
      { maxSubscriptions: 30, maxTenants: 3 },
    );
    expect(overFull.results.map((r) => r.result)).toEqual(["applied", "rejected"]);
    expect(overFull.results[1]?.reason).toContain(
      "would make 4 tenants, over the limit of 3 per gallery; the gallery has 5 now and 4 with the requests before this one",
    );
    // Re-adding what an over-full gallery holds needs no slot, and a reason counts only new ids.
    const readd = mergeShareRequests(
      current([], tens(1, 5)),
      [
        { requestId: "r1", add: { tenantIds: [ten(1)] } },
        { requestId: "r2", add: { tenantIds: [ten(2), ten(9)] } },
      ],
      { maxSubscriptions: 30, maxTenants: 3 },
    );
    expect(readd.results[0]).toEqual({ requestId: "r1", result: "applied" });
    expect(readd.results[1]?.reason).toMatch(new RegExp(`^tenant-limit: adding 1 tenant\\(s\\) \\(${ten(9)}\\) would make 6 tenants`));
  });

  it("takes other limits", () => {
    const merged = mergeShareRequests(current([sub(1)], []), [{ requestId: "r1", add: { subscriptionIds: [sub(2)] } }], { maxSubscriptions: 1, maxTenants: 5 });
    expect(merged.results[0]?.reason).toMatch(/^subscription-limit: .* over the limit of 1 per gallery; the gallery has 1 now;/);
  });

  it("rejects a request with an id that is not a GUID, naming each, and applies the others", () => {
    const merged = mergeShareRequests(current([], []), [
      { requestId: "bad", add: { tenantIds: [ten(1), "contoso.onmicrosoft.com"] }, remove: { subscriptionIds: [42 as unknown as string, ""] } },
      { requestId: "good", add: { tenantIds: [ten(2)] } },
    ]);
    expect(merged.results).toEqual([
      {
        requestId: "bad",
        result: "rejected",
        reason:
          'invalid-id: subscription and tenant ids must be GUIDs: add.tenantIds[1] is "contoso.onmicrosoft.com", remove.subscriptionIds[0] is a number, remove.subscriptionIds[1] is ""',
      },
      { requestId: "good", result: "applied" },
    ]);
    expect(merged.plan.add.tenantIds).toEqual([ten(2)]);
  });

  it("cuts a long invalid id in the reason", () => {
    const merged = mergeShareRequests(current([], []), [{ requestId: "r1", add: { tenantIds: ["x".repeat(500)] } }]);
    expect(merged.results[0]?.reason).toBe(`invalid-id: subscription and tenant ids must be GUIDs: add.tenantIds[0] is "${"x".repeat(80)}…"`);
  });

  it("rejects a request that both adds and removes the same id, and one without a request id", () => {
    const merged = mergeShareRequests(current([], [ten(1)]), [
      { requestId: "r1", add: { tenantIds: [ten(1).toUpperCase()] }, remove: { tenantIds: [ten(1)] } },
      { requestId: " ", add: { tenantIds: [ten(2)] } },
    ]);
    expect(merged.results).toEqual([
      { requestId: "r1", result: "rejected", reason: `add-and-remove: the request both adds and removes tenant(s) ${ten(1)}` },
      { requestId: " ", result: "rejected", reason: "invalid-request: requestId must be a non-empty string" },
    ]);
    expect(merged.operations).toEqual([]);
  });

  it("does not change its inputs", () => {
    const groups = current([sub(1)], [ten(1)]);
    const requests: ShareChangeRequest[] = [{ requestId: "r1", add: { tenantIds: [ten(2)] }, remove: { subscriptionIds: [sub(1)] } }];
    const before = structuredClone({ groups, requests });
    mergeShareRequests(groups, requests);
    expect({ groups, requests }).toEqual(before);
  });

  it("agrees with applying the accepted requests one by one (seeded random requests)", () => {
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = (make: (n: number) => string, pool: number, max: number) =>
      Array.from({ length: Math.floor(random() * (max + 1)) }, () => make(1 + Math.floor(random() * pool)));
    const rejectedFor = { limit: 0, conflict: 0 };
    for (let round = 0; round < 200; round++) {
      const start = current(pick(sub, 60, 34), pick(ten, 12, 6));
      const requests: ShareChangeRequest[] = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => ({
        requestId: `r${i}`,
        add: { subscriptionIds: pick(sub, 60, 5), tenantIds: pick(ten, 12, 3) },
        remove: { subscriptionIds: pick(sub, 60, 3), tenantIds: pick(ten, 12, 2) },
      }));
      const merged = mergeShareRequests(start, requests);

      // The model: apply each request in turn, the way a person would read the rules.
      const held = { subscriptionIds: new Set(start.subscriptionIds), tenantIds: new Set(start.tenantIds) };
      requests.forEach((request, i) => {
        const trial = { subscriptionIds: new Set(held.subscriptionIds), tenantIds: new Set(held.tenantIds) };
        let conflict = false;
        let grows = false;
        for (const field of ["subscriptionIds", "tenantIds"] as const) {
          const added = request.add?.[field] ?? [];
          const removed = request.remove?.[field] ?? [];
          if (added.some((id) => removed.includes(id))) conflict = true;
          for (const id of removed) trial[field].delete(id);
          for (const id of added) {
            if (!held[field].has(id)) grows = true;
            trial[field].add(id);
          }
        }
        const over =
          (trial.subscriptionIds.size > 30 && (request.add?.subscriptionIds ?? []).some((id) => !held.subscriptionIds.has(id))) ||
          (trial.tenantIds.size > 5 && (request.add?.tenantIds ?? []).some((id) => !held.tenantIds.has(id)));
        const expected = conflict || (grows && over) ? "rejected" : "applied";
        expect(merged.results[i]?.result, `round ${round}, request ${i}`).toBe(expected);
        if (expected === "applied") Object.assign(held, trial);
        else if (conflict) rejectedFor.conflict++;
        else rejectedFor.limit++;
      });

      const final = {
        subscriptionIds: [...merged.plan.unchanged.subscriptionIds, ...merged.plan.add.subscriptionIds],
        tenantIds: [...merged.plan.unchanged.tenantIds, ...merged.plan.add.tenantIds],
      };
      expect(new Set(final.subscriptionIds)).toEqual(held.subscriptionIds);
      expect(new Set(final.tenantIds)).toEqual(held.tenantIds);
      for (const field of ["subscriptionIds", "tenantIds"] as const) {
        expect(merged.plan.add[field].every((id) => !start[field].includes(id))).toBe(true);
        expect(merged.plan.remove[field].every((id) => start[field].includes(id))).toBe(true);
        expect(new Set(merged.plan.add[field]).size).toBe(merged.plan.add[field].length);
      }
      expect(merged.operations.length).toBeLessThanOrEqual(2);
      expect(merged.operations.map((op) => op.operationType)).toEqual([
        ...(merged.plan.remove.subscriptionIds.length + merged.plan.remove.tenantIds.length > 0 ? ["Remove"] : []),
        ...(merged.plan.add.subscriptionIds.length + merged.plan.add.tenantIds.length > 0 ? ["Add"] : []),
      ]);
    }
    // The random requests do run into the limits and into conflicts.
    expect(rejectedFor.limit).toBeGreaterThan(50);
    expect(rejectedFor.conflict).toBeGreaterThan(50);
  });
});
