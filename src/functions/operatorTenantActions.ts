// Operator actions on tenants (GalleryShare.Operator; wrapped by operatorAction, which records them):
//   POST /api/ops/tenants/onboard                 an onboarding request as POST /api/onboarding takes it (a requestId is made when absent)
//   POST /api/ops/tenants/{tenantId}/offboard     offboard the tenant from all its galleries
//   POST /api/ops/tenants/{tenantId}/consent-link a new admin-consent link for an rbac tenant whose link expired or failed
// Each becomes a request on the onboarding queue, validated and followed like any other.
import { randomUUID } from "node:crypto";
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import type { Services } from "../services";
import { isGuid, isObject } from "../domain/validation";
import { submitTenantMessage } from "./submitTenantRequest";

type Deps = Pick<Services, "config" | "registry" | "tenantRequests">;

function refusal(status: number, code: string, message: string): HttpResponse {
  return new HttpResponse({ status, jsonBody: { error: { code, message } } });
}

export async function onboardTenantAction(deps: Deps, request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return refusal(400, "InvalidRequest", "the body must be an onboarding/v1 request (JSON)");
  }
  const withId = isObject(body) && body.requestId === undefined ? { ...body, requestId: randomUUID() } : body;
  return submitTenantMessage(deps.tenantRequests, "onboarding/v1", withId, context, deps.config.galleryIds);
}

export async function offboardTenantAction(deps: Deps, request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const tenantId = request.params.tenantId ?? "";
  if (!isGuid(tenantId)) return refusal(400, "InvalidTenantId", "tenantId must be a GUID");
  return submitTenantMessage(deps.tenantRequests, "offboarding/v1", { requestId: randomUUID(), tenantId }, context, deps.config.galleryIds);
}

/** The tenant's rbac onboarding again, with a new request id: a new consent link (the old one expired or failed). */
export async function newConsentLinkAction(deps: Deps, request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const tenantId = request.params.tenantId ?? "";
  if (!isGuid(tenantId)) return refusal(400, "InvalidTenantId", "tenantId must be a GUID");
  const stored = await deps.registry.getTenant(tenantId);
  if (!stored) return refusal(404, "TenantNotFound", `tenant ${tenantId.toLowerCase()} is not registered`);
  const t = stored.record;
  if (t.mode !== "rbac") return refusal(409, "NotRbac", `${t.displayName} is in ${t.mode} mode: only rbac tenants consent`);
  if (t.state === "consent-pending")
    return refusal(409, "ConsentPending", `${t.displayName}'s link is still valid until ${t.consent?.expiresAt ?? "?"}: send that one`);
  if (t.state === "active") return refusal(409, "AlreadyActive", `${t.displayName} has consented already`);
  const onboarding = {
    requestId: randomUUID(),
    tenantId: t.tenantId,
    displayName: t.displayName,
    mode: "rbac",
    galleries: t.galleries,
    ...(t.consumer ? { consumer: t.consumer } : {}),
    ...(t.ring === undefined ? {} : { ring: t.ring }),
  };
  return submitTenantMessage(deps.tenantRequests, "onboarding/v1", onboarding, context, deps.config.galleryIds);
}
