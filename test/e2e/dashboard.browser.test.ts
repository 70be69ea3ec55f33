// The operator dashboard in a real browser: Debian's Chromium driven by playwright-core, against the
// app on the local host behind its App Service Authentication stand-in. Signs in as a Reader and as
// an Operator through the sign-in page, follows a failed onboarding from "Needs attention" to its
// request and orchestration, sees a retry refused as Reader and done as Operator, and checks that a
// tenant name full of markup is shown as text and never run. Screenshots go to a temporary folder
// (DASHBOARD_SCREENSHOTS=<dir> keeps them; the README's picture is one of them).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, GALLERY_ID, PUBLISHER, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";
import { sendRequests, useWorlds } from "./support";

const CHROMIUM = "/usr/bin/chromium";
// Chromium as the machine notes run it: no sandbox (root), and nothing that reaches for the network.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const EVIL = `<img src=x onerror="window.__pwned=1">Evil Corp`;
const EVIL_TENANT = CONSUMERS[2];

if (!existsSync(CHROMIUM)) {
  describe("dashboard in a browser", () => {
    it("cannot run here: no Chromium at /usr/bin/chromium (.ci/run installs Debian's chromium)", () => {
      console.warn(`the browser tests did not run: ${CHROMIUM} is missing; apt-get install chromium`);
      expect(process.env.CI).not.toBe("true");
    });
  });
} else {
  const worlds = useWorlds();
  let browser: Browser;
  let shots: string;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    shots = process.env.DASHBOARD_SCREENSHOTS ?? mkdtempSync(path.join(os.tmpdir(), "dashboard-shots-"));
    mkdirSync(shots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    if (!process.env.DASHBOARD_SCREENSHOTS && shots) rmSync(shots, { recursive: true, force: true });
  });

  /** A tenant onboarded with a canary VM (Fabrikam, ring 0), one whose onboarding failed (a name full of markup), a published and a failed version. */
  async function start(): Promise<{ w: World; failedVersion: string }> {
    const w = await worlds.start({ clock: new VirtualClock(Date.now()), settings: { SHARE_TENANT_IDS: "" } });
    // Fabrikam lets the app build a canary VM in its resource group.
    const fabrikam = CONSUMERS[0];
    const control = w.emulator.control;
    control.addResourceGroup(fabrikam.subscriptionId, "rg-apps", "westeurope");
    control.createVirtualNetwork({ subscriptionId: fabrikam.subscriptionId, resourceGroup: "rg-apps", name: "vnet-apps", location: "westeurope" });
    const sp = control.servicePrincipalId(PUBLISHER.appId, fabrikam.tenantId)!;
    control.addRoleAssignment({ scope: `/subscriptions/${fabrikam.subscriptionId}/resourceGroups/rg-apps`, principalId: sp, role: "Contributor" });
    control.addRoleAssignment({ scope: `/subscriptions/${fabrikam.subscriptionId}`, principalId: sp, role: "Reader" });
    const good = w.publishVersion("1.0.0", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 } });
    await w.deliver([versionWriteEvent(good)]);
    await w.host.durable.waitFor(publishInstanceId(good), undefined, { maxSimulatedMs: 6 * 3600_000 });
    await sendRequests(w, [
      {
        schema: "onboarding/v1",
        requestId: "7d7d7d7d-0000-4000-8000-000000000001",
        tenantId: CONSUMERS[0].tenantId,
        displayName: CONSUMERS[0].name,
        mode: "direct",
        galleries: [GALLERY_ID],
        consumer: { subscriptionId: fabrikam.subscriptionId, resourceGroup: "rg-apps", location: "westeurope" },
        vm: {
          image: PUBLISHER.image,
          version: "latest",
          size: "Standard_B2s",
          subnetId: `/subscriptions/${fabrikam.subscriptionId}/resourceGroups/rg-apps/providers/Microsoft.Network/virtualNetworks/vnet-apps/subnets/default`,
          adminUsername: "azureuser",
          sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk4sZ1Xb7Dd1t5p3F5m0lqXQ7rJ1v6y0QwY0b7kq9Xs ops@contoso",
          updateOnPublish: true,
        },
        ring: 0,
      },
      // Principal mode needs the right to assign Reader, which this world's app lacks: it fails.
      {
        schema: "onboarding/v1",
        requestId: "7d7d7d7d-0000-4000-8000-000000000002",
        tenantId: EVIL_TENANT.tenantId,
        displayName: EVIL,
        mode: "principal",
        principal: { objectId: "0e1f2a3b-0000-4000-8000-00000000b001", type: "User" },
        galleries: [GALLERY_ID],
      },
    ]);
    for (const n of [1, 2]) await w.host.durable.waitFor(`onboard-7d7d7d7d-0000-4000-8000-00000000000${n}`, undefined, { maxSimulatedMs: 3600_000 });
    const bad = w.publishVersion("1.0.1", { regionMinutes: { westeurope: 5, northeurope: 5, eastus: 5 }, failRegions: { eastus: "disk copy failed" } });
    await w.deliver([versionWriteEvent(bad)]);
    await w.host.durable.waitFor(publishInstanceId(bad), undefined, { maxSimulatedMs: 6 * 3600_000 });
    return { w, failedVersion: "1.0.1" };
  }

  async function signIn(page: Page, w: World, user: string, role: string): Promise<void> {
    await page.goto(`${w.host.baseUrl}/api/dashboard`);
    // No session: the page sends the browser to the sign-in, then back.
    await page.getByLabel("User").fill(user);
    await page.getByLabel(role).check();
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${w.host.baseUrl}/api/dashboard`);
    await expect.poll(() => page.locator("#who").textContent()).toContain(`Signed in as ${user}`);
  }

  describe("dashboard in a browser", () => {
    it("a Reader follows a failed onboarding to its request and orchestration and is refused a retry; markup in a name stays text; an Operator retries", async () => {
      const { w, failedVersion } = await start();
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      page.on("dialog", (dialog) => void dialog.accept());
      await signIn(page, w, "rita@contoso.example", "GalleryShare.Reader");
      await expect.poll(() => page.locator("#who").textContent()).toContain("read only");

      // Needs attention: the failed onboarding and the failed publish, each with what went wrong.
      const attention = page.locator("#attention");
      await expect.poll(() => attention.textContent()).toContain(`${EVIL}: onboarding failed`);
      await expect.poll(() => attention.textContent()).toContain(`ubuntu-2404-hardened ${failedVersion}: publish failed`);
      // Tenants with their canary and the version it runs; the versions.
      await expect.poll(() => page.locator("#tenants").textContent()).toMatch(/Fabrikam.*vm gs-[0-9a-f]{12} on 1\.0\.0 Succeeded \(latest\)/);
      expect(await page.locator("#versions").textContent()).toContain("ubuntu-2404-hardened 1.0.0Completed / done");
      // The name is shown as text: no element was made from it, no handler ran.
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.evaluate("window.__pwned")).toBeUndefined();
      await page.screenshot({ path: path.join(shots, "dashboard-reader.png"), fullPage: true });

      // From "Needs attention" to the request and the orchestration behind it.
      await attention.locator("li", { hasText: "onboarding failed" }).getByRole("button", { name: "Open" }).click();
      const details = page.locator("#details");
      await expect.poll(() => details.textContent()).toContain("Request 7d7d7d7d-0000-4000-8000-000000000002");
      expect(await details.textContent()).toContain("Orchestration onboard-7d7d7d7d-0000-4000-8000-000000000002");
      expect(await details.textContent()).toMatch(/onboardTenant: Completed/);
      expect(await details.locator("tbody tr").count()).toBeGreaterThan(3);
      expect(await details.textContent()).toContain("ExecutionStarted");
      expect(await details.textContent()).toMatch(/TaskCompleted\s*ensureGalleryReader/);
      await page.screenshot({ path: path.join(shots, "dashboard-drilldown.png"), fullPage: true });

      // A Reader's retry is refused.
      const row = page.locator("#versions tr", { hasText: `ubuntu-2404-hardened ${failedVersion}` });
      await row.getByRole("button", { name: "Retry publish" }).click();
      await expect.poll(() => page.locator("#message").textContent()).toMatch(/refused \(403\): .*may look but not act/);

      // An Operator's is done, and recorded with the user.
      await page.goto(`${w.host.baseUrl}/.auth/logout`);
      await signIn(page, w, "olga@contoso.example", "GalleryShare.Operator");
      await page
        .locator("#versions tr", { hasText: `ubuntu-2404-hardened ${failedVersion}` })
        .getByRole("button", { name: "Retry publish" })
        .click();
      await expect.poll(() => page.locator("#message").textContent()).toMatch(/done \(202\)/);
      await expect.poll(() => page.locator("#actions").textContent()).toContain("olga@contoso.example");
      expect(await page.locator("#actions").textContent()).toContain("rita@contoso.example");
      await page.screenshot({ path: path.join(shots, "dashboard-operator.png"), fullPage: true });
      await context.close();
    }, 120_000);
  });
}
