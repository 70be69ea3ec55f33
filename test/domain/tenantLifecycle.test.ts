import { describe, expect, it } from "vitest";
import {
  isLifecycleOperationRunning,
  claimTenant,
  newTenantRecord,
  TenantRequestConflict,
  transition,
  type TenantLifecycle,
  type TenantState,
} from "../../src/domain/tenantLifecycle";
import type { OffboardingV1, OnboardingV1 } from "../../src/domain/messages";
import { DomainValidationError } from "../../src/domain/validation";
import { validationErrorOf } from "../support/validation";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const R1 = "0f8fad5b-d9cb-469f-a165-70867728950e";
const R2 = "9a0c1b2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const at = (minute: number): string => new Date(Date.UTC(2026, 10, 23, 10, minute, 0)).toISOString();

const ALL: TenantState[] = ["requested", "consent-pending", "active", "offboarding", "offboarded", "failed"];

/** The lifecycle as the product describes it, written out pair by pair. */
const ALLOWED = new Set([
  "requested>consent-pending",
  "requested>active",
  "requested>failed",
  "consent-pending>active",
  "consent-pending>failed",
  "active>offboarding",
  "active>requested",
  "active>failed",
  "offboarding>offboarded",
  "offboarding>failed",
  "offboarding>active",
  "offboarded>requested",
  "failed>requested",
  "failed>offboarding",
]);

/** Walks a new record through `steps`, one minute apart. */
function walk(steps: readonly (TenantState | [TenantState, string])[]): TenantLifecycle {
  let record = newTenantRecord(TENANT, { at: at(0), requestId: R1 });
  steps.forEach((step, i) => {
    const [to, reason] = typeof step === "string" ? [step, undefined] : step;
    record = transition(record, to, { at: at(i + 1), requestId: R1, ...(reason === undefined ? {} : { reason }) });
  });
  return record;
}

/** A record in `state`, reached by the shortest path. */
function inState(state: TenantState): TenantLifecycle {
  const paths: Record<TenantState, (TenantState | [TenantState, string])[]> = {
    requested: [],
    "consent-pending": ["consent-pending"],
    active: ["active"],
    offboarding: ["active", "offboarding"],
    offboarded: ["active", "offboarding", "offboarded"],
    failed: [["failed", "consent was refused"]],
  };
  return walk(paths[state]);
}

describe("newTenantRecord", () => {
  it("starts a tenant in requested, lower-casing its id, with one history entry", () => {
    expect(newTenantRecord(TENANT.toUpperCase(), { at: at(0), requestId: R1 })).toEqual({
      tenantId: TENANT,
      state: "requested",
      since: at(0),
      lastRequestId: R1,
      history: [{ state: "requested", at: at(0), requestId: R1 }],
    });
  });

  it("names every invalid field", () => {
    const err = validationErrorOf(() => newTenantRecord("contoso", { at: "yesterday", requestId: " " }));
    expect(err.errors.map((e) => e.path)).toEqual(["tenantId", "at", "requestId"]);
    expect(err.message).toBe(
      'cannot create tenant record: tenantId: must be a GUID (got "contoso"); at: must be an ISO 8601 date and time with a time zone, like 2026-11-23T10:00:00Z (got "yesterday"); requestId: must be a non-empty string',
    );
  });
});

describe("isLifecycleOperationRunning", () => {
  it("is true exactly while an onboarding or offboarding is in flight", () => {
    expect(ALL.filter(isLifecycleOperationRunning)).toEqual(["requested", "consent-pending", "offboarding"]);
  });
});

describe("transition", () => {
  it("walks the whole lifecycle, recording when, why and by which request", () => {
    let record = newTenantRecord(TENANT, { at: at(0), requestId: R1 });
    record = transition(record, "consent-pending", { at: at(1), requestId: R1, reason: "waiting for the admin's consent" });
    expect(record).toMatchObject({ state: "consent-pending", since: at(1), reason: "waiting for the admin's consent", lastRequestId: R1 });
    record = transition(record, "active", { at: at(2), requestId: R1 });
    // The reason belongs to the state it was given for.
    expect(record.reason).toBeUndefined();
    expect("reason" in record).toBe(false);
    record = transition(record, "offboarding", { at: at(3), requestId: R2 });
    record = transition(record, "offboarded", { at: at(4), requestId: R2 });
    record = transition(record, "requested", { at: at(5), requestId: R1 });
    expect(record).toEqual({
      tenantId: TENANT,
      state: "requested",
      since: at(5),
      lastRequestId: R1,
      history: [
        { state: "requested", at: at(0), requestId: R1 },
        { state: "consent-pending", at: at(1), requestId: R1, reason: "waiting for the admin's consent" },
        { state: "active", at: at(2), requestId: R1 },
        { state: "offboarding", at: at(3), requestId: R2 },
        { state: "offboarded", at: at(4), requestId: R2 },
        { state: "requested", at: at(5), requestId: R1 },
      ],
    });
  });

  // Every pair of states, against the lifecycle written out pair by pair in ALLOWED.
  it.each(ALL.flatMap((from) => ALL.map((to) => [from, to] as const)))("%s -> %s follows the lifecycle", (from, to) => {
    const step = () => transition(inState(from), to, { at: at(30), requestId: R2, reason: "a reason" });
    if (ALLOWED.has(`${from}>${to}`)) expect(step().state).toBe(to);
    else expect(step).toThrow(DomainValidationError);
  });

  it("asks for consent only on requested -> active, and refuses a target that is not a lifecycle state", () => {
    expect(transition(inState("consent-pending"), "active", { at: at(30), requestId: R2, mode: "rbac" }).state).toBe("active");
    expect(validationErrorOf(() => transition(inState("active"), "paused" as TenantState, { at: at(30), requestId: R2 })).errors.map((e) => e.path)).toEqual([
      "to",
    ]);
  });

  it("goes straight to active for modes without consent, and not for rbac", () => {
    const record = newTenantRecord(TENANT, { at: at(0), requestId: R1 });
    expect(transition(record, "active", { at: at(1), requestId: R1, mode: "direct" }).state).toBe("active");
    expect(transition(record, "active", { at: at(1), requestId: R1, mode: "principal" }).state).toBe("active");
    expect(validationErrorOf(() => transition(record, "active", { at: at(1), requestId: R1, mode: "rbac" })).errors).toEqual([
      { path: "state", rule: 'is "requested", which cannot go to "active" (mode "rbac" needs consent first); allowed next: "consent-pending", "failed"' },
    ]);
  });

  it("takes a new onboarding request for an active tenant", () => {
    const record = transition(inState("active"), "requested", { at: at(9), requestId: R2 });
    expect(record).toMatchObject({ state: "requested", lastRequestId: R2, since: at(9) });
  });

  it.each(["requested", "consent-pending", "active", "offboarding"] as const)("fails from %s, keeping the reason", (state) => {
    const failed = transition(inState(state), "failed", {
      at: at(30),
      requestId: R2,
      reason: "AuthorizationFailed: missing Microsoft.Compute/galleries/share/action",
    });
    expect(failed).toMatchObject({
      state: "failed",
      since: at(30),
      reason: "AuthorizationFailed: missing Microsoft.Compute/galleries/share/action",
      lastRequestId: R2,
    });
    expect(failed.history.at(-1)).toEqual({
      state: "failed",
      at: at(30),
      requestId: R2,
      reason: "AuthorizationFailed: missing Microsoft.Compute/galleries/share/action",
    });
  });

  it("needs a reason to fail", () => {
    for (const reason of [undefined, "", "   "]) {
      const err = validationErrorOf(() => transition(inState("active"), "failed", { at: at(30), requestId: R2, ...(reason === undefined ? {} : { reason }) }));
      expect(err.errors).toEqual([{ path: "reason", rule: 'is required when the tenant goes to "failed"' }]);
    }
  });

  it("lets a failed or offboarded tenant be onboarded again, and nothing else", () => {
    expect(transition(inState("failed"), "requested", { at: at(40), requestId: R2 }).state).toBe("requested");
    expect(transition(inState("offboarded"), "requested", { at: at(40), requestId: R2 }).state).toBe("requested");
    expect(() => transition(inState("offboarded"), "failed", { at: at(40), requestId: R2, reason: "late error" })).toThrow(DomainValidationError);
    expect(() => transition(inState("failed"), "active", { at: at(40), requestId: R2 })).toThrow(DomainValidationError);
  });

  it("names the current state and the allowed next states when a step is not allowed", () => {
    const err = validationErrorOf(() => transition(inState("active"), "offboarded", { at: at(50), requestId: R2 }));
    expect(err.message).toBe(
      `tenant ${TENANT}: cannot go to "offboarded": state: is "active", which cannot go to "offboarded"; allowed next: "offboarding", "requested", "failed"`,
    );
    expect(validationErrorOf(() => transition(inState("offboarded"), "active", { at: at(50), requestId: R2 })).errors[0]?.rule).toBe(
      'is "offboarded", which cannot go to "active"; allowed next: "requested"',
    );
  });

  it("refuses a second request while one is running, unless it is the same request again", () => {
    const requested = newTenantRecord(TENANT, { at: at(0), requestId: R1 });
    expect(() => transition(requested, "requested", { at: at(1), requestId: R2 })).toThrow(/allowed next: "consent-pending", "active", "failed"/);
    // A redelivered message repeats the transition it already made: nothing changes.
    const active = transition(requested, "active", { at: at(1), requestId: R1 });
    expect(transition(active, "active", { at: at(7), requestId: R1 })).toBe(active);
    expect(() => transition(active, "active", { at: at(7), requestId: R2 })).toThrow(DomainValidationError);
  });

  it("reports a bad option together with a forbidden step", () => {
    const err = validationErrorOf(() => transition(inState("offboarded"), "failed", { at: "2026-13-40T10:00:00Z", requestId: "" }));
    expect(err.errors.map((e) => e.path)).toEqual(["state", "at", "requestId", "reason"]);
  });

  it("accepts ISO times with an offset or fractions, and refuses dates without a time or zone", () => {
    const record = inState("active");
    expect(transition(record, "offboarding", { at: "2026-11-23T11:00:00.123+01:00", requestId: R2 }).since).toBe("2026-11-23T11:00:00.123+01:00");
    for (const bad of ["2026-11-23", "2026-11-23T10:00:00", "2026-11-23 10:00:00Z", "2026-02-30T25:00:00Z"]) {
      expect(validationErrorOf(() => transition(record, "offboarding", { at: bad, requestId: R2 })).errors.map((e) => e.path)).toEqual(["at"]);
    }
  });

  it("refuses a stored record whose state is not a lifecycle state", () => {
    const stored = { ...inState("active"), state: "suspended" as TenantState };
    expect(validationErrorOf(() => transition(stored, "offboarding", { at: at(9), requestId: R2 })).errors[0]).toEqual({
      path: "state",
      rule: 'is not a lifecycle state (got "suspended"); expected one of "requested", "consent-pending", "active", "offboarding", "offboarded", "failed"',
    });
  });

  it("keeps the registry record's other fields, and drops the previous state's reason when the new state has none", () => {
    // The registry's record is wider than the lifecycle; callers used to spread the narrow result
    // over it, which kept a failed tenant's reason after it was onboarded again.
    const failed = { ...walk([["failed", "consent declined"]]), displayName: "Fabrikam", galleries: ["g1"] };
    expect(failed.reason).toBe("consent declined");
    const again = transition(failed, "requested", { at: at(5), requestId: R1.replace(/.$/, "9") });
    expect(again.state).toBe("requested");
    expect(again).not.toHaveProperty("reason");
    expect(again).toMatchObject({ displayName: "Fabrikam", galleries: ["g1"] });
  });

  it("does not change the record it is given", () => {
    const record = inState("active");
    const before = structuredClone(record);
    const next = transition(record, "offboarding", { at: at(9), requestId: R2 });
    expect(record).toEqual(before);
    expect(next.history).not.toBe(record.history);
    expect(next.history).toHaveLength(record.history.length + 1);
  });

  it("keeps only the last 50 history entries", () => {
    let record = newTenantRecord(TENANT, { at: at(0), requestId: R1 });
    for (let i = 1; i <= 60; i++) record = transition(record, i % 2 === 1 ? "active" : "requested", { at: at(i), requestId: `request-${i}` });
    expect(record.history).toHaveLength(50);
    // 61 entries were made (the first and 60 transitions): the oldest 11 are gone.
    expect(record.history[0]).toEqual({ state: "active", at: at(11), requestId: "request-11" });
    expect(record.history.at(-1)).toEqual({ state: "requested", at: at(60), requestId: "request-60" });
    expect(record).toMatchObject({ state: "requested", since: at(60), lastRequestId: "request-60" });
  });

  it("stores a long or multi-line reason bounded and on one line", () => {
    const failed = transition(inState("active"), "failed", { at: at(9), requestId: R2, reason: `line one\nline two ${"x".repeat(2000)}` });
    expect(failed.reason?.startsWith("line one line two x")).toBe(true);
    expect(failed.reason).toHaveLength(1025);
    expect(failed.reason?.endsWith("…")).toBe(true);
    expect(failed.history.at(-1)?.reason).toBe(failed.reason);
  });
});

describe("claimTenant", () => {
  const G1 = "/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1";
  const onboard = (requestId: string, galleries: string[]): OnboardingV1 => ({
    schema: "onboarding/v1",
    requestId,
    tenantId: TENANT,
    displayName: "Fabrikam",
    mode: "direct",
    galleries,
  });
  const offboard = (requestId: string): OffboardingV1 => ({ schema: "offboarding/v1", requestId, tenantId: TENANT });

  it("makes a new tenant requested, then adds the galleries of a later onboarding once (ids compared without case)", () => {
    const first = claimTenant(undefined, onboard(R1, [G1]), at(0));
    expect(first).toMatchObject({ tenantId: TENANT, state: "requested", displayName: "Fabrikam", mode: "direct", galleries: [G1], subscriptionIds: [] });
    const active = transition(first, "active", { at: at(1), requestId: R1, mode: "direct" });
    const R2 = R1.replace(/.$/, "2");
    const again = claimTenant(active, onboard(R2, [G1.toUpperCase(), `${G1}x`]), at(2));
    expect(again.state).toBe("requested");
    expect(again.galleries).toHaveLength(2);
  });

  it("refuses a request while another runs, an offboarding of an unknown tenant, and one of a tenant still onboarding", () => {
    const first = claimTenant(undefined, onboard(R1, [G1]), at(0));
    const R2 = R1.replace(/.$/, "2");
    expect(() => claimTenant(first, onboard(R2, [G1]), at(1))).toThrow(TenantRequestConflict);
    expect(() => claimTenant(undefined, offboard(R2), at(1))).toThrow(/not registered/);
    // The same request again (a redelivery) gets the record it already holds.
    expect(claimTenant(first, onboard(R1, [G1]), at(1))).toBe(first);
  });
});
