// The admin consent link (v2.0 adminconsent endpoint, tenant-specific, scope required) and the
// parsing of Entra's redirect: a grant only with admin_consent exactly "True", a GUID tenant and a
// well-formed state; a denial with its error bounded and stripped of control characters; anything
// else invalid, with problems that name the parameter but never repeat what was received.
import { describe, expect, it } from "vitest";
import {
  ADMIN_CONSENT_SCOPE,
  CONSENT_CALLBACK_PARAMETERS,
  MAX_ERROR_DESCRIPTION_LENGTH,
  MAX_ERROR_LENGTH,
  MAX_STATE_LENGTH,
  adminConsentLinkIssues,
  adminConsentUrl,
  parseConsentCallback,
  type AdminConsentLink,
} from "../../src/domain/adminConsent";
import { DomainValidationError } from "../../src/domain/validation";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = "0c4b1a2d-3e4f-4a5b-8c6d-7e8f90a1b2c3";
const STATE = "eyJ2IjoxfQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dQ";

const link: AdminConsentLink = {
  authorityHost: "https://login.microsoftonline.com",
  consumerTenantId: TENANT,
  appId: APP,
  redirectUri: "https://gallery-share.azurewebsites.net/api/consent/callback",
  state: STATE,
};

function issuesOf(overrides: Partial<AdminConsentLink>): Record<string, string> {
  return Object.fromEntries(adminConsentLinkIssues({ ...link, ...overrides }).map((e) => [e.path, e.rule]));
}

describe("adminConsentUrl", () => {
  it("builds the tenant-specific v2.0 adminconsent link with client_id, scope, redirect_uri and state", () => {
    const url = new URL(adminConsentUrl(link));
    expect(url.origin).toBe("https://login.microsoftonline.com");
    expect(url.pathname).toBe(`/${TENANT}/v2.0/adminconsent`);
    expect([...url.searchParams.keys()]).toEqual(["client_id", "scope", "redirect_uri", "state"]);
    expect(url.searchParams.get("client_id")).toBe(APP);
    expect(url.searchParams.get("scope")).toBe("https://management.azure.com/.default");
    expect(ADMIN_CONSENT_SCOPE).toBe("https://management.azure.com/.default");
    expect(url.searchParams.get("redirect_uri")).toBe(link.redirectUri);
    expect(url.searchParams.get("state")).toBe(STATE);
  });

  it("lower-cases the ids and uses a configured authority host, with its path and without its trailing slash", () => {
    const url = new URL(
      adminConsentUrl({ ...link, authorityHost: "https://127.0.0.1:8443/entra/", consumerTenantId: TENANT.toUpperCase(), appId: APP.toUpperCase() }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`https://127.0.0.1:8443/entra/${TENANT}/v2.0/adminconsent`);
    expect(url.searchParams.get("client_id")).toBe(APP);
  });

  it("accepts an http redirect only on localhost or 127.0.0.1", () => {
    for (const redirectUri of ["http://localhost:7071/api/consent/callback", "http://127.0.0.1:7071/api/consent/callback"]) {
      expect(new URL(adminConsentUrl({ ...link, redirectUri })).searchParams.get("redirect_uri")).toBe(redirectUri);
    }
    for (const redirectUri of ["http://gallery-share.azurewebsites.net/api/consent/callback", "http://localhost.evil.example/cb", "http://10.0.0.1/cb"]) {
      expect(issuesOf({ redirectUri }).redirectUri).toMatch(/https URL \(http only for localhost or 127\.0\.0\.1\)/);
    }
  });

  it("refuses a shared authority (common, organizations, consumers) for the consumer tenant", () => {
    for (const consumerTenantId of ["common", "organizations", "consumers", "Common"]) {
      expect(issuesOf({ consumerTenantId }).consumerTenantId).toMatch(/not a shared authority/);
      expect(() => adminConsentUrl({ ...link, consumerTenantId })).toThrow(/consumerTenantId/);
    }
  });

  it("names every failing field at once", () => {
    let thrown: unknown;
    try {
      adminConsentUrl({
        authorityHost: "http://login.microsoftonline.com",
        consumerTenantId: "contoso.onmicrosoft.com",
        appId: "my-app",
        redirectUri: "https://user:pw@example.com/cb",
        state: "has spaces",
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DomainValidationError);
    const errors = (thrown as DomainValidationError).errors;
    expect(errors.map((e) => e.path)).toEqual(["authorityHost", "consumerTenantId", "appId", "redirectUri", "state"]);
    expect(Object.fromEntries(errors.map((e) => [e.path, e.rule]))).toMatchObject({
      consumerTenantId: "must be a GUID (the consumer tenant's id)",
      appId: expect.stringMatching(/GUID/),
    });
  });

  it("refuses URLs with credentials, fragments or (for the authority) a query, and non-URLs", () => {
    expect(issuesOf({ redirectUri: "https://example.com/cb#frag" }).redirectUri).toBeDefined();
    expect(issuesOf({ redirectUri: "javascript:alert(1)" }).redirectUri).toBeDefined();
    expect(issuesOf({ redirectUri: "not a url" }).redirectUri).toBeDefined();
    expect(issuesOf({ authorityHost: "https://login.microsoftonline.com/?x=1" }).authorityHost).toBeDefined();
    expect(issuesOf({ authorityHost: "https://u:p@login.microsoftonline.com" }).authorityHost).toBeDefined();
    expect(issuesOf({ authorityHost: "http://localhost" }).authorityHost).toBeDefined();
  });

  it("refuses an empty, overlong or non-URL-safe state", () => {
    expect(issuesOf({ state: "" }).state).toBeDefined();
    expect(issuesOf({ state: "a".repeat(MAX_STATE_LENGTH + 1) }).state).toBeDefined();
    expect(issuesOf({ state: "a".repeat(MAX_STATE_LENGTH) }).state).toBeUndefined();
    for (const state of ["a&b=c", "a+b", "a/b", "a\nb"]) expect(issuesOf({ state }).state).toBeDefined();
  });
});

describe("parseConsentCallback", () => {
  const granted = { admin_consent: "True", tenant: TENANT, scope: "https://management.azure.com/.default", state: STATE };

  it("reads a grant: tenant (lower case) and state", () => {
    expect(parseConsentCallback(granted)).toStrictEqual({ kind: "granted", tenant: TENANT, state: STATE });
    expect(parseConsentCallback({ ...granted, tenant: TENANT.toUpperCase(), scope: undefined })).toStrictEqual({
      kind: "granted",
      tenant: TENANT,
      state: STATE,
    });
  });

  it('accepts admin_consent only as exactly "True"', () => {
    for (const admin_consent of ["true", "TRUE", "True ", "1", "yes", "False", ""]) {
      const parsed = parseConsentCallback({ ...granted, admin_consent });
      expect(parsed.kind).toBe("invalid");
      if (parsed.kind === "invalid") expect(parsed.problems).toEqual([{ path: "admin_consent", rule: 'must be exactly "True"' }]);
    }
  });

  it("refuses a grant without a GUID tenant or without a well-formed state", () => {
    expect(parseConsentCallback({ ...granted, tenant: undefined })).toStrictEqual({ kind: "invalid", problems: [{ path: "tenant", rule: "is required" }] });
    expect(parseConsentCallback({ ...granted, tenant: "common" })).toStrictEqual({ kind: "invalid", problems: [{ path: "tenant", rule: "must be a GUID" }] });
    expect(parseConsentCallback({ ...granted, state: undefined })).toStrictEqual({ kind: "invalid", problems: [{ path: "state", rule: "is required" }] });
    expect(parseConsentCallback({ ...granted, state: "x".repeat(MAX_STATE_LENGTH + 1) }).kind).toBe("invalid");
    expect(parseConsentCallback({ ...granted, state: "a b" }).kind).toBe("invalid");
    expect(parseConsentCallback({ ...granted, scope: "s".repeat(MAX_STATE_LENGTH + 1) }).kind).toBe("invalid");
  });

  it("reads a denial: error, description and state", () => {
    expect(
      parseConsentCallback({ error: "access_denied", error_description: "AADSTS65004: User declined to consent to access the app.", state: STATE }),
    ).toStrictEqual({
      kind: "denied",
      error: "access_denied",
      description: "AADSTS65004: User declined to consent to access the app.",
      state: STATE,
    });
    expect(parseConsentCallback({ error: "consent_required", state: STATE })).toStrictEqual({ kind: "denied", error: "consent_required", state: STATE });
  });

  it("strips control characters from a denial and bounds its error and description", () => {
    const parsed = parseConsentCallback({
      error: "access_denied\r\nFORGED LOG LINE",
      error_description: `line one\nline two\u0000\u2028${"x".repeat(5000)}`,
      state: STATE,
    });
    expect(parsed.kind).toBe("denied");
    if (parsed.kind !== "denied") return;
    expect(parsed.error).toBe("access_denied  FORGED LOG LINE");
    expect(parsed.description).toMatch(/^line one line two {2}x+…$/);
    expect(parsed.description?.length).toBe(MAX_ERROR_DESCRIPTION_LENGTH + 1);
    const long = parseConsentCallback({ error: "e".repeat(1000), state: STATE });
    expect(long.kind === "denied" && long.error.length).toBe(MAX_ERROR_LENGTH + 1);
    // eslint-disable-next-line no-control-regex -- asserting there are none
    expect(JSON.stringify(parsed)).not.toMatch(/[\u0000-\u001f\u2028]/);
  });

  it("refuses a denial without state, with an empty error, or that also claims admin_consent=True", () => {
    expect(parseConsentCallback({ error: "access_denied" })).toStrictEqual({ kind: "invalid", problems: [{ path: "state", rule: "is required" }] });
    expect(parseConsentCallback({ error: " \n ", state: STATE })).toStrictEqual({ kind: "invalid", problems: [{ path: "error", rule: "must not be empty" }] });
    expect(parseConsentCallback({ ...granted, error: "access_denied" })).toStrictEqual({
      kind: "invalid",
      problems: [{ path: "admin_consent", rule: "must not be True when error is given" }],
    });
  });

  it("refuses a query with neither a grant nor an error, naming every problem", () => {
    expect(parseConsentCallback({})).toStrictEqual({
      kind: "invalid",
      problems: [
        { path: "state", rule: "is required" },
        { path: "admin_consent", rule: "is required (or error, for a denial)" },
        { path: "tenant", rule: "is required" },
      ],
    });
  });

  it("never repeats a received value in its problems", () => {
    const marker = "MARKER-7f3a";
    for (const query of [
      Object.fromEntries(CONSENT_CALLBACK_PARAMETERS.map((p) => [p, `${marker}<script>`])),
      { admin_consent: marker, tenant: marker, state: `${marker} x` },
      { error: "", state: `${marker}\n` },
    ]) {
      const parsed = parseConsentCallback(query);
      expect(parsed.kind).toBe("invalid");
      expect(JSON.stringify(parsed)).not.toContain(marker);
    }
  });
});
