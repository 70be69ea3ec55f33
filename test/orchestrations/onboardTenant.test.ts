// onboardTenant on the local host with stub activities: no emulator, no Azurite. Each sharing mode's
// branches: direct (the share coordinator, stubbed through submitShareChange, answers applied,
// rejected or failed per gallery; the check from the consumer's side), principal (Reader per gallery),
// rbac (admin consent granted, denied or expiring with reminders on the virtual clock; the role
// looked for again every 15 minutes), the VM and scale set made by the provisionWorkload
// sub-orchestration (a stub orchestration here), and where the tenant and its request end.
import "../../local/host";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import type { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost } from "../../local/host";
import type { DirectShareVisibility, VerifyDirectShareInput } from "../../src/activities/directSharing";
import type { ShareChangeStanding, SubmitShareChangeInput } from "../../src/activities/shareInbox";
import type { ConsentRequestInput, GalleryReaderInput, GalleryReaderResult, RbacAccess, RbacAccessInput } from "../../src/activities/rbacAccess";
import type { FinishTenantRequestInput, TenantGrantsInput } from "../../src/activities/tenantRegistry";
import type { ActivityResult } from "../../src/domain/activityResult";
import { CONSENT_DENIED_EVENT, CONSENT_GRANTED_EVENT, type ConsentDeniedEvent, type ConsentGrantedEvent } from "../../src/domain/adminConsent";
import type { OnboardingV1 } from "../../src/domain/messages";
import { coordinatorInstanceId, ONBOARD_TENANT, PROVISION_WORKLOAD } from "../../src/domain/orchestrationNames";
import {
  CONSENT_EXPIRED,
  CONSENT_REMINDER,
  CONSENT_REQUESTED,
  TENANT_ONBOARDED,
  TENANT_ONBOARDING_FAILED,
  type OutcomeEvent,
} from "../../src/domain/outcomeEvents";
import type { ShareChangeResult } from "../../src/domain/shareChanges";
import type { ProvisionWorkloadInput, WorkloadOutcome } from "../../src/domain/workloads";
import { onboardTenant, type OnboardTenantInput, type OnboardTenantResult } from "../../src/orchestrations/onboardTenant";
import { registerStubActivities } from "../support/stubActivities";

const PUBLISHER_SUB = "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10";
const GALLERIES = `/subscriptions/${PUBLISHER_SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries`;
const G1 = `${GALLERIES}/g1`;
const G2 = `${GALLERIES}/g2`;
const G3 = `${GALLERIES}/g3`;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PRINCIPAL = "0f8fad5b-d9cb-469f-a165-70867728950e";
const CONSUMER = { subscriptionId: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", resourceGroup: "contoso-vms", location: "eastus" };
const CONSUMER_RG = `/subscriptions/${CONSUMER.subscriptionId}/resourceGroups/${CONSUMER.resourceGroup}`;
const VM = {
  image: "ubuntu",
  version: "latest",
  size: "Standard_D2s_v5",
  subnetId: `${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default`,
  adminUsername: "azureuser",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBdkqvJ9E7yW8kV2m0b1xG2Yc3A4 user@host",
};
const HOUR = 3600_000;
const RETRY = { attempts: 3, firstSeconds: 5 };
const none = { subscriptionIds: [], tenantIds: [] };

/** The coordinator's answers, raised as the change's reply event. */
const applied = (input: SubmitShareChangeInput): ShareChangeResult => ({
  requestId: input.change.requestId,
  result: "applied",
  added: { subscriptionIds: [...(input.change.add?.subscriptionIds ?? [])], tenantIds: [...(input.change.add?.tenantIds ?? [])] },
  alreadyShared: none,
  removed: none,
  shareCalls: 1,
  at: new Date(clock.now()).toISOString(),
});
const rejected = (input: SubmitShareChangeInput, reason: string): ShareChangeResult => ({
  ...applied(input),
  result: "rejected",
  reason,
  added: none,
  shareCalls: 0,
});
const failed = (input: SubmitShareChangeInput, error: { code: string; message: string }): ShareChangeResult => ({
  ...applied(input),
  result: "failed",
  error,
  added: none,
  shareCalls: 0,
});

/** The stub provisionWorkload's outcome for a VM or scale set that was made. */
const made = (input: ProvisionWorkloadInput): WorkloadOutcome => ({
  tenantId: input.tenantId,
  kind: input.spec.kind,
  resourceId: `${CONSUMER_RG}/providers/Microsoft.Compute/virtualMachines/gs-1`,
  imageVersion: `${input.galleryId}/images/ubuntu/versions/1.0.0`,
  provisioningState: "Succeeded",
});

/** What the stubs answer; set per test (`n` is the call's number for that gallery, from 0). */
interface Scripts {
  /** undefined: the coordinator never answers. */
  share: (input: SubmitShareChangeInput) => ShareChangeResult | undefined;
  visibility: (input: VerifyDirectShareInput) => ActivityResult<DirectShareVisibility>;
  reader: (input: GalleryReaderInput, n: number) => ActivityResult<GalleryReaderResult>;
  appReader: (galleryId: string) => ActivityResult<GalleryReaderResult>;
  rbac: (input: RbacAccessInput, n: number) => ActivityResult<RbacAccess>;
  finish: ActivityResult<{ state: string }> | undefined;
  /** The stub provisionWorkload's answer; an Error is thrown (the sub-orchestration fails). */
  workload: (input: ProvisionWorkloadInput) => WorkloadOutcome | Error;
  /** Where a change stands when its sender asks (`n`: the ask's number, from 0); may answer the change meanwhile. */
  standing: (input: { key: string }, n: number, context: InvocationContext) => Promise<ShareChangeStanding>;
}
const defaults = (): Scripts => ({
  share: applied,
  visibility: () => ({ ok: true, value: { visible: true, uniqueName: "5d2e9c1a-g", newestVersion: "1.0.0" } }),
  reader: (input) => ({ ok: true, value: { roleAssignmentId: `${input.galleryId}/providers/Microsoft.Authorization/roleAssignments/ra-1`, created: true } }),
  appReader: (galleryId) => ({ ok: true, value: { roleAssignmentId: `${galleryId}/providers/Microsoft.Authorization/roleAssignments/app`, created: false } }),
  rbac: () => ({ ok: true, value: { missingActions: [], newestVersion: "1.0.0" } }),
  finish: undefined,
  workload: made,
  standing: () => Promise.resolve(busy(0)),
});

/** A change queued behind `ahead` others (one gallery each) at a coordinator that just moved. */
const busy = (ahead: number): ShareChangeStanding => ({
  queued: true,
  ahead,
  galleriesAhead: ahead + 1,
  coordinator: "Running",
  coordinatorUpdatedAt: new Date(clock.now()).toISOString(),
  coordinatorIdle: false,
});
let scripts: Scripts = defaults();

/** Every stub call: name, clock time, input, and the instance's custom status when it ran. */
let calls: { name: string; at: number; input: unknown; status: unknown }[] = [];
let events: OutcomeEvent[] = [];
let provisions: { instanceId: string; input: ProvisionWorkloadInput }[] = [];
let currentId = "";

/** Logs a call; returns how many calls of that name (for that gallery, when given) came before. */
const log = (name: string, input: unknown, galleryId?: string): number => {
  const n = calls.filter((c) => c.name === name && (galleryId === undefined || (c.input as { galleryId?: string }).galleryId === galleryId)).length;
  calls.push({ name, at: clock.now(), input, status: host.durable.getStatus(currentId)?.customStatus });
  return n;
};

df.app.orchestration(ONBOARD_TENANT, onboardTenant);
// provisionWorkload, stubbed: the VM takes three minutes, then the scripted outcome (or a crash).
df.app.orchestration(PROVISION_WORKLOAD, function* (context: OrchestrationContext): Generator<df.Task, WorkloadOutcome, unknown> {
  const input = context.df.getInput<ProvisionWorkloadInput>();
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 3 * 60_000));
  if (!context.df.isReplaying) provisions.push({ instanceId: context.df.instanceId, input });
  const outcome = scripts.workload(input);
  if (outcome instanceof Error) throw outcome;
  return outcome;
});
registerStubActivities({
  // The coordinator, stubbed: answers at once by raising the reply event through the durable client.
  submitShareChange: async (input, context) => {
    log("submitShareChange", input);
    const answer = scripts.share(input);
    if (answer) await df.getClient(context).raiseEvent(input.change.replyTo.instanceId, input.change.replyTo.eventName, answer);
    return { ok: true, value: { via: "queued" as const, key: "inbox-key" } };
  },
  shareChangeStanding: async (input, context) => ({ ok: true, value: await scripts.standing(input, log("shareChangeStanding", input), context) }),
  verifyDirectShare: (input) => {
    log("verifyDirectShare", input);
    return scripts.visibility(input);
  },
  ensureGalleryReader: (input) => scripts.reader(input, log("ensureGalleryReader", input, input.galleryId)),
  ensureAppReader: (input) => {
    log("ensureAppReader", input);
    return scripts.appReader(input.galleryId);
  },
  createConsentRequest: (input) => {
    log("createConsentRequest", input);
    return {
      ok: true,
      value: {
        consentPageUrl: `https://gallery-share.example/api/consent?tenant=${input.tenantId}`,
        adminConsentUrl: `https://login.microsoftonline.com/${input.tenantId}/v2.0/adminconsent`,
      },
    };
  },
  verifyRbacAccess: (input) => scripts.rbac(input, log("verifyRbacAccess", input, input.galleryId)),
  recordTenantGrants: (input) => {
    log("recordTenantGrants", input);
    return { ok: true, value: { recorded: input.grants.length } };
  },
  finishTenantRequest: (input) => {
    log("finishTenantRequest", input);
    return scripts.finish ?? { ok: true, value: { state: input.tenantState } };
  },
  sendOutcomeEvent: (event) => {
    events.push(event);
    return { ok: true, value: { sent: true } };
  },
});

let host: LocalHost;
let clock: VirtualClock;
beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  host = await startLocalHost({ load: async () => undefined, settings: { TASK_HUB_NAME: "OnboardStubHub" }, clock });
});
afterAll(async () => {
  await host?.close();
});

const message = (requestId: string, over: Partial<OnboardingV1> = {}): OnboardingV1 => ({
  schema: "onboarding/v1",
  requestId,
  tenantId: TENANT,
  displayName: "Contoso",
  mode: "direct",
  galleries: [G1, G2],
  ...over,
});

/** Starts an onboarding with the scripts given and runs it until it waits (for an event or a timer); returns the clock time it started at. */
async function begin(id: string, msg: OnboardingV1, over: Partial<Scripts> = {}, input: Partial<OnboardTenantInput> = {}): Promise<number> {
  scripts = { ...defaults(), ...over };
  calls = [];
  events = [];
  provisions = [];
  currentId = id;
  const started = clock.now();
  const full: OnboardTenantInput = { message: msg, consent: { expiryHours: 72, reminderHours: 24 }, retry: RETRY, ...input };
  await host.durable.startNew(ONBOARD_TENANT, { instanceId: id, input: full });
  await host.durable.runUntilIdle();
  return started;
}

async function end(id: string) {
  const status = await host.durable.waitFor(id, undefined, { maxSimulatedMs: 5 * 24 * HOUR });
  return { status, output: status.output as OnboardTenantResult };
}

async function onboard(id: string, msg: OnboardingV1, over: Partial<Scripts> = {}, input: Partial<OnboardTenantInput> = {}) {
  const started = await begin(id, msg, over, input);
  return { started, ...(await end(id)) };
}

/** Runs the host, moving the virtual clock from durable timer to durable timer, until `done`. */
async function advanceUntil(done: () => boolean): Promise<void> {
  const from = clock.now();
  for (;;) {
    await host.durable.runUntilIdle();
    if (done()) return;
    const next = host.durable.nextTimerAt();
    if (next === undefined || next - from > 5 * 24 * HOUR) throw new Error("advanceUntil: nothing more will happen");
    clock.setTime(next);
  }
}

const callsOf = (name: string) => calls.filter((c) => c.name === name);
const inputsOf = <T>(name: string): T[] => callsOf(name).map((c) => c.input as T);
const finished = (): FinishTenantRequestInput => {
  const all = inputsOf<FinishTenantRequestInput>("finishTenantRequest");
  expect(all).toHaveLength(1);
  return all[0]!;
};
const eventTypes = () => events.map((e) => e.type);

describe("onboardTenant with stub activities: direct mode", () => {
  it("sends each gallery's change to its coordinator; a rejected one fails alone, the others are granted and recorded", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000001";
    const { status, output } = await onboard("on-direct-rejected", message(requestId), {
      share: (input) => (input.change.galleryId === G2 ? rejected(input, "tenant-limit: g2 is shared with the most tenants Azure allows") : applied(input)),
    });
    expect(status.runtimeStatus).toBe("Completed");
    expect(inputsOf<SubmitShareChangeInput>("submitShareChange")).toEqual([
      {
        coordinatorId: coordinatorInstanceId(PUBLISHER_SUB),
        subscriptionId: PUBLISHER_SUB,
        change: {
          requestId: `${requestId}:0`,
          galleryId: G1,
          add: { tenantIds: [TENANT] },
          replyTo: { instanceId: "on-direct-rejected", eventName: "ShareResult.0" },
        },
      },
      {
        coordinatorId: coordinatorInstanceId(PUBLISHER_SUB),
        subscriptionId: PUBLISHER_SUB,
        change: {
          requestId: `${requestId}:1`,
          galleryId: G2,
          add: { tenantIds: [TENANT] },
          replyTo: { instanceId: "on-direct-rejected", eventName: "ShareResult.1" },
        },
      },
    ]);
    expect(output).toEqual({
      tenantId: TENANT,
      requestId,
      mode: "direct",
      state: "active",
      galleries: [
        { galleryId: G1, result: "granted" },
        { galleryId: G2, result: "failed", error: { code: "tenant-limit", message: "tenant-limit: g2 is shared with the most tenants Azure allows" } },
      ],
    });
    expect(inputsOf<TenantGrantsInput>("recordTenantGrants")).toMatchObject([
      { tenantId: TENANT, requestId, grants: [{ galleryId: G1, kind: "tenant", targetId: TENANT }] },
    ]);
    // No consumer named: nothing to check from the consumer's side.
    expect(callsOf("verifyDirectShare")).toEqual([]);
    expect(finished()).toMatchObject({
      tenantId: TENANT,
      requestId,
      tenantState: "active",
      requestState: "failed",
      reason: "g2: tenant-limit: tenant-limit: g2 is shared with the most tenants Azure allows",
    });
    expect(eventTypes()).toEqual([TENANT_ONBOARDED]);
    expect(events[0]).toMatchObject({
      subject: `/tenants/${TENANT}`,
      id: `on-direct-rejected:${TENANT_ONBOARDED}`,
      data: { tenantId: TENANT, requestId, mode: "direct", galleries: output.galleries, reason: finished().reason },
    });
    expect(status.customStatus).toEqual({ step: "done", ...output });
  });

  it("shares with the subscriptions named; a change answered 'failed' fails that gallery with ARM's error", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000002";
    const subs = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];
    const armError = { code: "GallerySharingLimitExceeded", message: "at most 100 subscriptions" };
    const { output } = await onboard("on-direct-failed", message(requestId, { subscriptionIds: subs }), {
      share: (input) => (input.change.galleryId === G1 ? failed(input, armError) : applied(input)),
    });
    expect(inputsOf<SubmitShareChangeInput>("submitShareChange").map((i) => i.change.add)).toEqual([{ subscriptionIds: subs }, { subscriptionIds: subs }]);
    expect(output.state).toBe("active");
    expect(output.galleries).toEqual([
      { galleryId: G1, result: "failed", error: armError },
      { galleryId: G2, result: "granted" },
    ]);
    expect(inputsOf<TenantGrantsInput>("recordTenantGrants")[0]!.grants).toEqual(subs.map((targetId) => ({ galleryId: G2, kind: "subscription", targetId })));
    expect(finished()).toMatchObject({ tenantState: "active", requestState: "failed", reason: "g1: GallerySharingLimitExceeded: at most 100 subscriptions" });
  });

  it("fails the tenant when no gallery is shared: nothing recorded, the failure event", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000003";
    const { output } = await onboard("on-direct-none", message(requestId), {
      share: (input) =>
        input.change.galleryId === G1
          ? failed(input, { code: "AuthorizationFailed", message: "no share permission" })
          : rejected(input, "the gallery is encrypted"),
    });
    expect(output.state).toBe("failed");
    // A rejection without a rule name gets the generic code.
    expect(output.galleries.map((g) => g.error?.code)).toEqual(["AuthorizationFailed", "ShareRejected"]);
    expect(callsOf("recordTenantGrants")).toEqual([]);
    expect(finished()).toMatchObject({
      tenantState: "failed",
      requestState: "failed",
      reason: "g1: AuthorizationFailed: no share permission; g2: ShareRejected: the gallery is encrypted",
    });
    expect(eventTypes()).toEqual([TENANT_ONBOARDING_FAILED]);
  });

  it("checks each granted gallery from the consumer's side: not visible fails it, a failed check is noted", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000004";
    const { output } = await onboard("on-direct-verify", message(requestId, { galleries: [G1, G2, G3], consumer: CONSUMER }), {
      share: (input) => (input.change.galleryId === G3 ? rejected(input, "tenant-limit: full") : applied(input)),
      visibility: (input) =>
        input.galleryId === G1
          ? { ok: true, value: { visible: true, uniqueName: "5d2e9c1a-g1", newestVersion: "1.0.0" } }
          : { ok: false, error: { code: "AuthorizationFailed", status: 403, message: "no Reader in the consumer subscription" } },
    });
    // Only granted galleries are looked at, from the consumer's subscription and location, once the grants are recorded.
    expect(inputsOf<VerifyDirectShareInput>("verifyDirectShare")).toEqual([
      { tenantId: TENANT, galleryId: G1, subscriptionId: CONSUMER.subscriptionId, location: CONSUMER.location },
      { tenantId: TENANT, galleryId: G2, subscriptionId: CONSUMER.subscriptionId, location: CONSUMER.location },
    ]);
    expect(callsOf("verifyDirectShare").map((c) => (c.status as { step: string }).step)).toEqual(["verifying", "verifying"]);
    expect(calls.map((c) => c.name).indexOf("recordTenantGrants")).toBeLessThan(calls.map((c) => c.name).indexOf("verifyDirectShare"));
    expect(output.galleries).toEqual([
      { galleryId: G1, result: "granted", verification: { visible: true, uniqueName: "5d2e9c1a-g1", newestVersion: "1.0.0" } },
      { galleryId: G2, result: "granted", verification: { visible: false, note: "AuthorizationFailed: no Reader in the consumer subscription" } },
      { galleryId: G3, result: "failed", error: { code: "tenant-limit", message: "tenant-limit: full" } },
    ]);
    expect(finished()).toMatchObject({ tenantState: "active", requestState: "failed", reason: "g3: tenant-limit: tenant-limit: full" });
  });

  it("fails a gallery the consumer does not see, with the check's note", async () => {
    const { output } = await onboard("on-direct-invisible", message("a0000000-0000-4000-8000-000000000005", { galleries: [G1], consumer: CONSUMER }), {
      visibility: () => ({ ok: true, value: { visible: false, note: "g1 is not among the galleries shared with the tenant in eastus" } }),
    });
    expect(output.galleries).toEqual([
      {
        galleryId: G1,
        result: "failed",
        verification: { visible: false, note: "g1 is not among the galleries shared with the tenant in eastus" },
        error: { code: "NotVisibleToConsumer", message: "g1 is not among the galleries shared with the tenant in eastus" },
      },
    ]);
    expect(output.state).toBe("failed");
    // The share itself was made: its grant is recorded, so an offboarding takes it back.
    expect(inputsOf<TenantGrantsInput>("recordTenantGrants")[0]!.grants).toEqual([{ galleryId: G1, kind: "tenant", targetId: TENANT }]);
    expect(finished()).toMatchObject({ tenantState: "failed", requestState: "failed" });
    expect(eventTypes()).toEqual([TENANT_ONBOARDING_FAILED]);
  });
  it("keeps waiting while its change is queued behind others at a working coordinator: no second send, no failure", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000006";
    const { output, started } = await onboard("on-direct-queued", message(requestId, { galleries: [G1] }), {
      share: () => undefined,
      // 100 galleries ahead: the next wait is as long as they need at 60 calls per 30 minutes (51.5 min).
      standing: async (input, n, context) => {
        if (n === 2) {
          const change = inputsOf<SubmitShareChangeInput>("submitShareChange")[0]!.change;
          await df
            .getClient(context)
            .raiseEvent(change.replyTo.instanceId, change.replyTo.eventName, applied(inputsOf<SubmitShareChangeInput>("submitShareChange")[0]!));
        }
        return busy(100 - 50 * n);
      },
    });
    expect(callsOf("submitShareChange")).toHaveLength(1);
    expect(callsOf("shareChangeStanding").map((c) => c.at - started)).toEqual([
      15 * 60_000,
      15 * 60_000 + 51.5 * 60_000,
      15 * 60_000 + 51.5 * 60_000 + 26.5 * 60_000,
    ]);
    expect(output.galleries).toMatchObject([{ galleryId: G1, result: "granted" }]);
  });

  it("sends the change again when it left the inbox unanswered, or the coordinator is idle or not running", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000007";
    const { output, started } = await onboard("on-direct-resend", message(requestId, { galleries: [G1] }), {
      share: (input) => (callsOf("submitShareChange").length === 4 ? applied(input) : undefined),
      standing: (_input, n) =>
        Promise.resolve(n === 0 ? { ...busy(0), queued: false } : n === 1 ? { ...busy(0), coordinatorIdle: true } : { ...busy(0), coordinator: "Failed" }),
    });
    expect(callsOf("submitShareChange").map((c) => c.at - started)).toEqual([0, 15 * 60_000, 30 * 60_000, 45 * 60_000]);
    // The same change (same requestId, same reply event) each time: the coordinator answers a repeat with its first answer.
    expect(new Set(inputsOf<SubmitShareChangeInput>("submitShareChange").map((i) => JSON.stringify(i))).size).toBe(1);
    expect(output.galleries).toMatchObject([{ galleryId: G1, result: "granted" }]);
  });

  it("fails the gallery as ShareCoordinatorUnhealthy when the coordinator has not moved for two hours, not because it is busy", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000008";
    let stuckSince = 0;
    const { output, started } = await onboard("on-direct-stuck", message(requestId, { galleries: [G1] }), {
      share: () => undefined,
      standing: (_input, n) => {
        if (n === 0) stuckSince = clock.now();
        return Promise.resolve({ ...busy(3), coordinatorUpdatedAt: new Date(stuckSince).toISOString() });
      },
    });
    expect(callsOf("submitShareChange")).toHaveLength(1);
    expect(output.galleries).toMatchObject([{ galleryId: G1, result: "failed", error: { code: "ShareCoordinatorUnhealthy" } }]);
    // Asked every 15 minutes; failed at the first ask more than two hours after the coordinator last moved.
    expect(callsOf("shareChangeStanding").at(-1)!.at - started).toBe(15 * 60_000 + 135 * 60_000);
    expect(finished()).toMatchObject({ tenantState: "failed", requestState: "failed" });
  });
});

describe("onboardTenant with stub activities: principal mode", () => {
  it("gives the principal Reader on each gallery (a throttled call retried), and a permanent error fails that gallery", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000011";
    const { output, started } = await onboard("on-principal", message(requestId, { mode: "principal", principal: { objectId: PRINCIPAL, type: "Group" } }), {
      reader: (input, n) => {
        if (input.galleryId === G2) return { ok: false, error: { code: "AuthorizationFailed", status: 403, message: "may not write role assignments on g2" } };
        if (n === 0) return { ok: false, error: { code: "TooManyRequests", status: 429, message: "throttled" }, retry: { afterSeconds: 30 } };
        return defaults().reader(input, n);
      },
    });
    // The throttled call again after at least its Retry-After (spread over up to as much again), then g2.
    const readers = callsOf("ensureGalleryReader").map((c) => [(c.input as GalleryReaderInput).galleryId, c.at - started] as const);
    expect(readers.map(([g]) => g)).toEqual([G1, G1, G2]);
    expect(readers[0]![1]).toBe(0);
    expect(readers[1]![1]).toBeGreaterThanOrEqual(30_000);
    expect(readers[1]![1]).toBeLessThan(60_000);
    expect(readers[2]![1]).toBe(readers[1]![1]);
    // With the orchestration's time, at which the write is booked in the ARM write schedule.
    expect(inputsOf<GalleryReaderInput>("ensureGalleryReader")[0]).toEqual({
      galleryId: G1,
      principalId: PRINCIPAL,
      principalType: "Group",
      at: new Date(started).toISOString(),
    });
    expect(output.galleries).toEqual([
      { galleryId: G1, result: "granted" },
      { galleryId: G2, result: "failed", error: { code: "AuthorizationFailed", status: 403, message: "may not write role assignments on g2" } },
    ]);
    expect(inputsOf<TenantGrantsInput>("recordTenantGrants")[0]!.grants).toEqual([
      { galleryId: G1, kind: "roleAssignment", targetId: PRINCIPAL, roleAssignmentId: `${G1}/providers/Microsoft.Authorization/roleAssignments/ra-1` },
    ]);
    expect(callsOf("submitShareChange")).toEqual([]);
    expect(finished()).toMatchObject({
      tenantState: "active",
      requestState: "failed",
      reason: "g2: AuthorizationFailed: may not write role assignments on g2",
    });
    expect(eventTypes()).toEqual([TENANT_ONBOARDED]);
  });

  it("fails the orchestration when the tenant's end cannot be recorded, after the outcome event", async () => {
    const { status } = await onboard(
      "on-principal-unrecorded",
      message("a0000000-0000-4000-8000-000000000012", { mode: "principal", principal: { objectId: PRINCIPAL, type: "User" }, galleries: [G1] }),
      {
        finish: { ok: false, error: { code: "TenantNotFound", message: "the tenant is not in the registry" } },
      },
    );
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toContain("TenantNotFound: the tenant is not in the registry");
    expect(finished()).toMatchObject({ tenantState: "active", requestState: "succeeded" });
    expect(finished().reason).toBeUndefined();
    expect(eventTypes()).toEqual([TENANT_ONBOARDED]);
  });
});

describe("onboardTenant with stub activities: rbac mode", () => {
  const rbac = (requestId: string, over: Partial<OnboardingV1> = {}) => message(requestId, { mode: "rbac", consumer: CONSUMER, ...over });

  it("asks for consent; once granted, looks for the role every 15 minutes until nothing is missing", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000021";
    const id = "on-rbac-granted";
    const missing = ["Microsoft.Compute/virtualMachines/write", "Microsoft.Network/networkInterfaces/join/action"];
    const started = await begin(id, rbac(requestId), {
      rbac: (input, n) => ({ ok: true, value: { missingActions: input.galleryId === G1 && n < 2 ? missing.slice(n) : [] } }),
    });

    // The link went out, and the orchestration waits for the administrator.
    const expiresAt = new Date(started + 72 * HOUR).toISOString();
    expect(inputsOf<ConsentRequestInput>("createConsentRequest")).toEqual([
      { tenantId: TENANT, requestId, instanceId: id, issuedAt: new Date(started).toISOString(), expiresAt },
    ]);
    const pending = host.durable.getStatus(id);
    expect(pending?.runtimeStatus).toBe("Running");
    expect(pending?.customStatus).toMatchObject({
      step: "consent-pending",
      consent: { expiresAt, adminConsentUrl: `https://login.microsoftonline.com/${TENANT}/v2.0/adminconsent` },
    });
    expect(eventTypes()).toEqual([CONSENT_REQUESTED]);
    expect(events[0]!.data).toMatchObject({ tenantId: TENANT, requestId, consent: { expiresAt } });

    clock.advance(2 * HOUR);
    const consentedAt = clock.now();
    await host.durable.raiseEvent(id, CONSENT_GRANTED_EVENT, { tenantId: TENANT, at: new Date(consentedAt).toISOString() } satisfies ConsentGrantedEvent);
    const { output } = await end(id);

    expect(inputsOf<{ galleryId: string }>("ensureAppReader").map((i) => i.galleryId)).toEqual([G1, G2]);
    expect(callsOf("verifyRbacAccess").map((c) => [(c.input as RbacAccessInput).galleryId, c.at - consentedAt])).toEqual([
      [G1, 0],
      [G1, 15 * 60_000],
      [G1, 30 * 60_000],
      [G2, 30 * 60_000],
    ]);
    expect(inputsOf<RbacAccessInput>("verifyRbacAccess")[0]).toEqual({ tenantId: TENANT, galleryId: G1, consumer: CONSUMER });
    // While it waits for the role, the status names what is missing.
    expect(callsOf("verifyRbacAccess")[1]!.status).toMatchObject({ step: "waiting-for-role", galleryId: G1, missingActions: missing });
    expect(callsOf("verifyRbacAccess")[2]!.status).toMatchObject({ step: "waiting-for-role", galleryId: G1, missingActions: missing.slice(1) });
    expect(output).toMatchObject({
      mode: "rbac",
      state: "active",
      galleries: [
        { galleryId: G1, result: "granted" },
        { galleryId: G2, result: "granted" },
      ],
    });
    // rbac grants nothing of its own to record.
    expect(callsOf("recordTenantGrants")).toEqual([]);
    expect(finished()).toMatchObject({ tenantState: "active", requestState: "succeeded", at: new Date(consentedAt + 30 * 60_000).toISOString() });
    expect(eventTypes()).toEqual([CONSENT_REQUESTED, TENANT_ONBOARDED]);
  });

  it("names the missing actions after looking for a day; an app without Reader on a gallery fails it", async () => {
    const id = "on-rbac-missing";
    const started = await begin(id, rbac("a0000000-0000-4000-8000-000000000022", { vmss: VM }), {
      appReader: (galleryId) =>
        galleryId === G2
          ? { ok: false, error: { code: "AuthorizationFailed", status: 403, message: "may not assign Reader on g2" } }
          : defaults().appReader(galleryId),
      rbac: () => ({ ok: true, value: { missingActions: ["Microsoft.Compute/virtualMachineScaleSets/write"] } }),
    });
    await host.durable.raiseEvent(id, CONSENT_GRANTED_EVENT, { tenantId: TENANT, at: new Date(started).toISOString() } satisfies ConsentGrantedEvent);
    const { output } = await end(id);
    const checks = callsOf("verifyRbacAccess");
    // The first look and 96 more, 15 minutes apart: 24 hours. A scale set asked for: its actions are checked too.
    expect(checks).toHaveLength(97);
    expect(checks.at(-1)!.at - started).toBe(24 * HOUR);
    expect(checks.every((c) => (c.input as RbacAccessInput).galleryId === G1 && (c.input as RbacAccessInput).scaleSets === true)).toBe(true);
    expect(output.state).toBe("failed");
    expect(output.galleries).toEqual([
      {
        galleryId: G1,
        result: "failed",
        error: {
          code: "MissingPermissions",
          message: `the app lacks Microsoft.Compute/virtualMachineScaleSets/write on ${CONSUMER_RG}: grant it Contributor (or a role with these actions) there`,
        },
      },
      { galleryId: G2, result: "failed", error: { code: "AuthorizationFailed", status: 403, message: "may not assign Reader on g2" } },
    ]);
    // Nothing granted: no scale set is made.
    expect(provisions).toEqual([]);
    expect(output.workloads).toBeUndefined();
    expect(finished()).toMatchObject({ tenantState: "failed", requestState: "failed" });
    expect(eventTypes()).toEqual([CONSENT_REQUESTED, TENANT_ONBOARDING_FAILED]);
  });

  it("fails every gallery with the administrator's refusal when consent is denied", async () => {
    const id = "on-rbac-denied";
    const started = await begin(id, rbac("a0000000-0000-4000-8000-000000000023"));
    clock.advance(HOUR);
    await host.durable.raiseEvent(id, CONSENT_DENIED_EVENT, {
      tenantId: TENANT,
      error: "access_denied",
      description: "The administrator declined",
    } satisfies ConsentDeniedEvent);
    const { output } = await end(id);
    const error = { code: "access_denied", message: `the administrator of ${TENANT} did not consent: The administrator declined` };
    expect(output.galleries).toEqual([
      { galleryId: G1, result: "failed", error },
      { galleryId: G2, result: "failed", error },
    ]);
    expect(callsOf("ensureAppReader")).toEqual([]);
    expect(callsOf("verifyRbacAccess")).toEqual([]);
    // Ended when the refusal came, not at the next reminder.
    expect(finished()).toMatchObject({ tenantState: "failed", requestState: "failed", at: new Date(started + HOUR).toISOString() });
    expect(eventTypes()).toEqual([CONSENT_REQUESTED, TENANT_ONBOARDING_FAILED]);
  });

  it("sends reminders on the virtual clock and fails with ConsentExpired when nobody consents", async () => {
    const id = "on-rbac-expired";
    const { output, started } = await onboard(
      id,
      rbac("a0000000-0000-4000-8000-000000000024", { galleries: [G1] }),
      {},
      { consent: { expiryHours: 72, reminderHours: 30 } },
    );
    // Reminders at 30 and 60 hours; the next would be after the link expires: the expiry at 72 hours instead.
    expect(events.map((e) => [e.type, Date.parse(e.time) - started, e.data.reminder])).toEqual([
      [CONSENT_REQUESTED, 0, undefined],
      [CONSENT_REMINDER, 30 * HOUR, 1],
      [CONSENT_REMINDER, 60 * HOUR, 2],
      [CONSENT_EXPIRED, 72 * HOUR, undefined],
      [TENANT_ONBOARDING_FAILED, 72 * HOUR, undefined],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(output.galleries).toEqual([
      {
        galleryId: G1,
        result: "failed",
        error: {
          code: "ConsentExpired",
          message: `nobody consented for ${TENANT} before ${new Date(started + 72 * HOUR).toISOString()}; send the onboarding request again for a new link`,
        },
      },
    ]);
    expect(callsOf("ensureAppReader")).toEqual([]);
    expect(finished()).toMatchObject({ tenantState: "failed", requestState: "failed" });
  });

  it("takes a consent that comes after a reminder, and sends no more reminders", async () => {
    const id = "on-rbac-late";
    const started = await begin(id, rbac("a0000000-0000-4000-8000-000000000025", { galleries: [G1] }));
    await advanceUntil(() => eventTypes().includes(CONSENT_REMINDER));
    expect(clock.now() - started).toBe(24 * HOUR);
    await host.durable.raiseEvent(id, CONSENT_GRANTED_EVENT, { tenantId: TENANT, at: new Date(clock.now()).toISOString() } satisfies ConsentGrantedEvent);
    const { output } = await end(id);
    expect(output.state).toBe("active");
    expect(eventTypes()).toEqual([CONSENT_REQUESTED, CONSENT_REMINDER, TENANT_ONBOARDED]);
    expect(finished()).toMatchObject({ at: new Date(started + 24 * HOUR).toISOString(), requestState: "succeeded" });
  });
});

describe("onboardTenant with stub activities: VM and scale set", () => {
  it("makes the VM through provisionWorkload from the first gallery granted, and returns its outcome", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000031";
    const id = "on-vm";
    const { output, started } = await onboard(
      id,
      message(requestId, { consumer: CONSUMER, vm: VM }),
      { share: (input) => (input.change.galleryId === G1 ? rejected(input, "tenant-limit: full") : applied(input)) },
      { creationsInFlight: 5 },
    );
    expect(provisions).toEqual([
      {
        instanceId: `${id}:vm`,
        input: {
          mode: "direct",
          tenantId: TENANT,
          galleryId: G2,
          consumer: CONSUMER,
          spec: { ...VM, kind: "vm", updateOnPublish: false },
          changedBy: requestId,
          retry: RETRY,
          creationsInFlight: 5,
        },
      },
    ]);
    const outcome = made(provisions[0]!.input);
    expect(output.workloads).toEqual([outcome]);
    expect(output.state).toBe("active");
    expect(host.durable.getStatus(`${id}:vm`)).toMatchObject({ runtimeStatus: "Completed", output: outcome });
    // The tenant is finished once the VM is made (three minutes, in the stub).
    expect(finished()).toMatchObject({
      tenantState: "active",
      requestState: "failed",
      reason: "g1: tenant-limit: tenant-limit: full",
      at: new Date(started + 3 * 60_000).toISOString(),
    });
  });

  it("fails the request, not the tenant, when the VM fails or the scale set's provisioning crashes", async () => {
    const requestId = "a0000000-0000-4000-8000-000000000032";
    const id = "on-vm-failed";
    const { output, started } = await onboard(id, message(requestId, { galleries: [G1], consumer: CONSUMER, vm: { ...VM, updateOnPublish: true }, vmss: VM }), {
      workload: (input) =>
        input.spec.kind === "vmss"
          ? new Error("scale set provisioning blew up")
          : {
              ...made(input),
              provisioningState: "Failed",
              error: { code: "AuthorizationFailed", message: "the app lacks Microsoft.Compute/virtualMachines/write" },
            },
    });
    expect(provisions.map((p) => [p.instanceId, p.input.spec.kind, p.input.spec.updateOnPublish])).toEqual([
      [`${id}:vm`, "vm", true],
      [`${id}:vmss`, "vmss", false],
    ]);
    expect(provisions[0]!.input.creationsInFlight).toBeUndefined();
    expect(output.state).toBe("active");
    expect(output.workloads).toHaveLength(2);
    expect(output.workloads![0]).toMatchObject({ kind: "vm", provisioningState: "Failed", error: { code: "AuthorizationFailed" } });
    expect(output.workloads![1]).toMatchObject({
      tenantId: TENANT,
      kind: "vmss",
      resourceId: "",
      provisioningState: "Unknown",
      error: { code: "ProvisioningCrashed" },
    });
    expect(output.workloads![1]!.error!.message).toContain("scale set provisioning blew up");
    const end = finished();
    expect(end).toMatchObject({ tenantState: "active", requestState: "failed", at: new Date(started + 6 * 60_000).toISOString() });
    expect(end.reason).toMatch(
      /^vm: AuthorizationFailed: the app lacks Microsoft\.Compute\/virtualMachines\/write; vmss: ProvisioningCrashed: .*scale set provisioning blew up/,
    );
    expect(eventTypes()).toEqual([TENANT_ONBOARDED]);
  });
});
