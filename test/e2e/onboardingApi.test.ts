// POST /api/onboarding and /api/offboarding: validated, then sent with the real ServiceBusSender to
// the local broker. The queue's duplicate detection drops a request posted twice; a broker that
// cannot be reached is a 503 with Retry-After, never a 500 with a stack or a connection string.
import { describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, ONBOARDING_QUEUE, type World } from "../../local/fixtures/world";
import { useWorlds } from "./support";

const worlds = useWorlds();

const onboarding = (requestId: string) => ({
  schema: "onboarding/v1",
  requestId,
  tenantId: CONSUMERS[0].tenantId,
  displayName: CONSUMERS[0].name,
  mode: "direct",
  subscriptionIds: [CONSUMERS[0].subscriptionId],
  galleries: [GALLERY_ID],
});

function post(w: World, route: string, body: unknown, key: string | null = w.host.functionKey): Promise<Response> {
  return fetch(`${w.host.baseUrl}/api/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === null ? {} : { "x-functions-key": key }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("POST /api/onboarding and /api/offboarding", () => {
  it("queues a valid request once, even when it is posted twice", async () => {
    const w = await worlds.start();
    const requestId = "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7";
    const first = await post(w, "onboarding", onboarding(requestId));
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ requestId, schema: "onboarding/v1", statusUrl: `/api/requests/${requestId}` });
    expect(first.headers.get("location")).toBe(`/api/requests/${requestId}`);
    expect((await post(w, "onboarding", onboarding(requestId.toUpperCase()))).status).toBe(202);

    // The broker took the message once and dropped the repeat (duplicate detection on messageId = requestId).
    const sends = w.serviceBus.records().filter((r) => r.event === "send" && r.entity === ONBOARDING_QUEUE);
    expect(sends.map((r) => [r.messageId, r.duplicate])).toEqual([
      [requestId, false],
      [requestId, true],
    ]);
    expect(sends[0]!.body).toMatchObject({ requestId, tenantId: CONSUMERS[0].tenantId, galleries: [GALLERY_ID] });
    expect(w.serviceBus.queues.get(ONBOARDING_QUEUE)?.duplicatesDropped).toBe(1);
    // ... and the app's queue trigger started exactly one onboarding for it.
    await w.host.durable.runUntilIdle();
    expect(
      w.host.durable
        .listInstances()
        .filter((i) => i.name === "onboardTenant")
        .map((i) => i.instanceId),
    ).toEqual([`onboard-${requestId}`]);

    const off = await post(w, "offboarding", { requestId: "7a2d3b4c-5e6f-4a70-9b81-a3c4d5e6f708", tenantId: CONSUMERS[0].tenantId });
    expect(off.status).toBe(202);
    const schemas = w.serviceBus
      .records()
      .filter((r) => r.event === "send" && !r.duplicate)
      .map((r) => (r.body as { schema?: string }).schema);
    expect(schemas).toEqual(["onboarding/v1", "offboarding/v1"]);
  });

  it("refuses a repeated query parameter through the host, which joins its values (?state=active&state=failed, admin_consent twice)", async () => {
    const w = await worlds.start();
    const key = { "x-functions-key": w.host.functionKey };
    const listed = await fetch(`${w.host.baseUrl}/api/tenants?state=active&state=failed`, { headers: key });
    expect(listed.status).toBe(400);
    expect(((await listed.json()) as { error: { message: string } }).error.message).toMatch(/state may be given once/);
    expect((await fetch(`${w.host.baseUrl}/api/tenants?state=active`, { headers: key })).status).toBe(200);
    const callback = await fetch(`${w.host.baseUrl}/api/consent/callback?admin_consent=True&admin_consent=True&tenant=x&state=y`);
    expect(callback.status).toBe(400);
  });

  it("refuses hidden and control characters in the display name over HTTP, naming the field", async () => {
    const w = await worlds.start();
    for (const displayName of ["Fuzz\n[tenantRequests] information: FORGED", "Fab\u202Ekir", "\u200B\u200B"]) {
      const response = await post(w, "onboarding", { ...onboarding("5a1b2c3d-0000-4000-8000-000000000077"), displayName });
      expect(response.status, JSON.stringify(displayName)).toBe(400);
      const body = (await response.json()) as { error: { fields: { path: string; rule: string }[] } };
      expect(body.error.fields.map((f) => f.path)).toEqual(["displayName"]);
    }
  });

  it("answers 400 for a gallery the app does not manage, naming it", async () => {
    const w = await worlds.start();
    const other = GALLERY_ID.replace(/galleries\/[^/]+$/, "galleries/not_managed");
    const response = await post(w, "onboarding", { ...onboarding("5a1b2c3d-0000-4000-8000-000000000078"), galleries: [GALLERY_ID, other] });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { fields: { path: string; rule: string }[] } };
    expect(body.error.fields).toEqual([{ path: "galleries[1]", rule: "is not a gallery this app manages (GALLERY_IDS)" }]);
  });

  it("answers 400 naming every failing field, and queues nothing", async () => {
    const w = await worlds.start();
    const response = await post(w, "onboarding", { ...onboarding("not-a-uuid"), tenantId: "x", mode: "sideways", galleries: [], extra: 1 });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; fields: { path: string; rule: string }[] } };
    expect(body.error.code).toBe("InvalidRequest");
    expect(body.error.fields.map((f) => f.path).sort()).toEqual(["extra", "galleries", "mode", "requestId", "tenantId"]);
    expect(body.error.fields.find((f) => f.path === "extra")?.rule).toBe("is not a known field");

    expect((await post(w, "onboarding", "{not json")).status).toBe(400);
    const wrongSchema = await post(w, "offboarding", onboarding("6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7"));
    expect(wrongSchema.status).toBe(400);
    expect(JSON.stringify(await wrongSchema.json())).toContain('must be \\"offboarding/v1\\" on this endpoint');
    expect((await post(w, "onboarding", onboarding("6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7"), null)).status).toBe(401);
    expect((await post(w, "onboarding", "x".repeat(70_000))).status).toBe(413);
    expect(w.serviceBus.records().filter((r) => r.event === "send")).toEqual([]);
  });

  it("answers 503 with Retry-After when the broker cannot be reached, with nothing of the connection in it", async () => {
    const w = await worlds.start();
    await w.serviceBus.close();
    const response = await post(w, "onboarding", onboarding("8b3e4c5d-6f70-4b81-8c92-b4d5e6f70819"));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("10");
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "QueueUnavailable", message: expect.stringMatching(/cannot be reached/) } });
    expect(text).not.toContain(w.serviceBus.key);
    expect(text).not.toMatch(/Endpoint=|SharedAccessKey|at .*\.js|127\.0\.0\.1/);
  });
});
