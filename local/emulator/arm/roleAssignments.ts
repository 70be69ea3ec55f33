// Microsoft.Authorization role assignments at any scope, the built-in role definitions, and the
// caller's effective permissions (what `az role assignment` and @azure/arm-authorization call).
import { BUILT_IN_ROLES, findRole, requireAction, scopeCovers, type RoleDefinition } from "../authz";
import { callerOf, type Ctx } from "../context";
import type { Core } from "../core";
import { obj, queryParam, str, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Route } from "../router";
import type { PrincipalType, RoleAssignment } from "../store";
import { GUID_RE } from "../util/rng";
import { resourceTime } from "../util/time";
import { json } from "./common";
import { ArmError, errors } from "./errors";

const RA = "/providers/Microsoft.Authorization/roleAssignments";

export function subscriptionOfScope(scope: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1]?.toLowerCase();
}

export function resourceGroupOfScope(scope: string): string | undefined {
  return /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)/i.exec(scope)?.[1];
}

function normalizeScope(scope: string): string {
  const s = scope.replace(/\/+$/, "");
  return s === "" ? "/" : s;
}

function assignmentId(scope: string, name: string): string {
  return `${scope === "/" ? "" : scope}${RA}/${name}`;
}

function roleDefinitionId(guid: string, subscriptionId: string | undefined): string {
  return `${subscriptionId ? `/subscriptions/${subscriptionId}` : ""}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}

export function assignmentView(ra: RoleAssignment): JsonObject {
  return {
    properties: {
      roleDefinitionId: roleDefinitionId(ra.roleDefinitionGuid, ra.roleDefinitionSubscription ?? subscriptionOfScope(ra.scope)),
      principalId: ra.principalId,
      principalType: ra.principalType,
      scope: ra.scope,
      condition: null,
      conditionVersion: null,
      createdOn: resourceTime(ra.createdOn),
      updatedOn: resourceTime(ra.updatedOn),
      createdBy: ra.createdBy ?? null,
      updatedBy: ra.createdBy ?? null,
      delegatedManagedIdentityResourceId: null,
      description: ra.description ?? null,
    },
    id: assignmentId(ra.scope, ra.name),
    type: "Microsoft.Authorization/roleAssignments",
    name: ra.name,
  };
}

export interface NewAssignment {
  scope: string;
  name?: string;
  principalId: string;
  roleDefinition: string;
  principalType?: PrincipalType;
  description?: string;
  createdBy?: string;
}

/** Creates (or returns the identical existing) assignment; ARM's 400/409 answers otherwise. */
export function createAssignment(core: Core, a: NewAssignment): { created: boolean; assignment: RoleAssignment } {
  const scope = normalizeScope(a.scope);
  const roleGuid = /([0-9a-f-]{36})$/i.exec(a.roleDefinition)?.[1] ?? a.roleDefinition;
  const role = findRole(roleGuid, core.world.customRoles.values());
  if (!role) throw new ArmError(400, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${roleGuid}' does not exist.`);
  const principalId = a.principalId.toLowerCase();
  const sub = subscriptionOfScope(scope);
  const tenantId = sub ? core.world.subscriptions.get(sub)?.tenantId : undefined;
  const principal = core.world.principals.get(principalId);
  if (!principal || (tenantId !== undefined && principal.tenantId !== tenantId)) {
    throw new ArmError(
      400,
      "PrincipalNotFound",
      `Principal ${principalId.replace(/-/g, "")} does not exist in the directory ${tenantId ?? ""}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    );
  }
  const name = (a.name ?? core.guid("role-assignment", scope.toLowerCase(), principalId, role.guid)).toLowerCase();
  if (!GUID_RE.test(name))
    throw new ArmError(400, "InvalidRoleAssignmentId", `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
  const id = assignmentId(scope, name).toLowerCase();
  const existing = core.world.roleAssignments.get(id);
  if (existing) {
    if (existing.principalId !== principalId || existing.roleDefinitionGuid !== role.guid) {
      throw new ArmError(409, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
    }
    return { created: false, assignment: existing };
  }
  for (const ra of core.world.roleAssignments.values()) {
    if (ra.principalId === principalId && ra.roleDefinitionGuid === role.guid && ra.scope.toLowerCase() === scope.toLowerCase()) {
      throw new ArmError(409, "RoleAssignmentExists", "The role assignment already exists.");
    }
  }
  const now = core.clock.now();
  const assignment: RoleAssignment = {
    name,
    scope,
    principalId,
    principalType: a.principalType ?? principal.type,
    roleDefinitionGuid: role.guid,
    createdOn: now,
    updatedOn: now,
    ...(sub ? { roleDefinitionSubscription: sub } : {}),
    ...(a.description !== undefined ? { description: a.description } : {}),
    ...(a.createdBy !== undefined ? { createdBy: a.createdBy } : {}),
  };
  core.world.roleAssignments.set(id, assignment);
  return { created: true, assignment };
}

function scopeOf(req: EmuRequest): string {
  return normalizeScope(req.params.scope ?? "/");
}

function checkScopeExists(ctx: Ctx, scope: string): void {
  const sub = subscriptionOfScope(scope);
  const rg = resourceGroupOfScope(scope);
  if (sub && rg && !ctx.core.world.resourceGroup(sub, rg)) throw errors.resourceGroupNotFound(rg);
}

function put(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  const caller = callerOf(ctx);
  requireAction(ctx, caller, "Microsoft.Authorization/roleAssignments/write", scope);
  checkScopeExists(ctx, scope);
  const props = obj(obj(req.body)?.properties);
  const roleDefinition = str(props?.roleDefinitionId);
  const principalId = str(props?.principalId);
  if (!roleDefinition || !principalId) {
    throw errors.invalidRequestContent("The request content was invalid: 'properties.roleDefinitionId' and 'properties.principalId' are required.");
  }
  const principalType = str(props?.principalType);
  const { created, assignment } = createAssignment(ctx.core, {
    scope,
    name: req.params.roleAssignmentName ?? "",
    principalId,
    roleDefinition,
    ...(principalType === "User" || principalType === "Group" || principalType === "ServicePrincipal" ? { principalType } : {}),
    ...(str(props?.description) !== undefined ? { description: str(props?.description) ?? "" } : {}),
    createdBy: caller.objectId,
  });
  return json(created ? 201 : 200, assignmentView(assignment));
}

function get(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Authorization/roleAssignments/read", scope);
  const name = req.params.roleAssignmentName ?? "";
  const ra = ctx.core.world.roleAssignments.get(assignmentId(scope, name).toLowerCase());
  if (!ra) throw new ArmError(404, "RoleAssignmentNotFound", `The role assignment '${name}' is not found.`);
  return json(200, assignmentView(ra));
}

function remove(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Authorization/roleAssignments/delete", scope);
  const id = assignmentId(scope, req.params.roleAssignmentName ?? "").toLowerCase();
  const ra = ctx.core.world.roleAssignments.get(id);
  if (!ra) return { status: 204 };
  ctx.core.world.roleAssignments.delete(id);
  return json(200, assignmentView(ra));
}

function list(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Authorization/roleAssignments/read", scope);
  const filter = queryParam(req, "$filter") ?? "";
  const atScope = /atScope\(\)/i.test(filter);
  const principal = /(?:principalId\s+eq\s+'([^']+)')|(?:assignedTo\('([^']+)'\))/i.exec(filter);
  const principalId = (principal?.[1] ?? principal?.[2])?.toLowerCase();
  const value = [...ctx.core.world.roleAssignments.values()]
    .filter((ra) => (atScope ? scopeCovers(ra.scope, scope) : scopeCovers(ra.scope, scope) || scopeCovers(scope, ra.scope)))
    .filter((ra) => principalId === undefined || ra.principalId === principalId)
    .map(assignmentView);
  return json(200, { value });
}

/**
 * The audit fields (createdOn, updatedOn, createdBy, updatedBy) are answered only where the requested
 * api-version's swagger lists them: RoleDefinitionProperties of 2022-04-01 and older has no such
 * properties (what @azure/arm-authorization 9 sends), so they are left out there.
 */
function definitionView(role: RoleDefinition, subscriptionId: string | undefined, apiVersion: string | undefined): JsonObject {
  const audit =
    apiVersion !== undefined && apiVersion.toLowerCase() > "2022-04-01"
      ? { createdOn: "2015-02-02T21:55:09.8806423Z", updatedOn: "2024-01-01T00:00:00.0000000Z", createdBy: null, updatedBy: null }
      : {};
  return {
    properties: {
      roleName: role.roleName,
      type: "BuiltInRole",
      description: role.description,
      assignableScopes: ["/"],
      permissions: [{ actions: role.actions, notActions: role.notActions, dataActions: [], notDataActions: [] }],
      ...audit,
    },
    id: roleDefinitionId(role.guid, subscriptionId),
    type: "Microsoft.Authorization/roleDefinitions",
    name: role.guid,
  };
}

function getDefinition(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  const id = req.params.roleDefinitionId ?? "";
  const role = findRole(id);
  if (!role || !GUID_RE.test(id)) throw new ArmError(404, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${id}' does not exist.`);
  return json(200, definitionView(role, subscriptionOfScope(scope), ctx.apiVersion));
}

function listDefinitions(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  const filter = queryParam(req, "$filter") ?? "";
  const roleName = /roleName\s+eq\s+'([^']+)'/i.exec(filter)?.[1];
  const value = BUILT_IN_ROLES.filter((r) => roleName === undefined || r.roleName.toLowerCase() === roleName.toLowerCase()).map((r) =>
    definitionView(r, subscriptionOfScope(scope), ctx.apiVersion),
  );
  return json(200, { value });
}

/** GET {scope}/providers/Microsoft.Authorization/permissions: the caller's effective permissions there. */
function permissions(req: EmuRequest, ctx: Ctx): EmuResponse {
  const scope = scopeOf(req);
  const caller = callerOf(ctx);
  const value = [...ctx.core.world.roleAssignments.values()]
    .filter((ra) => ra.principalId === caller.objectId.toLowerCase() && scopeCovers(ra.scope, scope))
    .map((ra) => findRole(ra.roleDefinitionGuid, ctx.core.world.customRoles.values()))
    .filter((r): r is RoleDefinition => r !== undefined)
    .map((r) => ({ actions: r.actions, notActions: r.notActions, dataActions: [], notDataActions: [] }));
  return json(200, { value });
}

export function roleAssignmentRoutes(): Route<Ctx>[] {
  const r = (method: string, pattern: string, family: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({
    method,
    pattern,
    kind: "arm",
    family,
    handler,
  });
  return [
    r("PUT", `{*scope}${RA}/{roleAssignmentName}`, "roleAssignments", put),
    r("GET", `{*scope}${RA}/{roleAssignmentName}`, "roleAssignments", get),
    r("DELETE", `{*scope}${RA}/{roleAssignmentName}`, "roleAssignments", remove),
    r("GET", `{*scope}${RA}`, "roleAssignments", list),
    r("GET", "{*scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}", "roleDefinitions", getDefinition),
    r("GET", "{*scope}/providers/Microsoft.Authorization/roleDefinitions", "roleDefinitions", listDefinitions),
    r("GET", "{*scope}/providers/Microsoft.Authorization/permissions", "permissions", permissions),
  ];
}
