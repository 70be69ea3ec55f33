// offboardTenant on the local host with stub activities: principal-mode grants (role assignments),
// taken back one by one; what the tenant ends as when one removal fails, or when only some of its
// galleries are offboarded. No emulator, no Azurite.
import "../../local/host";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { SubmitShareChangeInput } from "../../src/activities/shareInbox";
import type { FinishTenantRequestInput, TenantGrantsInput } from "../../src/activities/tenantRegistry";
import { OFFBOARD_TENANT } from "../../src/domain/orchestrationNames";
import type { OutcomeEvent } from "../../src/domain/outcomeEvents";
import { offboardTenant, type OffboardTenantInput } from "../../src/orchestrations/offboardTenant";
import { registerStubActivities } from "../support/stubActivities";

const SUB = "/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/rg/providers/Microsoft.Compute/galleries";
const G1 = `${SUB}/g1`;
const G2 = `${SUB}/g2`;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PRINCIPAL = "0f8fad5b-d9cb-469f-a165-70867728950e";
const grant = (galleryId: string, n: number) => ({
  galleryId,
  kind: "roleAssignment" as const,
  targetId: PRINCIPAL,
  roleAssignmentId: `${galleryId}/providers/Microsoft.Authorization/roleAssignments/ra-${n}`,
});

let grants: TenantGrantsInput["grants"] = [];
/** What the stub coordinator answers a share change with (raised as the change's reply event). */
let answerOf: (input: SubmitShareChangeInput) => unknown = () => undefined;
let failing = new Set<string>();
const calls = {
  released: [] as string[],
  removed: [] as string[],
  cleaned: [] as TenantGrantsInput[],
  finished: [] as FinishTenantRequestInput[],
  events: [] as OutcomeEvent[],
};

df.app.orchestration(OFFBOARD_TENANT, offboardTenant);
registerStubActivities({
  readTenantGrants: () => ({ ok: true, value: { grants, workloads: [] } }),
  removeRoleAssignment: (input) => {
    if (failing.has(input.roleAssignmentId))
      return { ok: false, error: { code: "AuthorizationFailed", status: 403, message: "may not delete role assignments" } };
    calls.removed.push(input.roleAssignmentId);
    return { ok: true, value: { removed: true } };
  },
  // The coordinator, stubbed: answers at once by raising the reply event through the durable client.
  submitShareChange: async (input, context) => {
    await df.getClient(context).raiseEvent(input.change.replyTo.instanceId, input.change.replyTo.eventName, answerOf(input));
    return { ok: true, value: { via: "queued" as const, key: "inbox-key" } };
  },
  releaseAppReader: (input) => {
    calls.released.push(input.tenantId);
    return { ok: true, value: { removed: [], kept: [] } };
  },
  removeTenantGrants: (input) => {
    calls.cleaned.push(input);
    return { ok: true, value: { removed: input.grants.length } };
  },
  finishTenantRequest: (input) => {
    calls.finished.push(input);
    return { ok: true, value: { state: input.tenantState } };
  },
  sendOutcomeEvent: (event) => {
    calls.events.push(event);
    return { ok: true, value: { sent: true } };
  },
});

let host: LocalHost;
beforeAll(async () => {
  host = await startLocalHost({ load: async () => undefined, settings: { TASK_HUB_NAME: "StubHub" }, clock: new VirtualClock(Date.UTC(2026, 0, 1)) });
});
afterAll(async () => {
  await host?.close();
});

async function offboard(id: string, requestId: string, galleries?: string[]) {
  calls.released = [];
  calls.removed = [];
  calls.cleaned = [];
  calls.finished = [];
  calls.events = [];
  const input: OffboardTenantInput = {
    message: { schema: "offboarding/v1", requestId, tenantId: TENANT, ...(galleries ? { galleries } : {}) },
    retry: { attempts: 3, firstSeconds: 5 },
  };
  await host.durable.startNew(OFFBOARD_TENANT, { instanceId: id, input });
  return host.durable.waitFor(id);
}

describe("offboardTenant with stub activities", () => {
  it("removes every recorded role assignment and ends offboarded", async () => {
    grants = [grant(G1, 1), grant(G2, 2)];
    failing = new Set();
    const status = await offboard("off-all", "a0000000-0000-4000-8000-000000000001");
    expect(status.runtimeStatus).toBe("Completed");
    expect(calls.removed).toEqual([grants[0]!.roleAssignmentId, grants[1]!.roleAssignmentId]);
    expect(calls.cleaned.map((c) => c.grants.length)).toEqual([2]);
    expect(calls.finished).toMatchObject([{ tenantState: "offboarded", requestState: "succeeded" }]);
    expect(calls.events.map((e) => e.type)).toEqual(["GalleryShare.TenantOffboarded"]);
    // The app's own Reader (rbac) is released for the tenant once, whatever its mode: the activity decides.
    expect(calls.released).toEqual([TENANT]);
  });

  it("fails the tenant, naming the gallery and the code, when a removal is refused; what was removed is still cleaned up", async () => {
    grants = [grant(G1, 1), grant(G2, 2)];
    failing = new Set([grants[1]!.roleAssignmentId!]);
    const status = await offboard("off-refused", "a0000000-0000-4000-8000-000000000002");
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toMatchObject({ state: "failed", reason: `${G2}: AuthorizationFailed: may not delete role assignments` });
    expect(calls.cleaned.map((c) => c.grants.map((g) => g.galleryId))).toEqual([[G1]]);
    expect(calls.finished).toMatchObject([{ tenantState: "failed", requestState: "failed" }]);
    expect(calls.events.map((e) => e.type)).toEqual(["GalleryShare.TenantOffboardingFailed"]);
  });

  it("keeps the tenant active when only some of its galleries are offboarded", async () => {
    grants = [grant(G1, 1), grant(G2, 2)];
    failing = new Set();
    const status = await offboard("off-some", "a0000000-0000-4000-8000-000000000003", [G1.toUpperCase()]);
    expect(status.output).toMatchObject({ state: "active" });
    expect(calls.removed).toEqual([grants[0]!.roleAssignmentId]);
    expect(calls.finished).toMatchObject([{ tenantState: "active", requestState: "succeeded" }]);
  });

  it("takes a direct share back through the coordinator, and fails the tenant when the answer is not a share change result", async () => {
    grants = [{ galleryId: G1, kind: "tenant", targetId: TENANT }];
    failing = new Set();
    const none = { subscriptionIds: [], tenantIds: [] };
    answerOf = (input) => ({
      requestId: input.change.requestId,
      result: "applied",
      added: none,
      alreadyShared: none,
      removed: { subscriptionIds: [], tenantIds: [TENANT] },
      shareCalls: 1,
      at: "2026-01-01T00:00:00.000Z",
    });
    const ok = await offboard("off-direct", "a0000000-0000-4000-8000-000000000004");
    expect(ok.output).toMatchObject({ state: "offboarded" });
    expect(calls.cleaned.map((c) => c.grants.map((g) => g.kind))).toEqual([["tenant"]]);

    answerOf = (input) => ({ requestId: input.change.requestId, result: "applied" }); // no targets: not a result
    const bad = await offboard("off-bad-answer", "a0000000-0000-4000-8000-000000000005");
    expect(bad.output).toMatchObject({ state: "failed" });
    expect(String((bad.output as { reason?: string }).reason)).toContain("InvalidShareAnswer");
    expect(calls.cleaned).toEqual([]);
  });
});
