import { describe, expect, it } from "vitest";
import { DEFAULT_SHARE_LIMITS, permissionsNotGroupsReason, shareOperations, type SharePlan } from "../../src/domain/sharePlan";

const guid = (n: number, prefix = "a"): string => `${prefix}${String(n).padStart(7, "0")}-0000-4000-8000-000000000000`;
const S1 = guid(1, "5");
const T1 = guid(1, "7");
const T2 = guid(2, "7");

describe("DEFAULT_SHARE_LIMITS", () => {
  it("is Azure's preview limits", () => {
    expect(DEFAULT_SHARE_LIMITS).toEqual({ maxSubscriptions: 30, maxTenants: 5 });
  });
});

describe("permissionsNotGroupsReason", () => {
  it("names the rule and the gallery's permissions, or that they are not set", () => {
    expect(permissionsNotGroupsReason("Private")).toBe(
      'permissions-not-groups: direct sharing needs the gallery\'s sharingProfile.permissions to be "Groups" (it is "Private"); it can only be set when the gallery is created',
    );
    expect(permissionsNotGroupsReason(undefined)).toContain('(it is "not set")');
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
