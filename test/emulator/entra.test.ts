// The emulated Entra ID with the real @azure/identity credentials: client secret, client assertion
// backed by a managed identity (federated identity credential), the AADSTS errors Entra returns,
// admin consent, and the access-token claims ARM relies on.
import { ClientAssertionCredential, ManagedIdentityCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../local/emulator";
import { credential, PUB, startWorld, type TestWorld } from "./helpers";

const ARM_SCOPE = "https://management.azure.com/.default";
let w: TestWorld;

beforeAll(async () => {
  w = await startWorld();
});

afterAll(async () => {
  await w.emu.close();
});

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

async function tokenRequest(tenant: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${w.emu.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("Entra token endpoint", () => {
  it("serves the OpenID configuration MSAL reads, and ClientSecretCredential gets an RS256 JWT with tid, oid, appid, aud, exp, iat, iss", async () => {
    const config = (await (await fetch(`${w.emu.authorityHost}/${PUB.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(config.token_endpoint).toBe(`${w.emu.authorityHost}/${PUB.tenantId}/oauth2/v2.0/token`);
    const token = await credential(w.emu, PUB.tenantId, PUB.appId, PUB.secret).getToken(ARM_SCOPE);
    const header = JSON.parse(Buffer.from(token.token.split(".")[0] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    expect(header.alg).toBe("RS256");
    const claims = claimsOf(token.token);
    expect(claims).toMatchObject({ tid: PUB.tenantId, oid: w.publisherSp, appid: PUB.appId, aud: "https://management.azure.com/", iss: config.issuer });
    expect(claims.exp).toBe((claims.iat as number) + 3599);
    const keys = (await (await fetch(config.jwks_uri ?? "")).json()) as { keys: { kid: string }[] };
    expect(keys.keys.map((k) => k.kid)).toContain(header.kid);
  });

  it("a wrong secret fails with AADSTS7000215 in Entra's error shape", async () => {
    await expect(credential(w.emu, PUB.tenantId, PUB.appId, "wrong").getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS7000215/);
    const r = await tokenRequest(PUB.tenantId, { grant_type: "client_credentials", client_id: PUB.appId, client_secret: "wrong", scope: ARM_SCOPE });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(String(r.body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided\..*Trace ID: .* Correlation ID: .* Timestamp: /);
  });

  it("an unknown tenant fails with AADSTS90002, an unknown app with AADSTS700016", async () => {
    // MSAL first reads the tenant's OpenID configuration, which Entra refuses (400 invalid_tenant, AADSTS90002).
    await expect(credential(w.emu, "f0000000-0000-4000-8000-000000000000", PUB.appId, PUB.secret).getToken(ARM_SCOPE)).rejects.toThrow(
      /endpoints_resolution_error/,
    );
    const config = await fetch(`${w.emu.authorityHost}/f0000000-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration`);
    expect(config.status).toBe(400);
    expect((await config.json()) as { error: string; error_codes: number[] }).toMatchObject({ error: "invalid_tenant", error_codes: [90002] });
    const t = await tokenRequest("f0000000-0000-4000-8000-000000000000", {
      grant_type: "client_credentials",
      client_id: PUB.appId,
      client_secret: PUB.secret,
      scope: ARM_SCOPE,
    });
    expect(t.body).toMatchObject({ error: "invalid_request", error_codes: [90002] });
    const r = await tokenRequest(PUB.tenantId, {
      grant_type: "client_credentials",
      client_id: "f0000000-0000-4000-8000-000000000001",
      client_secret: "x",
      scope: ARM_SCOPE,
    });
    expect(r.body).toMatchObject({ error: "unauthorized_client", error_codes: [700016] });
  });

  it("a client-credentials scope must end in /.default (AADSTS1002012)", async () => {
    const r = await tokenRequest(PUB.tenantId, {
      grant_type: "client_credentials",
      client_id: PUB.appId,
      client_secret: PUB.secret,
      scope: "https://management.azure.com/user_impersonation",
    });
    expect(r.body).toMatchObject({ error: "invalid_scope", error_codes: [1002012] });
  });
});

describe("secretless: ClientAssertionCredential backed by a managed identity", () => {
  it("a managed-identity token is accepted as the app's client assertion in a consumer tenant", async () => {
    const c = w.emu.control;
    const k = w.consumer(1);
    c.consent(PUB.appId, k.tenantId);
    const mi = c.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-gallery-share" });
    c.addFederatedCredential(PUB.appId, {
      issuer: `${w.emu.authorityHost}/${PUB.tenantId}/v2.0`,
      subject: mi.objectId,
      audiences: ["api://AzureADTokenExchange"],
    });
    // App Service managed-identity protocol, served by the emulator (managedIdentityFic.test.ts has the details).
    const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = `${w.emu.url}/msi/token`;
    process.env.IDENTITY_HEADER = w.emu.identityHeader;
    try {
      const managedIdentity = new ManagedIdentityCredential({ clientId: mi.clientId });
      const assertion = new ClientAssertionCredential(
        k.tenantId,
        PUB.appId,
        async () => (await managedIdentity.getToken("api://AzureADTokenExchange/.default")).token,
        {
          authorityHost: w.emu.authorityHost,
          disableInstanceDiscovery: true,
        },
      );
      const token = await assertion.getToken(ARM_SCOPE);
      expect(claimsOf(token.token)).toMatchObject({ tid: k.tenantId, appid: PUB.appId, oid: c.servicePrincipalId(PUB.appId, k.tenantId) });
    } finally {
      for (const [name, value] of [
        ["IDENTITY_ENDPOINT", saved.endpoint],
        ["IDENTITY_HEADER", saved.header],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("an assertion whose subject no federated credential names fails with AADSTS700213", async () => {
    const c = w.emu.control;
    const trusted = c.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-trusted" });
    const other = c.addManagedIdentity({ tenantId: PUB.tenantId, displayName: "id-other" });
    c.addFederatedCredential(PUB.appId, { issuer: `${w.emu.authorityHost}/${PUB.tenantId}/v2.0`, subject: trusted.objectId });
    const assertionToken = c.issueToken({ tenantId: PUB.tenantId, objectId: other.objectId, scope: "api://AzureADTokenExchange/.default" });
    const r = await fetch(`${w.emu.authorityHost}/${PUB.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: PUB.appId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertionToken,
        scope: ARM_SCOPE,
      }),
    });
    expect(((await r.json()) as { error_codes: number[] }).error_codes).toEqual([700213]);
  });
});

describe("admin consent", () => {
  const redirect = "https://app.example/consent";
  const consentUrl = (tenant: string, appId: string) =>
    `${w.emu.authorityHost}/${tenant}/adminconsent?client_id=${appId}&redirect_uri=${encodeURIComponent(redirect)}&state=s1`;

  it("a declining admin sends the user back with error=access_denied and no service principal is created", async () => {
    const k = w.consumer(2);
    w.emu.control.setConsentDecision(k.tenantId, "decline");
    const res = await fetch(consentUrl(k.tenantId, PUB.appId), { redirect: "manual" });
    const back = new URL(res.headers.get("location") ?? "");
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("s1");
    expect(w.emu.control.servicePrincipalId(PUB.appId, k.tenantId)).toBeUndefined();
  });

  it("a single-tenant app cannot be consented elsewhere; an unknown tenant shows an error page", async () => {
    const k = w.consumer(3);
    const res = await fetch(consentUrl(PUB.tenantId, k.appId), { redirect: "manual" });
    expect(new URL(res.headers.get("location") ?? "").searchParams.get("error")).toBe("unauthorized_client");
    const page = await fetch(consentUrl("f0000000-0000-4000-8000-000000000000", PUB.appId), { redirect: "manual" });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("AADSTS90002");
  });
});

describe("token lifetime", () => {
  it("ARM refuses an expired token with ExpiredAuthenticationToken (lifetime counted in real time)", async () => {
    const emu = await startEmulator({ tokenLifetimeSeconds: 1 });
    try {
      emu.control.addTenant(PUB.tenantId);
      emu.control.addSubscription(PUB.subscriptionId, PUB.tenantId);
      emu.control.addApp({ appId: PUB.appId, homeTenantId: PUB.tenantId, secret: PUB.secret });
      const token = emu.control.issueToken({ tenantId: PUB.tenantId, appId: PUB.appId });
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(`${emu.armEndpoint}/subscriptions/${PUB.subscriptionId}/providers/Microsoft.Compute/galleries?api-version=2025-12-03`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ExpiredAuthenticationToken");
    } finally {
      await emu.close();
    }
  });
});
