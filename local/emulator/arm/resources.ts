// Microsoft.Resources basics an onboarding flow touches: the subscription and its resource groups.
import { requireAction } from "../authz";
import { callerOf, type Ctx } from "../context";
import { obj, type EmuRequest, type EmuResponse } from "../http";
import type { Route } from "../router";
import { key, type ResourceGroup } from "../store";
import { json, requireRegion, tagsOf } from "./common";
import { errors } from "./errors";

function view(rg: ResourceGroup, tags?: Record<string, string>): Record<string, unknown> {
  return {
    id: `/subscriptions/${rg.subscriptionId}/resourceGroups/${rg.name}`,
    name: rg.name,
    type: "Microsoft.Resources/resourceGroups",
    location: rg.location,
    ...(tags ? { tags } : {}),
    properties: { provisioningState: "Succeeded" },
  };
}

function scope(req: EmuRequest): string {
  return `/subscriptions/${req.params.subscriptionId ?? ""}/resourceGroups/${req.params.resourceGroupName ?? ""}`;
}

function getGroup(req: EmuRequest, ctx: Ctx): EmuResponse {
  requireAction(ctx, callerOf(ctx), "Microsoft.Resources/subscriptions/resourceGroups/read", scope(req));
  const rg = ctx.core.world.resourceGroup(req.params.subscriptionId ?? "", req.params.resourceGroupName ?? "");
  if (!rg) throw errors.resourceGroupNotFound(req.params.resourceGroupName ?? "");
  return json(200, view(rg));
}

function headGroup(req: EmuRequest, ctx: Ctx): EmuResponse {
  requireAction(ctx, callerOf(ctx), "Microsoft.Resources/subscriptions/resourceGroups/read", scope(req));
  return { status: ctx.core.world.resourceGroup(req.params.subscriptionId ?? "", req.params.resourceGroupName ?? "") ? 204 : 404 };
}

function putGroup(req: EmuRequest, ctx: Ctx): EmuResponse {
  requireAction(ctx, callerOf(ctx), "Microsoft.Resources/subscriptions/resourceGroups/write", scope(req));
  const sub = (req.params.subscriptionId ?? "").toLowerCase();
  const name = req.params.resourceGroupName ?? "";
  const b = obj(req.body) ?? {};
  const region = requireRegion(b.location, "Microsoft.Resources/resourceGroups");
  const existing = ctx.core.world.resourceGroup(sub, name);
  if (existing && existing.location !== region.name) throw errors.invalidResourceLocation(name, existing.location, name, region.name);
  const rg: ResourceGroup = existing ?? { subscriptionId: sub, name, location: region.name };
  ctx.core.world.resourceGroups.set(key(sub, name), rg);
  return json(existing ? 200 : 201, view(rg, tagsOf(b.tags)));
}

function getSubscription(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = ctx.core.world.subscriptions.get((req.params.subscriptionId ?? "").toLowerCase());
  if (!sub) throw errors.subscriptionNotFound(req.params.subscriptionId ?? "");
  requireAction(ctx, callerOf(ctx), "Microsoft.Resources/subscriptions/read", `/subscriptions/${sub.id}`);
  return json(200, {
    id: `/subscriptions/${sub.id}`,
    authorizationSource: "RoleBased",
    subscriptionId: sub.id,
    tenantId: sub.tenantId,
    displayName: sub.displayName,
    state: "Enabled",
    subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" },
  });
}

export function resourceRoutes(): Route<Ctx>[] {
  const rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}";
  const r = (method: string, pattern: string, family: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({
    method,
    pattern,
    kind: "arm",
    family,
    handler,
  });
  return [
    r("GET", rg, "resourceGroups", getGroup),
    r("HEAD", rg, "resourceGroups", headGroup),
    r("PUT", rg, "resourceGroups", putGroup),
    r("GET", "/subscriptions/{subscriptionId}", "subscriptions", getSubscription),
  ];
}
