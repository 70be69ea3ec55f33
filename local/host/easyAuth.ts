// App Service Authentication (Easy Auth) as the local host plays it, when the app runs with
// OPERATOR_SIGN_IN=easyauth: what Easy Auth does in front of the app in Azure, with a development
// sign-in instead of Microsoft Entra ID.
//
//   - Every request: the X-MS-CLIENT-PRINCIPAL* headers a client sent are removed (Easy Auth never
//     passes them through); for a signed-in session they are set as Easy Auth sets them
//     (X-MS-CLIENT-PRINCIPAL base64 JSON with the name and `roles` claims, -NAME, -ID, -IDP).
//   - GET /.auth/login/dev (and /.auth/login/aad, where Azure starts the Entra sign-in): a form to sign
//     in as a chosen user with chosen app roles;
//     POST /.auth/login/dev (form or JSON: user, roles, post_login_redirect_uri) starts the session
//     (cookie AppServiceAuthSession, HttpOnly, SameSite=Lax) and redirects (302) to the page asked for.
//   - GET /.auth/me: the session's claims as Easy Auth answers them; 401 without a session.
//   - GET /.auth/logout: ends the session.
// Differs from Azure: no Entra sign-in (Azure: /.auth/login/aad), no token store, no bearer tokens
// (the CLI signs in with the form's POST instead), sessions live in memory until the host stops.
import { randomBytes } from "node:crypto";
import { OPERATOR_ROLE, READER_ROLE, type OperatorPrincipal } from "../../src/domain/operatorPrincipal";
import type { HostRequest, HostResponse } from "./httpServer";

const COOKIE = "AppServiceAuthSession";
const PRINCIPAL_HEADERS = ["x-ms-client-principal", "x-ms-client-principal-name", "x-ms-client-principal-id", "x-ms-client-principal-idp"];
const ROLES = [READER_ROLE, OPERATOR_ROLE] as const;

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cookieOf(req: HostRequest): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === COOKIE) return value.join("=");
  }
  return undefined;
}

/** Only a path on this host: never an open redirect. */
function localPath(value: string | undefined): string {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : "/api/dashboard";
}

function loginForm(next: string): HostResponse {
  const roles = ROLES.map((r) => `<label><input type="checkbox" name="roles" value="${r}"> ${r}</label>`).join("<br>");
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title></head><body>
<main><h1>Development sign-in</h1><p>The local host plays App Service Authentication: sign in as anyone, with the app roles you choose.</p>
<form method="post" action="/.auth/login/dev"><p><label>User <input name="user" value="operator@contoso.example" required></label></p>
<p>${roles}</p><input type="hidden" name="post_login_redirect_uri" value="${escape(next)}"><p><button type="submit">Sign in</button></p></form></main></body></html>`;
  return { status: 200, headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'; form-action 'self'" }, body };
}

function formFields(req: HostRequest): Record<string, string[]> {
  const text = req.body.toString("utf8");
  const out: Record<string, string[]> = {};
  const add = (k: string, v: unknown): void => {
    if (typeof v === "string") (out[k] ??= []).push(v);
    else if (Array.isArray(v)) for (const x of v) add(k, x);
  };
  if ((req.headers["content-type"] ?? "").includes("application/json")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null) for (const [k, v] of Object.entries(parsed)) add(k, v);
    } catch {
      return {};
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(text)) add(k, v);
  return out;
}

/** The host's Easy Auth: a route handler that answers /.auth/* and otherwise sets the principal headers and passes the request on. */
export function easyAuthHandler(): (req: HostRequest) => HostResponse | undefined {
  const sessions = new Map<string, OperatorPrincipal>();
  return (req) => {
    for (const name of PRINCIPAL_HEADERS) delete req.headers[name];
    const path = req.url.pathname.toLowerCase();
    const session = cookieOf(req);
    const principal = session ? sessions.get(session) : undefined;
    // Azure's sign-in starts at /.auth/login/aad (Entra ID); here it is the development form.
    if ((path === "/.auth/login/dev" || path === "/.auth/login/aad") && req.method === "GET")
      return loginForm(localPath(req.url.searchParams.get("post_login_redirect_uri") ?? undefined));
    if (path === "/.auth/login/dev" && req.method === "POST") {
      const fields = formFields(req);
      const user = (fields.user?.[0] ?? "").trim().slice(0, 200);
      if (user === "") return { status: 400, headers: { "content-type": "text/plain; charset=utf-8" }, body: "user is required" };
      const roles = (fields.roles ?? [])
        .flatMap((r) => r.split(","))
        .map((r) => r.trim())
        .filter((r) => r !== "");
      const token = randomBytes(24).toString("base64url");
      sessions.set(token, { name: user, id: `dev-${Buffer.from(user).toString("hex").slice(0, 24)}`, roles: [...new Set(roles)] });
      return {
        status: 302,
        headers: { location: localPath(fields.post_login_redirect_uri?.[0]), "set-cookie": `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax` },
      };
    }
    if (path === "/.auth/logout") {
      if (session) sessions.delete(session);
      return { status: 302, headers: { location: "/.auth/login/dev", "set-cookie": `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` } };
    }
    if (path === "/.auth/me") {
      if (!principal) return { status: 401, headers: { "content-type": "text/plain; charset=utf-8" }, body: "not signed in" };
      const claims = [{ typ: "name", val: principal.name }, ...principal.roles.map((r) => ({ typ: "roles", val: r }))];
      return {
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify([{ provider_name: "dev", user_id: principal.name, user_claims: claims }]),
      };
    }
    if (principal) {
      req.headers["x-ms-client-principal"] = encodeClientPrincipal(principal);
      req.headers["x-ms-client-principal-name"] = principal.name;
      if (principal.id) req.headers["x-ms-client-principal-id"] = principal.id;
      req.headers["x-ms-client-principal-idp"] = "dev";
    }
    return undefined;
  };
}

/** An X-MS-CLIENT-PRINCIPAL value for a principal, as Easy Auth sends it. */
export function encodeClientPrincipal(principal: OperatorPrincipal): string {
  const claims = [
    { typ: "name", val: principal.name },
    ...(principal.id ? [{ typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: principal.id }] : []),
    ...principal.roles.map((role) => ({ typ: "roles", val: role })),
  ];
  return Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims })).toString("base64");
}
