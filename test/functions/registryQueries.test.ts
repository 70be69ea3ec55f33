// The registry query endpoints, called as the Functions host calls them (HttpRequest and
// InvocationContext from @azure/functions), against a real registry on real Azurite: shapes,
// sorting, the state filter, 400/404, a rejected request's fields, a corrupt row (500 naming the
// row and field, never its value) and an unreachable registry (503 with Retry-After, reason logged).
import { TableClient } from "@azure/data-tables";
import { HttpRequest, InvocationContext, type HttpResponse, type LogLevel } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURITE_KEY, freePort, startAzurite, type Azurite } from "../../local/azurite";
import { createRegistry, type Grant, type Registry, type RequestRecord, type TenantRecord } from "../../src/azure/registry";
import {
  REGISTRY_RETRY_AFTER_SECONDS,
  TENANT_STATE_FILTERS,
  createGetRequest,
  createGetTenant,
  createListTenants,
  type ErrorBody,
  type RequestBody,
  type TenantBody,
  type TenantListBody,
} from "../../src/functions/registryQueries";

const SUB = "11111111-2222-3333-4444-555555555555";
const GALLERY = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images`;
const GALLERY_2 = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/silver_images`;
const CONSUMER_SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const OTHER_SUB = "5c2d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f";
const PRINCIPAL = "6e7f8091-a2b3-4c4d-9e5f-60718293a4b5";

// Tenants chosen so the order exercises every rule: name case-insensitively, then exact name, then id.
const ADVENTURE = "d0d0d0d0-0000-4000-8000-000000000004";
const CONTOSO_LOW_ID = "0aaaaaaa-0000-4000-8000-000000000003";
const CONTOSO = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CONTOSO_LOWER_CASE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const FABRIKAM = "fabfabfa-0000-4000-8000-000000000005";

const REQUEST_ID = "3f2b8c1e-5d4a-4b7e-9f10-2a3b4c5d6e7f";
const REJECTED_ID = "9a0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";
const UNRECORDED_ID = "c0ffee00-1111-4222-8333-444455556666";
const ROLE_ASSIGNMENT = `/subscriptions/${CONSUMER_SUB}/providers/Microsoft.Authorization/roleAssignments/0d0e0f10-1112-4314-9516-171819202122`;

const T0 = "2026-01-01T09:00:00.000Z";
const T1 = "2026-01-01T09:05:00.000Z";

function tenant(tenantId: string, displayName: string, overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId,
    displayName,
    mode: "direct",
    galleries: [GALLERY],
    subscriptionIds: [],
    state: "requested",
    since: T0,
    lastRequestId: UNRECORDED_ID,
    history: [{ state: "requested", at: T0, requestId: UNRECORDED_ID }],
    ...overrides,
  };
}

/** The fully populated tenant: rbac, with consumer, principal, consent and two history entries. */
const contoso: TenantRecord = tenant(CONTOSO, "Contoso", {
  mode: "rbac",
  galleries: [GALLERY, GALLERY_2],
  subscriptionIds: [CONSUMER_SUB],
  consumer: { subscriptionId: CONSUMER_SUB, resourceGroup: "rg-apps", location: "westeurope" },
  principal: { objectId: PRINCIPAL, type: "ServicePrincipal" },
  consent: { url: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/adminconsent?client_id=app", expiresAt: "2026-01-08T09:00:00.000Z" },
  state: "active",
  since: T1,
  lastRequestId: REQUEST_ID,
  history: [
    { state: "consent-pending", at: T0, requestId: REQUEST_ID },
    { state: "active", at: T1, requestId: REQUEST_ID, reason: "consent granted" },
  ],
});

const tenants: TenantRecord[] = [
  tenant(FABRIKAM, "fabrikam", { state: "failed", reason: "AuthorizationFailed: missing action Microsoft.Compute/galleries/share/action" }),
  tenant(CONTOSO_LOWER_CASE, "contoso"),
  contoso,
  tenant(CONTOSO_LOW_ID, "Contoso", { state: "offboarded" }),
  tenant(ADVENTURE, "Adventure Works", { state: "active", subscriptionIds: [OTHER_SUB] }),
];

const grants: Grant[] = [
  { galleryId: GALLERY_2, kind: "tenant", targetId: CONTOSO, tenantId: CONTOSO, requestId: REQUEST_ID, at: T1 },
  { galleryId: GALLERY, kind: "subscription", targetId: CONSUMER_SUB, tenantId: CONTOSO, requestId: REQUEST_ID, at: T1 },
  { galleryId: GALLERY, kind: "roleAssignment", targetId: PRINCIPAL, tenantId: CONTOSO, requestId: REQUEST_ID, at: T1, roleAssignmentId: ROLE_ASSIGNMENT },
  // Another tenant's grant: never shown under Contoso.
  { galleryId: GALLERY, kind: "subscription", targetId: OTHER_SUB, tenantId: ADVENTURE, requestId: UNRECORDED_ID, at: T1 },
];

const succeeded: RequestRecord = {
  requestId: REQUEST_ID,
  schema: "onboarding/v1",
  tenantId: CONTOSO,
  state: "succeeded",
  receivedAt: T0,
  updatedAt: T1,
  instanceId: "onboard-0123456789abcdef",
  messageId: "sb-message-1",
};

const rejected: RequestRecord = {
  requestId: REJECTED_ID,
  schema: "onboarding/v1",
  state: "rejected",
  receivedAt: T0,
  updatedAt: T0,
  reason: "the request has invalid fields",
  fields: [
    { path: "tenantId", rule: "must be a GUID" },
    { path: "galleries[0]", rule: "must be a gallery resource id" },
    { path: "consumer", rule: 'is required when mode is "rbac"' },
  ],
  messageId: "sb-message-2",
};

interface Logged {
  readonly level: LogLevel;
  readonly text: string;
}

/** A context whose log lines are kept for the test instead of printed. */
function invocation(): { context: InvocationContext; logged: Logged[] } {
  const logged: Logged[] = [];
  const context = new InvocationContext({
    functionName: "registryQueries",
    logHandler: (level, ...args) => logged.push({ level, text: args.map(String).join(" ") }),
  });
  return { context, logged };
}

function get(path: string, init: { params?: Record<string, string>; query?: Record<string, string> } = {}): HttpRequest {
  // As the Functions host does: the URL carries the query string as sent, and the query map its values.
  const search = init.query ? `?${new URLSearchParams(init.query).toString()}` : "";
  return new HttpRequest({ url: `http://localhost:7071${path}${search}`, method: "GET", ...init });
}

async function bodyOf<T>(response: HttpResponse): Promise<T> {
  // The handlers build these bodies from the exported types; the test reads them back as such.
  return (await response.json()) as T;
}

/** A loopback port nothing listens on. */
const closedPort = freePort;

describe("registry query endpoints (Azurite)", () => {
  let azurite: Azurite;
  let registry: Registry;
  let tables = 0;
  const freshTable = (): { registry: Registry; raw: TableClient } => {
    const tableName = `queries${++tables}`;
    return {
      registry: createRegistry({ connection: { connectionString: azurite.connectionString }, tableName }),
      raw: TableClient.fromConnectionString(azurite.connectionString, tableName, { allowInsecureConnection: true }),
    };
  };

  beforeAll(async () => {
    azurite = await startAzurite();
    registry = freshTable().registry;
    for (const t of tenants) await registry.putTenant(t);
    for (const g of grants) await registry.recordGrant(g);
    await registry.recordRequest(succeeded);
    await registry.recordRequest(rejected);
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  describe("GET /api/tenants", () => {
    it("lists every tenant without history, sorted by displayName (case-insensitively), then tenantId", async () => {
      const response = await createListTenants(registry)(get("/api/tenants"), invocation().context);
      expect(response.status).toBe(200);
      const body = await bodyOf<TenantListBody>(response);
      expect(body.tenants.map((t) => [t.displayName, t.tenantId])).toEqual([
        ["Adventure Works", ADVENTURE],
        ["Contoso", CONTOSO_LOW_ID],
        ["Contoso", CONTOSO],
        ["contoso", CONTOSO_LOWER_CASE],
        ["fabrikam", FABRIKAM],
      ]);
      expect(body.tenants.find((t) => t.tenantId === CONTOSO)).toStrictEqual({
        tenantId: CONTOSO,
        displayName: "Contoso",
        mode: "rbac",
        state: "active",
        since: T1,
        galleries: [GALLERY, GALLERY_2],
        subscriptionIds: [CONSUMER_SUB],
        lastRequestId: REQUEST_ID,
      });
      expect(body.tenants.find((t) => t.tenantId === FABRIKAM)?.reason).toMatch(/^AuthorizationFailed/);
      for (const t of body.tenants) expect(Object.keys(t)).not.toEqual(expect.arrayContaining(["history"]));
    });

    it("filters by ?state=, ignoring other parameters such as the function key", async () => {
      const response = await createListTenants(registry)(get("/api/tenants", { query: { state: "active", code: "function-key" } }), invocation().context);
      expect(response.status).toBe(200);
      expect((await bodyOf<TenantListBody>(response)).tenants.map((t) => t.tenantId)).toEqual([ADVENTURE, CONTOSO]);

      const none = await createListTenants(registry)(get("/api/tenants", { query: { state: "consent-pending" } }), invocation().context);
      expect(await bodyOf<TenantListBody>(none)).toEqual({ tenants: [] });
    });

    it.each([["Active"], ["enabled"], [""]])("refuses state=%j with 400 naming the parameter and the allowed values", async (state) => {
      const response = await createListTenants(registry)(get("/api/tenants", { query: { state } }), invocation().context);
      expect(response.status).toBe(400);
      const { error } = await bodyOf<ErrorBody>(response);
      expect(error.code).toBe("InvalidQueryParameter");
      expect(error.parameter).toBe("state");
      expect(error.allowed).toEqual([...TENANT_STATE_FILTERS]);
      expect(error.message).toContain("state");
      for (const s of TENANT_STATE_FILTERS) expect(error.message).toContain(`"${s}"`);
    });

    it("refuses a repeated state parameter", async () => {
      const request = new HttpRequest({ url: "http://localhost:7071/api/tenants?state=active&state=failed", method: "GET" });
      const response = await createListTenants(registry)(request, invocation().context);
      expect(response.status).toBe(400);
      expect((await bodyOf<ErrorBody>(response)).error.message).toMatch(/state may be given once/);
    });
  });

  describe("GET /api/tenants/{tenantId}", () => {
    it("answers the whole record with the tenant's grants and its last request", async () => {
      // Upper case in the route: GUIDs compare case-insensitively.
      const response = await createGetTenant(registry)(
        get(`/api/tenants/${CONTOSO.toUpperCase()}`, { params: { tenantId: CONTOSO.toUpperCase() } }),
        invocation().context,
      );
      expect(response.status).toBe(200);
      const expected: TenantBody = {
        tenantId: CONTOSO,
        displayName: "Contoso",
        mode: "rbac",
        state: "active",
        since: T1,
        galleries: [GALLERY, GALLERY_2],
        subscriptionIds: [CONSUMER_SUB],
        lastRequestId: REQUEST_ID,
        consumer: { subscriptionId: CONSUMER_SUB, resourceGroup: "rg-apps", location: "westeurope" },
        principal: { objectId: PRINCIPAL, type: "ServicePrincipal" },
        consent: contoso.consent,
        history: contoso.history,
        vms: [],
        scaleSets: [],
        grants: [
          { galleryId: GALLERY, kind: "roleAssignment", targetId: PRINCIPAL, requestId: REQUEST_ID, at: T1, roleAssignmentId: ROLE_ASSIGNMENT },
          { galleryId: GALLERY, kind: "subscription", targetId: CONSUMER_SUB, requestId: REQUEST_ID, at: T1 },
          { galleryId: GALLERY_2, kind: "tenant", targetId: CONTOSO, requestId: REQUEST_ID, at: T1 },
        ],
        // The queue's message id is not part of the API.
        requests: [
          {
            requestId: REQUEST_ID,
            schema: "onboarding/v1",
            tenantId: CONTOSO,
            state: "succeeded",
            receivedAt: T0,
            updatedAt: T1,
            instanceId: "onboard-0123456789abcdef",
          },
        ],
      };
      expect(await bodyOf<TenantBody>(response)).toStrictEqual(expected);
    });

    it("shows no request when the last one is not recorded, and no consent, consumer or principal when absent", async () => {
      const response = await createGetTenant(registry)(get(`/api/tenants/${ADVENTURE}`, { params: { tenantId: ADVENTURE } }), invocation().context);
      expect(response.status).toBe(200);
      const body = await bodyOf<TenantBody>(response);
      expect(body.requests).toEqual([]);
      expect(body.grants).toEqual([{ galleryId: GALLERY, kind: "subscription", targetId: OTHER_SUB, requestId: UNRECORDED_ID, at: T1 }]);
      expect(Object.keys(body)).not.toEqual(expect.arrayContaining(["consent"]));
      expect(Object.keys(body)).not.toEqual(expect.arrayContaining(["consumer"]));
      expect(Object.keys(body)).not.toEqual(expect.arrayContaining(["principal"]));
    });

    it.each([["not-a-guid"], [""], [`${CONTOSO}x`]])("answers 400 InvalidTenantId for %j", async (tenantId) => {
      const response = await createGetTenant(registry)(get(`/api/tenants/${tenantId}`, { params: { tenantId } }), invocation().context);
      expect(response.status).toBe(400);
      expect((await bodyOf<ErrorBody>(response)).error.code).toBe("InvalidTenantId");
    });

    it("answers 404 TenantNotFound for an unknown tenant", async () => {
      const response = await createGetTenant(registry)(get(`/api/tenants/${UNRECORDED_ID}`, { params: { tenantId: UNRECORDED_ID } }), invocation().context);
      expect(response.status).toBe(404);
      const { error } = await bodyOf<ErrorBody>(response);
      expect(error.code).toBe("TenantNotFound");
      expect(error.message).toContain(UNRECORDED_ID);
    });
  });

  describe("GET /api/requests/{requestId}", () => {
    it("answers the request record without the message id", async () => {
      const response = await createGetRequest(registry)(get(`/api/requests/${REQUEST_ID}`, { params: { requestId: REQUEST_ID } }), invocation().context);
      expect(response.status).toBe(200);
      const { messageId: _messageId, ...expected } = succeeded;
      expect(await bodyOf<RequestBody>(response)).toStrictEqual(expected);
    });

    it("shows every failing field of a rejected request", async () => {
      const response = await createGetRequest(registry)(
        get(`/api/requests/${REJECTED_ID}`, { params: { requestId: REJECTED_ID.toUpperCase() } }),
        invocation().context,
      );
      expect(response.status).toBe(200);
      const body = await bodyOf<RequestBody>(response);
      expect(body).toStrictEqual({
        requestId: REJECTED_ID,
        schema: "onboarding/v1",
        state: "rejected",
        receivedAt: T0,
        updatedAt: T0,
        reason: "the request has invalid fields",
        fields: rejected.fields,
      });
      expect(body.fields).toHaveLength(3);
    });

    it("answers 400 InvalidRequestId for a malformed id", async () => {
      const response = await createGetRequest(registry)(get("/api/requests/123", { params: { requestId: "123" } }), invocation().context);
      expect(response.status).toBe(400);
      expect((await bodyOf<ErrorBody>(response)).error.code).toBe("InvalidRequestId");
    });

    it("answers 404 RequestNotFound, saying a new request may not be recorded yet", async () => {
      const response = await createGetRequest(registry)(get(`/api/requests/${UNRECORDED_ID}`, { params: { requestId: UNRECORDED_ID } }), invocation().context);
      expect(response.status).toBe(404);
      const { error } = await bodyOf<ErrorBody>(response);
      expect(error.code).toBe("RequestNotFound");
      expect(error.message).toContain("not known (yet)");
      expect(error.message).toContain(UNRECORDED_ID);
    });
  });

  describe("registry failures", () => {
    it("answers 500 RegistryCorrupt naming the row and field, never the stored value", async () => {
      const { registry: corrupted, raw } = freshTable();
      await corrupted.putTenant(tenant(ADVENTURE, "Adventure Works"));
      // One field that is not JSON, one that parses but breaks a rule: neither value may be echoed.
      const badValue = '["/subscriptions/sig=TOPSECRETVALUE';
      const badConsent = JSON.stringify({ url: "https://admin:TOPSECRETPASSWORD@login.example.com/consent", expiresAt: T1 });
      await raw.updateEntity({ partitionKey: "tenant", rowKey: ADVENTURE, galleries: badValue, consent: badConsent }, "Merge");

      for (const [handler, request] of [
        [createListTenants(corrupted), get("/api/tenants")],
        [createGetTenant(corrupted), get(`/api/tenants/${ADVENTURE}`, { params: { tenantId: ADVENTURE } })],
      ] as const) {
        const { context, logged } = invocation();
        const response = await handler(request, context);
        expect(response.status).toBe(500);
        const text = await response.text();
        expect(text).not.toContain("TOPSECRETVALUE");
        expect(text).not.toContain(badValue);
        expect(text).not.toContain("TOPSECRETPASSWORD");
        const { error } = JSON.parse(text) as ErrorBody;
        expect(error.code).toBe("RegistryCorrupt");
        expect(error.message).toContain(`tenant/${ADVENTURE}`);
        expect(error.message).toContain("galleries is not valid JSON");
        expect(error.message).toContain("consent.url must be an https URL");
        expect(logged.some((l) => l.level === "error" && l.text.includes(`tenant/${ADVENTURE}`))).toBe(true);
      }
    });

    it("answers 500 RegistryCorrupt for a request row that does not parse", async () => {
      const { registry: corrupted, raw } = freshTable();
      await corrupted.recordRequest(rejected);
      await raw.updateEntity({ partitionKey: "request", rowKey: REJECTED_ID, fields: "{TOPSECRETVALUE" }, "Merge");
      const response = await createGetRequest(corrupted)(get(`/api/requests/${REJECTED_ID}`, { params: { requestId: REJECTED_ID } }), invocation().context);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).not.toContain("TOPSECRETVALUE");
      expect((JSON.parse(text) as ErrorBody).error.message).toContain(`request/${REJECTED_ID}: fields is not valid JSON`);
    });

    it("answers 503 with Retry-After and a neutral message when the registry cannot be reached, logging the reason", async () => {
      const port = await closedPort();
      const connectionString = azurite.connectionString.replace(new URL(azurite.tableEndpoint).origin, `http://127.0.0.1:${port}`);
      const unreachable = createRegistry({ connection: { connectionString }, tableName: "unreachable" });

      for (const [name, handler, request] of [
        ["list tenants", createListTenants(unreachable), get("/api/tenants")],
        [`read tenant ${CONTOSO}`, createGetTenant(unreachable), get(`/api/tenants/${CONTOSO}`, { params: { tenantId: CONTOSO } })],
        [`read request ${REQUEST_ID}`, createGetRequest(unreachable), get(`/api/requests/${REQUEST_ID}`, { params: { requestId: REQUEST_ID } })],
      ] as const) {
        const { context, logged } = invocation();
        const response = await handler(request, context);
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).toBe(String(REGISTRY_RETRY_AFTER_SECONDS));
        const text = await response.text();
        expect(JSON.parse(text)).toEqual({ error: { code: "RegistryUnavailable", message: "the registry cannot be read right now; try again later" } });
        for (const leak of [AZURITE_KEY, "AccountKey", String(port), "ECONNREFUSED", "    at "]) expect(text).not.toContain(leak);
        const warnings = logged.filter((l) => l.level === "warning");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]?.text).toContain(`registry: ${name} failed: `);
        expect(warnings[0]?.text).not.toContain("\n");
      }
    });
  });
});
