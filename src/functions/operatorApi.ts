// The operator API behind the dashboard and the `gallery-share` command line (anonymous at the
// Functions level: App Service Authentication signs the caller in, OPERATOR_SIGN_IN=easyauth says
// it is there, and every route checks the caller's app roles here):
//   GET  /api/ops/me                            who is signed in, and whether they may act
//   GET  /api/ops/overview                      tenants, versions, what needs attention, recent actions (ETag: 304 when unchanged)
//   POST /api/ops/versions/{versionId}/retry    run a failed publish again          (GalleryShare.Operator)
//   POST /api/ops/versions/{versionId}/revoke   revoke a version, with a reason      (GalleryShare.Operator)
//   PUT  /api/ops/tenants/{tenantId}/ring       move a tenant to another ring        (GalleryShare.Operator)
//   POST /api/ops/reconcile                     reconcile now                        (GalleryShare.Operator)
// Reads need GalleryShare.Reader (or Operator); no sign-in is 401, a missing role 403. Every action,
// done or refused, is recorded with who asked (registry, partition operator-action).
import { createHash, randomUUID } from "node:crypto";
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { AppConfig } from "../config";
import type { Registry } from "../azure/registry";
import { authorize, parseClientPrincipal, type Need, type OperatorPrincipal } from "../domain/operatorPrincipal";
import { buildOverview } from "./operatorOverview";

export interface OperatorApiDeps {
  readonly config: AppConfig;
  readonly registry: Registry;
}

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponse>;

function refusal(status: number, code: string, message: string): HttpResponse {
  return new HttpResponse({ status, jsonBody: { error: { code, message } }, headers: { "cache-control": "no-store" } });
}

/** The signed-in caller, when the app sits behind App Service Authentication; otherwise nobody. */
export function callerOf(config: AppConfig, request: HttpRequest): OperatorPrincipal | undefined {
  if (config.operatorSignIn !== "easyauth") return undefined;
  return parseClientPrincipal(request.headers.get("x-ms-client-principal"), request.headers.get("x-ms-client-principal-name"));
}

/** The route's role check: the signed-in principal, or the answer that refuses the caller (401, 403). */
export function check(config: AppConfig, request: HttpRequest, need: Need): { principal: OperatorPrincipal } | { refused: HttpResponse } {
  if (config.operatorSignIn !== "easyauth") {
    return { refused: refusal(401, "SignInNotConfigured", "operator sign-in is off (OPERATOR_SIGN_IN): put App Service Authentication in front of the app") };
  }
  const verdict = authorize(callerOf(config, request), need);
  if (!verdict.ok) return { refused: refusal(verdict.status, verdict.status === 401 ? "NotSignedIn" : "Forbidden", verdict.message) };
  return { principal: verdict.principal };
}

export function getMe(deps: OperatorApiDeps): Handler {
  return async (request) => {
    const checked = check(deps.config, request, "read");
    if ("refused" in checked) return checked.refused;
    const { name, roles } = checked.principal;
    return new HttpResponse({
      status: 200,
      jsonBody: { name, roles, canAct: authorize(checked.principal, "act").ok },
      headers: { "cache-control": "no-store" },
    });
  };
}

export function getOverview(deps: OperatorApiDeps, client: (context: InvocationContext) => DurableClient): Handler {
  return async (request, context) => {
    const checked = check(deps.config, request, "read");
    if ("refused" in checked) return checked.refused;
    const body = JSON.stringify(await buildOverview(client(context), deps.registry, deps.config, Date.now()));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const headers = { etag, "cache-control": "no-cache", "content-type": "application/json; charset=utf-8" };
    if (request.headers.get("if-none-match") === etag) return new HttpResponse({ status: 304, headers });
    return new HttpResponse({ status: 200, body, headers });
  };
}

/**
 * An operator action: the Operator role, then the action itself; either way it is recorded with
 * the caller's name. A Reader (or no sign-in) is refused before anything happens.
 */
export function operatorAction(deps: OperatorApiDeps, action: string, targetOf: (request: HttpRequest) => string, run: Handler): Handler {
  return async (request, context) => {
    const checked = check(deps.config, request, "act");
    const principal = "principal" in checked ? checked.principal : callerOf(deps.config, request);
    const response = "refused" in checked ? checked.refused : await run(request, context);
    if (principal) {
      const detail = response.status >= 400 ? await errorText(response) : undefined;
      await deps.registry.recordOperatorAction({
        id: randomUUID(),
        at: new Date().toISOString(),
        by: principal.name,
        action,
        target: targetOf(request).slice(0, 500),
        status: response.status,
        ...(detail ? { detail: detail.slice(0, 500) } : {}),
      });
      context.log(`operator: ${principal.name} ${action} ${targetOf(request)}: ${response.status}`);
    }
    return response;
  };
}

/** The error message of a JSON error answer, read without consuming the response a caller gets. */
async function errorText(response: HttpResponse): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json();
    if (typeof body === "object" && body !== null && "error" in body && typeof body.error === "object" && body.error !== null && "message" in body.error)
      return String(body.error.message);
  } catch {
    return undefined;
  }
  return undefined;
}

/** One history event of an orchestration as the drill-down shows it: what ran, when, and how it ended. */
interface TimelineEntry {
  readonly at: string;
  readonly event: string;
  readonly name?: string;
  readonly detail?: string;
}

function timelineOf(history: unknown): TimelineEntry[] {
  if (!Array.isArray(history)) return [];
  return history.slice(0, 200).flatMap((e: unknown) => {
    if (typeof e !== "object" || e === null) return [];
    const r = e as Record<string, unknown>;
    const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v.slice(0, 300) : undefined);
    const name = text(r.FunctionName) ?? text(r.Name);
    const detail = text(r.Reason) ?? text(r.Details) ?? text(r.FailureDetails);
    return [{ at: text(r.Timestamp) ?? "", event: text(r.EventType) ?? "?", ...(name ? { name } : {}), ...(detail ? { detail } : {}) }];
  });
}

/**
 * The instance's history as the extension's status endpoint gives it (`historyEvents`). Read from
 * that endpoint directly: durable-functions 3.5's getStatus asks for the history but does not hand
 * it on (its status object reads `history`, the payload carries `historyEvents`).
 */
async function historyOf(client: DurableClient, instanceId: string): Promise<unknown> {
  try {
    const url = `${client.createHttpManagementPayload(instanceId).statusQueryGetUri}&showHistory=true`;
    const response = await fetch(url);
    if (!response.ok) return [];
    const body: unknown = await response.json();
    return typeof body === "object" && body !== null && "historyEvents" in body ? body.historyEvents : [];
  } catch {
    return [];
  }
}

/**
 * GET /api/ops/tenants/{tenantId}: the tenant's record, its grants, its last request, and the orchestration
 * behind that request (status, custom status, and the activity timeline with its retries).
 */
export function getTenantDetail(deps: OperatorApiDeps, client: (context: InvocationContext) => DurableClient): Handler {
  return async (request, context) => {
    const checked = check(deps.config, request, "read");
    if ("refused" in checked) return checked.refused;
    const tenantId = (request.params.tenantId ?? "").toLowerCase();
    const stored = /^[0-9a-f-]{36}$/.test(tenantId) ? await deps.registry.getTenant(tenantId) : undefined;
    if (!stored) return refusal(404, "TenantNotFound", `tenant ${tenantId} is not registered`);
    const tenant = stored.record;
    const [last, grants] = await Promise.all([deps.registry.getRequest(tenant.lastRequestId), deps.registry.listGrantsOfTenant(tenant.tenantId)]);
    const instanceId = last?.record.instanceId;
    const durable = client(context);
    const status = instanceId ? await durable.getStatus(instanceId).catch(() => undefined) : undefined;
    const orchestration = status
      ? {
          instanceId: status.instanceId,
          name: status.name,
          runtimeStatus: status.runtimeStatus,
          customStatus: status.customStatus,
          output: status.output,
          timeline: timelineOf(await historyOf(durable, status.instanceId)),
        }
      : null;
    const { consent: _consent, ...visible } = tenant;
    return new HttpResponse({
      status: 200,
      jsonBody: {
        tenant: visible,
        grants: grants.map((g) => ({ galleryId: g.galleryId, kind: g.kind, targetId: g.targetId, at: g.at })),
        request: last?.record ?? null,
        orchestration,
      },
      headers: { "cache-control": "no-store" },
    });
  };
}
