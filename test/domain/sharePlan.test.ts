import { describe, expect, it } from "vitest";
import {
  DEFAULT_SHARE_LIMITS,
  ShareRuleError,
  planShare,
  shareOperations,
  type SharePlan,
  type SharingProfileState,
} from "../../src/domain/sharePlan";

const guid = (n: number, prefix = "a"): string => `${prefix}${String(n).padStart(7, "0")}-0000-4000-8000-000000000000`;
const S1 = guid(1, "5");
const S2 = guid(2, "5");
const S3 = guid(3, "5");
const T1 = guid(1, "7");
const T2 = guid(2, "7");

const groups = (subs: string[], tenants: string[]): SharingProfileState => ({
  permissions: "Groups",
  groups: [
    { type: "Subscriptions", ids: subs },
    { type: "AADTenants", ids: tenants },
  ],
});

const ensure = { limits: DEFAULT_SHARE_LIMITS, mode: "ensure" as const };
const reconcile = { limits: DEFAULT_SHARE_LIMITS, mode: "reconcile" as const };

function ruleErrorOf(fn: () => unknown): ShareRuleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShareRuleError) return err;
    throw err;
  }
  throw new Error("expected a ShareRuleError");
}

describe("planShare", () => {
  it("uses Azure's preview limits by default", () => {
    expect(DEFAULT_SHARE_LIMITS).toEqual({ maxSubscriptions: 30, maxTenants: 5 });
  });

  it("adds only what is missing, comparing ids case-insensitively and returning them lower-case", () => {
    const plan = planShare({ subscriptionIds: [S1.toUpperCase(), S2], tenantIds: [T1] }, groups([S1], [T2]), ensure);
    expect(plan).toEqual({
      add: { subscriptionIds: [S2], tenantIds: [T1] },
      remove: { subscriptionIds: [], tenantIds: [] },
      unchanged: { subscriptionIds: [S1], tenantIds: [T2] },
    });
  });

  it("never removes in ensure mode, and removes what is not desired in reconcile mode", () => {
    const current = groups([S1, S2], [T1]);
    expect(planShare({ subscriptionIds: [S1], tenantIds: [] }, current, ensure).remove).toEqual({ subscriptionIds: [], tenantIds: [] });
    expect(planShare({ subscriptionIds: [S1], tenantIds: [] }, current, reconcile)).toEqual({
      add: { subscriptionIds: [], tenantIds: [] },
      remove: { subscriptionIds: [S2], tenantIds: [T1] },
      unchanged: { subscriptionIds: [S1], tenantIds: [] },
    });
  });

  it("removes duplicates, trims ids and reads groups of any type casing", () => {
    const plan = planShare(
      { subscriptionIds: [` ${S1} `, S1.toUpperCase()], tenantIds: [] },
      { permissions: "groups", groups: [{ type: "subscriptions", ids: [S2.toUpperCase()] }, { type: "Community" }, {}] },
      ensure,
    );
    expect(plan.add.subscriptionIds).toEqual([S1]);
    expect(plan.unchanged.subscriptionIds).toEqual([S2]);
  });

  it("plans nothing when everything is already shared", () => {
    const plan = planShare({ subscriptionIds: [S1], tenantIds: [T1] }, groups([S1], [T1]), reconcile);
    expect(shareOperations(plan)).toEqual([]);
  });

  it("treats a gallery without groups as shared with nobody", () => {
    expect(planShare({ subscriptionIds: [S1], tenantIds: [] }, { permissions: "Groups" }, ensure).add.subscriptionIds).toEqual([S1]);
  });

  it("refuses a gallery whose permissions are not Groups", () => {
    const err = ruleErrorOf(() => planShare({ subscriptionIds: [S1], tenantIds: [] }, { permissions: "Private" }, ensure));
    expect(err.rule).toBe("permissions-not-groups");
    expect(err.name).toBe("ShareRuleError");
    expect(err.message).toBe(
      'permissions-not-groups: direct sharing needs the gallery\'s sharingProfile.permissions to be "Groups" (it is "Private"); it can only be set when the gallery is created',
    );
    expect(ruleErrorOf(() => planShare({ subscriptionIds: [S1], tenantIds: [] }, {}, ensure)).message).toContain('(it is "not set")');
  });

  it("refuses an encrypted version", () => {
    const err = ruleErrorOf(() => planShare({ subscriptionIds: [S1], tenantIds: [] }, groups([], []), { ...ensure, encrypted: true }));
    expect(err.rule).toBe("encrypted-version");
    expect(err.message).toBe("encrypted-version: an image version with encryption settings cannot be directly shared");
    expect(planShare({ subscriptionIds: [S1], tenantIds: [] }, groups([], []), { ...ensure, encrypted: false }).add.subscriptionIds).toEqual([S1]);
  });

  it("refuses ids that are not GUIDs, naming them", () => {
    const err = ruleErrorOf(() => planShare({ subscriptionIds: ["sub-1"], tenantIds: [T1, "contoso.com"] }, groups([], []), ensure));
    expect(err.rule).toBe("invalid-id");
    expect(err.ids).toEqual(["sub-1", "contoso.com"]);
    expect(err.message).toBe('invalid-id: subscription and tenant ids must be GUIDs, got "sub-1", "contoso.com"');
  });

  it("refuses to go over the tenant limit, naming the limit, the count and the ids", () => {
    const current = groups([], [guid(1), guid(2), guid(3), guid(4)]);
    const err = ruleErrorOf(() => planShare({ subscriptionIds: [], tenantIds: [T1, T2] }, current, ensure));
    expect(err.rule).toBe("tenant-limit");
    expect(err.ids).toEqual([T1, T2]);
    expect(err.message).toBe(`tenant-limit: sharing with 2 more tenant(s) (${T1}, ${T2}) would make 6 tenants, over the limit of 5 per gallery`);
  });

  it("refuses to go over the subscription limit", () => {
    const err = ruleErrorOf(() =>
      planShare({ subscriptionIds: [S1, S2, S3], tenantIds: [] }, groups([], []), { mode: "ensure", limits: { maxSubscriptions: 2, maxTenants: 5 } }),
    );
    expect(err.rule).toBe("subscription-limit");
    expect(err.message).toBe(`subscription-limit: sharing with 3 more subscription(s) (${S1}, ${S2}, ${S3}) would make 3 subscriptions, over the limit of 2 per gallery`);
  });

  it("counts removals before the limit in reconcile mode, and allows exactly the limit", () => {
    const current = groups([], [guid(1), guid(2), guid(3), guid(4), guid(5)]);
    const plan = planShare({ subscriptionIds: [], tenantIds: [guid(1), guid(2), guid(3), guid(4), T1] }, current, reconcile);
    expect(plan.add.tenantIds).toEqual([T1]);
    expect(plan.remove.tenantIds).toEqual([guid(5)]);
    expect(() => planShare({ subscriptionIds: [], tenantIds: [T1] }, current, ensure)).toThrow(/tenant-limit: .* would make 6 tenants/);
  });

  it("does not fail a plan that adds nothing to a gallery already over the limit", () => {
    const current = groups([S1, S2, S3], []);
    const limits = { maxSubscriptions: 2, maxTenants: 5 };
    expect(planShare({ subscriptionIds: [S1], tenantIds: [] }, current, { mode: "ensure", limits }).add.subscriptionIds).toEqual([]);
  });
});

describe("shareOperations", () => {
  const empty = { subscriptionIds: [], tenantIds: [] };

  it("makes one Remove then one Add, leaving out empty groups", () => {
    const plan: SharePlan = {
      add: { subscriptionIds: [S1], tenantIds: [T1] },
      remove: { subscriptionIds: [], tenantIds: [T2] },
      unchanged: empty,
    };
    expect(shareOperations(plan)).toEqual([
      { operationType: "Remove", groups: [{ type: "AADTenants", ids: [T2] }] },
      {
        operationType: "Add",
        groups: [
          { type: "Subscriptions", ids: [S1] },
          { type: "AADTenants", ids: [T1] },
        ],
      },
    ]);
  });

  it("makes only an Add when nothing is removed", () => {
    expect(shareOperations({ add: { subscriptionIds: [S1], tenantIds: [] }, remove: empty, unchanged: empty })).toEqual([
      { operationType: "Add", groups: [{ type: "Subscriptions", ids: [S1] }] },
    ]);
  });

  it("makes no call when there is nothing to do", () => {
    expect(shareOperations({ add: empty, remove: empty, unchanged: { subscriptionIds: [S1], tenantIds: [] } })).toEqual([]);
  });
});
