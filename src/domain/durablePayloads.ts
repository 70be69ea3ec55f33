// Checks of what crosses the durable boundary into an orchestration: its input, and the payload of
// every external event it waits for. Anyone with the system key can start an instance or raise an
// event, so nothing is cast: an input with problems fails the orchestration at once with every
// problem named (src/orchestrations/checkedInput.ts), and an event that is not what the
// orchestration waits for reads as `undefined`.
import type { ActivityError } from "./activityResult";
import type { ConsentDeniedEvent } from "./adminConsent";
import { resourceIdIssue } from "./resourceIds";
import { MAX_ROLLOUT_RINGS } from "./rollout";
import type { ShareChange, ShareChangeResult, ShareIds } from "./shareChanges";
import type { ShareTargets } from "./sharePlan";
import { isWorkloadMode, SHARING_MODES } from "./tenantModel";
import { isObject } from "./validation";
import { MAX_CREATIONS_IN_FLIGHT, type WorkloadNotice, type WorkloadOutcome } from "./workloads";

const isText = (value: unknown): value is string => typeof value === "string" && value.trim() !== "";
const isTextList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isText);
const isBoolean = (value: unknown): value is boolean => typeof value === "boolean";
const isString = (value: unknown): value is string => typeof value === "string";
const isOptional = (value: unknown, test: (v: unknown) => boolean): boolean => value === undefined || test(value);

const WRONG = Symbol("wrong");
/** An optional field: absent, or what `test` accepts, or WRONG. */
function optional<T>(value: unknown, test: (v: unknown) => v is T): T | undefined | typeof WRONG {
  if (value === undefined) return undefined;
  return test(value) ? value : WRONG;
}

export function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

// ------------------------------------------------------------------------------------------ inputs

/** The retry policy every orchestration input carries. */
export function retryProblems(retry: unknown): string[] {
  const r = isObject(retry) ? retry : {};
  return isWhole(r.attempts, 1, 20) && isWhole(r.firstSeconds, 1, 3600) ? [] : ["retry must have whole attempts from 1 to 20 and firstSeconds from 1 to 3600"];
}

function creationsProblems(value: unknown, path: string): string[] {
  return isOptional(value, (v) => isWhole(v, 1, MAX_CREATIONS_IN_FLIGHT)) ? [] : [`${path} must be a whole number from 1 to ${MAX_CREATIONS_IN_FLIGHT}`];
}

/** What every tenant request names: the request, the tenant, and (onboarding) the mode and galleries. */
function tenantMessageProblems(message: unknown, onboarding: boolean): string[] {
  if (!isObject(message)) return ["message must be an object"];
  const problems: string[] = [];
  if (!isText(message.requestId)) problems.push("message.requestId is required");
  if (!isText(message.tenantId)) problems.push("message.tenantId is required");
  if (onboarding && !(SHARING_MODES as readonly unknown[]).includes(message.mode)) problems.push(`message.mode must be one of ${SHARING_MODES.join(", ")}`);
  if (onboarding && !isTextList(message.galleries)) problems.push("message.galleries must be a list of gallery ids");
  return problems;
}

function rolloutIsValid(v: unknown): boolean {
  return isObject(v) && typeof v.gated === "boolean" && isWhole(v.rings, 1, MAX_ROLLOUT_RINGS) && isWhole(v.soakMinutes, 0, 7 * 24 * 60);
}

export function publishInputProblems(raw: unknown): string[] {
  const input = isObject(raw) ? raw : {};
  const problems: string[] = [];
  const versionIssue = resourceIdIssue("imageVersion", input.imageVersionId);
  if (versionIssue !== undefined) problems.push(`imageVersionId ${versionIssue}`);
  const polling = isObject(input.polling) ? input.polling : {};
  if (!isWhole(polling.minSeconds, 5, 86400) || !isWhole(polling.maxSeconds, 5, 86400) || !isWhole(polling.timeoutMinutes, 1, 7 * 24 * 60)) {
    problems.push("polling must have whole minSeconds and maxSeconds from 5 to 86400 and timeoutMinutes from 1 to 10080");
  }
  problems.push(...retryProblems(input.retry));
  const workloads = input.workloads;
  if (workloads !== undefined && !(isObject(workloads) && isWhole(workloads.creationsInFlight, 1, MAX_CREATIONS_IN_FLIGHT))) {
    problems.push(`workloads.creationsInFlight must be a whole number from 1 to ${MAX_CREATIONS_IN_FLIGHT}`);
  }
  if (!isOptional(input.rollout, rolloutIsValid)) {
    problems.push(`rollout must have gated (true or false), whole rings from 1 to ${MAX_ROLLOUT_RINGS} and whole soakMinutes from 0 to 10080`);
  }
  if (!isObject(input.trigger) || !isString(input.trigger.eventId)) problems.push("trigger.eventId is required");
  if (!isOptional(input.recovery, (v) => isObject(v) && isWhole(v.attempt, 1, 100))) problems.push("recovery.attempt must be a whole number from 1 to 100");
  return problems;
}

export function revokeInputProblems(raw: unknown): string[] {
  const input = isObject(raw) ? raw : {};
  const problems: string[] = [];
  const versionIssue = resourceIdIssue("imageVersion", input.imageVersionId);
  if (versionIssue !== undefined) problems.push(`imageVersionId ${versionIssue}`);
  for (const field of ["reason", "requestedBy", "requestedAt"] as const)
    if (!isString(input[field]) || input[field] === "") problems.push(`${field} is required`);
  if (!rolloutIsValid({ gated: false, ...(isObject(input.rollout) ? input.rollout : {}) })) {
    problems.push(`rollout must have whole rings from 1 to ${MAX_ROLLOUT_RINGS} and whole soakMinutes from 0 to 10080`);
  }
  problems.push(...retryProblems(input.retry));
  return problems;
}

export function onboardInputProblems(raw: unknown): string[] {
  const input = isObject(raw) ? raw : {};
  const consent = isObject(input.consent) ? input.consent : {};
  return [
    ...tenantMessageProblems(input.message, true),
    ...(isWhole(consent.expiryHours, 1, 24 * 90) && isWhole(consent.reminderHours, 1, 24 * 30)
      ? []
      : ["consent must have whole expiryHours from 1 to 2160 and reminderHours from 1 to 720"]),
    ...retryProblems(input.retry),
    ...creationsProblems(input.creationsInFlight, "creationsInFlight"),
  ];
}

export function offboardInputProblems(raw: unknown): string[] {
  const input = isObject(raw) ? raw : {};
  return [...tenantMessageProblems(input.message, false), ...retryProblems(input.retry)];
}

export function provisionInputProblems(raw: unknown): string[] {
  const input = isObject(raw) ? raw : {};
  const consumer = isObject(input.consumer) ? input.consumer : {};
  const spec = isObject(input.spec) ? input.spec : {};
  const problems: string[] = [];
  if (!isWorkloadMode(input.mode)) problems.push("mode must be direct or rbac");
  for (const field of ["tenantId", "galleryId", "changedBy"] as const) if (!isText(input[field])) problems.push(`${field} is required`);
  if (![consumer.subscriptionId, consumer.resourceGroup, consumer.location].every(isText))
    problems.push("consumer must have subscriptionId, resourceGroup and location");
  if ((spec.kind !== "vm" && spec.kind !== "vmss") || !isText(spec.image) || !isText(spec.version))
    problems.push("spec must have kind (vm or vmss), image and version");
  if (!isOptional(input.version, isText)) problems.push("version must be a non-empty string");
  if (!isOptional(input.notify, (n) => isObject(n) && isText(n.instanceId) && isText(n.eventName) && isWhole(n.index, 0, 1_000_000)))
    problems.push("notify must have instanceId, eventName and a whole index");
  return [...problems, ...retryProblems(input.retry), ...creationsProblems(input.creationsInFlight, "creationsInFlight")];
}

export function reconcileInputProblems(raw: unknown): string[] {
  const input = isObject(raw) ? raw : {};
  const problems: string[] = [];
  if (!isTextList(input.galleryIds)) problems.push("galleryIds must be a list of gallery ids");
  if (!isBoolean(input.removeUnknown)) problems.push("removeUnknown must be true or false");
  return [...problems, ...retryProblems(input.retry)];
}

export function coordinatorStateProblems(raw: unknown): string[] {
  const state = isObject(raw) ? raw : {};
  const problems: string[] = [];
  if (!isText(state.subscriptionId)) problems.push("subscriptionId is required");
  if (!isOptional(state.pending, (p) => Array.isArray(p) && p.every((c) => readShareChange(c) !== undefined)))
    problems.push("pending must be a list of share changes");
  if (!Array.isArray(state.callTimes) || !state.callTimes.every((t) => typeof t === "number")) problems.push("callTimes must be a list of times");
  if (!Array.isArray(state.recent)) problems.push("recent must be a list of answers");
  if (!isOptional(state.collectSeconds, (v) => isWhole(v, 0, 3600))) problems.push("collectSeconds must be a whole number from 0 to 3600");
  if (!isOptional(state.collectingSince, (v) => typeof v === "number" && Number.isFinite(v))) problems.push("collectingSince must be a time (epoch ms)");
  if (!isOptional(state.historyBudget, (v) => isWhole(v, 50, 400))) problems.push("historyBudget must be a whole number from 50 to 400");
  return [...problems, ...retryProblems(state.retry)];
}

// ---------------------------------------------------------------------------------- event payloads

function isShareIds(value: unknown): value is ShareIds {
  return isObject(value) && isOptional(value.subscriptionIds, isTextList) && isOptional(value.tenantIds, isTextList);
}

function isShareTargets(value: unknown): value is ShareTargets {
  return isObject(value) && isTextList(value.subscriptionIds) && isTextList(value.tenantIds);
}

/** A share change sent to a coordinator (SHARE_CHANGE_EVENT). */
export function readShareChange(value: unknown): ShareChange | undefined {
  if (!isObject(value) || !isText(value.requestId) || !isText(value.galleryId)) return undefined;
  const reply = value.replyTo;
  if (!isObject(reply) || !isText(reply.instanceId) || !isText(reply.eventName)) return undefined;
  const add = optional(value.add, isShareIds);
  const remove = optional(value.remove, isShareIds);
  const ensureRegistered = optional(value.ensureRegistered, isBoolean);
  const encrypted = optional(value.encrypted, isBoolean);
  if (add === WRONG || remove === WRONG || ensureRegistered === WRONG || encrypted === WRONG) return undefined;
  return {
    requestId: value.requestId,
    galleryId: value.galleryId,
    replyTo: { instanceId: reply.instanceId, eventName: reply.eventName },
    ...(add ? { add } : {}),
    ...(remove ? { remove } : {}),
    ...(ensureRegistered === undefined ? {} : { ensureRegistered }),
    ...(encrypted === undefined ? {} : { encrypted }),
  };
}

function isActivityError(value: unknown): value is ActivityError {
  if (!isObject(value) || !isText(value.code) || !isString(value.message)) return false;
  return isOptional(value.status, (v) => isWhole(v, 100, 599)) && isOptional(value.missingAction, isString);
}

/** The error's own fields only (an event may carry more). */
function activityError(error: ActivityError): ActivityError {
  return {
    code: error.code,
    message: error.message,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.missingAction === undefined ? {} : { missingAction: error.missingAction }),
  };
}

/** The coordinator's answer to the change `requestId`. */
export function readShareChangeResult(value: unknown, requestId: string): ShareChangeResult | undefined {
  if (!isObject(value) || value.requestId !== requestId) return undefined;
  const { result, added, alreadyShared, removed, shareCalls, at } = value;
  if (result !== "applied" && result !== "rejected" && result !== "failed") return undefined;
  if (!isShareTargets(added) || !isShareTargets(alreadyShared) || !isShareTargets(removed)) return undefined;
  if (!isWhole(shareCalls, 0, 1_000_000) || !isText(at)) return undefined;
  const error = optional(value.error, isActivityError);
  const reason = optional(value.reason, isString);
  const communityPublicName = optional(value.communityPublicName, isText);
  if (error === WRONG || reason === WRONG || communityPublicName === WRONG) return undefined;
  return {
    requestId,
    result,
    added,
    alreadyShared,
    removed,
    shareCalls,
    at,
    ...(error ? { error: activityError(error) } : {}),
    ...(reason === undefined ? {} : { reason }),
    ...(communityPublicName ? { communityPublicName } : {}),
  };
}

function isWorkloadOutcome(value: unknown): value is WorkloadOutcome {
  if (!isObject(value) || (value.kind !== "vm" && value.kind !== "vmss")) return false;
  if (![value.tenantId, value.resourceId, value.imageVersion, value.provisioningState].every((v) => typeof v === "string")) return false;
  return isOptional(value.error, isActivityError);
}

/** A provisionWorkload's report to the publish that started it (index and outcome; the rest is the publish's own). */
export function readWorkloadNotice(value: unknown): Pick<WorkloadNotice, "index" | "outcome"> | undefined {
  if (!isObject(value) || !isWhole(value.index, 0, 1_000_000) || !isWorkloadOutcome(value.outcome)) return undefined;
  return { index: value.index, outcome: value.outcome };
}

/** The sub-orchestration's result: an outcome, when it is one. */
export function readWorkloadOutcome(value: unknown): WorkloadOutcome | undefined {
  return isWorkloadOutcome(value) ? value : undefined;
}

/** The consent callback's refusal (CONSENT_DENIED_EVENT). */
export function readConsentDenied(value: unknown): ConsentDeniedEvent | undefined {
  if (!isObject(value) || !isText(value.tenantId) || !isText(value.error) || !isOptional(value.description, (v) => typeof v === "string")) return undefined;
  return { tenantId: value.tenantId, error: value.error, ...(typeof value.description === "string" ? { description: value.description } : {}) };
}
