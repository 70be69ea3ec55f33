// Admin consent (Microsoft identity platform v2.0) for the multi-tenant app, the rbac mode's first
// step: the link an administrator of the consumer tenant opens, and the answer Entra sends back.
//
//   link      {authorityHost}/{consumerTenantId}/v2.0/adminconsent?client_id=&scope=&redirect_uri=&state=
//   granted   redirect_uri?admin_consent=True&tenant={tenantId}&scope=...&state=...
//   denied    redirect_uri?error=...&error_description=...&state=...
//
// The link names the consumer tenant (never `common` or `organizations`): only that tenant's admin
// is asked. The returned `tenant` alone authorizes nothing (anyone can craft a callback URL): the
// caller checks it against our signed `state` (consentState.ts), which names the tenant we asked.
// Everything parsed here is bounded and stripped of control characters, so it may go into a log
// line or an orchestration event; it is still never reflected into a page.

import { DomainValidationError, boundedText, isGuid, type FieldError } from "./validation";

/** The permission asked for: Azure Resource Manager; what it reaches is decided by the role granted. */
export const ADMIN_CONSENT_SCOPE = "https://management.azure.com/.default";

/** Longest `state` accepted, in either direction; a consent state token is far shorter. */
export const MAX_STATE_LENGTH = 2048;
/** Longest error code and description kept from a denial (Entra's are an identifier and a sentence or two). */
export const MAX_ERROR_LENGTH = 128;
export const MAX_ERROR_DESCRIPTION_LENGTH = 1024;

/** The external events the consent callback raises on the onboarding orchestration. */
export const CONSENT_GRANTED_EVENT = "ConsentGranted";
export const CONSENT_DENIED_EVENT = "ConsentDenied";

export interface ConsentGrantedEvent {
  /** The consumer tenant, as our signed state names it (not as the callback's query does). */
  readonly tenantId: string;
  /** ISO 8601: when the callback was received. */
  readonly at: string;
}

export interface ConsentDeniedEvent {
  readonly tenantId: string;
  /** Entra's error code (`access_denied`, `consent_required`, ...), bounded. */
  readonly error: string;
  readonly description?: string;
}

export interface AdminConsentLink {
  /** The authority host (the app's AUTHORITY_HOST), e.g. https://login.microsoftonline.com. */
  readonly authorityHost: string;
  readonly consumerTenantId: string;
  /** The multi-tenant app registration's application (client) id. */
  readonly appId: string;
  /** Where Entra sends the administrator back: GET /api/consent/callback of this app. */
  readonly redirectUri: string;
  /** Our signed state token (createConsentState). */
  readonly state: string;
}

/** Characters of a state token: base64url and the dot between payload and signature. */
const STATE_PATTERN = /^[A-Za-z0-9_.-]+$/;
const STATE_RULE = `must be 1-${MAX_STATE_LENGTH} characters of letters, digits, "-", "_" and "."`;
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1"]);
const SHARED_AUTHORITIES: ReadonlySet<string> = new Set(["common", "organizations", "consumers"]);

function isStateToken(value: string): boolean {
  return value.length > 0 && value.length <= MAX_STATE_LENGTH && STATE_PATTERN.test(value);
}

/** Problems of a URL meant for people's browsers; `undefined` when it is fine. */
function urlIssue(value: unknown, allowLoopbackHttp: boolean): string | undefined {
  const rule = allowLoopbackHttp
    ? "must be an https URL (http only for localhost or 127.0.0.1) without user name, password or fragment"
    : "must be an https URL without user name, password, query or fragment";
  if (typeof value !== "string" || !URL.canParse(value)) return rule;
  const url = new URL(value);
  if (url.username !== "" || url.password !== "" || value.includes("#")) return rule;
  if (!allowLoopbackHttp && url.search !== "") return rule;
  if (url.protocol === "https:") return undefined;
  if (allowLoopbackHttp && url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return rule;
}

/** Problems of the link's inputs, every one of them, each naming its field. */
export function adminConsentLinkIssues(link: AdminConsentLink): FieldError[] {
  const errors: FieldError[] = [];
  const authority = urlIssue(link.authorityHost, false);
  if (authority !== undefined) errors.push({ path: "authorityHost", rule: authority });
  if (typeof link.consumerTenantId === "string" && SHARED_AUTHORITIES.has(link.consumerTenantId.toLowerCase())) {
    errors.push({
      path: "consumerTenantId",
      rule: "must be the consumer tenant's id (a GUID), not a shared authority: any tenant's admin could answer a link to it",
    });
  } else if (!isGuid(link.consumerTenantId)) {
    errors.push({ path: "consumerTenantId", rule: "must be a GUID (the consumer tenant's id)" });
  }
  if (!isGuid(link.appId)) errors.push({ path: "appId", rule: "must be a GUID (the app registration's application id)" });
  const redirect = urlIssue(link.redirectUri, true);
  if (redirect !== undefined) errors.push({ path: "redirectUri", rule: redirect });
  if (typeof link.state !== "string" || !isStateToken(link.state)) errors.push({ path: "state", rule: STATE_RULE });
  return errors;
}

/**
 * The admin consent link for one consumer tenant. Throws DomainValidationError naming every
 * failing field (the inputs come from settings and the registry: a bad one is a bug, not a user's).
 */
export function adminConsentUrl(link: AdminConsentLink): string {
  const errors = adminConsentLinkIssues(link);
  if (errors.length > 0) throw new DomainValidationError("invalid admin consent link", errors);
  const base = link.authorityHost.replace(/\/+$/, "");
  const query = new URLSearchParams({
    client_id: link.appId.toLowerCase(),
    scope: ADMIN_CONSENT_SCOPE,
    redirect_uri: link.redirectUri,
    state: link.state,
  });
  return `${base}/${encodeURIComponent(link.consumerTenantId.toLowerCase())}/v2.0/adminconsent?${query.toString()}`;
}

// ---------------------------------------------------------------------------------------------
// The callback

export type ConsentCallback =
  | { readonly kind: "granted"; readonly tenant: string; readonly state: string }
  | { readonly kind: "denied"; readonly error: string; readonly description?: string; readonly state: string }
  | { readonly kind: "invalid"; readonly problems: FieldError[] };

/** The query parameters the callback reads; any other is ignored. */
export const CONSENT_CALLBACK_PARAMETERS = ["admin_consent", "tenant", "scope", "state", "error", "error_description"] as const;

/**
 * Reads Entra's redirect. `admin_consent` must be exactly `True`; a denial is `error` (with an
 * optional `error_description`); both or neither is invalid, and so is a missing or malformed
 * `state`. The problems name the parameter and the rule, never the value received.
 */
export function parseConsentCallback(query: Readonly<Record<string, string | undefined>>): ConsentCallback {
  const problems: FieldError[] = [];
  const state = query.state;
  if (state === undefined || !isStateToken(state)) problems.push({ path: "state", rule: state === undefined ? "is required" : STATE_RULE });

  const error = query.error;
  const adminConsent = query.admin_consent;
  if (error !== undefined) {
    // Entra does not send both; a query that claims both a grant and an error is not Entra's.
    if (adminConsent === "True") problems.push({ path: "admin_consent", rule: "must not be True when error is given" });
    const code = boundedText(error, MAX_ERROR_LENGTH).trim();
    if (code === "") problems.push({ path: "error", rule: "must not be empty" });
    const rawDescription = query.error_description;
    const description = rawDescription === undefined ? "" : boundedText(rawDescription, MAX_ERROR_DESCRIPTION_LENGTH).trim();
    if (problems.length > 0 || state === undefined) return { kind: "invalid", problems };
    return { kind: "denied", error: code, ...(description === "" ? {} : { description }), state };
  }

  if (adminConsent === undefined) problems.push({ path: "admin_consent", rule: "is required (or error, for a denial)" });
  else if (adminConsent !== "True") problems.push({ path: "admin_consent", rule: 'must be exactly "True"' });
  const tenant = query.tenant;
  if (tenant === undefined) problems.push({ path: "tenant", rule: "is required" });
  else if (!isGuid(tenant)) problems.push({ path: "tenant", rule: "must be a GUID" });
  const scope = query.scope;
  if (scope !== undefined && scope.length > MAX_STATE_LENGTH) problems.push({ path: "scope", rule: `must be at most ${MAX_STATE_LENGTH} characters` });
  if (problems.length > 0 || state === undefined || tenant === undefined) return { kind: "invalid", problems };
  return { kind: "granted", tenant: tenant.toLowerCase(), state };
}
