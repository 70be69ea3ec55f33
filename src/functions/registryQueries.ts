// Read-only views of the registry (function key):
//   GET /api/tenants[?state=<state>]   every consumer tenant, without history
//   GET /api/tenants/{tenantId}        one tenant with its grants and its last request
//   GET /api/requests/{requestId}      one onboarding or offboarding request
// Bodies are built field by field from the records, so what a client sees is this file's types,
// not whatever the registry stores next. A corrupt row is a 500 naming the row and its fields (an
// operator must repair it; retrying cannot help); any other registry failure is a 503 with
// Retry-After and a neutral message, the reason going to the log only.
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import { RegistryCorruptRowError, type Grant, type Registry, type RequestRecord, type TenantRecord, type TenantState } from "../azure/registry";
import { classifyError, describeError } from "../domain/errors";
import { TENANT_STATES } from "../domain/tenantModel";
import { isGuid, type FieldError } from "../domain/validation";
import { queryValues } from "./queryParameters";

/** What a client is told to wait before asking again when the registry cannot be read. */
export const REGISTRY_RETRY_AFTER_SECONDS = 5;

/**
 * The states `?state=` accepts: every state of the tenant model (domain/tenantModel.ts).
 */
export const TENANT_STATE_FILTERS: readonly TenantState[] = TENANT_STATES;

// ---------------------------------------------------------------------------------------------
// Response bodies (see README, "Status API")

/** One tenant in the list: the record without its history, consumer, principal and consent. */
export interface TenantSummaryBody {
  readonly tenantId: string;
  readonly displayName: string;
  readonly mode: TenantRecord["mode"];
  readonly state: TenantState;
  readonly since: string;
  readonly reason?: string;
  readonly galleries: readonly string[];
  readonly subscriptionIds: readonly string[];
  readonly lastRequestId: string;
  /** The tenant's rollout ring; absent: the last ring. */
  readonly ring?: number;
}

export interface TenantListBody {
  /** Sorted by displayName (case-insensitively), then tenantId. */
  readonly tenants: readonly TenantSummaryBody[];
}

/** A grant of the tenant; its tenantId is the tenant's, so it is left out. */
export interface GrantBody {
  readonly galleryId: string;
  readonly kind: Grant["kind"];
  readonly targetId: string;
  readonly requestId: string;
  readonly at: string;
  readonly roleAssignmentId?: string;
}

/** A request as recorded, without the queue's message id (an implementation detail). */
export interface RequestBody {
  readonly requestId: string;
  readonly schema: RequestRecord["schema"];
  readonly tenantId?: string;
  readonly state: RequestRecord["state"];
  readonly receivedAt: string;
  readonly updatedAt: string;
  readonly instanceId?: string;
  readonly reason?: string;
  /** Every failing field of a rejected request. */
  readonly fields?: readonly FieldError[];
}

export interface WorkloadBody {
  readonly resourceId: string;
  readonly imageVersion: string;
  readonly provisioningState: string;
  /** The last attempt's ARM error code, with what to fix. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Moved to each newly shared version of its image. */
  readonly updateOnPublish: boolean;
  readonly size: string;
  readonly instanceCount?: number;
  readonly orchestrationMode?: string;
  readonly upgradePolicy?: string;
  /** The request or publish that last changed it, and when. */
  readonly changedBy: string;
  readonly at: string;
}

export interface TenantBody extends TenantSummaryBody {
  readonly consumer?: TenantRecord["consumer"];
  readonly principal?: TenantRecord["principal"];
  readonly consent?: TenantRecord["consent"];
  /** Who set the ring, and when. */
  readonly ringSet?: TenantRecord["ringSet"];
  readonly history: TenantRecord["history"];
  /** VMs and scale sets the app made (or tried to make) in the tenant, each with the image version it runs. */
  readonly vms: readonly WorkloadBody[];
  readonly scaleSets: readonly WorkloadBody[];
  /** Sorted by galleryId, kind, targetId. */
  readonly grants: readonly GrantBody[];
  /** What the registry knows of lastRequestId: its record, or nothing when it is not recorded (yet). */
  readonly requests: readonly RequestBody[];
}

export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    /** For InvalidQueryParameter: which parameter, and the values it accepts. */
    readonly parameter?: string;
    readonly allowed?: readonly string[];
  };
}

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponse>;

// ---------------------------------------------------------------------------------------------
// Handlers

export function createListTenants(registry: Registry): Handler {
  return async function listTenants(request, context) {
    // Other query parameters are ignored: the function key itself may come as `?code=`.
    const given = queryValues(request, "state");
    if (given.length > 1 || (given.length === 1 && !isStateFilter(given[0]))) {
      const allowed = TENANT_STATE_FILTERS.map((s) => JSON.stringify(s)).join(", ");
      const message =
        given.length > 1 ? `query parameter state may be given once; it must be one of ${allowed}` : `query parameter state must be one of ${allowed}`;
      return json<ErrorBody>(400, { error: { code: "InvalidQueryParameter", message, parameter: "state", allowed: TENANT_STATE_FILTERS } });
    }
    const state = given[0];
    return guarded(context, "list tenants", async () => {
      const stored = await registry.listTenants();
      const tenants = stored
        .map((s) => s.record)
        .filter((t) => state === undefined || t.state === state)
        .sort(byDisplayNameThenId)
        .map(summaryOf);
      return json<TenantListBody>(200, { tenants });
    });
  };
}

export function createGetTenant(registry: Registry): Handler {
  return async function getTenant(request, context) {
    const tenantId = request.params.tenantId ?? "";
    if (!isGuid(tenantId)) return error(400, "InvalidTenantId", "tenantId must be a GUID (8-4-4-4-12 hexadecimal digits)");
    return guarded(context, `read tenant ${tenantId}`, async () => {
      const stored = await registry.getTenant(tenantId);
      if (!stored) return error(404, "TenantNotFound", `tenant ${tenantId.toLowerCase()} is not registered`);
      const tenant = stored.record;
      const [grants, last] = await Promise.all([registry.listGrantsOfTenant(tenant.tenantId), registry.getRequest(tenant.lastRequestId)]);
      const body: TenantBody = {
        ...summaryOf(tenant),
        ...(tenant.consumer === undefined ? {} : { consumer: tenant.consumer }),
        ...(tenant.principal === undefined ? {} : { principal: tenant.principal }),
        ...(tenant.consent === undefined ? {} : { consent: { url: tenant.consent.url, expiresAt: tenant.consent.expiresAt } }),
        ...(tenant.ringSet === undefined ? {} : { ringSet: tenant.ringSet }),
        history: tenant.history,
        vms: (tenant.workloads ?? []).filter((w) => w.kind === "vm").map(workloadOf),
        scaleSets: (tenant.workloads ?? []).filter((w) => w.kind === "vmss").map(workloadOf),
        grants: grants.map(grantOf).sort(byGrantKey),
        requests: last ? [requestOf(last.record)] : [],
      };
      return json(200, body);
    });
  };
}

export function createGetRequest(registry: Registry): Handler {
  return async function getRequest(request, context) {
    const requestId = request.params.requestId ?? "";
    if (!isGuid(requestId)) return error(400, "InvalidRequestId", "requestId must be a GUID (8-4-4-4-12 hexadecimal digits)");
    return guarded(context, `read request ${requestId}`, async () => {
      const stored = await registry.getRequest(requestId);
      if (!stored) {
        // The API answers 202 before the queue trigger records the request: absence may be momentary.
        return error(
          404,
          "RequestNotFound",
          `request ${requestId.toLowerCase()} is not known (yet): a request sent a moment ago may not be recorded yet; ask again in a few seconds`,
        );
      }
      return json<RequestBody>(200, requestOf(stored.record));
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Bodies from records

function isStateFilter(value: string | undefined): value is TenantState {
  return TENANT_STATE_FILTERS.some((s) => s === value);
}

// Case-insensitive, so "contoso" and "Contoso" sit together; ties fall back to exact text, then id.
const collator = new Intl.Collator("en", { sensitivity: "base" });
const ordinal = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function byDisplayNameThenId(a: TenantRecord, b: TenantRecord): number {
  return collator.compare(a.displayName, b.displayName) || ordinal(a.displayName, b.displayName) || ordinal(a.tenantId, b.tenantId);
}

function byGrantKey(a: GrantBody, b: GrantBody): number {
  return ordinal(a.galleryId.toLowerCase(), b.galleryId.toLowerCase()) || ordinal(a.kind, b.kind) || ordinal(a.targetId, b.targetId);
}

export function summaryOf(t: TenantRecord): TenantSummaryBody {
  return {
    tenantId: t.tenantId,
    displayName: t.displayName,
    mode: t.mode,
    state: t.state,
    since: t.since,
    ...(t.reason === undefined ? {} : { reason: t.reason }),
    galleries: t.galleries,
    subscriptionIds: t.subscriptionIds,
    lastRequestId: t.lastRequestId,
    ...(t.ring === undefined ? {} : { ring: t.ring }),
  };
}

function grantOf(g: Grant): GrantBody {
  return {
    galleryId: g.galleryId,
    kind: g.kind,
    targetId: g.targetId,
    requestId: g.requestId,
    at: g.at,
    ...(g.roleAssignmentId === undefined ? {} : { roleAssignmentId: g.roleAssignmentId }),
  };
}

function requestOf(r: RequestRecord): RequestBody {
  return {
    requestId: r.requestId,
    schema: r.schema,
    ...(r.tenantId === undefined ? {} : { tenantId: r.tenantId }),
    state: r.state,
    receivedAt: r.receivedAt,
    updatedAt: r.updatedAt,
    ...(r.instanceId === undefined ? {} : { instanceId: r.instanceId }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.fields === undefined ? {} : { fields: r.fields }),
  };
}

// ---------------------------------------------------------------------------------------------
// Responses

/** Runs a registry read, turning its failures into the documented 500 and 503. */
async function guarded(context: InvocationContext, what: string, read: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof RegistryCorruptRowError) {
      // Its message names rows and fields, never stored values, so the caller may see it.
      context.error(`registry: ${what}: ${err.message}`);
      return error(500, "RegistryCorrupt", err.message);
    }
    // The reason (one line, tokens removed) is logged; the body says only that a retry may work.
    context.warn(`registry: ${what} failed: ${describeError(classifyError(err))}`);
    return new HttpResponse({
      status: 503,
      headers: { "retry-after": String(REGISTRY_RETRY_AFTER_SECONDS) },
      jsonBody: { error: { code: "RegistryUnavailable", message: "the registry cannot be read right now; try again later" } } satisfies ErrorBody,
    });
  }
}

function json<T>(status: number, body: T): HttpResponse {
  return new HttpResponse({ status, jsonBody: body });
}

function error(status: number, code: string, message: string): HttpResponse {
  return json<ErrorBody>(status, { error: { code, message } });
}

function workloadOf(w: NonNullable<TenantRecord["workloads"]>[number]): WorkloadBody {
  const { spec } = w;
  return {
    resourceId: w.resourceId,
    imageVersion: w.imageVersion,
    provisioningState: w.provisioningState,
    ...(w.error ? { error: w.error } : {}),
    updateOnPublish: spec.updateOnPublish,
    size: spec.size,
    ...(spec.kind === "vmss"
      ? { instanceCount: spec.instanceCount ?? 2, orchestrationMode: spec.orchestrationMode ?? "Uniform", upgradePolicy: spec.upgradePolicy ?? "Automatic" }
      : {}),
    changedBy: w.changedBy,
    at: w.at,
  };
}
