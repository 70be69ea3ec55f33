// Entra ID (login.microsoftonline.com) as far as the SDKs need it: OpenID metadata, keys,
// instance discovery, the v2.0 token endpoint (client credentials with a secret or a client
// assertion, e.g. a managed identity's token through a federated identity credential), admin
// consent, and an App Service style managed-identity endpoint.
import type { Ctx } from "../context";
import type { Core } from "../core";
import { consent, DirectoryError } from "../directory";
import { header, isObject, num, queryParam, str, type EmuRequest, type EmuResponse } from "../http";
import type { Route } from "../router";
import type { App, Tenant } from "../store";
import { decodeJwt, verifySignature } from "./jwt";
import { audienceFromScope, checkToken, issueToken, issuerFor } from "./tokens";

const JSON_HEADERS = { "cache-control": "no-store, no-cache", pragma: "no-cache" };

function entraError(core: Core, status: number, error: string, code: number, text: string): EmuResponse {
  const traceId = core.nextGuid("entra-trace");
  const correlationId = core.nextGuid("entra-correlation");
  const timestamp = new Date(core.clock.now()).toISOString().replace("T", " ").slice(0, 19) + "Z";
  return {
    status,
    headers: JSON_HEADERS,
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${core.baseUrl}/error?code=${code}`,
    },
  };
}

function tenantNotFound(core: Core, tenant: string): EmuResponse {
  return entraError(
    core,
    400,
    "invalid_request",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

function findTenant(core: Core, tenant: string): Tenant | undefined {
  return core.world.tenants.get(tenant.toLowerCase());
}

function openIdConfiguration(core: Core, tenant: string): Record<string, unknown> {
  const base = `${core.baseUrl}/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: issuerFor(core, tenant),
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${core.baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "at_hash", "c_hash"],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: "NA",
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  };
}

function openId(ctx: Ctx, req: EmuRequest): EmuResponse {
  const tenant = req.params.tenant ?? "";
  const generic = ["common", "organizations", "consumers"].includes(tenant.toLowerCase());
  if (!generic && !findTenant(ctx.core, tenant)) {
    const r = tenantNotFound(ctx.core, tenant);
    const body = r.body as Record<string, unknown>;
    body.error = "invalid_tenant";
    return r;
  }
  return { status: 200, headers: { "cache-control": "max-age=86400, private" }, body: openIdConfiguration(ctx.core, tenant) };
}

function instanceDiscovery(ctx: Ctx): EmuResponse {
  const host = new URL(ctx.core.baseUrl).host;
  return {
    status: 200,
    body: {
      tenant_discovery_endpoint: `${ctx.core.baseUrl}/common/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    },
  };
}

function keys(ctx: Ctx): EmuResponse {
  return { status: 200, body: { keys: [{ ...ctx.core.signingKey.jwk, x5t: ctx.core.signingKey.kid, issuer: `${ctx.core.baseUrl}/{tenantid}/v2.0` }] } };
}

function formField(req: EmuRequest, name: string): string | undefined {
  return isObject(req.body) ? str(req.body[name]) : undefined;
}

/** POST /{tenant}/oauth2/v2.0/token — client credentials only (what daemons and the SDK credentials use). */
function token(ctx: Ctx, req: EmuRequest): EmuResponse {
  const core = ctx.core;
  const tenantParam = req.params.tenant ?? "";
  const tenant = findTenant(core, tenantParam);
  if (!tenant) return tenantNotFound(core, tenantParam);
  const grantType = formField(req, "grant_type");
  if (grantType !== "client_credentials") {
    return entraError(core, 400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grantType ?? ""}'.`);
  }
  let clientId = formField(req, "client_id");
  const basic = parseBasicAuth(header(req, "authorization"));
  clientId ??= basic?.id;
  if (!clientId) return entraError(core, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
  const scopeParam = formField(req, "scope") ?? "";
  const scopes = scopeParam.split(/\s+/).filter((s) => s && !["openid", "profile", "offline_access", "email"].includes(s));
  const scope = scopes[0];
  if (!scope || scopes.length > 1 || !scope.endsWith("/.default")) {
    return entraError(
      core,
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${scopeParam} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  // The application is resolved in the requested tenant first, whatever the credential. Entra answers
  // AADSTS700016 alike for an unknown app id, a single-tenant app asked for in another tenant and a
  // multi-tenant app without a service principal there (not consented / provisioned yet): its text
  // names all three. (AADSTS65001 is the delegated flows' consent error, not client credentials'.)
  const app = core.world.apps.get(clientId.toLowerCase());
  const spId = app ? core.world.servicePrincipalId(app.appId, tenant.id) : undefined;
  if (!app || !spId) return applicationNotFound(core, clientId, tenant);
  const secret = formField(req, "client_secret") ?? basic?.secret;
  const assertion = formField(req, "client_assertion");
  if (secret !== undefined) {
    if (!app.secrets.includes(secret)) {
      return entraError(
        core,
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
      );
    }
  } else if (assertion !== undefined) {
    if (formField(req, "client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return entraError(
        core,
        400,
        "invalid_request",
        700025,
        "Client assertion type is invalid; expected 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
      );
    }
    const problem = checkAssertion(core, app, assertion);
    if (problem) return problem;
  } else {
    return entraError(core, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  const issued = issueToken(core, { tenantId: tenant.id, objectId: spId, appId: app.appId, audience: audienceFromScope(scope) });
  return {
    status: 200,
    headers: JSON_HEADERS,
    body: { token_type: "Bearer", expires_in: issued.expiresIn, ext_expires_in: issued.expiresIn, access_token: issued.token },
  };
}

function applicationNotFound(core: Core, clientId: string, tenant: Tenant): EmuResponse {
  return entraError(
    core,
    400,
    "unauthorized_client",
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  );
}

function parseBasicAuth(value: string | undefined): { id: string; secret: string } | undefined {
  if (!value || !/^basic\s/i.test(value)) return undefined;
  const decoded = Buffer.from(value.slice(6).trim(), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}

const FIC_DOCS = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
const FIC_DOCS_2022 = "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";

/** The tenant of an issuer this Entra uses (`{authorityHost}/{tenant}/v2.0`), else undefined. */
function ownIssuerTenant(core: Core, iss: string): string | undefined {
  const prefix = `${core.baseUrl}/`;
  if (!iss.startsWith(prefix) || !iss.endsWith("/v2.0")) return undefined;
  const tenant = iss.slice(prefix.length, -"/v2.0".length);
  return tenant && !tenant.includes("/") ? tenant.toLowerCase() : undefined;
}

/**
 * A client assertion (workload identity federation) in the order Entra reports problems:
 * assertions this Entra issued must verify and be unexpired, come from a managed identity
 * (AADSTS700226) of the app's own tenant (AADSTS700236); then the app's federated identity
 * credentials are matched on issuer (AADSTS700211), subject, case-sensitively (AADSTS700213, or
 * AADSTS7002138 when only the case differs), and audience (AADSTS7002121 for Entra-issued
 * assertions, AADSTS700212 for others). An app with no federated credential yet (or only ones still
 * propagating) gets the generic AADSTS70021 Microsoft's docs tell to retry. Foreign assertions
 * (GitHub, Kubernetes, ...) cannot be verified here and are judged on their claims.
 */
function checkAssertion(core: Core, app: App, assertion: string): EmuResponse | undefined {
  const decoded = decodeJwt(assertion);
  if (!decoded) return entraError(core, 400, "invalid_client", 50027, "JWT token is invalid or is malformed.");
  const c = decoded.claims;
  const iss = str(c.iss) ?? "";
  const sub = str(c.sub) ?? "";
  const audClaim = c.aud;
  const auds = Array.isArray(audClaim) ? audClaim.filter((a): a is string => typeof a === "string") : [str(audClaim) ?? ""];
  const aud = auds.join(",");
  const issuerTenant = ownIssuerTenant(core, iss);
  if (issuerTenant !== undefined || decoded.header.kid === core.signingKey.kid) {
    if (decoded.header.kid !== core.signingKey.kid || !verifySignature(decoded, core.signingKey.publicKey)) {
      return entraError(core, 401, "invalid_client", 700027, "Client assertion failed signature validation.");
    }
    const check = checkToken(core, assertion);
    if (!check.ok && check.reason === "expired") {
      const at = (claim: unknown): string => new Date((num(claim) ?? 0) * 1000).toISOString();
      return entraError(
        core,
        401,
        "invalid_client",
        700024,
        `Client assertion is not within its valid time range. Current time: ${new Date(core.clock.now()).toISOString()}, assertion valid from ${at(c.nbf)}, expiry time of assertion ${at(c.exp)}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`,
      );
    }
  }
  if (issuerTenant !== undefined) {
    const principal = core.world.principals.get((str(c.oid) ?? "").toLowerCase());
    if (!principal?.managedIdentity) {
      return entraError(core, 401, "invalid_client", 700226, "Only MSI tokens may be used as Federated Identity Credentials for AAD issuer.");
    }
    if (issuerTenant !== app.homeTenantId) {
      return entraError(
        core,
        401,
        "invalid_client",
        700236,
        `Entra ID tokens issued by issuer '${iss}' may not be used for federated identity credential flows for applications or managed identities registered in this tenant.`,
      );
    }
  }
  const now = core.clock.now();
  const visible = app.federatedCredentials.filter((f) => f.activeFrom <= now);
  if (visible.length === 0) {
    return entraError(
      core,
      400,
      "invalid_request",
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${aud}'. ${FIC_DOCS_2022}`,
    );
  }
  const byIssuer = visible.filter((f) => f.issuer === iss);
  if (byIssuer.length === 0) {
    return entraError(
      core,
      401,
      "invalid_client",
      700211,
      `No matching federated identity record found for presented assertion issuer '${iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FIC_DOCS_2022}`,
    );
  }
  const bySubject = byIssuer.filter((f) => f.subject === sub);
  if (bySubject.length === 0) {
    if (byIssuer.some((f) => f.subject.toLowerCase() === sub.toLowerCase())) {
      return entraError(
        core,
        401,
        "invalid_client",
        7002138,
        `No matching federated identity record found for presented assertion subject '${sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: ${FIC_DOCS}. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
      );
    }
    return entraError(
      core,
      401,
      "invalid_client",
      700213,
      `No matching federated identity record found for presented assertion subject '${sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FIC_DOCS}`,
    );
  }
  if (!bySubject.some((f) => f.audiences.some((a) => auds.includes(a)))) {
    return entraError(
      core,
      401,
      "invalid_client",
      issuerTenant !== undefined ? 7002121 : 700212,
      `No matching federated identity record found for presented assertion audience '${aud}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FIC_DOCS}`,
    );
  }
  return undefined;
}

/**
 * GET /{tenant}/adminconsent?client_id&redirect_uri&state — the admin of {tenant} consents for the
 * whole tenant (no UI here: the tenant's scripted decision answers) and Entra redirects back with
 * `tenant`, `admin_consent=True` and `state`, or `error` / `error_description`.
 */
function adminConsent(ctx: Ctx, req: EmuRequest): EmuResponse {
  const core = ctx.core;
  const tenantParam = req.params.tenant ?? "";
  const clientId = queryParam(req, "client_id") ?? "";
  const redirectUri = queryParam(req, "redirect_uri");
  const state = queryParam(req, "state");
  const tenant = findTenant(core, tenantParam);
  if (!tenant) return errorPage(tenantNotFound(core, tenantParam));
  const app = core.world.apps.get(clientId.toLowerCase());
  if (!app) {
    return errorPage(
      entraError(core, 400, "unauthorized_client", 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'.`),
    );
  }
  if (!redirectUri || (app.redirectUris.length > 0 && !app.redirectUris.includes(redirectUri))) {
    return errorPage(
      entraError(
        core,
        400,
        "invalid_request",
        50011,
        `The redirect URI '${redirectUri ?? ""}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'.`,
      ),
    );
  }
  const back = new URL(redirectUri);
  const decline = (code: string, description: string): EmuResponse => {
    back.searchParams.set("error", code);
    back.searchParams.set("error_description", description);
    if (state !== undefined) back.searchParams.set("state", state);
    return { status: 302, headers: { location: back.toString() }, text: "" };
  };
  if (!app.multiTenant && app.homeTenantId !== tenant.id) {
    return decline("unauthorized_client", `AADSTS50194: Application '${app.appId}'(${app.displayName}) is not configured as a multi-tenant application.`);
  }
  if (tenant.consentDecision === "decline") {
    return decline("access_denied", "AADSTS65004: User declined to consent to access the app.");
  }
  try {
    consent(core, app.appId, tenant.id);
  } catch (e) {
    if (e instanceof DirectoryError) return decline("server_error", e.message);
    throw e;
  }
  back.searchParams.set("admin_consent", "True");
  back.searchParams.set("tenant", tenant.id);
  if (state !== undefined) back.searchParams.set("state", state);
  return { status: 302, headers: { location: back.toString() }, text: "" };
}

function errorPage(r: EmuResponse): EmuResponse {
  const body = r.body as { error_description?: string };
  const text = `<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sign in</h1><p id="error">${escapeHtml(body.error_description ?? "error")}</p></body></html>`;
  return { status: r.status, headers: { "content-type": "text/html; charset=utf-8" }, text };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * App Service managed-identity protocol, api-version 2019-08-01: `GET ?resource=…&api-version=…
 * [&client_id=… | &principal_id=… (object_id) | &mi_res_id=…]` with `X-IDENTITY-HEADER`. Reached
 * at `${url}/msi/token` or through the process's shared endpoint (`emulator.identityEndpoint`,
 * identityEndpoint.ts); identities are those registered with `addManagedIdentity`. Refusals use
 * App Service's JSON shape `{statusCode, message, correlationId}`.
 */
function managedIdentityToken(ctx: Ctx, req: EmuRequest): EmuResponse {
  const core = ctx.core;
  const refuse = (status: number, message: string): EmuResponse => {
    const correlationId = core.nextGuid("msi-correlation");
    return { status, headers: { "x-correlation-id": correlationId }, body: { statusCode: status, message, correlationId } };
  };
  // The platform's defence against server-side request forgery: no secret header, no token.
  if (header(req, "x-identity-header") !== core.identityHeader) {
    return refuse(401, "The request must carry the X-IDENTITY-HEADER header with the value of IDENTITY_HEADER.");
  }
  const apiVersion = queryParam(req, "api-version");
  if (apiVersion !== "2019-08-01") {
    return refuse(400, `api-version '${apiVersion ?? ""}' is not supported with X-IDENTITY-HEADER; use 2019-08-01.`);
  }
  const resource = queryParam(req, "resource");
  if (!resource) return refuse(400, "The 'resource' query parameter is required.");
  const clientId = queryParam(req, "client_id")?.toLowerCase();
  const objectId = (queryParam(req, "principal_id") ?? queryParam(req, "object_id"))?.toLowerCase();
  const resourceId = queryParam(req, "mi_res_id");
  const given = [clientId, objectId, resourceId].filter((v) => v !== undefined).length;
  if (given > 1) return refuse(400, "Only one of client_id, principal_id (object_id) and mi_res_id may be given.");
  const identities = [...core.world.principals.values()].filter((p) => p.managedIdentity);
  // A resource id ends in /userAssignedIdentities/{name}: the emulator knows identities by name only.
  const name = resourceId?.split("/").pop()?.toLowerCase();
  const matches = identities.filter((p) =>
    clientId !== undefined
      ? p.appId === clientId
      : objectId !== undefined
        ? p.objectId === objectId
        : name !== undefined
          ? p.displayName.toLowerCase() === name
          : true,
  );
  // Without an id App Service uses the system-assigned identity; the lone registered identity stands in for it.
  const identity = given > 0 || matches.length === 1 ? matches[0] : undefined;
  if (!identity) return refuse(400, "Unable to load the proper Managed Identity.");
  const audience = resource.endsWith("/.default") ? audienceFromScope(resource) : resource;
  const issued = issueToken(core, { tenantId: identity.tenantId, objectId: identity.objectId, ...(identity.appId ? { appId: identity.appId } : {}), audience });
  return {
    status: 200,
    body: {
      access_token: issued.token,
      expires_on: String(Math.floor(Date.now() / 1000) + issued.expiresIn),
      resource,
      token_type: "Bearer",
      client_id: identity.appId,
    },
  };
}

export function entraRoutes(): Route<Ctx>[] {
  const r = (method: string, pattern: string, handler: (ctx: Ctx, req: EmuRequest) => EmuResponse): Route<Ctx> => ({
    method,
    pattern,
    kind: "entra",
    handler: (req, ctx) => handler(ctx, req),
  });
  return [
    r("GET", "/{tenant}/v2.0/.well-known/openid-configuration", openId),
    r("GET", "/{tenant}/.well-known/openid-configuration", openId),
    r("GET", "/{tenant}/discovery/instance", instanceDiscovery),
    r("GET", "/{tenant}/discovery/v2.0/keys", keys),
    r("GET", "/{tenant}/discovery/keys", keys),
    r("POST", "/{tenant}/oauth2/v2.0/token", token),
    r("GET", "/{tenant}/adminconsent", adminConsent),
    r("GET", "/{tenant}/v2.0/adminconsent", adminConsent),
    r("GET", "/msi/token", managedIdentityToken),
  ];
}
