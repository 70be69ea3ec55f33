// The operator API and the dashboard behind App Service Authentication, as the local host plays it
// (OPERATOR_SIGN_IN=easyauth): without a sign-in every route answers 401 (the page: the sign-in
// redirect), a Reader reads and is refused every action (403), an Operator acts, and every action
// is recorded with who asked. A client cannot sign itself in by sending the principal header.
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, GALLERY_ID, versionWriteEvent, type World } from "../../local/fixtures/world";
import { encodeClientPrincipal } from "../../local/host/easyAuth";
import { publishInstanceId, versionKeyOf } from "../../src/domain/instanceIds";
import { consentLinksOf, followLikeBrowser, useWorlds } from "./support";

const worlds = useWorlds();

async function start(): Promise<World> {
  return worlds.start({ clock: new VirtualClock(Date.now()), settings: { OPERATOR_SIGN_IN: "easyauth" } });
}

/** Signs in with the host's development sign-in; returns the session cookie. */
async function signIn(w: World, user: string, roles: string[]): Promise<string> {
  const r = await fetch(`${w.host.baseUrl}/.auth/login/dev`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, roles }),
    redirect: "manual",
  });
  expect(r.status).toBe(302);
  const cookie = r.headers.get("set-cookie")?.split(";")[0];
  expect(cookie).toMatch(/^AppServiceAuthSession=/);
  return cookie ?? "";
}

const call = (w: World, method: string, path: string, cookie?: string, body?: unknown) =>
  fetch(`${w.host.baseUrl}${path}`, {
    method,
    redirect: "manual",
    headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const ACTIONS: ReadonlyArray<readonly [string, string, unknown?]> = [
  ["POST", "/api/ops/versions/0123456789abcdef0123456789abcdef/retry"],
  ["POST", "/api/ops/versions/0123456789abcdef0123456789abcdef/revoke", { reason: "bad" }],
  ["PUT", "/api/ops/tenants/1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41/ring", { ring: 0 }],
  ["POST", "/api/ops/reconcile"],
];
const READS = ["/api/ops/me", "/api/ops/overview", "/api/dashboard/app.js", "/api/dashboard/app.css"];

describe("operator sign-in and roles", () => {
  it("without a sign-in: 401 on every read and action, the page redirects to the sign-in; a forged principal header is ignored", async () => {
    const w = await start();
    for (const path of READS) expect((await call(w, "GET", path)).status, path).toBe(401);
    for (const [method, path, body] of ACTIONS) expect((await call(w, method, path, undefined, body)).status, path).toBe(401);
    const page = await call(w, "GET", "/api/dashboard");
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/.auth/login/aad?post_login_redirect_uri=/api/dashboard");
    const forged = encodeClientPrincipal({ name: "mallory", roles: ["GalleryShare.Operator"] });
    const spoofed = await fetch(`${w.host.baseUrl}/api/ops/reconcile`, {
      method: "POST",
      headers: { "x-ms-client-principal": forged, "x-ms-client-principal-name": "mallory" },
    });
    expect(spoofed.status).toBe(401);
    // The sign-in page is the development form.
    const form = await call(w, "GET", "/.auth/login/aad?post_login_redirect_uri=/api/dashboard");
    expect(await form.text()).toContain("Development sign-in");
  });

  it("a Reader sees the overview and the page and is refused every action (403, recorded); an Operator acts, recorded with the user", async () => {
    const w = await start();
    const id = w.publishVersion("1.0.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
    expect((await w.deliver([versionWriteEvent(id)])).status).toBe(202);
    await w.host.durable.waitFor(publishInstanceId(id), undefined, { maxSimulatedMs: 6 * 3600_000 });

    const reader = await signIn(w, "rita@contoso.example", ["GalleryShare.Reader"]);
    expect(await (await call(w, "GET", "/api/ops/me", reader)).json()).toEqual({ name: "rita@contoso.example", roles: ["GalleryShare.Reader"], canAct: false });
    const overview = await call(w, "GET", "/api/ops/overview", reader);
    expect(overview.status).toBe(200);
    const etag = overview.headers.get("etag") ?? "";
    const body = (await overview.json()) as { versions: { versionId: string; version: string; runtimeStatus: string }[] };
    expect(body.versions).toEqual([expect.objectContaining({ versionId: versionKeyOf(id), version: "1.0.0", runtimeStatus: "Completed" })]);
    // Unchanged: 304, nothing to redraw.
    expect((await fetch(`${w.host.baseUrl}/api/ops/overview`, { headers: { cookie: reader, "if-none-match": etag } })).status).toBe(304);
    const page = await call(w, "GET", "/api/dashboard", reader);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    for (const [method, path, body] of ACTIONS) {
      const refused = await call(w, method, path, reader, body);
      expect(refused.status, path).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("may look but not act");
    }

    const operator = await signIn(w, "olga@contoso.example", ["GalleryShare.Operator"]);
    const reconcile = await call(w, "POST", "/api/ops/reconcile", operator);
    expect(reconcile.status).toBe(202);
    const revoke = await call(w, "POST", `/api/ops/versions/${versionKeyOf(id)}/revoke`, operator, { reason: "test revocation" });
    expect(revoke.status).toBe(202);
    const view = (await (await fetch(`${w.host.baseUrl}/api/versions/${versionKeyOf(id)}`, { headers: { "x-functions-key": w.host.functionKey } })).json()) as {
      revocation: { by: string; reason: string };
    };
    expect(view.revocation).toMatchObject({ by: "olga@contoso.example", reason: "test revocation" });
    // A completed publish is not run again: the refusal is an answer, recorded too.
    expect((await call(w, "POST", `/api/ops/versions/${versionKeyOf(id)}/retry`, operator)).status).toBe(409);

    const actions = (await (await call(w, "GET", "/api/ops/overview", operator)).json()) as { actions: { by: string; action: string; status: number }[] };
    expect(actions.actions.map((a) => `${a.by} ${a.action} ${a.status}`)).toEqual([
      "olga@contoso.example retry publish 409",
      "olga@contoso.example revoke version 202",
      "olga@contoso.example reconcile now 202",
      "rita@contoso.example reconcile now 403",
      "rita@contoso.example change ring 403",
      "rita@contoso.example revoke version 403",
      "rita@contoso.example retry publish 403",
    ]);
  });

  it("an Operator onboards, offboards and sends a new consent link through the operator API, each a queued request recorded with the user", async () => {
    const w = await worlds.start({
      clock: new VirtualClock(Date.now()),
      settings: { OPERATOR_SIGN_IN: "easyauth", SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: "k".repeat(40) },
      consentedTenants: [],
    });
    const operator = await signIn(w, "olga@contoso.example", ["GalleryShare.Operator"]);
    const [fabrikam, northwind] = [CONSUMERS[0], CONSUMERS[1]];
    // Onboard (the request id is made), then wait for it.
    const onboarded = await call(w, "POST", "/api/ops/tenants/onboard", operator, {
      tenantId: fabrikam.tenantId,
      displayName: fabrikam.name,
      mode: "direct",
      galleries: [GALLERY_ID],
    });
    expect(onboarded.status).toBe(202);
    const { requestId } = (await onboarded.json()) as { requestId: string };
    await w.host.serviceBus.drain();
    await w.host.durable.waitFor(`onboard-${requestId}`, undefined, { maxSimulatedMs: 3600_000 });
    // A bad request names its fields.
    const bad = await call(w, "POST", "/api/ops/tenants/onboard", operator, { tenantId: "nope", displayName: "X", mode: "direct", galleries: [GALLERY_ID] });
    expect(bad.status).toBe(400);
    // Offboard it.
    const offboarded = await call(w, "POST", `/api/ops/tenants/${fabrikam.tenantId}/offboard`, operator);
    expect(offboarded.status).toBe(202);
    const off = (await offboarded.json()) as { requestId: string };
    await w.host.serviceBus.drain();
    await w.host.durable.waitFor(`offboard-${off.requestId}`, undefined, { maxSimulatedMs: 3600_000 });
    const tenant = (await (await call(w, "GET", `/api/ops/tenants/${fabrikam.tenantId}`, operator)).json()) as { tenant: { state: string } };
    expect(tenant.tenant.state).toBe("offboarded");
    // An rbac tenant whose administrator declined: a new consent link; a direct-mode tenant gets none.
    w.emulator.control.addResourceGroup(northwind.subscriptionId, "rg-apps", "westeurope");
    w.emulator.control.setConsentDecision(northwind.tenantId, "decline");
    const rbac = {
      tenantId: northwind.tenantId,
      displayName: northwind.name,
      mode: "rbac",
      galleries: [GALLERY_ID],
      consumer: { subscriptionId: northwind.subscriptionId, resourceGroup: "rg-apps", location: "westeurope" },
    };
    const first = (await (await call(w, "POST", "/api/ops/tenants/onboard", operator, rbac)).json()) as { requestId: string };
    await w.host.serviceBus.drain();
    const consent = await consentLinksOf(w, `onboard-${first.requestId}`);
    expect((await followLikeBrowser(consent.adminConsentUrl)).status).toBe(200);
    expect((await w.host.durable.waitFor(`onboard-${first.requestId}`)).output).toMatchObject({ state: "failed" });
    const again = await call(w, "POST", `/api/ops/tenants/${northwind.tenantId}/consent-link`, operator);
    expect(again.status).toBe(202);
    const second = (await again.json()) as { requestId: string };
    await w.host.serviceBus.drain();
    const link = await consentLinksOf(w, `onboard-${second.requestId}`);
    expect(link.adminConsentUrl).not.toBe(consent.adminConsentUrl);
    expect((await call(w, "POST", `/api/ops/tenants/${fabrikam.tenantId}/consent-link`, operator)).status).toBe(409);
    const actions = (await (await call(w, "GET", "/api/ops/overview", operator)).json()) as { actions: { action: string; status: number }[] };
    expect(actions.actions.map((a) => `${a.action} ${a.status}`)).toEqual([
      "new consent link 409",
      "new consent link 202",
      "onboard tenant 202",
      "offboard tenant 202",
      "onboard tenant 400",
      "onboard tenant 202",
    ]);
  });
});
