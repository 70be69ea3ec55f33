// The app's workflows, scaled down to seconds so that each ends within about a minute on the real
// engine (whose timers are real time): replication polls every 10 s, regions replicate in seconds,
// retries start after 1 s. Replication ends between two polls with at least 3 s to spare either side
// (the real engine starts a second or so late, more on a busy machine), so both engines see the same
// number of reads.
import { randomBytes } from "node:crypto";
import { CONSUMERS, GALLERY_ID, PUBLISHER, versionWriteEvent, type World } from "../../../local/fixtures/world";
import { publishInstanceId } from "../../../src/domain/instanceIds";
import { SHARE_CHANGE_EVENT, SHARE_COORDINATOR } from "../../../src/domain/orchestrationNames";
import type { ShareCoordinatorState } from "../../../src/domain/shareChanges";
import { createShareInbox } from "../../../src/azure/shareInbox";
import { BIG_STATUS_ORCHESTRATION } from "./conformanceApp";
import { followLikeBrowser, sendRequests } from "../../e2e/support";
import type { Scenario, ScenarioContext } from "./harness";

/** Seconds as the emulator's replication minutes. */
const seconds = (s: number): number => s / 60;

export const FAST_SETTINGS: Record<string, string> = {
  REPLICATION_POLL_MIN_SECONDS: "10",
  REPLICATION_POLL_MAX_SECONDS: "10",
  REPLICATION_TIMEOUT_MINUTES: "5",
  ACTIVITY_RETRY_FIRST_SECONDS: "1",
  ACTIVITY_RETRY_ATTEMPTS: "3",
};

const CONSENT_KEY = randomBytes(32).toString("base64");

async function deliverWrite(world: World, versionId: string): Promise<string> {
  const response = await world.deliver([versionWriteEvent(versionId)]);
  if (response.status !== 202) throw new Error(`the Event Grid webhook answered ${response.status}: ${await response.text()}`);
  return publishInstanceId(versionId);
}

/** The onboarding's instance, once the queue trigger has started it (the queue is asynchronous on both engines). */
async function onboarded(ctx: ScenarioContext, requestId: string): Promise<void> {
  const id = `onboard-${requestId}`;
  await ctx.waitUntil(id, "the onboarding to start", (s) => s !== undefined);
  const status = await ctx.waitFor(id);
  if (status.runtimeStatus !== "Completed") throw new Error(`${id} ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
}

const rid = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, "0")}`;

export const publishWaitsForReplication: Scenario = {
  name: "publish waits for replication, then shares",
  settings: FAST_SETTINGS,
  async run(ctx) {
    // Home region 6 s, then the others 8 s: complete at 14 s, between the reads at about 1 s, 11 s and 21 s.
    const versionId = ctx.world.publishVersion("1.0.0", { regionMinutes: { westeurope: seconds(6), northeurope: seconds(8), eastus: seconds(8) } });
    await ctx.waitFor(await deliverWrite(ctx.world, versionId));
  },
};

export const throttledReadWaitsForRetryAfter: Scenario = {
  name: "a 429 with Retry-After is waited out on a durable timer, then the publish goes on",
  settings: FAST_SETTINGS,
  async run(ctx) {
    // The first replication read is throttled for 2 s; replication completes at 18 s: reads at about 3, 13 and 23 s.
    ctx.world.emulator.control.fault({ method: "GET", path: /\/versions\/1\.0\.0\?.*ReplicationStatus/i, status: 429, retryAfterSeconds: 2, count: 1 });
    const versionId = ctx.world.publishVersion("1.0.0", { regionMinutes: { westeurope: seconds(8), northeurope: seconds(10), eastus: seconds(10) } });
    await ctx.waitFor(await deliverWrite(ctx.world, versionId));
  },
};

export const permanentActivityFailure: Scenario = {
  name: "an activity failing permanently (no Reader on the gallery) ends the publish Failed",
  settings: FAST_SETTINGS,
  world: { publisherRoles: ["Compute Gallery Sharing Admin"] },
  async run(ctx) {
    const versionId = ctx.world.publishVersion("1.0.0", { regionMinutes: { westeurope: seconds(3), northeurope: seconds(4), eastus: seconds(4) } });
    await ctx.waitFor(await deliverWrite(ctx.world, versionId));
  },
};

export const coordinatorMergesAndContinuesAsNew: Scenario = {
  name: "the share coordinator merges changes into one call, continues as new, and loses no change that arrives while it works",
  settings: FAST_SETTINGS,
  async run(ctx) {
    const client = ctx.world.host.durable.client();
    const inbox = createShareInbox({
      tableName: ctx.world.settings.REGISTRY_TABLE_NAME ?? "",
      connection: { connectionString: ctx.world.settings.AzureWebJobsStorage ?? "" },
    });
    const coordinatorId = `share-coordinator-${PUBLISHER.subscriptionId}`;
    // Nobody waits for the answers here (notifyShareResults counts them as gone).
    const change = (n: number, tenant: number, op: "add" | "remove" = "add") => ({
      requestId: rid("c0c0c0c0", n),
      galleryId: GALLERY_ID,
      [op]: { subscriptionIds: [], tenantIds: [CONSUMERS[tenant]!.tenantId] },
      replyTo: { instanceId: `nobody-${n}`, eventName: "ShareResult" },
    });
    // As submitShareChange does: into the inbox, then a wake-up.
    const send = async (c: ReturnType<typeof change>, wake = true) => {
      await inbox.enqueue(PUBLISHER.subscriptionId, c);
      if (wake) await client.raiseEvent(coordinatorId, SHARE_CHANGE_EVENT, { wake: true });
    };
    // The first change as an earlier version carried it (in its input): it goes to the inbox first.
    const input: ShareCoordinatorState = {
      subscriptionId: PUBLISHER.subscriptionId,
      pending: [change(1, 0)],
      callTimes: [],
      recent: [],
      retry: { attempts: 3, firstSeconds: 1 },
      collectSeconds: 4,
      historyBudget: 50,
    };
    await client.startNew(SHARE_COORDINATOR, { instanceId: coordinatorId, input });
    // Within the 4 s of collecting (seconds to spare on a busy machine): merged with the first into one share call.
    await send(change(2, 1));
    // Call counts survive a continue-as-new (the execution's batch count does not).
    const custom = (s: { customStatus: unknown } | undefined) => (s?.customStatus ?? {}) as { queued?: number; callsInLast3Minutes?: number; idle?: boolean };
    await ctx.waitUntil(coordinatorId, "the first batch", (s) => custom(s).callsInLast3Minutes === 1 && custom(s).queued === 0);
    // While the coordinator works, a change with a wake-up and one without (its sender saw it busy).
    await send(change(3, 2));
    await send(change(4, 0, "remove"), false);
    // One batch of two calls (Remove and Add), or two of one: three calls in all either way.
    await ctx.waitUntil(
      coordinatorId,
      "both applied and the coordinator idle",
      (s) => custom(s).idle === true && custom(s).queued === 0 && custom(s).callsInLast3Minutes === 3,
    );
    ctx.note("inbox after", (await inbox.peek(PUBLISHER.subscriptionId, 10)).changes.length);
  },
};

const TAILSPIN = CONSUMERS[2];
const TAILSPIN_RG = "rg-tailspin-apps";

export const rbacOnboardingWithConsent: Scenario = {
  name: "rbac onboarding waits for the consent event (reminder timers pending), then verifies",
  settings: { ...FAST_SETTINGS, SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: CONSENT_KEY, CONSENT_REMINDER_HOURS: "1", PUBLISHER_DISPLAY_NAME: "Contoso Images" },
  world: {
    consentedTenants: [CONSUMERS[0].tenantId, CONSUMERS[1].tenantId],
    publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
  },
  async run(ctx) {
    const { world } = ctx;
    world.emulator.control.addResourceGroup(TAILSPIN.subscriptionId, TAILSPIN_RG, "westeurope");
    world.publishVersion("1.0.0", { regionMinutes: { westeurope: 0, northeurope: 0, eastus: 0 } });
    const requestId = rid("abcdef01", 1);
    await sendRequests(world, [
      {
        schema: "onboarding/v1",
        requestId,
        tenantId: TAILSPIN.tenantId,
        displayName: TAILSPIN.name,
        mode: "rbac",
        galleries: [GALLERY_ID],
        consumer: { subscriptionId: TAILSPIN.subscriptionId, resourceGroup: TAILSPIN_RG, location: "westeurope" },
      },
    ]);
    const id = `onboard-${requestId}`;
    const waiting = await ctx.waitUntil(id, "the consent links", (s) => (s?.customStatus as { consent?: unknown } | undefined)?.consent !== undefined);
    const consent = (waiting?.customStatus as { consent: { adminConsentUrl: string } }).consent;
    // The administrator consents (the test follows Microsoft's link as a browser would), then grants the app Contributor.
    await followLikeBrowser(consent.adminConsentUrl);
    const sp = world.emulator.control.servicePrincipalId(PUBLISHER.appId, TAILSPIN.tenantId);
    world.emulator.control.addRoleAssignment({
      scope: `/subscriptions/${TAILSPIN.subscriptionId}/resourceGroups/${TAILSPIN_RG}`,
      principalId: sp!,
      role: "Contributor",
    });
    await onboarded(ctx, requestId);
  },
};

export const directOnboardingThenOffboarding: Scenario = {
  name: "two direct onboardings share one call; an offboarding takes one back",
  settings: { ...FAST_SETTINGS, SHARE_TENANT_IDS: "" },
  async run(ctx) {
    const { world } = ctx;
    world.publishVersion("1.0.0", { regionMinutes: { westeurope: 0, northeurope: 0, eastus: 0 } });
    const onboard = (n: number) => ({
      schema: "onboarding/v1",
      requestId: rid("aaaaaaaa", n),
      tenantId: CONSUMERS[n]!.tenantId,
      displayName: CONSUMERS[n]!.name,
      mode: "direct",
      galleries: [GALLERY_ID],
    });
    await sendRequests(world, [onboard(0), onboard(1)]);
    await onboarded(ctx, rid("aaaaaaaa", 0));
    await onboarded(ctx, rid("aaaaaaaa", 1));
    const offboardId = rid("dddddddd", 1);
    await sendRequests(world, [{ schema: "offboarding/v1", requestId: offboardId, tenantId: CONSUMERS[0].tenantId }]);
    const id = `offboard-${offboardId}`;
    await ctx.waitUntil(id, "the offboarding to start", (s) => s !== undefined);
    await ctx.waitFor(id);
  },
};

export const duplicateStartOfRunningInstance: Scenario = {
  name: "starting a running instance's id again is refused",
  settings: FAST_SETTINGS,
  async run(ctx) {
    const versionId = ctx.world.publishVersion("1.0.0", { regionMinutes: { westeurope: seconds(6), northeurope: seconds(8), eastus: seconds(8) } });
    const id = await deliverWrite(ctx.world, versionId);
    await ctx.waitUntil(id, "the publish to run", (s) => s?.runtimeStatus === "Running");
    let refused = "not refused";
    try {
      await ctx.world.host.durable.client().startNew("publishImageVersion", { instanceId: id, input: { imageVersionId: versionId } });
    } catch (err) {
      refused = err instanceof Error ? err.message : String(err);
    }
    ctx.note("second start", refused);
    await ctx.waitFor(id);
  },
};

export const customStatusOver16KB: Scenario = {
  name: "a custom status over 16 KB",
  settings: FAST_SETTINGS,
  async run(ctx) {
    const id = await ctx.world.host.durable.client().startNew(BIG_STATUS_ORCHESTRATION, { instanceId: "big-status-1", input: { chars: 9000 } });
    await ctx.waitFor(id);
  },
};

const FABRIKAM = CONSUMERS[0];
const FABRIKAM_RG = "rg-fabrikam-apps";
const FABRIKAM_RG_ID = `/subscriptions/${FABRIKAM.subscriptionId}/resourceGroups/${FABRIKAM_RG}`;
const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk4sZ1Xb7Dd1t5p3F5m0lqXQ7rJ1v6y0QwY0b7kq9Xs demo@fabrikam";

export const vmOnOnboardingAndPublish: Scenario = {
  name: "onboarding makes a VM (provisionWorkload as a sub-orchestration); a publish moves it (fan-out, WorkloadDone)",
  settings: { ...FAST_SETTINGS, SHARE_TENANT_IDS: "" },
  // A VM create takes 9 s and a delete 6 s instead of 90 s and 60 s: done by provisionWorkload's first read at 30 s.
  world: { emulator: { lro: { durationScale: 0.1 } } },
  async run(ctx) {
    const { world } = ctx;
    const control = world.emulator.control;
    control.addResourceGroup(FABRIKAM.subscriptionId, FABRIKAM_RG, "westeurope");
    control.createVirtualNetwork({ subscriptionId: FABRIKAM.subscriptionId, resourceGroup: FABRIKAM_RG, name: "vnet-apps", location: "westeurope" });
    const sp = control.servicePrincipalId(PUBLISHER.appId, FABRIKAM.tenantId);
    control.addRoleAssignment({ scope: FABRIKAM_RG_ID, principalId: sp!, role: "Contributor" });
    control.addRoleAssignment({ scope: `/subscriptions/${FABRIKAM.subscriptionId}`, principalId: sp!, role: "Reader" });
    world.publishVersion("1.0.0", { regionMinutes: { westeurope: 0, northeurope: 0, eastus: 0 } });
    const requestId = rid("7a7a7a7a", 1);
    await sendRequests(world, [
      {
        schema: "onboarding/v1",
        requestId,
        tenantId: FABRIKAM.tenantId,
        displayName: FABRIKAM.name,
        mode: "direct",
        galleries: [GALLERY_ID],
        consumer: { subscriptionId: FABRIKAM.subscriptionId, resourceGroup: FABRIKAM_RG, location: "westeurope" },
        vm: {
          image: PUBLISHER.image,
          version: "latest",
          updateOnPublish: true,
          size: "Standard_B2s",
          subnetId: `${FABRIKAM_RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`,
          adminUsername: "azureuser",
          sshPublicKey: SSH,
        },
      },
    ]);
    await onboarded(ctx, requestId);
    // 1.1.0 replicates in 4 s (read again at about 11 s); the VM on 1.0.0 is deleted and made again on it.
    const versionId = world.publishVersion("1.1.0", { regionMinutes: { westeurope: seconds(2), northeurope: seconds(2), eastus: seconds(2) } });
    await ctx.waitFor(await deliverWrite(world, versionId));
  },
};

export const SCENARIOS: readonly Scenario[] = [
  publishWaitsForReplication,
  throttledReadWaitsForRetryAfter,
  permanentActivityFailure,
  coordinatorMergesAndContinuesAsNew,
  rbacOnboardingWithConsent,
  directOnboardingThenOffboarding,
  duplicateStartOfRunningInstance,
  customStatusOver16KB,
  vmOnOnboardingAndPublish,
];
