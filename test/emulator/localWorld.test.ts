// The local world (local/fixtures/world.ts: demo, `npm run dev`, e2e tests) is secretless as in Azure:
// the app runs as a user-assigned managed identity through the platform's identity endpoint, and in
// consumer tenants as the multi-tenant app, whose federated credential trusts that identity.
import { ClientAssertionCredential, ManagedIdentityCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../local/azurite";
import { VirtualClock } from "../../local/clock";
import { CONSUMERS, PUBLISHER, startWorld, versionWriteEvent, type World } from "../../local/fixtures/world";
import { publishInstanceId } from "../../src/domain/instanceIds";

const ARM_SCOPE = "https://management.azure.com/.default";
let azurite: Azurite;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite.stop();
});

async function withWorld(options: Parameters<typeof startWorld>[0], body: (w: World) => Promise<void>): Promise<void> {
  const w = await startWorld({ clock: new VirtualClock(), seed: 7, emulator: { replication: { jitter: 0 } }, azurite, ...options });
  try {
    await body(w);
  } finally {
    await w.close();
  }
}

function crossTenant(w: World, tenantId: string): ClientAssertionCredential {
  const identity = new ManagedIdentityCredential({ clientId: w.identity.clientId });
  return new ClientAssertionCredential(tenantId, w.appId, async () => (await identity.getToken("api://AzureADTokenExchange/.default")).token, {
    authorityHost: w.emulator.authorityHost,
    disableInstanceDiscovery: true,
  });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

describe("the local world's identity", () => {
  it("shares a version as the managed identity, with no client secret anywhere, and reaches consumer tenants as the multi-tenant app", async () => {
    await withWorld({}, async (w) => {
      expect(w.settings).not.toHaveProperty("AZURE_CLIENT_SECRET");
      expect(w.settings).toMatchObject({
        AZURE_CLIENT_ID: w.identity.clientId,
        IDENTITY_ENDPOINT: w.emulator.identityEndpoint,
        IDENTITY_HEADER: w.emulator.identityHeader,
        CROSS_TENANT_APP_ID: PUBLISHER.appId,
      });
      expect(w.appId).toBe(PUBLISHER.appId);

      const versionId = w.publishVersion("1.0.0", { regionMinutes: { westeurope: 10, northeurope: 10, eastus: 10 } });
      expect((await w.deliver([versionWriteEvent(versionId)])).status).toBe(202);
      const status = await w.host.durable.waitFor(publishInstanceId(versionId), undefined, { maxSimulatedMs: 2 * 60 * 60_000 });
      expect(status.runtimeStatus, JSON.stringify(status.customStatus)).toBe("Completed");

      const log = w.emulator.control.requestLog();
      const identityCalls = log.filter((x) => x.url.includes("/msi/token"));
      expect(identityCalls.length).toBeGreaterThan(0);
      expect(identityCalls.every((x) => x.status === 200 && new URL(x.url).searchParams.get("client_id") === w.identity.clientId)).toBe(true);
      // Any token-endpoint call is a federated-credential exchange, never a secret.
      const tokenCalls = log.filter((x) => x.url.includes("/oauth2/v2.0/token"));
      expect(tokenCalls.filter((x) => String(x.requestBody).includes("client_secret"))).toEqual([]);

      const token = await crossTenant(w, CONSUMERS[0].tenantId).getToken(ARM_SCOPE);
      expect(claimsOf(token.token)).toMatchObject({
        tid: CONSUMERS[0].tenantId,
        appid: PUBLISHER.appId,
        azp: PUBLISHER.appId,
        oid: w.emulator.control.servicePrincipalId(PUBLISHER.appId, CONSUMERS[0].tenantId),
      });
    });
  });

  it("consentedTenants: a consumer that has not consented refuses the app with AADSTS700016", async () => {
    await withWorld({ consentedTenants: [CONSUMERS[1].tenantId] }, async (w) => {
      await expect(crossTenant(w, CONSUMERS[0].tenantId).getToken(ARM_SCOPE)).rejects.toThrow(
        /AADSTS700016: Application with identifier '3c9e2f71-5a8b-4d06-b1e4-7f2a9c0d5e21' was not found in the directory 'Fabrikam'/,
      );
      expect(claimsOf((await crossTenant(w, CONSUMERS[1].tenantId).getToken(ARM_SCOPE)).token)).toMatchObject({
        tid: CONSUMERS[1].tenantId,
        appid: PUBLISHER.appId,
      });
    });
  });
});
