import { describe, expect, it } from "vitest";
import { adminConsentUrl, parseConsentCallback } from "../../src/domain/consent";
import { DomainValidationError } from "../../src/domain/validation";

const TENANT = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
const CLIENT = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

describe("adminConsentUrl", () => {
  it("builds the public-cloud link with every value URL-encoded", () => {
    const url = adminConsentUrl({ consumerTenantId: TENANT, clientId: CLIENT, redirectUri: "https://app.example.com/api/consent?x=1", state: "req 1&2" });
    expect(url).toBe(
      `https://login.microsoftonline.com/${TENANT.toLowerCase()}/adminconsent?client_id=${CLIENT}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fconsent%3Fx%3D1&state=req%201%262`,
    );
    const parsed = new URL(url);
    expect(parsed.searchParams.get("redirect_uri")).toBe("https://app.example.com/api/consent?x=1");
    expect(parsed.searchParams.get("state")).toBe("req 1&2");
  });

  it("uses another authority host without doubling the slash", () => {
    const url = adminConsentUrl({ authorityHost: "https://localhost:8443/", consumerTenantId: TENANT, clientId: CLIENT, redirectUri: "http://localhost:7071/cb", state: "s" });
    expect(url.startsWith(`https://localhost:8443/${TENANT.toLowerCase()}/adminconsent?`)).toBe(true);
  });

  it("allows http redirects to loopback hosts only", () => {
    const base = { consumerTenantId: TENANT, clientId: CLIENT, state: "s" };
    expect(() => adminConsentUrl({ ...base, redirectUri: "http://127.0.0.1:7071/cb" })).not.toThrow();
    expect(() => adminConsentUrl({ ...base, redirectUri: "http://[::1]:7071/cb" })).not.toThrow();
    expect(() => adminConsentUrl({ ...base, redirectUri: "http://app.example.com/cb" })).toThrow(
      'invalid admin consent request: redirectUri: must use https (http only for localhost or 127.0.0.1) (got "http://app.example.com/cb")',
    );
  });

  it("reports every invalid field at once", () => {
    let error: unknown;
    try {
      adminConsentUrl({ authorityHost: "http://login.example.com", consumerTenantId: "contoso.com", clientId: "app", redirectUri: "/cb", state: "" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DomainValidationError);
    expect((error as DomainValidationError).errors).toEqual([
      { path: "authorityHost", rule: 'must use https (got "http://login.example.com")' },
      { path: "consumerTenantId", rule: "must be a GUID" },
      { path: "clientId", rule: "must be a GUID" },
      { path: "redirectUri", rule: 'must be an absolute URL (got "/cb")' },
      { path: "state", rule: "must not be empty" },
    ]);
  });
});

describe("parseConsentCallback", () => {
  it("accepts a granted consent", () => {
    expect(parseConsentCallback({ tenant: TENANT, admin_consent: "True", state: "s1" })).toEqual({ ok: true, tenantId: TENANT.toLowerCase(), state: "s1" });
  });

  it("returns Entra's error and description, with whatever tenant and state came back", () => {
    expect(
      parseConsentCallback({ error: "access_denied", error_description: "AADSTS65004: User declined to consent", state: "s1", tenant: TENANT }),
    ).toEqual({ ok: false, tenantId: TENANT.toLowerCase(), state: "s1", error: "access_denied", description: "AADSTS65004: User declined to consent" });
    expect(parseConsentCallback({ error: "access_denied" })).toEqual({ ok: false, error: "access_denied" });
  });

  it("explains an incomplete callback", () => {
    expect(parseConsentCallback({})).toEqual({
      ok: false,
      error: "invalid_callback",
      description: "the consent callback is incomplete: admin_consent is not True; tenant is missing; state is missing",
    });
    expect(parseConsentCallback({ tenant: "contoso.com", admin_consent: "True", state: "s" })).toEqual({
      ok: false,
      state: "s",
      error: "invalid_callback",
      description: 'the consent callback is incomplete: tenant "contoso.com" is not a GUID',
    });
    expect(parseConsentCallback({ tenant: TENANT, admin_consent: "False", state: "s" })).toEqual({
      ok: false,
      tenantId: TENANT.toLowerCase(),
      state: "s",
      error: "invalid_callback",
      description: "the consent callback is incomplete: admin_consent is not True",
    });
  });
});
