// Many onboardings at once, and what an rbac onboarding leaves behind.
import { TableClient } from "@azure/data-tables";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, GALLERY_ID, PUBLISHER } from "../../local/fixtures/world";
import { armLog, consentLinksOf, followLikeBrowser, isShareCall, sendRequests, timeOf, useWorlds } from "./support";

const worlds = useWorlds();
const guid = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("onboarding at scale", () => {
  it("lands 100 direct onboardings arriving within 3 minutes, within Compute's share budget and without a throttled share call", async () => {
    const galleries = Array.from({ length: 20 }, (_, i) => `bulk_${i}`);
    const ids = galleries.map((g) => GALLERY_ID.replace(PUBLISHER.gallery, g));
    const w = await worlds.start({ settings: { SHARE_TENANT_IDS: "", GALLERY_IDS: ids.join(",") } });
    const control = w.emulator.control;
    for (const [i, g] of galleries.entries()) {
      control.createGallery({
        subscriptionId: PUBLISHER.subscriptionId,
        resourceGroup: PUBLISHER.resourceGroup,
        gallery: g,
        location: PUBLISHER.location,
        permissions: "Groups",
      });
      for (const role of ["Reader", "Compute Gallery Sharing Admin"] as const)
        control.addRoleAssignment({ scope: ids[i]!, principalId: w.identity.objectId, role });
    }
    // 100 tenants, five per gallery (Azure's direct-sharing limit), sent in three bursts a minute apart.
    const tenants = Array.from({ length: 100 }, (_, n) => guid("12345678", n + 1));
    for (const t of tenants) control.addTenant(t);
    for (const burst of [0, 1, 2]) {
      const mine = tenants.map((t, n) => ({ t, n })).filter(({ n }) => n % 3 === burst);
      await sendRequests(
        w,
        mine.map(({ t, n }) => ({
          schema: "onboarding/v1",
          requestId: guid("87654321", n + 1),
          tenantId: t,
          displayName: `Bulk ${n + 1}`,
          mode: "direct",
          galleries: [ids[Math.floor(n / 5)]],
        })),
      );
      if (burst < 2) control.advance(60_000);
      await w.host.durable.runUntilIdle();
    }
    for (let n = 0; n < 100; n++) {
      const status = await w.host.durable.waitFor(`onboard-${guid("87654321", n + 1)}`, undefined, { maxSimulatedMs: 3 * 3600_000 });
      expect(status.output, `tenant ${n + 1}`).toMatchObject({ state: "active" });
    }
    const shares = armLog(w).filter(isShareCall);
    expect(
      shares.every((s) => s.status < 300),
      JSON.stringify(shares.filter((s) => s.status >= 300).map((s) => s.status)),
    ).toBe(true);
    expect(shares.length).toBeGreaterThanOrEqual(20);
    const times = shares.map(timeOf).sort((a, b) => a - b);
    const most = (windowMs: number): number => Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
    expect(most(180_000)).toBeLessThanOrEqual(10);
    expect(most(1_800_000)).toBeLessThanOrEqual(60);
    // Every gallery was given exactly its five tenants.
    const added = new Map<string, number>();
    for (const s of shares) {
      const gallery = /\/galleries\/([^/]+)\/share/.exec(s.url)?.[1] ?? "?";
      const ids = ((s.requestBody as { groups?: { ids: string[] }[] } | undefined)?.groups ?? []).flatMap((g) => g.ids);
      added.set(gallery, (added.get(gallery) ?? 0) + ids.length);
    }
    expect([...added.values()]).toEqual(galleries.map(() => 5));
  }, 240_000);

  it("leaves no secret, signing key or token in any log line, status, registry row or event of an rbac onboarding", async () => {
    const key = randomBytes(32).toString("base64");
    const lines: string[] = [];
    const w = await worlds.start({
      clock: new VirtualClock(Date.now()),
      consentedTenants: [],
      log: (line) => lines.push(line),
      settings: { SHARE_TENANT_IDS: "", CONSENT_STATE_KEY: key },
      publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
    });
    const consumer = CONSUMERS[2];
    const control = w.emulator.control;
    control.addResourceGroup(consumer.subscriptionId, "rg-apps", "westeurope");
    const requestId = guid("0badf00d", 1);
    await sendRequests(w, [
      {
        schema: "onboarding/v1",
        requestId,
        tenantId: consumer.tenantId,
        displayName: consumer.name,
        mode: "rbac",
        galleries: [GALLERY_ID],
        consumer: { subscriptionId: consumer.subscriptionId, resourceGroup: "rg-apps", location: "westeurope" },
      },
    ]);
    const { adminConsentUrl } = await consentLinksOf(w, `onboard-${requestId}`);
    expect((await followLikeBrowser(adminConsentUrl)).status).toBe(200);
    const sp = control.servicePrincipalId(PUBLISHER.appId, consumer.tenantId);
    control.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}/resourceGroups/rg-apps`, principalId: sp!, role: "Contributor" });
    expect((await w.host.durable.waitFor(`onboard-${requestId}`)).output).toMatchObject({ state: "active" });

    // Everything the onboarding left where people look.
    const table = TableClient.fromConnectionString(w.settings.AzureWebJobsStorage!, w.settings.REGISTRY_TABLE_NAME || "registry", {
      allowInsecureConnection: true,
    });
    const rows: unknown[] = [];
    for await (const e of table.listEntities()) rows.push(e);
    const statuses = w.host.durable.listInstances().map((i) => ({ custom: i.customStatus, output: i.output, input: i.input }));
    const events = control.receivedEvents();
    const haystack = JSON.stringify({ lines, rows, statuses, events });
    expect(rows.length).toBeGreaterThan(0);
    expect(lines.length).toBeGreaterThan(0);
    // The signing key (as given, and decoded), bearer tokens, the identity header, the broker and storage keys.
    const secrets = [
      key,
      Buffer.from(key, "base64").toString("hex"),
      w.settings.IDENTITY_HEADER,
      w.serviceBus.key,
      /AccountKey=([^;]+)/.exec(w.settings.AzureWebJobsStorage ?? "")?.[1],
    ];
    for (const secret of secrets.filter((s): s is string => typeof s === "string" && s.length > 0)) expect(haystack.includes(secret)).toBe(false);
    expect(haystack).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(haystack).not.toMatch(/Bearer [A-Za-z0-9]/);
  });
});
