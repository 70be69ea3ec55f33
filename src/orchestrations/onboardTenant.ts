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
import { CONSENT_EXPIRED, CONSENT_REMINDER, CONSENT_REQUESTED, TENANT_ONBOARDED, TENANT_ONBOARDING_FAILED, type OutcomeEventType } from "../domain/outcomeEvents";
import { ONBOARD_TENANT, PROVISION_WORKLOAD } from "../domain/orchestrationNames";
import { retryPolicyOf } from "../domain/retryPolicy";
import { failedOutcome, type ProvisionWorkloadInput, type WorkloadOutcome, type WorkloadSpec } from "../domain/workloads";
import { activities } from "./activities";
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
  readonly state: "active" | "failed";
  readonly galleries: readonly GalleryOnboarding[];
  /** The VM and scale set the request asked for: what each runs, or why it could not be made. */
  readonly workloads?: readonly WorkloadOutcome[];
}

export const onboardTenant: OrchestrationHandler = function* (context: OrchestrationContext) {
  const { message, retry: r, consent: consentTiming, creationsInFlight } = context.df.getInput<OnboardTenantInput>();
  const retry = retryPolicyOf(r);
  const at = (): string => context.df.currentUtcDateTime.toISOString();
  const galleries: GalleryOnboarding[] = [];
  const grants: TenantGrantsInput["grants"][number][] = [];
  context.df.setCustomStatus({ step: "granting", tenantId: message.tenantId, mode: message.mode, galleries });

  if (message.mode === "rbac" && message.consumer) {
    const consent = yield* obtainConsent();
    if (!consent.ok) {
      for (const galleryId of message.galleries) galleries.push({ galleryId, result: "failed", error: consent.error });
    } else {
      context.df.setCustomStatus({ step: "verifying", tenantId: message.tenantId, mode: message.mode, galleries });
      for (const galleryId of message.galleries) {
        // The app's own service principal reads the image when VMs are made: Reader on the gallery.
        const reader = yield* activities.ensureAppReader(context, { galleryId }, retry);
        if (!reader.ok) {
          galleries.push({ galleryId, result: "failed", error: reader.error });
          continue;
        }
        // The administrator grants the role on the resource group after consenting: give them time,
        // looking again every ROLE_CHECK_MINUTES, before naming what is missing.
        let access = yield* activities.verifyRbacAccess(context, { tenantId: message.tenantId, galleryId, consumer: message.consumer, ...(message.vmss ? { scaleSets: true } : {}) }, retry);
        for (let check = 1; access.ok && access.value.missingActions.length > 0 && check <= ROLE_CHECKS; check++) {
          context.df.setCustomStatus({ step: "waiting-for-role", tenantId: message.tenantId, mode: message.mode, galleryId, missingActions: access.value.missingActions, galleries });
          yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + ROLE_CHECK_MINUTES * 60_000));
          access = yield* activities.verifyRbacAccess(context, { tenantId: message.tenantId, galleryId, consumer: message.consumer, ...(message.vmss ? { scaleSets: true } : {}) }, retry);
        }
        if (!access.ok) galleries.push({ galleryId, result: "failed", error: access.error });
        else if (access.value.missingActions.length > 0) {
          const rg = `/subscriptions/${message.consumer.subscriptionId}/resourceGroups/${message.consumer.resourceGroup}`;
          galleries.push({ galleryId, result: "failed", error: { code: "MissingPermissions", message: `the app lacks ${access.value.missingActions.join(", ")} on ${rg}: grant it Contributor (or a role with these actions) there` } });
        } else galleries.push({ galleryId, result: "granted" });
      }
    }
  }

  if (message.mode === "direct") {
    const add = message.subscriptionIds?.length ? { subscriptionIds: message.subscriptionIds } : { tenantIds: [message.tenantId] };
    for (const [i, galleryId] of message.galleries.entries()) {
      const shared = yield* requestShareChange(context, { requestId: `${message.requestId}:${i}`, galleryId, add }, `ShareResult.${i}`, retry);
      if (!shared.ok) galleries.push({ galleryId, result: "failed", error: shared.error });
      else {
        galleries.push({ galleryId, result: "granted" });
        for (const id of add.subscriptionIds ?? []) grants.push({ galleryId, kind: "subscription", targetId: id });
        for (const id of add.tenantIds ?? []) grants.push({ galleryId, kind: "tenant", targetId: id });
      }
    }
  }

  if (message.mode === "principal" && message.principal) {
    const { objectId, type } = message.principal;
    for (const galleryId of message.galleries) {
      const reader = yield* activities.ensureGalleryReader(context, { galleryId, principalId: objectId, principalType: type }, retry);
      if (!reader.ok) galleries.push({ galleryId, result: "failed", error: reader.error });
      else {
        galleries.push({ galleryId, result: "granted" });
        grants.push({ galleryId, kind: "roleAssignment", targetId: objectId, roleAssignmentId: reader.value.roleAssignmentId });
      }
    }
  }

  if (grants.length > 0) {
    const recorded = yield* activities.recordTenantGrants(context, { tenantId: message.tenantId, requestId: message.requestId, at: at(), grants }, retry);
    if (!recorded.ok) context.log(`${ONBOARD_TENANT}: grants of ${message.tenantId} not recorded: ${recorded.error.message}`);
  }

  // Check from the consumer's side, where the request says where it deploys.
  const lookFrom = message.consumer;
  if (message.mode === "direct" && lookFrom) {
    context.df.setCustomStatus({ step: "verifying", tenantId: message.tenantId, mode: message.mode, galleries });
    for (const [i, g] of galleries.entries()) {
      if (g.result !== "granted") continue;
      const seen = yield* activities.verifyDirectShare(context, { tenantId: message.tenantId, galleryId: g.galleryId, subscriptionId: lookFrom.subscriptionId, location: lookFrom.location }, retry);
      galleries[i] = seen.ok
        ? { ...g, verification: seen.value, ...(seen.value.visible ? {} : { result: "failed" as const, error: { code: "NotVisibleToConsumer", message: seen.value.note ?? "the consumer does not see the gallery" } }) }
        : { ...g, verification: { visible: false, note: `${seen.error.code}: ${seen.error.message}` } };
    }
  }

  // The VM and scale set the request asks for, from the first gallery granted, each made (and
  // recorded on the tenant) by the provisionWorkload sub-orchestration.
  const workloads: WorkloadOutcome[] = [];
  const firstGranted = galleries.find((g) => g.result === "granted");
  const asked: WorkloadSpec[] = [
    ...(message.vm ? [{ ...message.vm, kind: "vm" as const, updateOnPublish: message.vm.updateOnPublish ?? false }] : []),
    ...(message.vmss ? [{ ...message.vmss, kind: "vmss" as const, updateOnPublish: message.vmss.updateOnPublish ?? false }] : []),
  ];
  if (asked.length > 0 && message.consumer && firstGranted && (message.mode === "direct" || message.mode === "rbac")) {
    context.df.setCustomStatus({ step: "provisioning", tenantId: message.tenantId, mode: message.mode, galleries });
    for (const spec of asked) {
      const provision: ProvisionWorkloadInput = { mode: message.mode, tenantId: message.tenantId, galleryId: firstGranted.galleryId, consumer: message.consumer, spec, changedBy: message.requestId, retry: r, ...(creationsInFlight ? { creationsInFlight } : {}) };
      try {
        workloads.push((yield context.df.callSubOrchestrator(PROVISION_WORKLOAD, provision, `${context.df.instanceId}:${spec.kind}`)) as WorkloadOutcome);
      } catch (err) {
        // Azure's answers come back as outcomes; only a crash of the sub-orchestration lands here.
        workloads.push(failedOutcome(message.tenantId, spec.kind, "ProvisioningCrashed", String(err instanceof Error ? err.message : err)));
      }
    }
  }

  const granted = galleries.filter((g) => g.result === "granted").length;
  const failedOnes = galleries.filter((g) => g.result === "failed");
  const problems = [...failedOnes.map((g) => `${g.galleryId.split("/").pop()}: ${g.error?.code}: ${g.error?.message}`), ...workloads.flatMap((w) => (w.error ? [`${w.kind}: ${w.error.code}: ${w.error.message}`] : []))];
  const reason = problems.length === 0 ? undefined : problems.join("; ").slice(0, 1000);
  const state = granted > 0 ? "active" : "failed";
  const result: OnboardTenantResult = { tenantId: message.tenantId, requestId: message.requestId, mode: message.mode, state, galleries, ...(workloads.length > 0 ? { workloads } : {}) };
  const finished = yield* activities.finishTenantRequest(
    context,
    { tenantId: message.tenantId, requestId: message.requestId, at: at(), tenantState: state, requestState: problems.length === 0 ? "succeeded" : "failed", ...(reason ? { reason } : {}) },
    retry,
  );
  yield* report(state === "active" ? TENANT_ONBOARDED : TENANT_ONBOARDING_FAILED);
  context.df.setCustomStatus({ step: "done", ...result });
  if (!finished.ok) throw new Error(`${finished.error.code}: ${finished.error.message}`);
  return result;

  /** Admin consent: the link goes out (status, registry, event); then consent, a refusal, or the expiry, with reminders. */
  function* obtainConsent(): Generator<df.Task, { ok: true } | { ok: false; error: { code: string; message: string } }, unknown> {
    const issued = context.df.currentUtcDateTime.getTime();
    const expiresAt = issued + consentTiming.expiryHours * 3600_000;
    const link = yield* activities.createConsentRequest(context, { tenantId: message.tenantId, requestId: message.requestId, instanceId: context.df.instanceId, issuedAt: at(), expiresAt: new Date(expiresAt).toISOString() }, retry);
    if (!link.ok) return link;
    const consent = { ...link.value, expiresAt: new Date(expiresAt).toISOString() };
    context.df.setCustomStatus({ step: "consent-pending", tenantId: message.tenantId, mode: message.mode, consent });
    yield* event(CONSENT_REQUESTED, { consent });
    // The event tasks are made once and raced again and again (a new one per round would leave the
    // old one first in line for the event); the timer is new each round: the next reminder, or the expiry.
    const granted = context.df.waitForExternalEvent(CONSENT_GRANTED_EVENT);
    const denied = context.df.waitForExternalEvent(CONSENT_DENIED_EVENT);
    for (let reminder = 1; reminder <= 1000; reminder++) {
      const next = Math.min(issued + reminder * consentTiming.reminderHours * 3600_000, expiresAt);
      const timer = context.df.createTimer(new Date(next));
      const winner: unknown = yield context.df.Task.any([granted, denied, timer]);
      if (winner === timer) {
        if (next >= expiresAt) {
          yield* event(CONSENT_EXPIRED, { consent });
          return { ok: false, error: { code: "ConsentExpired", message: `nobody consented for ${message.tenantId} before ${consent.expiresAt}; send the onboarding request again for a new link` } };
        }
        yield* event(CONSENT_REMINDER, { consent, reminder });
        continue;
      }
      timer.cancel();
      if (winner === granted) return { ok: true };
      const d = (denied.result ?? {}) as { error?: string; description?: string };
      return { ok: false, error: { code: d.error ?? "ConsentDenied", message: `the administrator of ${message.tenantId} did not consent${d.description ? `: ${d.description}` : ""}` } };
    }
    return { ok: false, error: { code: "ConsentExpired", message: "too many reminders" } };
  }

  function* event(type: OutcomeEventType, data: Readonly<Record<string, unknown>>): Generator<df.Task, void, unknown> {
    const n = context.df.currentUtcDateTime.getTime();
    const sent = yield* activities.sendOutcomeEvent(context, { type, subject: `/tenants/${message.tenantId}`, id: `${context.df.instanceId}:${type}:${n}`, time: at(), data: { tenantId: message.tenantId, requestId: message.requestId, ...data } }, retry);
    if (!sent.ok) context.log(`${ONBOARD_TENANT}: ${type} not sent: ${sent.error.message}`);
  }

  function* report(type: typeof TENANT_ONBOARDED | typeof TENANT_ONBOARDING_FAILED): Generator<df.Task, void, unknown> {
    const sent = yield* activities.sendOutcomeEvent(
      context,
      { type, subject: `/tenants/${message.tenantId}`, id: `${context.df.instanceId}:${type}`, time: at(), data: { tenantId: message.tenantId, requestId: message.requestId, mode: message.mode, galleries, ...(reason ? { reason } : {}) } },
      retry,
    );
    if (!sent.ok) context.log(`${ONBOARD_TENANT}: outcome event not sent: ${sent.error.message}`);
  }
};
