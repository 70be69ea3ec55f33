// onboardTenant: gives a consumer tenant access to the galleries its onboarding request names, in
// the request's sharing mode, checks that the access works, and records the outcome.
//   direct    — each gallery's share coordinator adds the tenant (or its subscriptions); a gallery
//               whose direct-sharing limits are full fails on its own, the others go on; then the
//               share is checked from the consumer's side (when the request names where it deploys).
//   principal — Reader on each gallery for the given user, group or service principal.
//   rbac      — admin consent in the consumer tenant (a signed, expiring link, reminders), then from the
//               consumer tenant: the app may create VMs in the consumer resource group (missing actions
//               named) and can read the images with its publisher-tenant token.
// The queue trigger has already moved the tenant to `requested`; this ends it `active` (at least one
// gallery granted) or `failed`, with the request `succeeded` or `failed`, and an outcome event.
import type * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { DirectShareVisibility } from "../activities/directSharing";
import type { TenantGrantsInput } from "../activities/tenantRegistry";
import { CONSENT_DENIED_EVENT, CONSENT_GRANTED_EVENT } from "../domain/adminConsent";
import type { OnboardingV1 } from "../domain/messages";
import {
  CONSENT_EXPIRED,
  CONSENT_REMINDER,
  CONSENT_REQUESTED,
  TENANT_ONBOARDED,
  TENANT_ONBOARDING_FAILED,
  type OutcomeEventType,
} from "../domain/outcomeEvents";
import { ONBOARD_TENANT, PROVISION_WORKLOAD } from "../domain/orchestrationNames";
import { onboardInputProblems, readConsentDenied, readWorkloadOutcome } from "../domain/durablePayloads";
import { retryPolicyOf, type RetryPolicy } from "../domain/retryPolicy";
import { isWorkloadMode, type TenantState } from "../domain/tenantModel";
import { failedOutcome, type ProvisionWorkloadInput, type WorkloadOutcome, type WorkloadSpec } from "../domain/workloads";
import { activities } from "./activities";
import { checkedInput } from "./checkedInput";
import { requestShareChange } from "./requestShareChange";

/** After consent, how often and how long to wait for the customer to grant the role (24 hours). */
const ROLE_CHECK_MINUTES = 15;
const ROLE_CHECKS = 96;

export interface OnboardTenantInput {
  readonly message: OnboardingV1;
  /** How long a consent link lives and how often reminders go out (rbac mode). */
  readonly consent: { readonly expiryHours: number; readonly reminderHours: number };
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** VM_CREATIONS_IN_FLIGHT: VM and scale-set creations the whole app runs at once. */
  readonly creationsInFlight?: number;
}

export interface GalleryOnboarding {
  readonly galleryId: string;
  readonly result: "granted" | "failed";
  readonly error?: { readonly code: string; readonly message: string };
  readonly verification?: DirectShareVisibility;
}

/** The orchestration's output, and the custom status while it runs. */
export interface OnboardTenantResult {
  readonly tenantId: string;
  readonly requestId: string;
  readonly mode: OnboardingV1["mode"];
  readonly state: Extract<TenantState, "active" | "failed">;
  readonly galleries: readonly GalleryOnboarding[];
  /** The VM and scale set the request asked for: what each runs, or why it could not be made. */
  readonly workloads?: readonly WorkloadOutcome[];
}

export const onboardTenant: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = checkedInput<OnboardTenantInput>(context, onboardInputProblems);
  const { message } = input;
  const run: Run = { context, input, retry: retryPolicyOf(input.retry), galleries: [], grants: [] };
  show(run, "granting");
  if (message.mode === "rbac" && message.consumer) yield* grantRbac(run, message.consumer);
  if (message.mode === "direct") yield* grantDirect(run);
  if (message.mode === "principal" && message.principal) yield* grantPrincipal(run, message.principal);
  if (run.grants.length > 0) {
    const recorded = yield* activities.recordTenantGrants(
      context,
      { tenantId: message.tenantId, requestId: message.requestId, at: at(run), grants: run.grants },
      run.retry,
    );
    if (!recorded.ok) context.log(`${ONBOARD_TENANT}: grants of ${message.tenantId} not recorded: ${recorded.error.message}`);
  }
  if (message.mode === "direct" && message.consumer) yield* verifyFromConsumer(run, message.consumer);
  const workloads = yield* provisionWorkloads(run);
  return yield* finish(run, workloads);
};

/** One run of the orchestration: its input, and what it granted so far. */
interface Run {
  readonly context: OrchestrationContext;
  readonly input: OnboardTenantInput;
  readonly retry: RetryPolicy;
  readonly galleries: GalleryOnboarding[];
  readonly grants: TenantGrantsInput["grants"][number][];
}

type Consumer = NonNullable<OnboardingV1["consumer"]>;

const at = (run: Run): string => run.context.df.currentUtcDateTime.toISOString();

function show(run: Run, step: string, extra: Readonly<Record<string, unknown>> = {}): void {
  const { message } = run.input;
  run.context.df.setCustomStatus({ step, tenantId: message.tenantId, mode: message.mode, ...extra, galleries: run.galleries });
}

/** rbac: admin consent, then per gallery Reader for the app, and the role the administrator grants the app in the consumer resource group. */
function* grantRbac(run: Run, consumer: Consumer): Generator<df.Task, void, unknown> {
  const { context, input, retry, galleries } = run;
  const { message } = input;
  const consent = yield* obtainConsent(run);
  if (!consent.ok) {
    for (const galleryId of message.galleries) galleries.push({ galleryId, result: "failed", error: consent.error });
    return;
  }
  show(run, "verifying");
  for (const galleryId of message.galleries) {
    // The app's own service principal reads the image when VMs are made: Reader on the gallery.
    const reader = yield* activities.ensureAppReader(context, { galleryId, at: context.df.currentUtcDateTime.toISOString() }, retry);
    if (!reader.ok) {
      galleries.push({ galleryId, result: "failed", error: reader.error });
      continue;
    }
    // The administrator grants the role on the resource group after consenting: give them time,
    // looking again every ROLE_CHECK_MINUTES, before naming what is missing.
    const check = { tenantId: message.tenantId, galleryId, consumer, ...(message.vmss ? { scaleSets: true } : {}) };
    let access = yield* activities.verifyRbacAccess(context, check, retry);
    for (let n = 1; access.ok && access.value.missingActions.length > 0 && n <= ROLE_CHECKS; n++) {
      show(run, "waiting-for-role", { galleryId, missingActions: access.value.missingActions });
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + ROLE_CHECK_MINUTES * 60_000));
      access = yield* activities.verifyRbacAccess(context, check, retry);
    }
    if (!access.ok) galleries.push({ galleryId, result: "failed", error: access.error });
    else if (access.value.missingActions.length > 0) {
      const rg = `/subscriptions/${consumer.subscriptionId}/resourceGroups/${consumer.resourceGroup}`;
      const text = `the app lacks ${access.value.missingActions.join(", ")} on ${rg}: grant it Contributor (or a role with these actions) there`;
      galleries.push({ galleryId, result: "failed", error: { code: "MissingPermissions", message: text } });
    } else galleries.push({ galleryId, result: "granted" });
  }
}

/** direct: each gallery's share coordinator adds the tenant (or its subscriptions). */
function* grantDirect(run: Run): Generator<df.Task, void, unknown> {
  const { context, input, retry, galleries, grants } = run;
  const { message } = input;
  const add = message.subscriptionIds?.length ? { subscriptionIds: message.subscriptionIds } : { tenantIds: [message.tenantId] };
  for (const [i, galleryId] of message.galleries.entries()) {
    const shared = yield* requestShareChange(context, { requestId: `${message.requestId}:${i}`, galleryId, add }, `ShareResult.${i}`, retry);
    if (!shared.ok) {
      galleries.push({ galleryId, result: "failed", error: shared.error });
      continue;
    }
    galleries.push({ galleryId, result: "granted" });
    for (const id of add.subscriptionIds ?? []) grants.push({ galleryId, kind: "subscription", targetId: id });
    for (const id of add.tenantIds ?? []) grants.push({ galleryId, kind: "tenant", targetId: id });
  }
}

/** principal: Reader on each gallery for the given user, group or service principal. */
function* grantPrincipal(run: Run, principal: NonNullable<OnboardingV1["principal"]>): Generator<df.Task, void, unknown> {
  const { context, input, retry, galleries, grants } = run;
  for (const galleryId of input.message.galleries) {
    const at = context.df.currentUtcDateTime.toISOString();
    const reader = yield* activities.ensureGalleryReader(context, { galleryId, principalId: principal.objectId, principalType: principal.type, at }, retry);
    if (!reader.ok) {
      galleries.push({ galleryId, result: "failed", error: reader.error });
      continue;
    }
    galleries.push({ galleryId, result: "granted" });
    grants.push({ galleryId, kind: "roleAssignment", targetId: principal.objectId, roleAssignmentId: reader.value.roleAssignmentId });
  }
}

/** direct: checks each granted gallery from the consumer's side, where the request says it deploys. */
function* verifyFromConsumer(run: Run, consumer: Consumer): Generator<df.Task, void, unknown> {
  const { context, input, retry, galleries } = run;
  show(run, "verifying");
  for (const [i, g] of galleries.entries()) {
    if (g.result !== "granted") continue;
    const look = { tenantId: input.message.tenantId, galleryId: g.galleryId, subscriptionId: consumer.subscriptionId, location: consumer.location };
    const seen = yield* activities.verifyDirectShare(context, look, retry);
    if (!seen.ok) galleries[i] = { ...g, verification: { visible: false, note: `${seen.error.code}: ${seen.error.message}` } };
    else if (seen.value.visible) galleries[i] = { ...g, verification: seen.value };
    else
      galleries[i] = {
        ...g,
        verification: seen.value,
        result: "failed",
        error: { code: "NotVisibleToConsumer", message: seen.value.note ?? "the consumer does not see the gallery" },
      };
  }
}

/**
 * The VM and scale set the request asks for, from the first gallery granted, each made (and
 * recorded on the tenant) by the provisionWorkload sub-orchestration.
 */
function* provisionWorkloads(run: Run): Generator<df.Task, WorkloadOutcome[], unknown> {
  const { context, input } = run;
  const { message, creationsInFlight } = input;
  const workloads: WorkloadOutcome[] = [];
  const firstGranted = run.galleries.find((g) => g.result === "granted");
  const asked: WorkloadSpec[] = [
    ...(message.vm ? [{ ...message.vm, kind: "vm" as const, updateOnPublish: message.vm.updateOnPublish ?? false }] : []),
    ...(message.vmss ? [{ ...message.vmss, kind: "vmss" as const, updateOnPublish: message.vmss.updateOnPublish ?? false }] : []),
  ];
  if (asked.length === 0 || !message.consumer || !firstGranted || !isWorkloadMode(message.mode)) return workloads;
  show(run, "provisioning");
  for (const spec of asked) {
    const target = { mode: message.mode, tenantId: message.tenantId, galleryId: firstGranted.galleryId, consumer: message.consumer, spec };
    const provision: ProvisionWorkloadInput = {
      ...target,
      changedBy: message.requestId,
      retry: input.retry,
      ...(creationsInFlight ? { creationsInFlight } : {}),
    };
    try {
      const outcome = readWorkloadOutcome(yield context.df.callSubOrchestrator(PROVISION_WORKLOAD, provision, `${context.df.instanceId}:${spec.kind}`));
      workloads.push(outcome ?? failedOutcome(message.tenantId, spec.kind, "InvalidOutcome", "the provisioning returned something that is not an outcome"));
    } catch (err) {
      // Azure's answers come back as outcomes; only a crash of the sub-orchestration lands here.
      workloads.push(failedOutcome(message.tenantId, spec.kind, "ProvisioningCrashed", String(err instanceof Error ? err.message : err)));
    }
  }
  return workloads;
}

/** The tenant ends `active` (a gallery granted) or `failed`, the request `succeeded` or `failed`, and the outcome event goes out. */
function* finish(run: Run, workloads: readonly WorkloadOutcome[]): Generator<df.Task, OnboardTenantResult, unknown> {
  const { context, input, retry, galleries } = run;
  const { message } = input;
  const failedOnes = galleries.filter((g) => g.result === "failed");
  const problems = [
    ...failedOnes.map((g) => `${g.galleryId.split("/").pop()}: ${g.error?.code}: ${g.error?.message}`),
    ...workloads.flatMap((w) => (w.error ? [`${w.kind}: ${w.error.code}: ${w.error.message}`] : [])),
  ];
  const reason = problems.length === 0 ? undefined : problems.join("; ").slice(0, 1000);
  const state = galleries.some((g) => g.result === "granted") ? "active" : "failed";
  const result: OnboardTenantResult = {
    tenantId: message.tenantId,
    requestId: message.requestId,
    mode: message.mode,
    state,
    galleries,
    ...(workloads.length > 0 ? { workloads } : {}),
  };
  const requestState = problems.length === 0 ? "succeeded" : "failed";
  const finished = yield* activities.finishTenantRequest(
    context,
    { tenantId: message.tenantId, requestId: message.requestId, at: at(run), tenantState: state, requestState, ...(reason ? { reason } : {}) },
    retry,
  );
  const type: OutcomeEventType = state === "active" ? TENANT_ONBOARDED : TENANT_ONBOARDING_FAILED;
  const event = {
    type,
    subject: `/tenants/${message.tenantId}`,
    id: `${context.df.instanceId}:${type}`,
    time: at(run),
    data: { tenantId: message.tenantId, requestId: message.requestId, mode: message.mode, galleries, ...(reason ? { reason } : {}) },
  };
  const sent = yield* activities.sendOutcomeEvent(context, event, retry);
  if (!sent.ok) context.log(`${ONBOARD_TENANT}: outcome event not sent: ${sent.error.message}`);
  context.df.setCustomStatus({ step: "done", ...result });
  if (!finished.ok) throw new Error(`${finished.error.code}: ${finished.error.message}`);
  return result;
}

/** Admin consent: the link goes out (status, registry, event); then consent, a refusal, or the expiry, with reminders. */
function* obtainConsent(run: Run): Generator<df.Task, { ok: true } | { ok: false; error: { code: string; message: string } }, unknown> {
  const { context, input, retry } = run;
  const { message, consent: timing } = input;
  const issued = context.df.currentUtcDateTime.getTime();
  const expiresAt = issued + timing.expiryHours * 3600_000;
  const asked = {
    tenantId: message.tenantId,
    requestId: message.requestId,
    instanceId: context.df.instanceId,
    issuedAt: at(run),
    expiresAt: new Date(expiresAt).toISOString(),
  };
  const link = yield* activities.createConsentRequest(context, asked, retry);
  if (!link.ok) return link;
  const consent = { ...link.value, expiresAt: new Date(expiresAt).toISOString() };
  context.df.setCustomStatus({ step: "consent-pending", tenantId: message.tenantId, mode: message.mode, consent });
  yield* tenantEvent(run, CONSENT_REQUESTED, { consent });
  // The event tasks are made once and raced again and again (a new one per round would leave the
  // old one first in line for the event); the timer is new each round: the next reminder, or the expiry.
  const granted = context.df.waitForExternalEvent(CONSENT_GRANTED_EVENT);
  const denied = context.df.waitForExternalEvent(CONSENT_DENIED_EVENT);
  for (let reminder = 1; reminder <= 1000; reminder++) {
    const next = Math.min(issued + reminder * timing.reminderHours * 3600_000, expiresAt);
    const timer = context.df.createTimer(new Date(next));
    const winner: unknown = yield context.df.Task.any([granted, denied, timer]);
    if (winner === timer) {
      if (next >= expiresAt) {
        yield* tenantEvent(run, CONSENT_EXPIRED, { consent });
        return {
          ok: false,
          error: {
            code: "ConsentExpired",
            message: `nobody consented for ${message.tenantId} before ${consent.expiresAt}; send the onboarding request again for a new link`,
          },
        };
      }
      yield* tenantEvent(run, CONSENT_REMINDER, { consent, reminder });
      continue;
    }
    timer.cancel();
    if (winner === granted) return { ok: true };
    const refusal = readConsentDenied(denied.result);
    const why = refusal?.description ? `: ${refusal.description}` : "";
    return { ok: false, error: { code: refusal?.error ?? "ConsentDenied", message: `the administrator of ${message.tenantId} did not consent${why}` } };
  }
  return { ok: false, error: { code: "ConsentExpired", message: "too many reminders" } };
}

function* tenantEvent(run: Run, type: OutcomeEventType, data: Readonly<Record<string, unknown>>): Generator<df.Task, void, unknown> {
  const { context, input, retry } = run;
  const { tenantId, requestId } = input.message;
  const n = context.df.currentUtcDateTime.getTime();
  const sent = yield* activities.sendOutcomeEvent(
    context,
    { type, subject: `/tenants/${tenantId}`, id: `${context.df.instanceId}:${type}:${n}`, time: at(run), data: { tenantId, requestId, ...data } },
    retry,
  );
  if (!sent.ok) context.log(`${ONBOARD_TENANT}: ${type} not sent: ${sent.error.message}`);
}
