// Secretless cross-tenant access with the real @azure/identity, no mocks: the app's user-assigned
// managed identity (App Service identity endpoint, IDENTITY_ENDPOINT / IDENTITY_HEADER) gets a token
// for api://AzureADTokenExchange, and that token is the client assertion of the multi-tenant app
// in a consumer tenant (its federated identity credential names the identity). Then every refusal,
// with the AADSTS code @azure/identity surfaces.
//
// msal-node (inside ManagedIdentityCredential) reads IDENTITY_ENDPOINT / IDENTITY_HEADER when the
// process's first managed-identity token is requested and keeps that source for the process, and it
// caches those tokens process-wide by client id: so this file sets the variables once, before any
// credential exists, to the endpoint every emulator in the process shares, and uses a distinct
// identity wherever a test needs a different token.
import { generateKeyPairSync, createSign } from "node:crypto";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ClientAssertionCredential, ManagedIdentityCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../local/emulator";
import { collect, credential, PUB, startWorld, type TestWorld } from "./helpers";

const EXCHANGE_SCOPE = "api://AzureADTokenExchange/.default";
const ARM_SCOPE = "https://management.azure.com/.default";
const ENV_NAMES = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"] as const;

let w: TestWorld;
let savedEnv: Record<(typeof ENV_NAMES)[number], string | undefined>;
/** The app's identity, trusted by the multi-tenant app PUB.appId through a federated credential. */
let identity: { clientId: string; objectId: string };
let consumer: ReturnType<TestWorld["consumer"]>;

beforeAll(async () => {
  savedEnv = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };
  w = await startWorld();
  process.env.IDENTITY_ENDPOINT = w.emu.identityEndpoint;
  process.env.IDENTITY_HEADER = w.emu.identityHeader;
  const c = w.emu.control;
  consumer = w.consumer(1);
  identity = c.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-gallery-share" });
  c.addFederatedCredential(PUB.appId, {
    name: "gallery-share-identity",
    issuer: issuer(PUB.tenantId),
    subject: identity.objectId,
    audiences: ["api://AzureADTokenExchange"],
  });
  c.consent(PUB.appId, consumer.tenantId);
});

afterAll(async () => {
  await w.emu.close();
  for (const name of ENV_NAMES) {
    const value = savedEnv[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function issuer(tenantId: string): string {
  return `${w.emu.authorityHost}/${tenantId}/v2.0`;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** The app's cross-tenant credential as the docs write it: the identity's exchange token is the assertion. */
function viaIdentity(tenantId: string, appId: string, identityClientId: string, assertionScope = EXCHANGE_SCOPE): ClientAssertionCredential {
  const managedIdentity = new ManagedIdentityCredential({ clientId: identityClientId });
  return withAssertion(tenantId, appId, async () => (await managedIdentity.getToken(assertionScope)).token);
}

function withAssertion(tenantId: string, appId: string, assertion: () => Promise<string>): ClientAssertionCredential {
  return new ClientAssertionCredential(tenantId, appId, assertion, { authorityHost: w.emu.authorityHost, disableInstanceDiscovery: true });
}

/** A multi-tenant app (home: the publisher tenant) trusting the app's identity, consented where asked. */
function trustingApp(
  appId: string,
  options: { multiTenant?: boolean; consentIn?: string[]; fic?: { issuer?: string; subject?: string; propagationDelayMs?: number } } = {},
): string {
  const c = w.emu.control;
  c.addApp({ appId, homeTenantId: PUB.tenantId, multiTenant: options.multiTenant ?? true, displayName: `app-${appId.slice(-4)}` });
  if (options.fic) {
    c.addFederatedCredential(appId, {
      issuer: options.fic.issuer ?? issuer(PUB.tenantId),
      subject: options.fic.subject ?? identity.objectId,
      ...(options.fic.propagationDelayMs !== undefined ? { propagationDelayMs: options.fic.propagationDelayMs } : {}),
    });
  }
  for (const tenantId of options.consentIn ?? []) c.consent(appId, tenantId);
  return appId;
}

describe("managed identity endpoint (App Service protocol 2019-08-01)", () => {
  it("ManagedIdentityCredential({ clientId }) gets the identity's token through IDENTITY_ENDPOINT with X-IDENTITY-HEADER", async () => {
    w.emu.control.clearRequestLog();
    const token = await new ManagedIdentityCredential({ clientId: identity.clientId }).getToken(ARM_SCOPE);
    expect(claimsOf(token.token)).toMatchObject({
      tid: PUB.tenantId,
      oid: identity.objectId,
      appid: identity.clientId,
      aud: "https://management.azure.com",
      iss: issuer(PUB.tenantId),
    });
    const call = w.emu.control.requestLog().find((x) => x.url.includes("/msi/token"));
    expect(call?.status).toBe(200);
    const query = new URL(call?.url ?? "https://x").searchParams;
    expect(Object.fromEntries(query)).toMatchObject({ "api-version": "2019-08-01", client_id: identity.clientId, resource: "https://management.azure.com" });
    expect(call?.requestHeaders["x-identity-header"]).toBe("REDACTED");
  });

  it("refuses a missing or wrong X-IDENTITY-HEADER with 401", async () => {
    const url = `${w.emu.identityEndpoint}?resource=${encodeURIComponent("https://management.azure.com")}&api-version=2019-08-01&client_id=${identity.clientId}`;
    const attempts: Record<string, string>[] = [{}, { "x-identity-header": "not-the-header" }];
    for (const headers of attempts) {
      const res = await fetch(url, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ statusCode: 401, message: expect.stringMatching(/X-IDENTITY-HEADER/) });
    }
  });

  it("refuses an unknown client_id with App Service's 400 'Unable to load the proper Managed Identity.'", async () => {
    const unknown = "f0000000-0000-4000-8000-0000000000ff";
    const res = await fetch(`${w.emu.identityEndpoint}?resource=https%3A%2F%2Fmanagement.azure.com&api-version=2019-08-01&client_id=${unknown}`, {
      headers: { "x-identity-header": w.emu.identityHeader },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      statusCode: 400,
      message: "Unable to load the proper Managed Identity.",
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    await expect(new ManagedIdentityCredential({ clientId: unknown }).getToken(ARM_SCOPE)).rejects.toThrow(/Unable to load the proper Managed Identity/);
  });

  it("serves every emulator of the process through one IDENTITY_ENDPOINT (msal-node keeps the first one it read)", async () => {
    const second = await startEmulator();
    try {
      expect(second.identityEndpoint).toBe(w.emu.identityEndpoint);
      expect(second.identityHeader).toBe(w.emu.identityHeader);
      second.control.addTenant(PUB.tenantId);
      const other = second.control.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-in-second-emulator" });
      const token = await new ManagedIdentityCredential({ clientId: other.clientId }).getToken(ARM_SCOPE);
      expect(claimsOf(token.token)).toMatchObject({ iss: `${second.authorityHost}/${PUB.tenantId}/v2.0`, oid: other.objectId });
      expect(second.control.requestLog().some((x) => x.url.includes("/msi/token") && x.status === 200)).toBe(true);
    } finally {
      await second.close();
    }
  });
});

describe("federated identity credential: the identity's token as the multi-tenant app's client assertion", () => {
  it("ClientAssertionCredential + ManagedIdentityCredential: a consumer-tenant token of the app that ARM accepts", async () => {
    const c = w.emu.control;
    const token = await viaIdentity(consumer.tenantId, PUB.appId, identity.clientId).getToken(ARM_SCOPE);
    const sp = c.servicePrincipalId(PUB.appId, consumer.tenantId);
    expect(claimsOf(token.token)).toMatchObject({
      tid: consumer.tenantId,
      appid: PUB.appId,
      azp: PUB.appId,
      oid: sp,
      iss: issuer(consumer.tenantId),
      aud: "https://management.azure.com/",
    });
    // The exchange token itself: the identity's, for the token-exchange audience.
    const assertion = await new ManagedIdentityCredential({ clientId: identity.clientId }).getToken(EXCHANGE_SCOPE);
    expect(claimsOf(assertion.token)).toMatchObject({ iss: issuer(PUB.tenantId), sub: identity.objectId, aud: "api://AzureADTokenExchange" });
    c.addRoleAssignment({ scope: `/subscriptions/${consumer.subscriptionId}`, principalId: sp ?? "", role: "Reader" });
    const compute = new ComputeManagementClient(viaIdentity(consumer.tenantId, PUB.appId, identity.clientId), consumer.subscriptionId, {
      endpoint: w.emu.armEndpoint,
    });
    expect(await collect(compute.galleries.list())).toEqual([]);
  });

  it("works in the app's home tenant too", async () => {
    const token = await viaIdentity(PUB.tenantId, PUB.appId, identity.clientId).getToken(ARM_SCOPE);
    expect(claimsOf(token.token)).toMatchObject({ tid: PUB.tenantId, appid: PUB.appId, oid: w.publisherSp });
  });

  it("another identity (wrong subject): AADSTS700213", async () => {
    const other = w.emu.control.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-not-trusted" });
    await expect(viaIdentity(consumer.tenantId, PUB.appId, other.clientId).getToken(ARM_SCOPE)).rejects.toThrow(
      new RegExp(`AADSTS700213: No matching federated identity record found for presented assertion subject '${other.objectId}'\\.`),
    );
  });

  it("the subject is compared case-sensitively: AADSTS7002138 when only the case differs", async () => {
    const c = w.emu.control;
    const shouty = c.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-case" });
    c.addFederatedCredential(PUB.appId, { issuer: issuer(PUB.tenantId), subject: shouty.objectId.toUpperCase() });
    await expect(viaIdentity(consumer.tenantId, PUB.appId, shouty.clientId).getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS7002138: .*matches with case-insensitive comparison, but not with case-sensitive comparison/,
    );
  });

  it("a token for another audience than api://AzureADTokenExchange: AADSTS7002121", async () => {
    await expect(viaIdentity(consumer.tenantId, PUB.appId, identity.clientId, ARM_SCOPE).getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS7002121: No matching federated identity record found for presented assertion audience 'https:\/\/management\.azure\.com'\./,
    );
  });

  it("a credential naming another issuer: AADSTS700211", async () => {
    const appId = trustingApp("e0000000-0000-4000-8000-0000000000a1", {
      consentIn: [consumer.tenantId],
      fic: { issuer: `https://login.microsoftonline.com/${PUB.tenantId}/v2.0` },
    });
    await expect(viaIdentity(consumer.tenantId, appId, identity.clientId).getToken(ARM_SCOPE)).rejects.toThrow(
      new RegExp(`AADSTS700211: No matching federated identity record found for presented assertion issuer '${issuer(PUB.tenantId).replace(/[.]/g, "\\.")}'`),
    );
  });

  it("a single-tenant app in another tenant: AADSTS700016 (its home tenant still works)", async () => {
    const appId = trustingApp("e0000000-0000-4000-8000-0000000000a2", { multiTenant: false, fic: {} });
    await expect(viaIdentity(consumer.tenantId, appId, identity.clientId).getToken(ARM_SCOPE)).rejects.toThrow(
      new RegExp(`AADSTS700016: Application with identifier '${appId}' was not found in the directory 'Consumer 1'`),
    );
    const home = await viaIdentity(PUB.tenantId, appId, identity.clientId).getToken(ARM_SCOPE);
    expect(claimsOf(home.token)).toMatchObject({ tid: PUB.tenantId, appid: appId });
  });

  it("a multi-tenant app not consented (no service principal) in the consumer tenant: AADSTS700016 until admin consent", async () => {
    const appId = trustingApp("e0000000-0000-4000-8000-0000000000a3", { fic: {} });
    const cred = viaIdentity(consumer.tenantId, appId, identity.clientId);
    await expect(cred.getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS700016: .*has not been installed by the administrator of the tenant or consented to by any user in the tenant/,
    );
    w.emu.control.consent(appId, consumer.tenantId);
    expect(claimsOf((await cred.getToken(ARM_SCOPE)).token)).toMatchObject({ tid: consumer.tenantId, appid: appId });
  });

  it("an unknown app id: AADSTS700016", async () => {
    await expect(viaIdentity(consumer.tenantId, "e0000000-0000-4000-8000-0000000000a4", identity.clientId).getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS700016: Application with identifier 'e0000000-0000-4000-8000-0000000000a4' was not found/,
    );
  });

  it("a credential still propagating: AADSTS70021 (retry), then accepted", async () => {
    const appId = trustingApp("e0000000-0000-4000-8000-0000000000a5", { consentIn: [consumer.tenantId], fic: { propagationDelayMs: 60_000 } });
    const cred = viaIdentity(consumer.tenantId, appId, identity.clientId);
    await expect(cred.getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS70021: No matching federated identity record found for presented assertion\. Assertion Issuer: '.*'\. Assertion Subject: '.*'\. Assertion Audience: 'api:\/\/AzureADTokenExchange'\./,
    );
    w.clock.advance(60_000);
    expect(claimsOf((await cred.getToken(ARM_SCOPE)).token)).toMatchObject({ tid: consumer.tenantId, appid: appId });
  });

  it("only managed identities' tokens may be Entra-issued assertions (AADSTS700226), and only from the app's tenant (AADSTS700236)", async () => {
    const c = w.emu.control;
    const appToken = await credential(w.emu, PUB.tenantId, PUB.appId, PUB.secret).getToken(EXCHANGE_SCOPE);
    await expect(withAssertion(consumer.tenantId, PUB.appId, () => Promise.resolve(appToken.token)).getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS700226: Only MSI tokens may be used as Federated Identity Credentials for AAD issuer\./,
    );
    const elsewhere = w.consumer(2);
    const foreign = c.addManagedIdentity({ tenantId: elsewhere.tenantId, displayName: "id-other-tenant" });
    c.addFederatedCredential(PUB.appId, { issuer: issuer(elsewhere.tenantId), subject: foreign.objectId });
    await expect(viaIdentity(consumer.tenantId, PUB.appId, foreign.clientId).getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS700236: Entra ID tokens issued by issuer '.*' may not be used/,
    );
  });

  it("an assertion in this Entra's name but not signed by it: AADSTS700027", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
    const input = `${part({ alg: "RS256", typ: "JWT", kid: "forged" })}.${part({ iss: issuer(PUB.tenantId), sub: identity.objectId, oid: identity.objectId, tid: PUB.tenantId, aud: "api://AzureADTokenExchange", iat: now, nbf: now, exp: now + 600 })}`;
    const forged = `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
    await expect(withAssertion(consumer.tenantId, PUB.appId, () => Promise.resolve(forged)).getToken(ARM_SCOPE)).rejects.toThrow(
      /AADSTS700027: Client assertion failed signature validation\./,
    );
  });

  it("an expired managed-identity token: AADSTS700024", async () => {
    const emu = await startEmulator({ tokenLifetimeSeconds: 1 });
    try {
      const c = emu.control;
      c.addTenant(PUB.tenantId);
      c.addTenant(consumer.tenantId, "Consumer");
      c.addApp({ appId: PUB.appId, homeTenantId: PUB.tenantId, multiTenant: true });
      c.consent(PUB.appId, consumer.tenantId);
      const mi = c.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-short-lived" });
      c.addFederatedCredential(PUB.appId, { issuer: `${emu.authorityHost}/${PUB.tenantId}/v2.0`, subject: mi.objectId });
      const stale = c.issueToken({ tenantId: PUB.tenantId, objectId: mi.objectId, scope: EXCHANGE_SCOPE });
      await new Promise((r) => setTimeout(r, 1100));
      const cred = new ClientAssertionCredential(consumer.tenantId, PUB.appId, () => Promise.resolve(stale), {
        authorityHost: emu.authorityHost,
        disableInstanceDiscovery: true,
      });
      await expect(cred.getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS700024: Client assertion is not within its valid time range\./);
    } finally {
      await emu.close();
    }
  });

  it("an app holds at most 20 federated credentials, each issuer + subject once", () => {
    const c = w.emu.control;
    const appId = trustingApp("e0000000-0000-4000-8000-0000000000a6");
    c.addFederatedCredential(appId, { issuer: issuer(PUB.tenantId), subject: "s-1" });
    expect(() => c.addFederatedCredential(appId, { issuer: issuer(PUB.tenantId), subject: "s-1" })).toThrow(
      /already has a federated identity credential for issuer/,
    );
    for (let i = 2; i <= 20; i++) c.addFederatedCredential(appId, { issuer: issuer(PUB.tenantId), subject: `s-${i}` });
    expect(() => c.addFederatedCredential(appId, { issuer: issuer(PUB.tenantId), subject: "s-21" })).toThrow(/already has 20 federated identity credentials/);
  });
});
