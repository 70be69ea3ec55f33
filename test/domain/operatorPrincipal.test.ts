import { describe, expect, it } from "vitest";
import { encodeClientPrincipal } from "../../local/host/easyAuth";
import { authorize, parseClientPrincipal } from "../../src/domain/operatorPrincipal";

// What App Service Authentication sends for an Entra ID user with two app roles (claim types as Easy Auth names them).
const EASY_AUTH = Buffer.from(
  JSON.stringify({
    auth_typ: "aad",
    name_typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    claims: [
      { typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", val: "ops@contoso.com" },
      { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: "0f0f0f0f-0000-4000-8000-000000000001" },
      { typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", val: "GalleryShare.Reader" },
      { typ: "roles", val: "GalleryShare.Operator" },
    ],
  }),
).toString("base64");

describe("operator principal", () => {
  it("reads the name, object id and app roles Easy Auth sends", () => {
    expect(parseClientPrincipal(EASY_AUTH)).toEqual({
      name: "ops@contoso.com",
      id: "0f0f0f0f-0000-4000-8000-000000000001",
      roles: ["GalleryShare.Reader", "GalleryShare.Operator"],
    });
    expect(parseClientPrincipal(EASY_AUTH, "Ops Person")?.name).toBe("Ops Person");
    const local = encodeClientPrincipal({ name: "dev@example", roles: ["GalleryShare.Reader"] });
    expect(parseClientPrincipal(local)).toEqual({ name: "dev@example", roles: ["GalleryShare.Reader"] });
  });

  it("reads nothing from an absent, malformed or nameless header", () => {
    expect(parseClientPrincipal(undefined)).toBeUndefined();
    expect(parseClientPrincipal("not base64 json")).toBeUndefined();
    expect(parseClientPrincipal(Buffer.from(JSON.stringify({ claims: [] })).toString("base64"))).toBeUndefined();
  });

  it("401 without a principal, 403 without a role or acting as a Reader, allowed otherwise", () => {
    expect(authorize(undefined, "read")).toMatchObject({ ok: false, status: 401 });
    expect(authorize({ name: "x", roles: [] }, "read")).toMatchObject({ ok: false, status: 403 });
    expect(authorize({ name: "x", roles: ["GalleryShare.Reader"] }, "read").ok).toBe(true);
    expect(authorize({ name: "x", roles: ["GalleryShare.Reader"] }, "act")).toMatchObject({ ok: false, status: 403 });
    expect(authorize({ name: "x", roles: ["GalleryShare.Operator"] }, "read").ok).toBe(true);
    expect(authorize({ name: "x", roles: ["GalleryShare.Operator"] }, "act").ok).toBe(true);
  });
});
