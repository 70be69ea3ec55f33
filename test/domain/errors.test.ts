import { describe, expect, it } from "vitest";
import { classifyError, describeError } from "../../src/domain/errors";

/** The shape @azure/core-rest-pipeline's RestError has, without importing it. */
function restError(statusCode: number | undefined, options: { code?: string; message?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const headers = new Map(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.assign(new Error(options.message ?? "request failed"), {
    name: "RestError",
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(options.code === undefined ? {} : { code: options.code }),
    response: {
      headers: { get: (name: string) => headers.get(name.toLowerCase()) },
      ...(options.body === undefined ? {} : { bodyAsText: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
    },
  });
}

const SHARE_DENIED =
  "The client 'a1b2' with object id 'a1b2' does not have authorization to perform action 'Microsoft.Compute/galleries/share/action' over scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g' or the scope is invalid. If access was recently granted, please refresh your credentials.";
const LINKED_DENIED =
  "The client 'c' with object id 'o' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '/subscriptions/t/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm'; however, it does not have permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on the linked scope(s) '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0' or the linked scope(s) are invalid.";

describe("classifyError: retryable", () => {
  it("treats 429 as throttled and reads Retry-After seconds", () => {
    expect(classifyError(restError(429, { code: "TooManyRequests", headers: { "Retry-After": "17" } }))).toEqual({
      retryable: true,
      kind: "throttled",
      status: 429,
      code: "TooManyRequests",
      message: "request failed",
      retryAfterSeconds: 17,
    });
  });

  it("prefers x-ms-retry-after-ms, then retry-after-ms, and ignores HTTP dates", () => {
    expect(classifyError(restError(429, { headers: { "x-ms-retry-after-ms": "1500", "retry-after": "9" } })).retryAfterSeconds).toBe(1.5);
    expect(classifyError(restError(503, { headers: { "retry-after-ms": "250" } })).retryAfterSeconds).toBe(0.25);
    expect("retryAfterSeconds" in classifyError(restError(429, { headers: { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" } }))).toBe(false);
  });

  it("reads headers given as a plain object", () => {
    expect(classifyError({ statusCode: 429, response: { headers: { "Retry-After": "3" } } }).retryAfterSeconds).toBe(3);
    expect(classifyError({ statusCode: 429, response: { headers: {} } }).retryAfterSeconds).toBeUndefined();
  });

  it("treats a code-only TooManyRequests as throttled", () => {
    expect(classifyError({ code: "TooManyRequests", message: "slow down" }).kind).toBe("throttled");
  });

  it("treats 408 and 5xx as transient", () => {
    for (const status of [408, 500, 502, 503, 504]) {
      expect(classifyError({ statusCode: status })).toEqual({ retryable: true, kind: "transient", status, message: `HTTP ${status}` });
    }
  });

  it("treats connection errors as transient, including fetch's wrapped cause", () => {
    for (const code of ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "REQUEST_SEND_ERROR"]) {
      const err = Object.assign(new Error(`connect ${code}`), { code });
      expect(classifyError(err)).toMatchObject({ retryable: true, kind: "transient", code });
    }
    const wrapped = new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
    expect(classifyError(wrapped)).toMatchObject({ retryable: true, kind: "transient", code: "ECONNRESET", message: "fetch failed" });
  });

  it("retries a token request that failed for a passing reason: Entra busy, a dropped connection, an unreachable authority", () => {
    // Messages as @azure/identity 4.14 throws them (seen against the emulator with scripted faults).
    for (const [name, message] of [
      ["AuthenticationError", "temporarily_unavailable: AADSTS50000: There was an error issuing a token."],
      ["AuthenticationError", "server_error: AADSTS90033: A transient error has occurred. Please try again."],
      [
        "CredentialUnavailableError",
        "ManagedIdentityCredential: Network unreachable. Message: network_error: See https://aka.ms/msal.js.errors#network_error for details",
      ],
      ["CredentialUnavailableError", "endpoints_resolution_error: See https://aka.ms/msal.js.errors#endpoints_resolution_error for details"],
      ["AuthenticationError", "request to https://login.microsoftonline.com/t/oauth2/v2.0/token failed, reason: connect ECONNREFUSED 127.0.0.1:443"],
    ] as const) {
      expect(classifyError(Object.assign(new Error(message), { name })), message).toMatchObject({ kind: "transient", retryable: true });
    }
  });

  it("retries 409s that mean another operation is in progress", () => {
    const cases = [
      { code: "OperationNotAllowed", message: "Operation 'share' is not allowed since another operation is in progress on the gallery." },
      { code: "Conflict", message: "An update of gallery 'g' is in progress." },
      { code: "AnotherOperationInProgress", message: "Another operation on this resource is in progress." },
      { code: "RetryableError", message: "A retryable error occurred." },
    ];
    for (const { code, message } of cases) {
      expect(classifyError(restError(409, { body: { error: { code, message } } }))).toMatchObject({ retryable: true, kind: "conflict-retry", code, message });
    }
  });
});

describe("classifyError: permanent", () => {
  it("does not retry a quota 409 (OperationNotAllowed without another operation)", () => {
    const message = "Operation could not be completed as it results in exceeding approved Gallery quota. Current Limit: 100";
    expect(classifyError(restError(409, { code: "OperationNotAllowed", message }))).toMatchObject({
      retryable: false,
      kind: "conflict",
      code: "OperationNotAllowed",
    });
    expect(classifyError(restError(409, { code: "Conflict", message: "Conflict" })).kind).toBe("conflict");
  });

  it("classifies AuthorizationFailed and extracts the missing action and scope", () => {
    const c = classifyError(restError(403, { code: "AuthorizationFailed", message: SHARE_DENIED }));
    expect(c).toMatchObject({
      retryable: false,
      kind: "auth",
      status: 403,
      code: "AuthorizationFailed",
      missingAction: "Microsoft.Compute/galleries/share/action",
      scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g",
    });
    expect(describeError(c)).toMatch(
      /^AuthorizationFailed \(403\): The client 'a1b2' .* credentials\.; missing action Microsoft\.Compute\/galleries\/share\/action on \/subscriptions\/s\/resourceGroups\/rg\/providers\/Microsoft\.Compute\/galleries\/g$/,
    );
  });

  it("picks the action LinkedAuthorizationFailed says is missing, not the one the client has", () => {
    const c = classifyError(restError(403, { body: { error: { code: "LinkedAuthorizationFailed", message: LINKED_DENIED } } }));
    expect(c).toMatchObject({
      kind: "auth",
      code: "LinkedAuthorizationFailed",
      missingAction: "Microsoft.Compute/galleries/images/versions/read",
      scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0",
    });
  });

  it("classifies token and tenant problems as auth", () => {
    expect(classifyError(restError(401, { code: "InvalidAuthenticationTokenTenant", message: "The access token is from the wrong issuer" })).kind).toBe("auth");
    expect(classifyError(restError(400, { code: "AuthenticationFailed" }))).toMatchObject({ kind: "auth", retryable: false });
    expect(classifyError(restError(403, {}))).toMatchObject({ kind: "auth", status: 403 });
  });

  it("classifies credential errors from @azure/identity as auth, with the AADSTS code", () => {
    const err = Object.assign(new Error("AADSTS65001: The user or administrator has not consented to use the application."), {
      name: "AuthenticationError",
      statusCode: 400,
    });
    expect(classifyError(err)).toMatchObject({ kind: "auth", retryable: false, code: "AADSTS65001", status: 400 });
    const unavailable = Object.assign(new Error("ManagedIdentityCredential: no identity endpoint"), { name: "CredentialUnavailableError" });
    expect(classifyError(unavailable)).toMatchObject({ kind: "auth", retryable: false });
    expect(classifyError(Object.assign(new Error("token endpoint down"), { name: "AuthenticationError", statusCode: 503 })).kind).toBe("transient");
  });

  it("keeps a wrong secret, a missing app, missing consent and a missing federated credential permanent", () => {
    // The messages @azure/identity 4.14 gives against the emulator's Entra (AADSTS codes as Entra sends them).
    for (const [name, message] of [
      ["AuthenticationRequiredError", "invalid_client: Error(s): 7000215 - Description: AADSTS7000215: Invalid client secret provided."],
      ["AuthenticationError", "unauthorized_client: AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."],
      ["AuthenticationError", "invalid_grant: AADSTS65001: The user or administrator has not consented to use the application."],
      ["AuthenticationError", "invalid_client: AADSTS70021: No matching federated identity record found for presented assertion."],
    ] as const) {
      expect(classifyError(Object.assign(new Error(message), { name })), message).toMatchObject({ kind: "auth", retryable: false });
    }
  });

  it("classifies 404 and not-found codes", () => {
    for (const code of ["ResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound", "GalleryImageNotFound", "NotFound"]) {
      expect(classifyError(restError(404, { code }))).toMatchObject({ retryable: false, kind: "not-found", code });
    }
    expect(classifyError({ code: "ResourceGroupNotFound", message: "gone" }).kind).toBe("not-found");
    expect(classifyError({ statusCode: 404 }).kind).toBe("not-found");
  });

  it("classifies other 4xx as bad-request", () => {
    expect(classifyError(restError(400, { code: "InvalidParameter", message: "bad" }))).toMatchObject({ kind: "bad-request", retryable: false });
    expect(classifyError(restError(422, {})).kind).toBe("bad-request");
  });

  it("classifies anything else as unknown and not retryable", () => {
    expect(classifyError(new Error("boom"))).toEqual({ retryable: false, kind: "unknown", message: "boom" });
    expect(classifyError("plain string")).toEqual({ retryable: false, kind: "unknown", message: "plain string" });
    expect(classifyError(undefined)).toEqual({ retryable: false, kind: "unknown", message: "undefined" });
    expect(classifyError({})).toEqual({ retryable: false, kind: "unknown", message: "no message" });
    expect(classifyError({ statusCode: 302 }).kind).toBe("unknown");
  });
});

describe("classifyError: reading the ARM body", () => {
  it("takes the code and message from the body when err.code is absent", () => {
    const c = classifyError(
      restError(404, { message: "generic", body: { error: { code: "GalleryImageNotFound", message: "The gallery image i is not found." } } }),
    );
    expect(c).toMatchObject({ code: "GalleryImageNotFound", message: "The gallery image i is not found." });
  });

  it("reads a top-level {code, message} body and a parsed details object", () => {
    expect(classifyError(restError(400, { body: { code: "InvalidRequestFormat", message: "x" } })).code).toBe("InvalidRequestFormat");
    expect(classifyError({ statusCode: 404, details: { error: { code: "ResourceNotFound", message: "m" } } })).toMatchObject({
      code: "ResourceNotFound",
      message: "m",
    });
  });

  it("ignores bodies that are not JSON or hold no error", () => {
    expect(classifyError(restError(502, { message: "Bad Gateway", body: "<html>oops</html>" }))).toMatchObject({ kind: "transient", message: "Bad Gateway" });
    expect(classifyError(restError(500, { message: "x", body: { status: "Failed" } })).code).toBeUndefined();
  });
});

describe("secrets and formatting", () => {
  const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJl";

  it("strips bearer tokens and JWTs from messages", () => {
    const c = classifyError(restError(401, { message: `Request had header Authorization: Bearer ${jwt} and x-ms-authorization-auxiliary: ${jwt}` }));
    expect(c.message).not.toContain("eyJ");
    expect(c.message).toBe("Request had header Authorization: Bearer [redacted] and x-ms-authorization-auxiliary: [redacted token]");
    expect(classifyError(new Error("bearer abc.def-ghi")).message).toBe("Bearer [redacted]");
  });

  it("keeps messages on one line and bounded", () => {
    const c = classifyError(new Error(`line one\n  line two\r\n${"x".repeat(5000)}`));
    expect(c.message.startsWith("line one line two x")).toBe(true);
    expect(c.message.length).toBeLessThanOrEqual(1001);
  });

  it("describes an error without a code or status by its kind, with the retry delay", () => {
    expect(describeError({ retryable: false, kind: "unknown", message: "boom" })).toBe("unknown: boom");
    expect(describeError(classifyError(restError(429, { code: "TooManyRequests", message: "Too many", headers: { "retry-after": "20" } })))).toBe(
      "TooManyRequests (429): Too many; retry after 20s",
    );
    expect(describeError({ retryable: false, kind: "auth", code: "AuthorizationFailed", status: 403, message: "no", missingAction: "a/b/action" })).toBe(
      "AuthorizationFailed (403): no; missing action a/b/action",
    );
  });
});
