// Who an operator is, as App Service Authentication (Easy Auth) tells the app: the
// X-MS-CLIENT-PRINCIPAL header, base64 of `{ auth_typ, name_typ, role_typ, claims: [{ typ, val }] }`,
// which Easy Auth sets for a signed-in caller and strips from anything a client sends. Its app roles
// (the `roles` claim, one claim per role) decide what the caller may do:
//   GalleryShare.Reader    sees everything
//   GalleryShare.Operator  sees everything and may act (retry, reconcile, revoke, rings, ...)
// Pure: no I/O. The header is trusted only where the app knows Easy Auth is in front of it
// (OPERATOR_SIGN_IN=easyauth); see src/functions/operatorAuth.ts.

export const READER_ROLE = "GalleryShare.Reader";
export const OPERATOR_ROLE = "GalleryShare.Operator";

export interface OperatorPrincipal {
  /** The user's sign-in name (or the app's id), as recorded with every change. */
  readonly name: string;
  /** The principal's object id, when Easy Auth gives one. */
  readonly id?: string;
  readonly roles: readonly string[];
}

export type Need = "read" | "act";

export type Verdict =
  { readonly ok: true; readonly principal: OperatorPrincipal } | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

const MAX_HEADER = 16 * 1024;

function claimsOf(value: unknown): Array<{ typ: string; val: string }> {
  if (typeof value !== "object" || value === null || !("claims" in value) || !Array.isArray(value.claims)) return [];
  return value.claims.flatMap((c: unknown) =>
    typeof c === "object" && c !== null && "typ" in c && "val" in c && typeof c.typ === "string" && typeof c.val === "string"
      ? [{ typ: c.typ, val: c.val }]
      : [],
  );
}

/** The principal an X-MS-CLIENT-PRINCIPAL header describes, or undefined when it is absent or does not parse. */
export function parseClientPrincipal(header: string | null | undefined, nameHeader?: string | null): OperatorPrincipal | undefined {
  if (!header || header.length > MAX_HEADER) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  } catch {
    return undefined;
  }
  const claims = claimsOf(decoded);
  const nameType = typeof decoded === "object" && decoded !== null && "name_typ" in decoded && typeof decoded.name_typ === "string" ? decoded.name_typ : "name";
  const roleType =
    typeof decoded === "object" && decoded !== null && "role_typ" in decoded && typeof decoded.role_typ === "string" ? decoded.role_typ : "roles";
  const first = (...types: string[]): string | undefined => claims.find((c) => types.includes(c.typ))?.val;
  const name = (nameHeader?.trim() || first(nameType, "preferred_username", "name", "upn")) ?? "";
  if (name === "") return undefined;
  const id = first("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid");
  const roles = [...new Set(claims.filter((c) => c.typ === roleType || c.typ === "roles").map((c) => c.val))];
  return { name: name.slice(0, 200), ...(id ? { id } : {}), roles };
}

/** Whether the principal may do what the route needs: 401 without a sign-in, 403 without the role. */
export function authorize(principal: OperatorPrincipal | undefined, need: Need): Verdict {
  if (!principal) return { ok: false, status: 401, message: "sign in first: this page and its API are for operators (Microsoft Entra ID)" };
  const operator = principal.roles.includes(OPERATOR_ROLE);
  const reader = operator || principal.roles.includes(READER_ROLE);
  if (need === "act" && !operator)
    return { ok: false, status: 403, message: `${principal.name} may look but not act: this needs the ${OPERATOR_ROLE} app role` };
  if (!reader) return { ok: false, status: 403, message: `${principal.name} has neither the ${READER_ROLE} nor the ${OPERATOR_ROLE} app role` };
  return { ok: true, principal };
}
