// reconcile on the local host with stub activities: what it repairs for the drift it is shown, what
// it leaves alone, and that one gallery's failure does not stop the others. No emulator, no Azurite.
import "../../local/host";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { SubmitShareChangeInput } from "../../src/activities/shareInbox";
import type { GalleryDrift } from "../../src/activities/reconciliation";
import type { ActivityResult } from "../../src/domain/activityResult";
import { RECONCILE } from "../../src/domain/orchestrationNames";
import type { OutcomeEvent } from "../../src/domain/outcomeEvents";
import { reconcile, type ReconcileInput, type ReconcileReport } from "../../src/orchestrations/reconcile";
import { registerStubActivities } from "../support/stubActivities";

const SUB = "/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/rg/providers/Microsoft.Compute/galleries";
const G1 = `${SUB}/g1`;
const G2 = `${SUB}/g2`;
const none = { subscriptionIds: [], tenantIds: [] };
const T1 = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const STRANGER = "cccccccc-0000-4000-8000-000000000009";

let drifts: Record<string, ActivityResult<GalleryDrift>> = {};
const calls = { changes: [] as SubmitShareChangeInput[], readers: [] as string[], events: [] as OutcomeEvent[] };

df.app.orchestration(RECONCILE, reconcile);
registerStubActivities({
  retryFailedPublishes: () => ({
    ok: true,
    value: { retried: [{ instanceId: "publish-x", imageVersionId: `${G1}/images/u/versions/1.0.0`, code: "RetriesExhausted", attempt: 1 }] },
  }),
  indexWorkloadMembers: () => ({ ok: true, value: { added: 0 } }),
  checkGalleryDrift: (input) => drifts[input.galleryId] ?? { ok: false, error: { code: "NotFound", message: "no such gallery" } },
  submitShareChange: async (input, context) => {
    calls.changes.push(input);
    const { change } = input;
    const result = {
      requestId: change.requestId,
      result: "applied",
      added: { subscriptionIds: [...(change.add?.subscriptionIds ?? [])], tenantIds: [...(change.add?.tenantIds ?? [])] },
      alreadyShared: none,
      removed: { subscriptionIds: [...(change.remove?.subscriptionIds ?? [])], tenantIds: [...(change.remove?.tenantIds ?? [])] },
      shareCalls: 1,
      at: new Date().toISOString(),
    };
    await df.getClient(context).raiseEvent(change.replyTo.instanceId, change.replyTo.eventName, result);
    return { ok: true, value: { via: "queued" as const, key: "inbox-key" } };
  },
  ensureGalleryReader: (input) => {
    calls.readers.push(input.principalId);
    return { ok: true, value: { roleAssignmentId: `${input.galleryId}/providers/Microsoft.Authorization/roleAssignments/x`, created: true } };
  },
  sendOutcomeEvent: (event) => {
    calls.events.push(event);
    return { ok: true, value: { sent: true } };
  },
});

const drifted = (galleryId: string): ActivityResult<GalleryDrift> => ({
  ok: true,
  value: {
    galleryId,
    checkedAt: "2026-01-01T00:00:00.000Z",
    sharing: { missing: { subscriptionIds: [], tenantIds: [T1] }, unexpected: { subscriptionIds: [], tenantIds: [STRANGER] } },
    missingRoleAssignments: [{ tenantId: T1, principalId: "0f8fad5b-d9cb-469f-a165-70867728950e", principalType: "User", roleAssignmentId: "ra" }],
    tenants: [{ tenantId: T1, state: "missing" }],
  },
});
const inSync = (galleryId: string): ActivityResult<GalleryDrift> => ({
  ok: true,
  value: {
    galleryId,
    checkedAt: "2026-01-01T00:00:00.000Z",
    sharing: { missing: none, unexpected: none },
    missingRoleAssignments: [],
    tenants: [{ tenantId: T1, state: "in-sync" }],
  },
});

let host: LocalHost;
beforeAll(async () => {
  host = await startLocalHost({ load: async () => undefined, settings: { TASK_HUB_NAME: "ReconcileStubHub" }, clock: new VirtualClock(Date.UTC(2026, 0, 1)) });
});
afterAll(async () => {
  await host?.close();
});

async function run(id: string, galleryIds: string[], removeUnknown: boolean): Promise<ReconcileReport> {
  calls.changes = [];
  calls.readers = [];
  calls.events = [];
  const input: ReconcileInput = { galleryIds, removeUnknown, retry: { attempts: 2, firstSeconds: 5 } };
  await host.durable.startNew(RECONCILE, { instanceId: id, input });
  const status = await host.durable.waitFor(id);
  expect(status.runtimeStatus).toBe("Completed");
  return status.output as ReconcileReport;
}

describe("reconcile with stub activities", () => {
  it("adds what is missing through the share coordinator, re-creates the role assignment, reports the stranger and leaves it", async () => {
    drifts = { [G1]: drifted(G1), [G2]: inSync(G2) };
    const report = await run("rec-1", [G1, G2], false);
    expect(calls.changes.map((c) => c.change)).toMatchObject([{ galleryId: G1, add: { subscriptionIds: [], tenantIds: [T1] } }]);
    expect(calls.changes[0]?.change.remove).toBeUndefined();
    expect(calls.readers).toEqual(["0f8fad5b-d9cb-469f-a165-70867728950e"]);
    expect(report.galleries.map((g) => g.repaired)).toEqual([
      { shareTargets: 1, roleAssignments: 1, removedUnknown: 0 },
      { shareTargets: 0, roleAssignments: 0, removedUnknown: 0 },
    ]);
    expect(report.publishesRetried.map((p) => p.instanceId)).toEqual(["publish-x"]);
    // Drift found and repaired in g1 only: two events, none for the gallery in sync.
    expect(calls.events.map((e) => [e.type, e.subject])).toEqual([
      ["GalleryShare.DriftDetected", G1],
      ["GalleryShare.DriftRepaired", G1],
    ]);
  });

  it("removes targets nobody registered only with removeUnknown", async () => {
    drifts = { [G1]: drifted(G1) };
    const report = await run("rec-2", [G1], true);
    expect(calls.changes.map((c) => c.change.remove)).toEqual([undefined, { subscriptionIds: [], tenantIds: [STRANGER] }]);
    expect(report.galleries[0]?.repaired.removedUnknown).toBe(1);
  });

  it("a gallery it cannot read is reported, the others are still reconciled", async () => {
    drifts = { [G2]: inSync(G2) };
    const report = await run("rec-3", [G1, G2], false);
    expect(report.errors).toEqual([`${G1}: NotFound: no such gallery`]);
    expect(report.galleries.map((g) => g.galleryId)).toEqual([G2]);
    expect(calls.events).toEqual([]);
  });
});
