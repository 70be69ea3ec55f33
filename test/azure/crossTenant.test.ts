// The app's credential provider and ARM clients, built by the composition root from the local
// world's settings, against the emulator: the publisher tenant through the managed identity, a
// consumer tenant through the multi-tenant app's federated credential, and the auxiliary header.
import { describe, expect, it } from "vitest";
import { CONSUMERS, PUBLISHER } from "../../local/fixtures/world";
import { createServices } from "../../src/services";
import { loadConfig } from "../../src/config";
import { useWorlds } from "../e2e/support";

const worlds = useWorlds();

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

describe("cross-tenant credentials from the composition root", () => {
  it("acts as the managed identity at home and as the multi-tenant app in a consumer tenant, with no secret", async () => {
    const w = await worlds.start();
    // The local host put the world's settings (IDENTITY_ENDPOINT, CROSS_TENANT_APP_ID, ...) in process.env.
    const services = createServices(loadConfig(process.env));
    const scope = `${w.emulator.armEndpoint}/.default`;

    const home = await services.credentials.publisher().getToken(scope);
    expect(claims(home!.token)).toMatchObject({ tid: PUBLISHER.tenantId, oid: w.identity.objectId });

    const consumer = CONSUMERS[0]!;
    const away = await services.credentials.crossTenant(consumer.tenantId).getToken(scope);
    expect(claims(away!.token)).toMatchObject({ tid: consumer.tenantId, appid: w.appId });
    // The exchange went through the identity endpoint (the assertion) and Entra's token endpoint.
    const log = w.emulator.control.requestLog();
    expect(log.some((x) => /\/msi\/token\?.*resource=api%3A%2F%2FAzureADTokenExchange/i.test(x.url))).toBe(true);
    expect(log.some((x) => x.url.includes(`/${consumer.tenantId}/oauth2/v2.0/token`) && x.status === 200)).toBe(true);
    expect(JSON.stringify(log)).not.toContain(away!.token);
  });

  it("sends x-ms-authorization-auxiliary on the very first ARM request of a client for a second tenant", async () => {
    const w = await worlds.start();
    const services = createServices(loadConfig(process.env));
    const consumer = CONSUMERS[1]!;
    const client = services.arm.compute(consumer.subscriptionId, { tenantId: consumer.tenantId, auxiliaryTenantIds: [PUBLISHER.tenantId] });
    expect(services.arm.compute(consumer.subscriptionId, { tenantId: consumer.tenantId, auxiliaryTenantIds: [PUBLISHER.tenantId.toUpperCase()] })).toBe(client);
    const before = w.emulator.control.requestLog().length;
    // The app holds no role in that subscription yet (onboarding grants it), so ARM refuses: what matters is what was sent.
    await expect(client.sharedGalleries.list("westeurope", { sharedTo: "tenant" }).next()).rejects.toThrow(/403/);
    const arm = w.emulator.control
      .requestLog()
      .slice(before)
      .filter((x) => x.url.includes("/providers/Microsoft.Compute/"));
    expect(arm.length).toBeGreaterThan(0);
    expect(Object.keys(arm[0]!.requestHeaders).map((h) => h.toLowerCase())).toContain("x-ms-authorization-auxiliary");
    expect(() => services.arm.compute(consumer.subscriptionId, { auxiliaryTenantIds: ["1", "2", "3", "4"] })).toThrow(/at most 3 auxiliary tenants/);
  });
});
