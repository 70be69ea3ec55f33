// A consumer tenant's lifecycle, as the tenant registry records it:
//
//   requested → consent-pending → active → offboarding → offboarded
//   requested → active               modes without consent (direct, principal)
//   active → requested               a new onboarding request (more galleries, subscriptions)
//   offboarded, failed → requested   onboarded again
//   any other state → failed         with a reason
//
// The table is the one place that says which step may follow which, so a late or repeated message
// cannot, say, reactivate an offboarded tenant without a new onboarding request. claimTenant applies
// them to an onboarding or offboarding request.

import type { OffboardingV1, OnboardingV1, TenantMessage } from "./messages";
import { MAX_TENANT_HISTORY, type SharingMode, type TenantHistoryEntry, type TenantRecord, type TenantState } from "./tenantModel";
import { DomainValidationError, boundedText, isGuid, quoteForError, type FieldError } from "./validation";

export type { TenantState } from "./tenantModel";

const NEXT: Record<TenantState, readonly TenantState[]> = {
  requested: ["consent-pending", "active", "failed"],
  "consent-pending": ["active", "failed"],
  // requested: a new onboarding request for an active tenant (more galleries, subscriptions).
  active: ["offboarding", "requested", "failed"],
  // active: an offboarding from some of the tenant's galleries leaves it active on the others.
  offboarding: ["offboarded", "active", "failed"],
  offboarded: ["requested"],
  // offboarding: a failed onboarding may have granted some galleries before it failed; they can be taken back.
  failed: ["requested", "offboarding"],
};

/** Only rbac needs the tenant's admin to consent to the multi-tenant app. */
const MODES_WITHOUT_CONSENT: ReadonlySet<SharingMode> = new Set(["direct", "principal"]);

/** Longest reason kept: reasons are often error messages, which can be whole documents. */
const MAX_REASON_LENGTH = 1024;

/** The lifecycle part of a tenant's record: what the rules here read and write. */
export type TenantLifecycle = Pick<TenantRecord, "tenantId" | "state" | "since" | "reason" | "lastRequestId" | "history">;

interface TransitionOptions {
  /** ISO 8601 time of the transition. */
  at: string;
  /** Required for `failed`. */
  reason?: string;
  requestId: string;
  /** When given, `requested → active` is allowed only for a mode that needs no consent. */
  mode?: SharingMode;
}

const STATES = Object.keys(NEXT) as TenantState[];

function isTenantState(value: unknown): value is TenantState {
  return typeof value === "string" && (STATES as string[]).includes(value);
}

function allowedNext(from: TenantState, mode: SharingMode | undefined): TenantState[] {
  const next = NEXT[from];
  if (from === "requested" && mode !== undefined && !MODES_WITHOUT_CONSENT.has(mode)) return next.filter((s) => s !== "active");
  return [...next];
}

/** An onboarding or offboarding is in flight: a second one for the tenant must wait. */
export function isLifecycleOperationRunning(state: TenantState): boolean {
  return state === "requested" || state === "consent-pending" || state === "offboarding";
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function optionErrors(options: TransitionOptions, to: TenantState): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof options.at !== "string" || !ISO_TIME.test(options.at) || Number.isNaN(Date.parse(options.at))) {
    const got = typeof options.at === "string" ? quoteForError(options.at) : `a ${typeof options.at}`;
    errors.push({ path: "at", rule: `must be an ISO 8601 date and time with a time zone, like 2026-11-23T10:00:00Z (got ${got})` });
  }
  if (typeof options.requestId !== "string" || options.requestId.trim() === "") errors.push({ path: "requestId", rule: "must be a non-empty string" });
  if (to === "failed" && (typeof options.reason !== "string" || options.reason.trim() === "")) {
    errors.push({ path: "reason", rule: 'is required when the tenant goes to "failed"' });
  }
  return errors;
}

function entry(state: TenantState, options: TransitionOptions): TenantHistoryEntry {
  const reason = options.reason === undefined || options.reason.trim() === "" ? undefined : boundedText(options.reason, MAX_REASON_LENGTH);
  return reason === undefined ? { state, at: options.at, requestId: options.requestId } : { state, at: options.at, requestId: options.requestId, reason };
}

function recordOf(tenantId: string, history: TenantHistoryEntry[]): TenantLifecycle {
  const last = history[history.length - 1] as TenantHistoryEntry;
  const record: TenantLifecycle = { tenantId, state: last.state, since: last.at, lastRequestId: last.requestId, history };
  return last.reason === undefined ? record : { ...record, reason: last.reason };
}

/** A tenant's first record: an onboarding request has arrived. */
export function newTenantRecord(tenantId: string, options: Omit<TransitionOptions, "reason" | "mode">): TenantLifecycle {
  const errors = optionErrors(options, "requested");
  if (!isGuid(tenantId)) {
    const got = typeof tenantId === "string" ? quoteForError(tenantId) : `a ${typeof tenantId}`;
    errors.unshift({ path: "tenantId", rule: `must be a GUID (got ${got})` });
  }
  if (errors.length > 0) throw new DomainValidationError("cannot create tenant record", errors);
  return recordOf(tenantId.toLowerCase(), [entry("requested", options)]);
}

/**
 * The record after moving to `to`, with every other field kept (the whole registry record may be
 * given) and the previous state's reason gone unless the new one has its own; the given record is not
 * changed. The same transition again (same state, same request: a redelivered message) returns the
 * record as it is. Throws a DomainValidationError naming the current state and the allowed next
 * states otherwise.
 */
export function transition<T extends TenantLifecycle>(record: T, to: TenantState, options: TransitionOptions): T {
  if (record.state === to && record.lastRequestId === options.requestId) return record;
  const errors: FieldError[] = [];
  if (!isTenantState(record.state)) {
    errors.push({
      path: "state",
      rule: `is not a lifecycle state (got ${quoteForError(String(record.state))}); expected one of ${STATES.map((s) => JSON.stringify(s)).join(", ")}`,
    });
  } else if (!isTenantState(to)) {
    errors.push({
      path: "to",
      rule: `is not a lifecycle state (got ${quoteForError(String(to))}); expected one of ${STATES.map((s) => JSON.stringify(s)).join(", ")}`,
    });
  } else if (!allowedNext(record.state, options.mode).includes(to)) {
    const allowed = allowedNext(record.state, options.mode)
      .map((s) => JSON.stringify(s))
      .join(", ");
    const consent = record.state === "requested" && to === "active" ? ` (mode ${JSON.stringify(options.mode)} needs consent first)` : "";
    errors.push({ path: "state", rule: `is ${JSON.stringify(record.state)}, which cannot go to ${JSON.stringify(to)}${consent}; allowed next: ${allowed}` });
  }
  errors.push(...optionErrors(options, to));
  if (errors.length > 0) throw new DomainValidationError(`tenant ${record.tenantId}: cannot go to ${JSON.stringify(to)}`, errors);
  const { reason: _previousReason, ...kept } = record;
  return { ...kept, ...recordOf(record.tenantId, [...record.history, entry(to, options)].slice(-MAX_TENANT_HISTORY)) } as T;
}

/** Why a valid onboarding or offboarding request is refused for the tenant's present state. */
export class TenantRequestConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TenantRequestConflict";
  }
}

/**
 * The tenant's record once this request holds it: a new onboarding claims it (adding galleries and
 * subscriptions to what an active tenant has), an offboarding needs an active or failed tenant. Throws
 * TenantRequestConflict, which names why, when the request cannot run in the tenant's present state.
 */
export function claimTenant(current: TenantRecord | undefined, message: TenantMessage, at: string): TenantRecord {
  if (current && current.lastRequestId === message.requestId) return current; // a redelivery of the request that holds it
  if (current && isLifecycleOperationRunning(current.state)) {
    throw new TenantRequestConflict(
      `tenant ${message.tenantId} is busy with request ${current.lastRequestId} (${current.state}); send this request again once that one has finished (GET /api/requests/${current.lastRequestId})`,
    );
  }
  if (message.schema === "offboarding/v1") return offboarding(current, message, at);
  return onboarding(current, message, at);
}

function onboarding(current: TenantRecord | undefined, message: OnboardingV1, at: string): TenantRecord {
  const next = current
    ? transition(current, "requested", { at, requestId: message.requestId })
    : {
        ...newTenantRecord(message.tenantId, { at, requestId: message.requestId }),
        displayName: message.displayName,
        mode: message.mode,
        galleries: [],
        subscriptionIds: [],
      };
  // A later onboarding of an active tenant adds galleries and subscriptions; the mode is the latest request's.
  const galleries = [...new Map([...(current?.galleries ?? []), ...message.galleries].map((g) => [g.toLowerCase(), g])).values()];
  const subscriptionIds = [...new Set([...(current?.subscriptionIds ?? []), ...(message.subscriptionIds ?? [])])];
  return {
    ...next,
    displayName: message.displayName,
    mode: message.mode,
    galleries,
    subscriptionIds,
    ...(message.consumer ? { consumer: message.consumer } : {}),
    ...(message.principal ? { principal: message.principal } : {}),
    ...(message.ring !== undefined ? { ring: message.ring, ringSet: { by: `request ${message.requestId}`, at } } : {}),
  };
}

function offboarding(current: TenantRecord | undefined, message: OffboardingV1, at: string): TenantRecord {
  if (!current) throw new TenantRequestConflict(`tenant ${message.tenantId} is not registered: there is nothing to offboard`);
  if (current.state !== "active" && current.state !== "failed")
    throw new TenantRequestConflict(`tenant ${message.tenantId} is ${current.state}: only an active (or failed) tenant can be offboarded`);
  return transition(current, "offboarding", { at, requestId: message.requestId });
}
