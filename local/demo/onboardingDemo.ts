// The onboarding part of `npm run demo`: three more consumer tenants onboarded through the app's own
// API (POST /api/onboarding -> the real ServiceBusSender -> the local broker -> the app's queue
// trigger -> onboardTenant), one per sharing mode; the rbac one goes through the consent page and
// Microsoft's admin-consent link as the customer's administrator would; then what the registry shows
// (GET /api/tenants[/{id}]), what a later version reaches, and the direct one offboarded again.
// Woodgrove (direct) and Adatum (rbac) also ask for a canary VM that follows each new version, and
// Adatum for a scale set too: the app builds them in the customers' own subscriptions.
//
// Everything here talks HTTP to the local Functions host (with its function key) or to the emulator
// as a customer would; the emulator's control API stands in only for what happens in the customers'
// own tenants (their directories, resource groups, the roles their administrators grant, the tokens
// their principals get). Every wait is bounded and every check throws DemoFailure naming what it saw.
//
// Times: the demo runs on a WallClock, which starts at the real time and runs DEMO_SPEED times faster,
// so simulated time is never behind the wall clock. The consent link's expiry is set in orchestration
// (simulated) time and the consent page and callback check it against the wall clock (Date.now): with
// CONSENT_EXPIRY_HOURS (168) ahead of a clock that is ahead of the wall clock, the link is valid.
import { randomBytes } from "node:crypto";
import type { World } from "../fixtures/world";
import { GALLERY_ID, PUBLISHER, imageVersionId } from "../fixtures/world";
// After ./world, which imports local/host: that installs what the app's modules need to load.
import { createServices } from "../../src/services";
import { loadConfig } from "../../src/config";
import type { OnboardTenantResult } from "../../src/orchestrations/onboardTenant";
import type { GrantBody, RequestBody, TenantBody, TenantListBody, WorkloadBody } from "../../src/functions/registryQueries";
import type { StatusBody } from "../../src/functions/getStatus";

/** A check of the demo failed: the message says which and what was seen. */
export class DemoFailure extends Error {
  override readonly name = "DemoFailure";
}

export type SharingMode = "direct" | "rbac" | "principal";

export interface NewTenant {
  readonly name: string;
  readonly mode: SharingMode;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** Where the consumer deploys (rbac: the resource group the app gets Contributor on). */
  readonly resourceGroup: string;
  readonly location: string;
  /** The onboarding request's id (a UUID; the same every run). */
  readonly requestId: string;
}

/** The tenants the demo onboards, one per mode; the direct one is offboarded at the end. */
export const NEW_TENANTS: readonly NewTenant[] = [
  {
    name: "Woodgrove",
    mode: "direct",
    tenantId: "4e7a0b3d-5f82-4b46-8b9d-3a6f1c4e5d44",
    subscriptionId: "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d54",
    resourceGroup: "rg-woodgrove-vms",
    location: "westeurope",
    requestId: "0a1b2c3d-0000-4000-8000-000000000001",
  },
  {
    name: "Adatum",
    mode: "rbac",
    tenantId: "5f8b1c4e-6a93-4c57-9cae-4b7a2d5f6e45",
    subscriptionId: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c55",
    resourceGroup: "rg-adatum-apps",
    location: "westeurope",
    requestId: "0a1b2c3d-0000-4000-8000-000000000002",
  },
  {
    name: "Litware",
    mode: "principal",
    tenantId: "6a9c2d5f-7ba4-4d68-8dbf-5c8b3e6a7f46",
    subscriptionId: "4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b56",
    resourceGroup: "rg-litware-vms",
    location: "westeurope",
    requestId: "0a1b2c3d-0000-4000-8000-000000000003",
  },
];
export const OFFBOARD_REQUEST_ID = "0a1b2c3d-0000-4000-8000-0000000000f1";
/** The B2B guest of the publisher tenant that principal mode gives Reader (a user object there, as the invitation creates). */
export const GUEST_OBJECT_ID = "0e1f2a3b-0000-4000-8000-00000000a001";
export const PUBLISHER_DISPLAY_NAME = "Contoso Images";
/** The customers' public SSH key for the VMs the app builds (a public key: not a secret). */
const SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk4sZ1Xb7Dd1t5p3F5m0lqXQ7rJ1v6y0QwY0b7kq9Xs ops@customer";
const subnetOf = (t: NewTenant): string =>
  `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`;

/** The image's `latest` is gated: a version becomes latest once its canaries moved and soaked (20 simulated minutes). */
const ROLLOUT_SETTINGS = { GATED_IMAGES: `${GALLERY_ID}/images/${PUBLISHER.image}`, ROLLOUT_SOAK_MINUTES: "20" };

/** World settings and roles onboarding needs: a key signing consent links, and the right to assign Reader (principal mode). */
export function onboardingWorldOptions(): {
  settings: { CONSENT_STATE_KEY: string; PUBLISHER_DISPLAY_NAME: string } & typeof ROLLOUT_SETTINGS;
  publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"];
} {
  return {
    settings: { CONSENT_STATE_KEY: randomBytes(32).toString("base64"), PUBLISHER_DISPLAY_NAME, ...ROLLOUT_SETTINGS },
    publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
  };
}

const byMode = (mode: SharingMode): NewTenant => {
  const t = NEW_TENANTS.find((x) => x.mode === mode);
  if (!t) throw new Error(`no demo tenant in ${mode} mode`);
  return t;
};
const pad = (s: string, n: number): string => s.padEnd(n);
const galleryName = (id: string): string => id.split("/").pop() ?? id;

/** The customers' side, before they ask: their tenants, subscriptions and resource groups; Woodgrove's
 *  admin consented to the app earlier and gave it Reader on Woodgrove's subscription (so the app can
 *  check the share from Woodgrove's side: listing shared galleries needs
 *  Microsoft.Compute/locations/sharedGalleries/read there); Litware's person is a guest in the
 *  publisher tenant. (Reader on the gallery for the app's own service principal, which rbac mode
 *  reads the images with, the app grants itself while onboarding Adatum.) */
export function seedNewTenants(world: World): void {
  const c = world.emulator.control;
  for (const t of NEW_TENANTS) {
    c.addTenant(t.tenantId, t.name);
    c.addSubscription(t.subscriptionId, t.tenantId);
    c.addResourceGroup(t.subscriptionId, t.resourceGroup, t.location);
    c.createVirtualNetwork({ subscriptionId: t.subscriptionId, resourceGroup: t.resourceGroup, name: "vnet-apps", location: t.location });
  }
  const direct = byMode("direct");
  const directSp = c.consent(PUBLISHER.appId, direct.tenantId).servicePrincipalId;
  c.addRoleAssignment({ scope: `/subscriptions/${direct.subscriptionId}`, principalId: directSp, role: "Reader" });
  // Woodgrove lets the app build its canary VM in its resource group.
  c.addRoleAssignment({ scope: `/subscriptions/${direct.subscriptionId}/resourceGroups/${direct.resourceGroup}`, principalId: directSp, role: "Contributor" });
  c.addUser({ tenantId: PUBLISHER.tenantId, objectId: GUEST_OBJECT_ID, displayName: "guest from Litware" });
}

// ---------------------------------------------------------------------------------------------
// HTTP to the app (function key) and bounded waits

export async function api<T>(world: World, method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${world.host.baseUrl}/api/${path}`, {
    method,
    headers: { "x-functions-key": world.host.functionKey, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 100 ms until it gives a value; after `limitMs` real ms, fails naming `what` and the last thing seen. */
async function until<T>(what: string, limitMs: number, probe: () => Promise<{ value?: T; seen: string }>): Promise<T> {
  const deadline = Date.now() + limitMs;
  let seen = "nothing";
  for (;;) {
    const r = await probe();
    if (r.value !== undefined) return r.value;
    seen = r.seen;
    if (Date.now() >= deadline) throw new DemoFailure(`gave up after ${Math.round(limitMs / 1000)} s waiting for ${what} (last seen: ${seen})`);
    await sleep(100);
  }
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new DemoFailure(message);
}

/** GET /api/status/{instanceId} until the orchestration ends (404 while the queue trigger has not started it yet). */
export async function finished(world: World, instanceId: string, limitMs: number): Promise<StatusBody> {
  return until(`orchestration ${instanceId} to finish`, limitMs, async () => {
    const r = await api<StatusBody>(world, "GET", `status/${instanceId}`);
    if (r.status === 404) return { seen: "not started yet (404)" };
    if (r.status !== 200) return { seen: `HTTP ${r.status}` };
    return ["Completed", "Failed", "Terminated"].includes(r.body.runtimeStatus)
      ? { value: r.body, seen: r.body.runtimeStatus }
      : { seen: r.body.runtimeStatus };
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Onboarding

function onboardingRequest(t: NewTenant): Record<string, unknown> {
  const base = { schema: "onboarding/v1", requestId: t.requestId, tenantId: t.tenantId, displayName: t.name, mode: t.mode, galleries: [GALLERY_ID] };
  const consumer = { subscriptionId: t.subscriptionId, resourceGroup: t.resourceGroup, location: t.location };
  if (t.mode === "principal") return { ...base, principal: { objectId: GUEST_OBJECT_ID, type: "User" } };
  // direct: shared with the whole tenant; `consumer` makes the app check the share from Woodgrove's side.
  // Both ask for a canary VM on the newest version; Adatum also for a scale set of two.
  const vm = {
    image: PUBLISHER.image,
    version: "latest",
    size: "Standard_B2s",
    subnetId: subnetOf(t),
    adminUsername: "azureuser",
    sshPublicKey: SSH_PUBLIC_KEY,
    updateOnPublish: true,
  };
  return {
    ...base,
    consumer,
    vm,
    // Woodgrove's VM is the canary: ring 0, moved to a new version first. Adatum's are in the last ring.
    ...(t.mode === "direct" ? { ring: 0 } : {}),
    ...(t.mode === "rbac" ? { vmss: { ...vm, size: "Standard_D2s_v5", instanceCount: 2, orchestrationMode: "Uniform", upgradePolicy: "Automatic" } } : {}),
  };
}

/** What a browser does with a link: GETs it and follows redirects, sending nothing it was not given. `onRedirect` sees each hop. */
async function followLikeBrowser(url: string, onRedirect: (from: string, to: string, status: number) => void): Promise<{ response: Response; url: string }> {
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(next, { redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return { response, url: next };
    const to = new URL(location, next).toString();
    onRedirect(next, to, response.status);
    next = to;
  }
  throw new DemoFailure(`more than 5 redirects following ${url}`);
}

interface ConsentStatus {
  readonly step?: string;
  readonly consent?: { readonly consentPageUrl: string; readonly adminConsentUrl: string; readonly expiresAt: string };
}

/** rbac: the customer's administrator opens the consent page, then Microsoft's admin-consent link, then grants the app Contributor. */
async function consentAsCustomer(world: World, t: NewTenant, say: (line: string) => void, limitMs: number): Promise<void> {
  const instanceId = `onboard-${t.requestId}`;
  const consent = await until(`${t.name}'s consent link in ${instanceId}'s custom status`, limitMs, async () => {
    const r = await api<StatusBody>(world, "GET", `status/${instanceId}`);
    if (r.status !== 200) return { seen: `HTTP ${r.status}` };
    if (["Completed", "Failed", "Terminated"].includes(r.body.runtimeStatus))
      throw new DemoFailure(`${instanceId} is ${r.body.runtimeStatus} before asking for consent: ${JSON.stringify(r.body.output)}`);
    const custom = r.body.customStatus as ConsentStatus | null;
    return custom?.consent ? { value: custom.consent, seen: "consent-pending" } : { seen: custom?.step ?? "no step" };
  });

  // The page, as the administrator opens it from the e-mail (anonymous).
  const page = await fetch(consent.consentPageUrl);
  const html = await page.text();
  check(page.status === 200, `the consent page ${consent.consentPageUrl} answered ${page.status}`);
  for (const expected of [PUBLISHER_DISPLAY_NAME, t.resourceGroup, PUBLISHER.appId, consent.adminConsentUrl.replace(/&/g, "&amp;")]) {
    check(html.includes(expected), `the consent page does not mention ${expected.length > 60 ? "the admin-consent link" : JSON.stringify(expected)}`);
  }
  say(
    `  ${pad(t.name, 10)} consent page ${new URL(consent.consentPageUrl).pathname}: ${page.status}, "${PUBLISHER_DISPLAY_NAME} asks for admin consent", Contributor on ${t.resourceGroup}, expires ${consent.expiresAt.slice(0, 16)}Z`,
  );

  const link = new URL(consent.adminConsentUrl);
  check(link.pathname === `/${t.tenantId}/v2.0/adminconsent`, `the admin-consent link goes to ${link.pathname}, not to ${t.name}'s v2.0 adminconsent endpoint`);
  check(
    link.searchParams.get("client_id") === PUBLISHER.appId,
    `the admin-consent link names client_id ${link.searchParams.get("client_id")}, not the app ${PUBLISHER.appId}`,
  );

  // The administrator accepts at Microsoft; Microsoft sends the browser back to the app's callback.
  // The app checks the role once, right after it hears of the consent, so the administrator grants
  // Contributor as soon as Microsoft has created the app's service principal in Adatum (when Microsoft
  // redirects back), before the browser lands on the callback page.
  let granted = false;
  const landed = await followLikeBrowser(consent.adminConsentUrl, (from, to, status) => {
    const back = new URL(to);
    say(
      `  ${pad(t.name, 10)} ${new URL(from).pathname}: ${status} -> ${back.pathname}${back.searchParams.has("admin_consent") ? ` (admin_consent=${back.searchParams.get("admin_consent")})` : back.searchParams.has("error") ? ` (error=${back.searchParams.get("error")})` : ""}`,
    );
    if (granted || back.origin !== new URL(world.host.baseUrl).origin) return;
    const sp = world.emulator.control.servicePrincipalId(PUBLISHER.appId, t.tenantId);
    if (!sp) return;
    world.emulator.control.addRoleAssignment({
      scope: `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}`,
      principalId: sp,
      role: "Contributor",
    });
    granted = true;
    say(`  ${pad(t.name, 10)} the administrator grants the app (service principal ${sp}) Contributor on ${t.resourceGroup}`);
  });
  const text = await landed.response.text();
  check(landed.response.status === 200, `the consent callback ${new URL(landed.url).pathname} answered ${landed.response.status}`);
  check(
    text.includes("consent recorded"),
    `the consent callback did not record the consent: ${text
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .slice(0, 200)}`,
  );
  check(granted, `Microsoft's admin consent did not create the app's service principal in ${t.name}`);
  say(`  ${pad(t.name, 10)} ${new URL(landed.url).pathname}: ${landed.response.status} "consent recorded"`);
}

/** Onboards every tenant of NEW_TENANTS through POST /api/onboarding; fails unless all end active. */
export async function onboardNewTenants(world: World, say: (line: string) => void, limitMs: number): Promise<Map<string, OnboardTenantResult>> {
  for (const t of NEW_TENANTS) {
    const r = await api<{ requestId?: string; statusUrl?: string; error?: unknown }>(world, "POST", "onboarding", onboardingRequest(t));
    check(r.status === 202, `POST /api/onboarding for ${t.name} answered ${r.status}: ${JSON.stringify(r.body)}`);
    say(`  ${pad(t.name, 10)} ${pad(t.mode, 9)} POST /api/onboarding: ${r.status}, follow ${r.body.statusUrl ?? "?"}`);
  }
  await consentAsCustomer(world, byMode("rbac"), say, limitMs);

  const results = new Map<string, OnboardTenantResult>();
  for (const t of NEW_TENANTS) {
    const status = await finished(world, `onboard-${t.requestId}`, limitMs);
    const output = status.output as OnboardTenantResult | null;
    const request = await api<RequestBody>(world, "GET", `requests/${t.requestId}`);
    const galleries = (output?.galleries ?? [])
      .map(
        (g) =>
          `${galleryName(g.galleryId)} ${g.result}${g.error ? ` (${g.error.code}: ${g.error.message})` : ""}${g.verification?.visible ? `, ${t.name} sees it in ${t.location}` : ""}`,
      )
      .join("; ");
    say(`  ${pad(t.name, 10)} onboardTenant ${status.runtimeStatus}: ${output?.state ?? "?"}, request ${request.body.state}; ${galleries}`);
    check(
      status.runtimeStatus === "Completed" && output?.state === "active" && request.body.state === "succeeded",
      `${t.name} (${t.mode}) was not onboarded: ${JSON.stringify(status.output)}`,
    );
    check(
      output.galleries.every((g) => g.result === "granted"),
      `${t.name} (${t.mode}): not every gallery was granted`,
    );
    if (t.mode === "direct")
      check(
        output.galleries.every((g) => g.verification?.visible === true),
        `${t.name} does not see the gallery from its own tenant: ${JSON.stringify(output.galleries)}`,
      );
    const expected = t.mode === "rbac" ? 2 : t.mode === "direct" ? 1 : 0;
    check(
      (output.workloads ?? []).length === expected && (output.workloads ?? []).every((w) => w.provisioningState === "Succeeded"),
      `${t.name} (${t.mode}): expected ${expected} VMs and scale sets built, got ${JSON.stringify(output.workloads ?? [])}`,
    );
    results.set(t.tenantId, output);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// 2. What the registry shows

function grantText(g: GrantBody): string {
  const gallery = galleryName(g.galleryId);
  if (g.kind === "tenant") return `${gallery} shared with the tenant`;
  if (g.kind === "subscription") return `${gallery} shared with subscription ${g.targetId}`;
  return `Reader on ${gallery} for ${g.targetId === GUEST_OBJECT_ID ? "the guest user" : "principal"} ${g.targetId}`;
}

function grantedText(t: TenantBody): string {
  if (t.grants.length > 0) return t.grants.map(grantText).join("; ");
  if (t.mode === "rbac" && t.consumer && t.state === "active")
    return `admin consent; the app holds Contributor on ${t.consumer.resourceGroup} (checked from ${t.displayName})`;
  return "no grants";
}

/** GET /api/tenants, then GET /api/tenants/{id} for each: one line per tenant; returns the detailed records. */
export async function showTenants(world: World, title: string, say: (line: string) => void): Promise<TenantBody[]> {
  const list = await api<TenantListBody>(world, "GET", "tenants");
  check(list.status === 200, `GET /api/tenants answered ${list.status}`);
  const tenants: TenantBody[] = [];
  for (const s of list.body.tenants) {
    const one = await api<TenantBody>(world, "GET", `tenants/${s.tenantId}`);
    check(one.status === 200, `GET /api/tenants/${s.tenantId} answered ${one.status}`);
    tenants.push(one.body);
  }
  const counts = new Map<string, number>();
  for (const t of tenants) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  say(`${title} (GET /api/tenants): ${[...counts].map(([state, n]) => `${n} ${state}`).join(", ") || "none"}`);
  for (const t of tenants) say(`  ${pad(t.displayName, 10)} ${pad(t.mode, 9)} ${pad(t.state, 10)} ${t.tenantId}  ${grantedText(t)}`);
  return tenants;
}

/** The VMs and scale sets the app built in the customers' tenants, with the image version each runs (GET /api/tenants/{id}). */
export function showWorkloads(
  tenants: readonly TenantBody[],
  title: string,
  say: (line: string) => void,
): { kind: "VM" | "scale set"; tenant: string; workload: WorkloadBody }[] {
  const all = tenants.flatMap((t) => [
    ...t.vms.map((w) => ({ kind: "VM" as const, tenant: t.displayName, workload: w })),
    ...t.scaleSets.map((w) => ({ kind: "scale set" as const, tenant: t.displayName, workload: w })),
  ]);
  const count = (kind: string, one: string, many: string): string => {
    const n = all.filter((x) => x.kind === kind).length;
    return `${n} ${n === 1 ? one : many}`;
  };
  say(`${title}: ${count("VM", "VM", "VMs")}, ${count("scale set", "scale set", "scale sets")}`);
  for (const { kind, tenant, workload: w } of all) {
    const shape = kind === "scale set" ? ` (${w.orchestrationMode}, ${w.instanceCount} instances, ${w.upgradePolicy} upgrades)` : "";
    const image = w.imageVersion
      .split("/")
      .slice(-3)
      .filter((_, i) => i !== 1)
      .join(" ");
    say(
      `  ${pad(tenant, 10)} ${pad(kind, 9)} ${pad(w.resourceId.split("/").pop() ?? "", 17)} ${image}  ${w.provisioningState}${w.error ? ` (${w.error.code}: ${w.error.message})` : ""}${shape}${w.updateOnPublish ? ", follows new versions" : ""}`,
    );
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// 3. A later version reaches them

/** GET on ARM with a token for `principal`, as that principal's own tooling would; returns the status. */
async function armGetAs(world: World, principal: { tenantId: string; appId?: string; objectId?: string }, path: string): Promise<number> {
  const token = world.emulator.control.issueToken({ ...principal, scope: "https://management.azure.com/.default" });
  const response = await fetch(`${world.settings.ARM_ENDPOINT}${path}${path.includes("?") ? "&" : "?"}api-version=2025-12-03`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response.status;
}

function sharedVersionPath(t: NewTenant, version: string): string {
  const unique = `${PUBLISHER.subscriptionId}-${PUBLISHER.gallery.toUpperCase()}`;
  return `/subscriptions/${t.subscriptionId}/providers/Microsoft.Compute/locations/${t.location}/sharedGalleries/${unique}/images/${PUBLISHER.image}/versions/${version}`;
}

/** Reads `version` as each onboarded tenant gets to it; fails unless each read is allowed. */
export async function checkReach(world: World, version: string, say: (line: string) => void): Promise<void> {
  const direct = byMode("direct");
  const rbac = byMode("rbac");
  const principal = byMode("principal");
  const reads: Array<[NewTenant, string, number]> = [
    [
      direct,
      `reads ${version} as itself (the app in ${direct.name}, sharedGalleries in ${direct.location})`,
      await armGetAs(world, { tenantId: direct.tenantId, appId: PUBLISHER.appId }, sharedVersionPath(direct, version)),
    ],
    [
      rbac,
      `the app reads ${version} for ${rbac.name} with its publisher-tenant token (what a VM create in ${rbac.resourceGroup} sends)`,
      await armGetAs(world, { tenantId: PUBLISHER.tenantId, appId: PUBLISHER.appId }, imageVersionId(version)),
    ],
    [
      principal,
      `the guest user reads ${version} (Reader on ${PUBLISHER.gallery})`,
      await armGetAs(world, { tenantId: PUBLISHER.tenantId, objectId: GUEST_OBJECT_ID }, imageVersionId(version)),
    ],
  ];
  for (const [t, what, status] of reads) {
    say(`  ${pad(t.name, 10)} ${pad(t.mode, 9)} ${what}: ${status}`);
    check(status === 200, `${t.name} (${t.mode}) cannot read ${version}: HTTP ${status}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Offboarding

/** The gallery's direct-sharing tenants, read with the app's own identity and the real SDK. */
async function sharedTenants(): Promise<string[]> {
  const compute = createServices(loadConfig(process.env)).arm.compute(PUBLISHER.subscriptionId);
  const gallery = await compute.galleries.get(PUBLISHER.resourceGroup, PUBLISHER.gallery, { expand: "SharingProfile/Groups" });
  return (gallery.sharingProfile?.groups ?? [])
    .filter((g) => g.type === "AADTenants")
    .flatMap((g) => g.ids ?? [])
    .map((x) => x.toLowerCase());
}

/** Offboards the direct-mode tenant through POST /api/offboarding and shows that its access is gone. */
export async function offboardDirectTenant(
  world: World,
  version: string,
  nameOfTenant: (id: string) => string,
  say: (line: string) => void,
  limitMs: number,
): Promise<void> {
  const t = byMode("direct");
  const before = await sharedTenants();
  check(before.includes(t.tenantId), `${PUBLISHER.gallery}'s sharing profile does not list ${t.name} before offboarding`);
  const posted = await api<{ statusUrl?: string }>(world, "POST", "offboarding", { requestId: OFFBOARD_REQUEST_ID, tenantId: t.tenantId });
  check(posted.status === 202, `POST /api/offboarding for ${t.name} answered ${posted.status}: ${JSON.stringify(posted.body)}`);
  say(`  ${pad(t.name, 10)} POST /api/offboarding: ${posted.status}, follow ${posted.body.statusUrl ?? "?"}`);
  const status = await finished(world, `offboard-${OFFBOARD_REQUEST_ID}`, limitMs);
  const output = status.output as { state?: string } | null;
  say(`  ${pad(t.name, 10)} offboardTenant ${status.runtimeStatus}: ${output?.state ?? "?"}`);
  check(status.runtimeStatus === "Completed" && output?.state === "offboarded", `${t.name} was not offboarded: ${JSON.stringify(status.output)}`);

  const record = await api<TenantBody>(world, "GET", `tenants/${t.tenantId}`);
  say(`  ${pad(t.name, 10)} GET /api/tenants/${t.tenantId}: ${record.body.state}, ${record.body.grants.length} grants`);
  check(
    record.body.state === "offboarded" && record.body.grants.length === 0,
    `${t.name}'s record is ${record.body.state} with ${record.body.grants.length} grants`,
  );

  const after = await sharedTenants();
  say(
    `  ${PUBLISHER.gallery} sharing profile (real SDK): tenants ${after.map(nameOfTenant).join(", ") || "none"}; ${after.includes(t.tenantId) ? `still lists ${t.name}` : `${t.name} no longer listed`}`,
  );
  check(!after.includes(t.tenantId), `${PUBLISHER.gallery}'s sharing profile still lists ${t.name} after offboarding`);
  check(
    before.filter((id) => id !== t.tenantId).every((id) => after.includes(id)),
    `offboarding ${t.name} removed other tenants from ${PUBLISHER.gallery}: before ${before.join(",")}, after ${after.join(",")}`,
  );

  const read = await armGetAs(world, { tenantId: t.tenantId, appId: PUBLISHER.appId }, sharedVersionPath(t, version));
  say(`  ${pad(t.name, 10)} reads ${version} as itself again: ${read}${read === 404 || read === 403 ? " (access gone)" : ""}`);
  check(read === 404 || read === 403, `${t.name} can still read ${version} after offboarding: HTTP ${read}`);
}
