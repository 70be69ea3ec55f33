// rbac mode: the consumer's administrator consents to the multi-tenant app through the consent page
// and Microsoft's admin-consent link (the test follows both, as a browser would), then the app checks
// from the consumer tenant that it may create VMs in the resource group and can read the images.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CONSUMERS, GALLERY_ID, PUBLISHER, type World } from "../../local/fixtures/world";
import { VirtualClock } from "../../local/clock";
import { EventType } from "../../local/host/durable/history";
import { loadConfig } from "../../src/config";
import { createConsentState } from "../../src/domain/consentState";
import { createServices } from "../../src/services";
import { consentLinksOf, followLikeBrowser, sendRequests, useWorlds } from "./support";

const worlds = useWorlds();
const consumer = CONSUMERS[2];
const RG = "rg-tailspin-apps";
const RG_ID = `/subscriptions/${consumer.subscriptionId}/resourceGroups/${RG}`;
const KEY = randomBytes(32).toString("base64");
const requestId = (n: number) => `abcdef01-0000-4000-8000-${String(n).padStart(12, "0")}`;

async function start(): Promise<World> {
  const w = await worlds.start({
    // Functions read the wall clock, orchestrations the host's: start the virtual clock now, so the
    // consent link's expiry (set in orchestration time) means the same to the consent page.
    clock: new VirtualClock(Date.now()),
    // Tailspin has not consented to the app yet: its administrator will.
    consentedTenants: [CONSUMERS[0].tenantId, CONSUMERS[1].tenantId],
    // CROSS_TENANT_APP_NAME: in Azure, the app registration's display name (infra/app/entra.bicep).
    settings: { SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: KEY, PUBLISHER_DISPLAY_NAME: "Contoso Images", CROSS_TENANT_APP_NAME: "Contoso Image Sharing" },
    // As infra/app/gallery-rbac.bicep grants: the identity may assign Reader on the gallery.
    publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
  });
  w.emulator.control.addResourceGroup(consumer.subscriptionId, RG, "westeurope");
  w.publishVersion("1.0.0", { regionMinutes: { westeurope: 1, northeurope: 1, eastus: 1 } });
  return w;
}

const send = (w: World, body: Record<string, unknown>): Promise<void> => sendRequests(w, [body]);

const rbacRequest = (n: number) => ({
  schema: "onboarding/v1",
  requestId: requestId(n),
  tenantId: consumer.tenantId,
  displayName: consumer.name,
  mode: "rbac",
  galleries: [GALLERY_ID],
  consumer: { subscriptionId: consumer.subscriptionId, resourceGroup: RG, location: "westeurope" },
});

const consentOf = consentLinksOf;

/** Tailspin's rbac onboarding, through consent and the Contributor its administrator grants, to active. */
async function onboardTailspin(w: World, n: number): Promise<void> {
  await send(w, rbacRequest(n));
  const consent = await consentOf(w, `onboard-${requestId(n)}`);
  await follow(consent.adminConsentUrl);
  const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId)!;
  w.emulator.control.addRoleAssignment({ scope: RG_ID, principalId: sp, role: "Contributor" });
  expect((await w.host.durable.waitFor(`onboard-${requestId(n)}`)).output).toMatchObject({ state: "active" });
}

/** The role assignments at the gallery's scope, read with the app's own identity and the real SDK. */
async function assignmentsOf(galleryId: string): Promise<string[]> {
  const authorization = createServices(loadConfig(process.env)).arm.authorization(PUBLISHER.subscriptionId);
  const names: string[] = [];
  for await (const a of authorization.roleAssignments.listForScope(galleryId)) names.push(`${a.principalId}|${a.roleDefinitionId?.split("/").pop()}`);
  return names.sort();
}
const follow = (url: string): Promise<Response> => followLikeBrowser(url);

describe("rbac onboarding with admin consent", () => {
  it("goes through the consent page and Microsoft's link, then verifies from the consumer tenant", async () => {
    const w = await start();
    await send(w, rbacRequest(1));
    const instanceId = `onboard-${requestId(1)}`;
    const consent = await consentOf(w, instanceId);

    // The page says who asks for what, and links to Microsoft's v2.0 admin-consent endpoint.
    const page = await fetch(consent.consentPageUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Contoso Images");
    expect(html).toContain("<dt>App</dt><dd>Contoso Image Sharing</dd>");
    expect(html).toContain(RG);
    const link = new URL(consent.adminConsentUrl);
    expect(link.pathname).toBe(`/${consumer.tenantId}/v2.0/adminconsent`);
    expect(link.searchParams.get("scope")).toBe("https://management.azure.com/.default");
    expect(html).toContain(consent.adminConsentUrl.replace(/&/g, "&amp;"));
    expect((await w.host.durable.getStatus(instanceId))?.runtimeStatus).toBe("Running");
    expect((w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string }[]).map((e) => e.type)).toContain("GalleryShare.ConsentRequested");

    // The customer's administrator consents, then grants the app Contributor on the resource group.
    const landed = await follow(consent.adminConsentUrl);
    expect(landed.status).toBe(200);
    const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId);
    expect(sp).toBeDefined();
    w.emulator.control.addRoleAssignment({ scope: RG_ID, principalId: sp!, role: "Contributor" });

    const status = await w.host.durable.waitFor(instanceId);
    expect(status.output, JSON.stringify(status.output)).toMatchObject({
      state: "active",
      mode: "rbac",
      galleries: [{ galleryId: GALLERY_ID, result: "granted" }],
    });
    // The app's own service principal got Reader on the gallery (it reads the image when VMs are made).
    const homeSp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, PUBLISHER.tenantId);
    const assigned = w.emulator.control
      .requestLog()
      .filter((x) => x.method === "PUT" && x.url.includes("/roleAssignments/") && JSON.stringify(x.requestBody ?? {}).includes(homeSp ?? "?"));
    expect(assigned.map((x) => x.status)).toEqual([201]);
  });

  it("offboarding the last rbac tenant of a gallery takes the app's own Reader away again; another rbac tenant keeps it", async () => {
    const w = await start();
    const before = await assignmentsOf(GALLERY_ID);
    const homeSp = (): string => w.emulator.control.servicePrincipalId(PUBLISHER.appId, PUBLISHER.tenantId) ?? "?";
    await onboardTailspin(w, 1);
    expect(await assignmentsOf(GALLERY_ID)).toContain(`${homeSp()}|acdd72a7-3385-48ef-bd42-f606fba81ae7`);

    // Another rbac tenant on the same gallery (it consented long ago): Tailspin leaving keeps the Reader.
    const other = CONSUMERS[1];
    w.emulator.control.addResourceGroup(other.subscriptionId, "rg-fabrikam-apps", "westeurope");
    const otherSp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, other.tenantId)!;
    w.emulator.control.addRoleAssignment({
      scope: `/subscriptions/${other.subscriptionId}/resourceGroups/rg-fabrikam-apps`,
      principalId: otherSp,
      role: "Contributor",
    });
    await send(w, {
      ...rbacRequest(2),
      tenantId: other.tenantId,
      displayName: other.name,
      consumer: { subscriptionId: other.subscriptionId, resourceGroup: "rg-fabrikam-apps", location: "westeurope" },
    });
    const otherConsent = await consentOf(w, `onboard-${requestId(2)}`);
    await follow(otherConsent.adminConsentUrl);
    expect((await w.host.durable.waitFor(`onboard-${requestId(2)}`)).output).toMatchObject({ state: "active" });

    await send(w, { schema: "offboarding/v1", requestId: requestId(3), tenantId: consumer.tenantId });
    expect((await w.host.durable.waitFor(`offboard-${requestId(3)}`)).output).toMatchObject({ state: "offboarded" });
    expect(await assignmentsOf(GALLERY_ID)).toContain(`${homeSp()}|acdd72a7-3385-48ef-bd42-f606fba81ae7`);

    // The last one leaves: the gallery's role assignments are as they were before any rbac onboarding.
    await send(w, { schema: "offboarding/v1", requestId: requestId(4), tenantId: other.tenantId });
    expect((await w.host.durable.waitFor(`offboard-${requestId(4)}`)).output).toMatchObject({ state: "offboarded" });
    expect(await assignmentsOf(GALLERY_ID)).toEqual(before);
  });

  it("names exactly what is missing when the app holds no role on the resource group", async () => {
    const w = await start();
    await send(w, rbacRequest(2));
    const instanceId = `onboard-${requestId(2)}`;
    const consent = await consentOf(w, instanceId);
    expect((await follow(consent.adminConsentUrl)).status).toBe(200);
    const status = await w.host.durable.waitFor(instanceId);
    const output = status.output as { state: string; galleries: { error?: { code: string; message: string } }[] };
    expect(output.state).toBe("failed");
    expect(output.galleries[0]!.error).toMatchObject({ code: "MissingPermissions" });
    expect(output.galleries[0]!.error!.message).toContain("Microsoft.Compute/virtualMachines/write");
    expect(output.galleries[0]!.error!.message).toContain(RG_ID);
  });

  it("ends failed with Entra's error code when the administrator declines", async () => {
    const w = await start();
    w.emulator.control.setConsentDecision(consumer.tenantId, "decline");
    await send(w, rbacRequest(3));
    const instanceId = `onboard-${requestId(3)}`;
    const consent = await consentOf(w, instanceId);
    expect((await follow(consent.adminConsentUrl)).status).toBe(200);
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.output).toMatchObject({ state: "failed", galleries: [{ error: { code: "access_denied" } }] });
  });

  it("refuses a forged, replayed or other-tenant state, and a callback with nothing valid, with one neutral 400", async () => {
    const w = await start();
    await send(w, rbacRequest(4));
    const instanceId = `onboard-${requestId(4)}`;
    const consent = await consentOf(w, instanceId);
    const state = new URL(consent.adminConsentUrl).searchParams.get("state") ?? "";
    const callback = (q: Record<string, string>) => fetch(`${w.host.baseUrl}/api/consent/callback?${new URLSearchParams(q).toString()}`);
    const forged = `${state.split(".")[0]}.${Buffer.from("forged-signature-forged-signature").toString("base64url")}`;
    const other = await callback({ admin_consent: "True", tenant: CONSUMERS[0].tenantId, state });
    const bad = await callback({ admin_consent: "True", tenant: consumer.tenantId, state: forged });
    const nothing = await callback({ hello: "<script>x</script>" });
    for (const r of [other, bad, nothing]) expect(r.status).toBe(400);
    const bodies = await Promise.all([other, bad, nothing].map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).not.toContain("<script>x");
    // A state that expired (signed with the right key, for this instance and tenant, in the past): refused.
    const expired = await createConsentState({
      key: KEY,
      instanceId,
      requestId: requestId(4),
      tenantId: consumer.tenantId,
      nonce: "00000000-1111-4222-8333-444444444444",
      issuedAt: Date.now() - 7_200_000,
      expiresAt: Date.now() - 3_600_000,
    });
    expect((await callback({ admin_consent: "True", tenant: consumer.tenantId, state: expired })).status).toBe(400);
    // The real one works once; the same link again is refused.
    expect((await follow(consent.adminConsentUrl)).status).toBe(200);
    const replay = await callback({ admin_consent: "True", tenant: consumer.tenantId, state });
    expect(replay.status).toBe(400);
    await w.host.durable.waitFor(instanceId);
  });

  it("the genuine callback sent ten times at once is accepted once and raises ConsentGranted once", async () => {
    const w = await start();
    await send(w, rbacRequest(5));
    const instanceId = `onboard-${requestId(5)}`;
    const consent = await consentOf(w, instanceId);
    // Microsoft's endpoint answers with the redirect to our callback; the browser's follow-up is what is replayed.
    const landing = await fetch(consent.adminConsentUrl, { redirect: "manual" });
    const callbackUrl = landing.headers.get("location") ?? "";
    expect(callbackUrl).toContain("/api/consent/callback");
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(callbackUrl)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array.from({ length: 9 }, () => 400)]);
    const sp = w.emulator.control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId)!;
    w.emulator.control.addRoleAssignment({ scope: RG_ID, principalId: sp, role: "Contributor" });
    expect((await w.host.durable.waitFor(instanceId)).output).toMatchObject({ state: "active" });
    const raised = w.host.durable.history(instanceId).filter((e) => e.EventType === EventType.EventRaised && "Name" in e && e.Name === "ConsentGranted");
    expect(raised).toHaveLength(1);
  });

  it("refuses an offboarding while the tenant's onboarding waits for consent, naming the request it waits for", async () => {
    const w = await start();
    await send(w, rbacRequest(6));
    await consentOf(w, `onboard-${requestId(6)}`);
    const offboardingId = "0ffb0a2d-0000-4000-8000-000000000006";
    await send(w, { schema: "offboarding/v1", requestId: offboardingId, tenantId: consumer.tenantId });
    await w.host.durable.runUntilIdle();
    const response = await fetch(`${w.host.baseUrl}/api/requests/${offboardingId}`, { headers: { "x-functions-key": w.host.functionKey } });
    const body = (await response.json()) as { state: string; reason: string };
    expect(body.state).toBe("rejected");
    expect(body.reason).toContain(`busy with request ${requestId(6)} (consent-pending)`);
    expect(w.host.durable.listInstances().filter((i) => i.name === "offboardTenant")).toEqual([]);
    expect(w.host.durable.getStatus(`onboard-${requestId(6)}`)?.runtimeStatus).toBe("Running");
  });

  it("expires the consent after CONSENT_EXPIRY_HOURS, with reminders before", async () => {
    const w = await worlds.start({
      clock: new VirtualClock(Date.now()),
      consentedTenants: [],
      settings: { SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: randomBytes(32).toString("base64"), CONSENT_EXPIRY_HOURS: "72", CONSENT_REMINDER_HOURS: "24" },
    });
    w.emulator.control.addResourceGroup(consumer.subscriptionId, RG, "westeurope");
    await send(w, rbacRequest(5));
    const instanceId = `onboard-${requestId(5)}`;
    await consentOf(w, instanceId);
    const status = await w.host.durable.waitFor(instanceId);
    expect(status.output).toMatchObject({ state: "failed", galleries: [{ error: { code: "ConsentExpired" } }] });
    const types = (w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string }[]).map((e) => e.type);
    expect(
      types.filter((t) => t === "GalleryShare.ConsentReminder"),
      JSON.stringify((w.emulator.control.receivedEvents("gallery-share-outcomes") as { type: string; time: string }[]).map((e) => [e.type, e.time])),
    ).toHaveLength(2);
    expect(types).toContain("GalleryShare.ConsentExpired");
    const page = await fetch(`${w.host.baseUrl}/api/consent/${requestId(5)}`);
    expect(page.status).toBe(404);
  });
});
