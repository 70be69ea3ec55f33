// Authentication and Azure RBAC as ARM applies them: the bearer token must be valid and from the
// tenant that owns the subscription; the principal needs a role assignment at or above the scope
// whose actions (minus notActions) cover the operation's action.
import { errors } from "./arm/errors";
import type { Caller, Ctx } from "./context";
import type { Core } from "./core";
import { decodeJwt } from "./entra/jwt";
import { checkToken } from "./entra/tokens";
import { header, str, type EmuRequest } from "./http";

export interface RoleDefinition {
  guid: string;
  roleName: string;
  description: string;
  actions: string[];
  notActions: string[];
}

/** Built-in roles this project meets (permissions as Azure documents them). */
export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    guid: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    roleName: "Owner",
    description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
    actions: ["*"],
    notActions: [],
  },
  {
    guid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    roleName: "Contributor",
    description:
      "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
    actions: ["*"],
    notActions: [
      "Microsoft.Authorization/*/Delete",
      "Microsoft.Authorization/*/Write",
      "Microsoft.Authorization/elevateAccess/Action",
      "Microsoft.Blueprint/blueprintAssignments/write",
      "Microsoft.Blueprint/blueprintAssignments/delete",
      "Microsoft.Compute/galleries/share/action",
      "Microsoft.Purview/consents/write",
      "Microsoft.Purview/consents/delete",
      "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
      "Microsoft.Subscription/cancel/action",
      "Microsoft.Subscription/enable/action",
    ],
  },
  {
    guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    roleName: "Reader",
    description: "View all resources, but does not allow you to make any changes.",
    actions: ["*/read"],
    notActions: [],
  },
  {
    guid: "1ef6a3be-d0ac-425d-8c01-acb62866290b",
    roleName: "Compute Gallery Sharing Admin",
    description: "This role allows user to share gallery to another subscription/tenant or share it to the public.",
    actions: ["Microsoft.Compute/galleries/share/action"],
    notActions: [],
  },
  {
    guid: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    roleName: "User Access Administrator",
    description: "Lets you manage user access to Azure resources.",
    actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
    notActions: [],
  },
];

/**
 * Role definition ids that name a built-in role under another id. The project brief listed Reader as
 * acdd72a7-3374-48ca-b960-cc08b3c4b7e1; Azure's Reader is acdd72a7-3385-48ef-bd42-f606fba81ae7. Both
 * are accepted; responses always carry Azure's id.
 */
const ROLE_ALIASES: Record<string, string> = { "acdd72a7-3374-48ca-b960-cc08b3c4b7e1": "acdd72a7-3385-48ef-bd42-f606fba81ae7" };

/** A built-in role, or one of `custom` (the world's custom roles), by GUID or name. */
export function findRole(guidOrName: string, custom: Iterable<RoleDefinition> = []): RoleDefinition | undefined {
  const g = guidOrName.toLowerCase();
  const canonical = ROLE_ALIASES[g] ?? g;
  return [...BUILT_IN_ROLES, ...custom].find((r) => r.guid === canonical || r.roleName.toLowerCase() === g);
}

function patternMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(action);
}

export function roleAllows(role: RoleDefinition, action: string): boolean {
  return role.actions.some((p) => patternMatches(p, action)) && !role.notActions.some((p) => patternMatches(p, action));
}

/** True when `scope` is `assignmentScope` or below it (ids are case-insensitive). */
export function scopeCovers(assignmentScope: string, scope: string): boolean {
  const a = assignmentScope.toLowerCase().replace(/\/+$/, "");
  const s = scope.toLowerCase().replace(/\/+$/, "");
  return a === "" || s === a || s.startsWith(`${a}/`);
}

export function isAllowed(core: Core, principalId: string, action: string, scope: string): boolean {
  for (const ra of core.world.roleAssignments.values()) {
    if (ra.principalId !== principalId.toLowerCase() || !scopeCovers(ra.scope, scope)) continue;
    const role = findRole(ra.roleDefinitionGuid, core.world.customRoles.values());
    if (role && roleAllows(role, action)) return true;
  }
  return false;
}

export function requireAction(ctx: Ctx, caller: Caller, action: string, scope: string): void {
  if (!isAllowed(ctx.core, caller.objectId, action, scope)) throw errors.authorizationFailed(caller.objectId, caller.appId, action, scope);
}

/** Validates `Authorization: Bearer <token>`; 401 in ARM's words otherwise. */
export function authenticate(core: Core, req: EmuRequest): Caller {
  const value = header(req, "authorization");
  if (!value) throw errors.authenticationMissing();
  const m = /^bearer\s+(\S+)\s*$/i.exec(value);
  if (!m?.[1]) throw errors.authenticationInvalidFormat();
  return verify(core, m[1], "");
}

function verify(core: Core, token: string, where: string): Caller {
  const check = checkToken(core, token);
  if (check.ok) return check.caller;
  switch (check.reason) {
    case "expired":
      throw where === "" ? errors.expiredToken() : errors.expiredAuxiliaryToken(where);
    case "signature":
      throw errors.invalidToken(`${where}The signature of the token could not be verified.`);
    default:
      throw errors.invalidToken(`${where}The token is malformed or misses required claims.`);
  }
}

/** "Auxiliary token of client '…' in tenant '…': " (ARM's answer names the client and tenant of the bad token). */
function auxiliaryLabel(token: string): string {
  const claims = decodeJwt(token)?.claims;
  const client = str(claims?.appid) ?? str(claims?.azp) ?? str(claims?.oid) ?? "unknown";
  const tenant = str(claims?.tid) ?? "unknown";
  return `Auxiliary token of client '${client}' in tenant '${tenant}': `;
}

/**
 * Tokens in `x-ms-authorization-auxiliary: Bearer t1, Bearer t2` (up to 3). ARM checks every one on
 * every request that carries the header: any invalid or expired token is a 401 naming its client
 * and tenant (Microsoft's "Authenticate requests across tenants").
 */
export function auxiliaryCallers(core: Core, req: EmuRequest): Caller[] {
  const value = header(req, "x-ms-authorization-auxiliary");
  if (!value) return [];
  const tokens = value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (tokens.length > 3) throw errors.invalidToken("The 'x-ms-authorization-auxiliary' header carries more than 3 tokens.");
  return tokens.map((t) => {
    const m = /^bearer\s+(\S+)$/i.exec(t);
    if (!m?.[1]) throw errors.invalidToken("The 'x-ms-authorization-auxiliary' header is not in the format 'Bearer <token>'.");
    return verify(core, m[1], auxiliaryLabel(m[1]));
  });
}
