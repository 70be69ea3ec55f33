// The two pages a consumer tenant's administrator sees in rbac mode (anonymous: they are opened
// from an e-mail, by people who have no key to this app):
//   GET /api/consent/{requestId}   explains who asks for what, then links to Microsoft's admin consent
//   GET /api/consent/callback      where Entra sends the administrator back; raises ConsentGranted or
//                                  ConsentDenied on the waiting orchestration
// A bare admin consent link looks like phishing (azure-docs#54623), so the link is sent as the
// first page: the publisher, the app and its id, the galleries, the role to grant and where, what
// the app will and will not do, and until when the link is valid.
// Both answer HTML with a strict CSP (no script, no images, no frames), and never put anything from
// the request into a page: every refusal is one fixed page per endpoint, identical whatever was
// wrong, so a caller learns nothing about which requests or tenants exist. Registry values that are
// shown are HTML-escaped. The reasons go to the log only.
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import { RegistryCorruptRowError, type Registry, type TenantRecord } from "../azure/registry";
import {
  ADMIN_CONSENT_SCOPE,
  CONSENT_CALLBACK_PARAMETERS,
  CONSENT_DENIED_EVENT,
  CONSENT_GRANTED_EVENT,
  parseConsentCallback,
  type ConsentDeniedEvent,
  type ConsentGrantedEvent,
} from "../domain/adminConsent";
import { classifyError, describeError } from "../domain/errors";
import { parseGalleryId } from "../domain/resourceIds";
import { boundedText, isGuid } from "../domain/validation";
import { queryValues } from "./queryParameters";

/** Sent with every page of both endpoints. */
export const CONSENT_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** The one text of every refused consent page: unknown request, wrong state, expired, ... */
export const CONSENT_LINK_INVALID_TEXT = "This consent link is not valid or has expired. Ask your contact for a new one.";
export const CONSENT_RECORDED_TEXT = "Thank you: consent recorded. You can close this page.";
export const CONSENT_NOT_GIVEN_TEXT = "Consent was not given. You can close this page.";
/** The one text of every refused callback. */
export const CONSENT_ANSWER_INVALID_TEXT = "This consent answer is not valid or has already been used. Ask your contact for a new consent link.";
export const CONSENT_UNAVAILABLE_TEXT = "This page cannot be shown right now. Try again in a few minutes.";
export const CONSENT_NOT_RECORDED_TEXT = "Your answer could not be recorded right now. Please tell your contact, who can send you a new consent link.";

/** What a browser is told to wait before reloading when the registry cannot be read. */
export const CONSENT_RETRY_AFTER_SECONDS = 30;
/** The role the consumer grants the app on its resource group. */
export const CONSENT_ROLE = "Contributor";

const MAX_SHOWN_TEXT = 256;

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponse>;

// ---------------------------------------------------------------------------------------------
// GET /api/consent/{requestId}

export interface ConsentPageDeps {
  readonly registry: Registry;
  /** Who shares the images, as the customer knows them. */
  readonly publisherName: string;
  /** The multi-tenant app registration's name and application (client) id. */
  readonly appName: string;
  readonly appId: string;
  /** The admin consent link for a tenant waiting for consent (normally `tenant.consent.url`); undefined: no page. */
  consentUrlFor(tenant: TenantRecord): string | undefined;
  /** Epoch ms; Date.now when not given. */
  readonly now?: () => number;
}

/** What the page shows, checked and taken from the registry. */
interface ConsentPageView {
  readonly tenant: TenantRecord;
  readonly consumer: NonNullable<TenantRecord["consumer"]>;
  readonly consentUrl: string;
  readonly expiresAt: number;
}

export function createConsentPage(deps: ConsentPageDeps): Handler {
  const now = deps.now ?? Date.now;
  return async function consentPage(request, context) {
    const requestId = request.params.requestId ?? "";
    if (!isGuid(requestId)) {
      context.log("consent page: refused: the request id is not a GUID");
      return linkInvalid();
    }
    let found: ConsentPageView | string;
    try {
      found = await viewOf(deps, requestId, now());
    } catch (err) {
      if (err instanceof RegistryCorruptRowError) context.error(`consent page: request ${requestId}: ${err.message}`);
      else context.warn(`consent page: request ${requestId}: the registry cannot be read: ${describeError(classifyError(err))}`);
      return html(503, messagePage("Admin consent", CONSENT_UNAVAILABLE_TEXT), { "retry-after": String(CONSENT_RETRY_AFTER_SECONDS) });
    }
    if (typeof found === "string") {
      context.log(`consent page: request ${requestId} refused: ${found}`);
      return linkInvalid();
    }
    return html(200, consentPageHtml(deps, found));
  };
}

/** The view, or why there is no page (for the log only). */
async function viewOf(deps: ConsentPageDeps, requestId: string, now: number): Promise<ConsentPageView | string> {
  const request = await deps.registry.getRequest(requestId);
  if (!request) return "the request is not recorded";
  const tenantId = request.record.tenantId;
  if (tenantId === undefined) return "the request names no tenant";
  const stored = await deps.registry.getTenant(tenantId);
  if (!stored) return `tenant ${tenantId} is not registered`;
  const tenant = stored.record;
  if (tenant.lastRequestId.toLowerCase() !== requestId.toLowerCase()) return `tenant ${tenantId} has moved on to request ${tenant.lastRequestId}`;
  if (tenant.state !== "consent-pending") return `tenant ${tenantId} is ${tenant.state}, not consent-pending`;
  if (!tenant.consent) return `tenant ${tenantId} has no consent link`;
  const expiresAt = Date.parse(tenant.consent.expiresAt);
  if (!(expiresAt > now)) return `the consent link of tenant ${tenantId} expired at ${tenant.consent.expiresAt}`;
  if (!tenant.consumer) return `tenant ${tenantId} names no consumer resource group`;
  const consentUrl = deps.consentUrlFor(tenant);
  if (consentUrl === undefined) return `no consent link for tenant ${tenantId}`;
  if (!isHttpsLink(consentUrl)) return `the consent link for tenant ${tenantId} is not an https URL`;
  return { tenant, consumer: tenant.consumer, consentUrl, expiresAt };
}

function isHttpsLink(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === "https:" && url.username === "" && url.password === "";
}

function consentPageHtml(deps: ConsentPageDeps, view: ConsentPageView): string {
  const { tenant, consumer, consentUrl } = view;
  const appName = shown(deps.appName) || "the app";
  const publisher = shown(deps.publisherName) || appName;
  const galleries = [...new Set(tenant.galleries.map(galleryName))];
  const expires = new Date(view.expiresAt);
  const expiresText = `${new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" }).format(expires)} UTC`;
  const rg = escapeHtml(consumer.resourceGroup);
  const sub = escapeHtml(consumer.subscriptionId);
  const signInOrigin = new URL(consentUrl).origin;

  const body = `<h1>${escapeHtml(publisher)} asks for admin consent</h1>
<p class="lead">${escapeHtml(publisher)} shares virtual machine images with <strong>${escapeHtml(shown(tenant.displayName))}</strong> and asks an administrator of that Microsoft Entra tenant to consent to its app. Please read what the app asks for before you continue.</p>
<dl>
<dt>Requested by</dt><dd>${escapeHtml(publisher)}</dd>
<dt>App</dt><dd>${escapeHtml(appName)}</dd>
<dt>Application (client) id</dt><dd><code>${escapeHtml(deps.appId)}</code></dd>
<dt>Your tenant</dt><dd>${escapeHtml(shown(tenant.displayName))} (<code>${escapeHtml(tenant.tenantId)}</code>)</dd>
<dt>Image galleries</dt><dd><ul>${galleries.map((g) => `<li>${escapeHtml(g)}</li>`).join("")}</ul></dd>
<dt>Role you will grant</dt><dd><strong>${CONSENT_ROLE}</strong> on resource group <code>${rg}</code> in subscription <code>${sub}</code>, so the app can create virtual machines there from these images</dd>
<dt>This link expires</dt><dd><time datetime="${escapeHtml(expires.toISOString())}">${escapeHtml(expiresText)}</time></dd>
</dl>
<h2>What the app will do</h2>
<ul>
<li>Read the image versions of the galleries above that are shared with your tenant.</li>
<li>Create virtual machines and their network interfaces in resource group <code>${rg}</code>, from those images, when asked to.</li>
</ul>
<h2>What the app will not do</h2>
<ul>
<li>It has no access outside resource group <code>${rg}</code>: the ${CONSENT_ROLE} role is granted on that resource group only.</li>
<li>It reads no user data: the only permission asked for is Azure Resource Manager (<code>${escapeHtml(ADMIN_CONSENT_SCOPE)}</code>); no mail, files, user profiles or other Microsoft Graph data.</li>
<li>It does nothing until the role is granted: consent alone gives it no access to any of your resources.</li>
</ul>
<h2>Next step</h2>
<p>The button opens Microsoft's sign-in page at <code>${escapeHtml(signInOrigin)}</code>. Sign in with an account allowed to grant admin consent for your organization, check that Microsoft shows the app name and id above, and accept. Afterwards, grant the app the ${CONSENT_ROLE} role on resource group <code>${rg}</code>.</p>
<p><a class="button" href="${escapeHtml(consentUrl)}" rel="noreferrer">Review and consent at Microsoft</a></p>
<p class="note">If you did not expect this request, do not consent, and contact ${escapeHtml(publisher)}.</p>`;
  return htmlDocument(`Admin consent for ${appName}`, body);
}

function galleryName(id: string): string {
  try {
    return parseGalleryId(id).gallery;
  } catch {
    return id;
  }
}

// ---------------------------------------------------------------------------------------------
// GET /api/consent/callback

export type ConsentOutcome = { readonly kind: "granted" } | { readonly kind: "denied"; readonly error: string; readonly description?: string };

/** What `verify` found: only `ok` when the signed state, its expiry, its tenant and its single use check out. */
export type ConsentVerification =
  | { readonly ok: true; readonly instanceId: string; readonly tenantId: string; readonly requestId: string; readonly outcome: ConsentOutcome }
  | { readonly ok: false };

export interface ConsentCallbackDeps {
  /**
   * Checks the callback against the state this app signed (signature, expiry, tenant binding,
   * single use). Given the callback's parameters, each at most once, only those the callback reads
   * (CONSENT_CALLBACK_PARAMETERS), and only when they parse (parseConsentCallback).
   */
  verify(query: Readonly<Record<string, string | undefined>>): Promise<ConsentVerification>;
  /** Raises the event on the waiting orchestration (the durable client's raiseEvent). */
  raise(instanceId: string, eventName: string, data: ConsentGrantedEvent | ConsentDeniedEvent): Promise<void>;
  /** Epoch ms; Date.now when not given. */
  readonly now?: () => number;
}

export function createConsentCallback(deps: ConsentCallbackDeps): Handler {
  const now = deps.now ?? Date.now;
  return async function consentCallback(request, context) {
    const query: Record<string, string | undefined> = {};
    for (const name of CONSENT_CALLBACK_PARAMETERS) {
      const values = queryValues(request, name);
      if (values.length > 1) {
        context.warn(`consent callback: refused: ${name} is given ${values.length} times`);
        return answerInvalid();
      }
      query[name] = values[0];
    }
    const parsed = parseConsentCallback(query);
    if (parsed.kind === "invalid") {
      // Paths and rules only: they never contain the values received.
      context.warn(`consent callback: refused: ${parsed.problems.map((p) => `${p.path} ${p.rule}`).join("; ")}`);
      return answerInvalid();
    }

    let verdict: ConsentVerification;
    try {
      verdict = await deps.verify(query);
    } catch (err) {
      context.error(`consent callback: the answer could not be checked: ${describeError(classifyError(err))}`);
      return html(503, messagePage("Admin consent", CONSENT_NOT_RECORDED_TEXT));
    }
    if (!verdict.ok) {
      context.warn(`consent callback: refused: the state is not one this app signed, has expired, names another tenant or was used already`);
      return answerInvalid();
    }
    if (verdict.outcome.kind !== parsed.kind) {
      context.error(`consent callback: refused: verify answered ${verdict.outcome.kind} for a ${parsed.kind} callback`);
      return answerInvalid();
    }

    const { instanceId, tenantId, requestId, outcome } = verdict;
    const [eventName, data]: [string, ConsentGrantedEvent | ConsentDeniedEvent] =
      outcome.kind === "granted"
        ? [CONSENT_GRANTED_EVENT, { tenantId, at: new Date(now()).toISOString() }]
        : [CONSENT_DENIED_EVENT, { tenantId, error: outcome.error, ...(outcome.description === undefined ? {} : { description: outcome.description }) }];
    try {
      await deps.raise(instanceId, eventName, data);
    } catch (err) {
      context.error(
        `consent callback: ${eventName} for tenant ${tenantId} (request ${requestId}) could not be raised on ${boundedText(instanceId, 256)}: ${describeError(classifyError(err))}`,
      );
      return html(503, messagePage("Admin consent", CONSENT_NOT_RECORDED_TEXT));
    }
    context.log(`consent callback: ${eventName} for tenant ${tenantId} (request ${requestId}) raised on ${boundedText(instanceId, 256)}`);
    return html(200, messagePage("Admin consent", outcome.kind === "granted" ? CONSENT_RECORDED_TEXT : CONSENT_NOT_GIVEN_TEXT));
  };
}

// ---------------------------------------------------------------------------------------------
// HTML

/** Escapes text for element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"));
}

/** Registry text as shown: one line, bounded (the page escapes it). */
function shown(value: string): string {
  return boundedText(value, MAX_SHOWN_TEXT).trim();
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.5;color:#1b1b1b;background:#f5f5f5;margin:0}
main{max-width:44rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.5rem;margin-top:0}h2{font-size:1.1rem;margin-top:1.5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{font-weight:600}dd{margin:0}dd ul{margin:0;padding-left:1.2rem}
code{font-family:ui-monospace,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.button{display:inline-block;background:#0f6cbd;color:#fff;padding:.7rem 1.4rem;border-radius:4px;text-decoration:none;font-weight:600}
.button:hover,.button:focus{background:#115ea3}.note{color:#555;font-size:.9rem}`;

function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function messagePage(title: string, text: string): string {
  return htmlDocument(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`);
}

// Built once: every refusal is byte for byte the same page.
const LINK_INVALID_PAGE = messagePage("Admin consent", CONSENT_LINK_INVALID_TEXT);
const ANSWER_INVALID_PAGE = messagePage("Admin consent", CONSENT_ANSWER_INVALID_TEXT);

function linkInvalid(): HttpResponse {
  return html(404, LINK_INVALID_PAGE);
}

function answerInvalid(): HttpResponse {
  return html(400, ANSWER_INVALID_PAGE);
}

function html(status: number, body: string, extra: Readonly<Record<string, string>> = {}): HttpResponse {
  return new HttpResponse({ status, body, headers: { ...CONSENT_PAGE_HEADERS, ...extra } });
}
