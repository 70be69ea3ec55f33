// Admin consent for the rbac sharing mode: the link a consumer tenant's admin opens to consent
// to the multi-tenant app, and the reading of Entra's redirect back to us.

import { DomainValidationError, isGuid, quoteForError, type FieldError } from "./validation";

export interface AdminConsentRequest {
  /** Defaults to the public cloud's `https://login.microsoftonline.com`. */
  authorityHost?: string;
  consumerTenantId: string;
  /** The multi-tenant app's client (application) id. */
  clientId: string;
  /** Where Entra sends the admin back; must be a reply URL of the app. */
  redirectUri: string;
  /** Opaque value echoed back, used to match the callback to the onboarding request. */
  state: string;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function httpsUrlErrors(path: string, value: string, allowLoopbackHttp: boolean): FieldError[] {
  const url = parseUrl(value);
  if (url === undefined) return [{ path, rule: `must be an absolute URL (got ${quoteForError(value)})` }];
  if (url.protocol === "https:") return [];
  if (allowLoopbackHttp && url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return [];
  const rule = allowLoopbackHttp ? "must use https (http only for localhost or 127.0.0.1)" : "must use https";
  return [{ path, rule: `${rule} (got ${quoteForError(value)})` }];
}

/** `{authorityHost}/{consumerTenant}/adminconsent?client_id=…&redirect_uri=…&state=…` */
export function adminConsentUrl(request: AdminConsentRequest): string {
  const authorityHost = request.authorityHost ?? "https://login.microsoftonline.com";
  const errors: FieldError[] = [
    ...httpsUrlErrors("authorityHost", authorityHost, false),
    ...(isGuid(request.consumerTenantId) ? [] : [{ path: "consumerTenantId", rule: "must be a GUID" }]),
    ...(isGuid(request.clientId) ? [] : [{ path: "clientId", rule: "must be a GUID" }]),
    ...httpsUrlErrors("redirectUri", request.redirectUri, true),
    ...(typeof request.state === "string" && request.state !== "" ? [] : [{ path: "state", rule: "must not be empty" }]),
  ];
  if (errors.length > 0) throw new DomainValidationError("invalid admin consent request", errors);

  const query = [
    `client_id=${encodeURIComponent(request.clientId.toLowerCase())}`,
    `redirect_uri=${encodeURIComponent(request.redirectUri)}`,
    `state=${encodeURIComponent(request.state)}`,
  ].join("&");
  return `${authorityHost.replace(/\/+$/, "")}/${request.consumerTenantId.toLowerCase()}/adminconsent?${query}`;
}

export type ConsentCallback =
  | { ok: true; tenantId: string; state: string }
  | { ok: false; tenantId?: string; state?: string; error: string; description?: string };

/**
 * Reads Entra's redirect: `tenant`, `admin_consent=True` and `state` on success, or `error` and
 * `error_description` (with `state`, and sometimes `tenant`) when the admin declined or it failed.
 */
export function parseConsentCallback(query: Record<string, string | undefined>): ConsentCallback {
  const tenant = query.tenant?.trim();
  const state = query.state;
  const known = {
    ...(tenant !== undefined && isGuid(tenant) ? { tenantId: tenant.toLowerCase() } : {}),
    ...(state ? { state } : {}),
  };
  if (query.error) {
    return { ok: false, ...known, error: query.error, ...(query.error_description ? { description: query.error_description } : {}) };
  }
  const consented = query.admin_consent?.toLowerCase() === "true";
  if (consented && known.tenantId !== undefined && known.state !== undefined) {
    return { ok: true, tenantId: known.tenantId, state: known.state };
  }
  const problems: string[] = [];
  if (!consented) problems.push("admin_consent is not True");
  if (!tenant) problems.push("tenant is missing");
  else if (known.tenantId === undefined) problems.push(`tenant ${quoteForError(tenant)} is not a GUID`);
  if (known.state === undefined) problems.push("state is missing");
  return { ok: false, ...known, error: "invalid_callback", description: `the consent callback is incomplete: ${problems.join("; ")}` };
}
