// The consent pages, called as the Functions host calls them (HttpRequest and InvocationContext
// from @azure/functions). The consent page reads a real registry on real Azurite: who asks for
// what, everything escaped, one byte-identical 404 for every link that is not valid, a neutral 503
// when the registry cannot be read. The callback is given plain functions for verify and raise
// (parameters of the handler): the events it raises, one byte-identical 400 for everything refused,
// and nothing from the query ever shown in a page.
import { HttpRequest, InvocationContext, type HttpResponse, type LogLevel } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURITE_KEY, freePort, startAzurite, type Azurite } from "../../local/azurite";
import { createRegistry, type Registry, type RequestRecord, type TenantRecord } from "../../src/azure/registry";
import { CONSENT_CALLBACK_PARAMETERS, type ConsentDeniedEvent, type ConsentGrantedEvent } from "../../src/domain/adminConsent";
import {
  CONSENT_ANSWER_INVALID_TEXT,
  CONSENT_LINK_INVALID_TEXT,
  CONSENT_NOT_GIVEN_TEXT,
  CONSENT_NOT_RECORDED_TEXT,
  CONSENT_RECORDED_TEXT,
  CONSENT_UNAVAILABLE_TEXT,
  createConsentCallback,
  createConsentPage,
  escapeHtml,
  type ConsentPageDeps,
  type ConsentVerification,
} from "../../src/functions/consentPages";

const SUB = "11111111-2222-3333-4444-555555555555";
const GALLERY = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images`;
const GALLERY_2 = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/silver_images`;
const CONSUMER_SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const APP_ID = "0c4b1a2d-3e4f-4a5b-8c6d-7e8f90a1b2c3";

const PENDING = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ACTIVE = "d0d0d0d0-0000-4000-8000-000000000004";
const EXPIRED = "fabfabfa-0000-4000-8000-000000000005";
const MOVED_ON = "0aaaaaaa-0000-4000-8000-000000000003";
const NO_CONSUMER = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

const PENDING_REQUEST = "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f";
const ACTIVE_REQUEST = "9a0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";
const EXPIRED_REQUEST = "c0ffee00-1111-4222-8333-444455556666";
const OLD_REQUEST = "0d0e0f10-1112-4314-9516-171819202122";
const NEWER_REQUEST = "1d0e0f10-1112-4314-9516-171819202122";
const NO_CONSUMER_REQUEST = "2d0e0f10-1112-4314-9516-171819202122";
const NO_TENANT_REQUEST = "3d0e0f10-1112-4314-9516-171819202122";
const UNREGISTERED_TENANT_REQUEST = "4d0e0f10-1112-4314-9516-171819202122";
const UNKNOWN_REQUEST = "5d0e0f10-1112-4314-9516-171819202122";

const NOW = Date.parse("2026-01-02T09:00:00.000Z");
const T0 = "2026-01-01T09:00:00.000Z";
const EXPIRES_AT = "2026-01-08T09:00:00.000Z";

const DISPLAY_NAME = `Contoso <script>alert("pwned")</script> & 'Co'`;
const CONSENT_URL = `https://login.microsoftonline.com/${PENDING}/v2.0/adminconsent?client_id=${APP_ID}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&redirect_uri=https%3A%2F%2Fapp.example%2Fapi%2Fconsent%2Fcallback&state=abc.def`;

function tenant(tenantId: string, requestId: string, overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId,
    displayName: "Fabrikam",
    mode: "rbac",
    galleries: [GALLERY, GALLERY_2],
    subscriptionIds: [],
    consumer: { subscriptionId: CONSUMER_SUB, resourceGroup: "rg-apps", location: "westeurope" },
    state: "consent-pending",
    since: T0,
    lastRequestId: requestId,
    history: [{ state: "consent-pending", at: T0, requestId }],
    consent: { url: `https://login.microsoftonline.com/${tenantId}/v2.0/adminconsent?client_id=${APP_ID}&state=x.y`, expiresAt: EXPIRES_AT },
    ...overrides,
  };
}

function request(requestId: string, tenantId: string | undefined): RequestRecord {
  return {
    requestId,
    schema: "onboarding/v1",
    ...(tenantId ? { tenantId } : {}),
    state: "running",
    receivedAt: T0,
    updatedAt: T0,
    instanceId: `onboard-${requestId}`,
  };
}

const { consumer: _noConsumer, ...withoutConsumer } = tenant(NO_CONSUMER, NO_CONSUMER_REQUEST);

const tenants: TenantRecord[] = [
  tenant(PENDING, PENDING_REQUEST, { displayName: DISPLAY_NAME, consent: { url: CONSENT_URL, expiresAt: EXPIRES_AT } }),
  tenant(ACTIVE, ACTIVE_REQUEST, { state: "active" }),
  tenant(EXPIRED, EXPIRED_REQUEST, { consent: { url: CONSENT_URL, expiresAt: "2026-01-02T08:59:59.999Z" } }),
  tenant(MOVED_ON, NEWER_REQUEST),
  withoutConsumer,
];

const requests: RequestRecord[] = [
  request(PENDING_REQUEST, PENDING),
  request(ACTIVE_REQUEST, ACTIVE),
  request(EXPIRED_REQUEST, EXPIRED),
  request(OLD_REQUEST, MOVED_ON),
  request(NEWER_REQUEST, MOVED_ON),
  request(NO_CONSUMER_REQUEST, NO_CONSUMER),
  request(NO_TENANT_REQUEST, undefined),
  request(UNREGISTERED_TENANT_REQUEST, "5c2d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f"),
];

const MARKER = "MARKER7f3a";
const HOSTILE = `${MARKER}"><script>alert(1)</script>`;

interface Logged {
  readonly level: LogLevel;
  readonly text: string;
}

function invocation(): { context: InvocationContext; logged: Logged[] } {
  const logged: Logged[] = [];
  const context = new InvocationContext({
    functionName: "consentPages",
    logHandler: (level, ...args) => logged.push({ level, text: args.map(String).join(" ") }),
  });
  return { context, logged };
}

function get(url: string, init: { params?: Record<string, string>; query?: Record<string, string> } = {}): HttpRequest {
  // As the Functions host does: the URL carries the query string as sent, and the query map its values.
  const search = init.query ? `?${new URLSearchParams(init.query).toString()}` : "";
  return new HttpRequest({ url: `http://localhost:7071${url}${search}`, method: "GET", ...init });
}

function expectSecurityHeaders(response: HttpResponse): void {
  expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
}

/** A loopback port nothing listens on. */
const closedPort = freePort;

describe("GET /api/consent/{requestId} (Azurite)", () => {
  let azurite: Azurite;
  let registry: Registry;
  const deps = (overrides: Partial<ConsentPageDeps> = {}): ConsentPageDeps => ({
    registry,
    publisherName: "Northwind Images",
    appName: "Northwind Gallery Share",
    appId: APP_ID,
    consentUrlFor: (t) => t.consent?.url,
    now: () => NOW,
    ...overrides,
  });
  const open = async (requestId: string, overrides: Partial<ConsentPageDeps> = {}, query?: Record<string, string>) => {
    const { context, logged } = invocation();
    const response = await createConsentPage(deps(overrides))(
      get(`/api/consent/${encodeURIComponent(requestId)}`, { params: { requestId }, ...(query ? { query } : {}) }),
      context,
    );
    return { response, body: await response.text(), logged };
  };

  beforeAll(async () => {
    azurite = await startAzurite();
    registry = createRegistry({ connection: { connectionString: azurite.connectionString }, tableName: "consentpages" });
    for (const t of tenants) await registry.putTenant(t);
    for (const r of requests) await registry.recordRequest(r);
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  it("says who asks for what: publisher, app name and id, galleries, role and resource group, what it will and will not do, expiry, and the consent button", async () => {
    const { response, body } = await open(PENDING_REQUEST);
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(body).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(body).toContain('<meta charset="utf-8">');
    expect(body).toContain("<h1>Northwind Images asks for admin consent</h1>");
    expect(body).toContain("<dt>App</dt><dd>Northwind Gallery Share</dd>");
    expect(body).toContain(`<dt>Application (client) id</dt><dd><code>${APP_ID}</code></dd>`);
    expect(body).toContain("<li>golden_images</li><li>silver_images</li>");
    expect(body).toContain(
      `<strong>Contributor</strong> on resource group <code>rg-apps</code> in subscription <code>${CONSUMER_SUB}</code>, so the app can create virtual machines there`,
    );
    expect(body).toContain("What the app will do");
    expect(body).toContain("Read the image versions of the galleries above that are shared with your tenant.");
    expect(body).toContain("Create virtual machines and their network interfaces in resource group <code>rg-apps</code>");
    expect(body).toContain("What the app will not do");
    expect(body).toContain("It has no access outside resource group <code>rg-apps</code>");
    expect(body).toContain("It reads no user data");
    expect(body).toContain("It does nothing until the role is granted");
    expect(body).toContain(`<time datetime="${EXPIRES_AT}">8 January 2026 at 09:00 UTC</time>`);
    expect(body).toContain(`<a class="button" href="${escapeHtml(CONSENT_URL)}" rel="noreferrer">`);
    expect(body).toContain("Microsoft's sign-in page at <code>https://login.microsoftonline.com</code>");
    // No script, no external resource of any kind.
    expect(body).not.toMatch(/<script|<img|<iframe|<link|<form|src=/i);
  });

  it("escapes every value it shows: a display name with <script> stays text", async () => {
    const { body } = await open(PENDING_REQUEST);
    expect(body).not.toContain("<script>");
    expect(body).not.toContain(DISPLAY_NAME);
    expect(body).toContain(`<strong>Contoso &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;Co&#39;</strong>`);
    expect(body).toContain(`&amp;scope=`);
    expect(body).not.toContain(`&scope=`);
  });

  it("escapes the settings and the consent link too", async () => {
    const { response, body } = await open(PENDING_REQUEST, {
      publisherName: `<b>Evil</b> "Pub"`,
      appName: `App </title><script>x()</script>`,
      consentUrlFor: () => `https://login.example/consent?a=1&b="><script>y()</script>`,
    });
    expect(response.status).toBe(200);
    expect(body).not.toMatch(/<script|<b>|"><|<\/title><script/);
    expect(body).toContain("&lt;b&gt;Evil&lt;/b&gt; &quot;Pub&quot;");
    expect(body).toContain("<title>Admin consent for App &lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;</title>");
    expect(body).toContain('href="https://login.example/consent?a=1&amp;b=&quot;&gt;&lt;script&gt;y()&lt;/script&gt;"');
  });

  it("answers one byte-identical, neutral 404 for every link that is not valid", async () => {
    const cases: [string, string, Partial<ConsentPageDeps>?][] = [
      ["not a GUID", HOSTILE],
      ["empty", ""],
      ["unknown request", UNKNOWN_REQUEST],
      ["request without a tenant", NO_TENANT_REQUEST],
      ["tenant not registered", UNREGISTERED_TENANT_REQUEST],
      ["tenant active, not consent-pending", ACTIVE_REQUEST],
      ["consent expired", EXPIRED_REQUEST],
      ["expired exactly now", PENDING_REQUEST, { now: () => Date.parse(EXPIRES_AT) }],
      ["an older request of a tenant that moved on", OLD_REQUEST],
      ["tenant without a consumer resource group", NO_CONSUMER_REQUEST],
      ["no consent link for the tenant", PENDING_REQUEST, { consentUrlFor: () => undefined }],
      ["a consent link that is not https", PENDING_REQUEST, { consentUrlFor: () => "javascript:alert(1)" }],
    ];
    const bodies = new Set<string>();
    for (const [what, requestId, overrides] of cases) {
      const { response, body, logged } = await open(requestId, overrides, { q: HOSTILE });
      expect(response.status, what).toBe(404);
      expectSecurityHeaders(response);
      expect(body, what).toContain(CONSENT_LINK_INVALID_TEXT);
      expect(body, what).not.toContain(MARKER);
      expect(body, what).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/i);
      expect(logged.map((l) => l.text).join("\n"), what).not.toContain(MARKER);
      bodies.add(body);
    }
    expect(bodies.size).toBe(1);
  });

  it("ignores query parameters: nothing of them appears in the page", async () => {
    const { response, body } = await open(PENDING_REQUEST, {}, { displayName: HOSTILE, state: HOSTILE, code: HOSTILE });
    expect(response.status).toBe(200);
    expect(body).not.toContain(MARKER);
  });

  it("answers a neutral 503 with Retry-After when the registry cannot be read, the reason logged only", async () => {
    const port = await closedPort();
    const unreachable = createRegistry({
      connection: {
        connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
      },
      tableName: "consentpages",
    });
    const { response, body, logged } = await open(PENDING_REQUEST, { registry: unreachable });
    expect(response.status).toBe(503);
    expectSecurityHeaders(response);
    expect(response.headers.get("retry-after")).toBe("30");
    expect(body).toContain(CONSENT_UNAVAILABLE_TEXT);
    expect(body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|devstoreaccount1/);
    expect(logged.some((l) => l.level === "warning" && l.text.includes(PENDING_REQUEST))).toBe(true);
  });
});

describe("GET /api/consent/callback", () => {
  const TENANT = PENDING;
  const INSTANCE = "onboard-0123456789abcdef";
  const STATE = "eyJ2IjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dQ";
  const GRANT = { admin_consent: "True", tenant: TENANT, scope: "https://management.azure.com/.default", state: STATE };
  const DENIAL = { error: "access_denied", error_description: "AADSTS65004: User declined to consent to access the app.", state: STATE };

  interface Raised {
    readonly instanceId: string;
    readonly eventName: string;
    readonly data: ConsentGrantedEvent | ConsentDeniedEvent;
  }

  /** The callback with plain functions for verify and raise; records what they were given. */
  function callback(
    verdict: (query: Readonly<Record<string, string | undefined>>) => ConsentVerification | Promise<ConsentVerification>,
    options: { raiseFails?: boolean } = {},
  ) {
    const verified: Readonly<Record<string, string | undefined>>[] = [];
    const raised: Raised[] = [];
    const handler = createConsentCallback({
      verify: async (query) => {
        verified.push(query);
        return verdict(query);
      },
      raise: async (instanceId, eventName, data) => {
        if (options.raiseFails) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7071"), { code: "ECONNREFUSED" });
        raised.push({ instanceId, eventName, data });
      },
      now: () => NOW,
    });
    const call = async (url: string, query?: Record<string, string>) => {
      const { context, logged } = invocation();
      const response = await handler(get(url, query ? { query } : {}), context);
      return { response, body: await response.text(), logged };
    };
    return { call, verified, raised };
  }

  const granted = (): ConsentVerification => ({ ok: true, instanceId: INSTANCE, tenantId: TENANT, requestId: PENDING_REQUEST, outcome: { kind: "granted" } });
  const denied = (q: Readonly<Record<string, string | undefined>>): ConsentVerification => ({
    ok: true,
    instanceId: INSTANCE,
    tenantId: TENANT,
    requestId: PENDING_REQUEST,
    outcome: { kind: "denied", error: q.error ?? "", ...(q.error_description === undefined ? {} : { description: q.error_description }) },
  });

  it("on a verified grant raises ConsentGranted { tenantId, at } and thanks the administrator", async () => {
    const { call, verified, raised } = callback(granted);
    const { response, body } = await call("/api/consent/callback", GRANT);
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(body).toContain(CONSENT_RECORDED_TEXT);
    expect(verified).toStrictEqual([
      { admin_consent: "True", tenant: TENANT, scope: GRANT.scope, state: STATE, error: undefined, error_description: undefined },
    ]);
    expect(raised).toStrictEqual([{ instanceId: INSTANCE, eventName: "ConsentGranted", data: { tenantId: TENANT, at: "2026-01-02T09:00:00.000Z" } }]);
  });

  it("on a verified denial raises ConsentDenied { tenantId, error, description } and says consent was not given", async () => {
    const { call, raised } = callback(denied);
    const { response, body } = await call("/api/consent/callback", DENIAL);
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(body).toContain(CONSENT_NOT_GIVEN_TEXT);
    expect(raised).toStrictEqual([
      {
        instanceId: INSTANCE,
        eventName: "ConsentDenied",
        data: { tenantId: TENANT, error: "access_denied", description: "AADSTS65004: User declined to consent to access the app." },
      },
    ]);
    const bare = callback(denied);
    await bare.call("/api/consent/callback", { error: "consent_required", state: STATE });
    expect(bare.raised[0]?.data).toStrictEqual({ tenantId: TENANT, error: "consent_required" });
  });

  it("raises for the tenant and instance verify vouches for, never the query's", async () => {
    const other = "5c2d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f";
    const { call, raised } = callback(() => ({
      ok: true,
      instanceId: "onboard-from-state",
      tenantId: other,
      requestId: PENDING_REQUEST,
      outcome: { kind: "granted" },
    }));
    await call("/api/consent/callback", GRANT);
    expect(raised).toStrictEqual([
      { instanceId: "onboard-from-state", eventName: "ConsentGranted", data: { tenantId: other, at: "2026-01-02T09:00:00.000Z" } },
    ]);
  });

  it("passes verify only the parameters the callback reads", async () => {
    const { call, verified } = callback(granted);
    await call("/api/consent/callback", { ...GRANT, code: "function-key", extra: HOSTILE });
    expect(Object.keys(verified[0] ?? {}).sort()).toEqual([...CONSENT_CALLBACK_PARAMETERS].sort());
  });

  it("answers one byte-identical, neutral 400 for everything invalid, without asking verify or raising", async () => {
    const cases: [string, string, Record<string, string>?][] = [
      ["no parameters", "/api/consent/callback"],
      ["no state", "/api/consent/callback", { admin_consent: "True", tenant: TENANT }],
      ["admin_consent not exactly True", "/api/consent/callback", { ...GRANT, admin_consent: "true" }],
      ["tenant not a GUID", "/api/consent/callback", { ...GRANT, tenant: "common" }],
      ["state with characters we never sign", "/api/consent/callback", { ...GRANT, state: HOSTILE }],
      ["oversize state", "/api/consent/callback", { ...GRANT, state: "A".repeat(5000) }],
      ["grant and error at once", "/api/consent/callback", { ...GRANT, error: "access_denied" }],
      ["empty error", "/api/consent/callback", { error: "", state: STATE }],
      ["every parameter hostile", "/api/consent/callback", Object.fromEntries([...CONSENT_CALLBACK_PARAMETERS, "extra"].map((p) => [p, HOSTILE]))],
      ["state given twice", `/api/consent/callback?admin_consent=True&tenant=${TENANT}&state=${STATE}&state=${STATE}`],
      ["tenant given twice", `/api/consent/callback?admin_consent=True&tenant=${TENANT}&tenant=${TENANT}&state=${STATE}`],
    ];
    const bodies = new Set<string>();
    for (const [what, url, query] of cases) {
      const { call, verified, raised } = callback(granted);
      const { response, body, logged } = await call(url, query);
      expect(response.status, what).toBe(400);
      expectSecurityHeaders(response);
      expect(body, what).toContain(CONSENT_ANSWER_INVALID_TEXT);
      expect(body, what).not.toContain(MARKER);
      expect(logged.map((l) => l.text).join("\n"), what).not.toContain(MARKER);
      expect(verified, what).toEqual([]);
      expect(raised, what).toEqual([]);
      bodies.add(body);
    }
    expect(bodies.size).toBe(1);
  });

  it("answers the same 400 when verify refuses the state (forged, expired, other tenant, used), raising nothing", async () => {
    const reference = await callback(granted).call("/api/consent/callback");
    for (const query of [GRANT, DENIAL]) {
      const { call, verified, raised } = callback(() => ({ ok: false }));
      const { response, body } = await call("/api/consent/callback", query);
      expect(response.status).toBe(400);
      expect(body).toBe(reference.body);
      expect(verified).toHaveLength(1);
      expect(raised).toEqual([]);
    }
    // verify answering another outcome than the callback's is refused too.
    const mismatch = callback(granted);
    const { response, body } = await mismatch.call("/api/consent/callback", DENIAL);
    expect(response.status).toBe(400);
    expect(body).toBe(reference.body);
    expect(mismatch.raised).toEqual([]);
  });

  it("never reflects the query: a marker in every parameter is absent from every page, accepted or not", async () => {
    const everywhere = Object.fromEntries([...CONSENT_CALLBACK_PARAMETERS, "extra", "code"].map((p) => [p, HOSTILE]));
    const scenarios: [string, ReturnType<typeof callback>, Record<string, string>][] = [
      [
        "grant with hostile scope and extras",
        callback(granted),
        {
          ...everywhere,
          admin_consent: "True",
          tenant: TENANT,
          state: STATE,
          error: undefined as unknown as string,
          error_description: undefined as unknown as string,
        },
      ],
      ["denial with hostile error and description", callback(denied), { ...everywhere, admin_consent: HOSTILE, tenant: HOSTILE, state: STATE }],
      ["refused by verify", callback(() => ({ ok: false })), { ...everywhere, admin_consent: HOSTILE, tenant: HOSTILE, state: STATE }],
      ["invalid", callback(granted), everywhere],
    ];
    for (const [what, cb, raw] of scenarios) {
      const query = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
      const { response, body } = await cb.call("/api/consent/callback", query);
      expect([200, 400], what).toContain(response.status);
      expect(body, what).not.toContain(MARKER);
      expect(body, what).not.toMatch(/<script/i);
    }
    // The denial's hostile error did reach the event (bounded, for the orchestration), not the page.
    expect(scenarios[1]?.[1].raised[0]?.eventName).toBe("ConsentDenied");
  });

  it("answers a neutral 503 when verify or raise fails, the reason logged only", async () => {
    const failingVerify = callback(() => {
      throw Object.assign(new Error("table down: AccountKey=secret"), { statusCode: 503 });
    });
    const a = await failingVerify.call("/api/consent/callback", GRANT);
    expect(a.response.status).toBe(503);
    expectSecurityHeaders(a.response);
    expect(a.body).toContain(CONSENT_NOT_RECORDED_TEXT);
    expect(a.body).not.toMatch(/table down|secret/);
    expect(failingVerify.raised).toEqual([]);
    expect(a.logged.some((l) => l.level === "error")).toBe(true);

    const failingRaise = callback(granted, { raiseFails: true });
    const b = await failingRaise.call("/api/consent/callback", GRANT);
    expect(b.response.status).toBe(503);
    expect(b.body).toBe(a.body);
    expect(b.body).not.toMatch(/ECONNREFUSED|7071/);
    expect(b.logged.some((l) => l.level === "error" && l.text.includes("ConsentGranted") && l.text.includes(INSTANCE))).toBe(true);
  });
});
