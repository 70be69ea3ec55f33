// POST .../galleries/{g}/share: direct sharing (Add / Remove / Reset) and EnableCommunity, as a
// long-running operation. Real traffic: 202, empty body, `azure-asyncoperation` plus `location`
// (monitor=true); the change takes effect when the operation completes. Limits (preview): 30
// subscriptions and 5 tenants per gallery, refused synchronously like Compute's quota errors.
import { requireAction } from "../authz";
import { callerOf, type Ctx } from "../context";
import { arr, obj, str, type EmuRequest, type EmuResponse } from "../http";
import type { Route } from "../router";
import { galleryId, type Gallery } from "../store";
import { GUID_RE } from "../util/rng";
import { computeWindow, lroResponse, startOperation } from "./common";
import { ArmError, errors } from "./errors";
import { findGallery } from "./galleries";

type OperationType = "Add" | "Remove" | "Reset" | "EnableCommunity";
const OPERATION_TYPES: readonly OperationType[] = ["Add", "Remove", "Reset", "EnableCommunity"];

interface ShareChange {
  operationType: OperationType;
  subscriptions: string[];
  tenants: string[];
}

function parse(body: unknown): ShareChange {
  const b = obj(body);
  const opInput = str(b?.operationType);
  const operationType = OPERATION_TYPES.find((t) => t.toLowerCase() === opInput?.toLowerCase());
  if (!operationType) {
    throw errors.invalidParameter(
      `Required parameter 'operationType' is missing or invalid ('${opInput ?? ""}'). Allowed values: ${OPERATION_TYPES.join(", ")}.`,
      "operationType",
    );
  }
  const subscriptions: string[] = [];
  const tenants: string[] = [];
  for (const [i, group] of (arr(b?.groups) ?? []).entries()) {
    const type = str(obj(group)?.type);
    const ids = arr(obj(group)?.ids) ?? [];
    const target = type?.toLowerCase() === "subscriptions" ? subscriptions : type?.toLowerCase() === "aadtenants" ? tenants : undefined;
    if (!target)
      throw errors.invalidParameter(`The sharing group type '${type ?? ""}' is invalid. Allowed values: Subscriptions, AADTenants.`, `groups[${i}].type`);
    for (const id of ids) {
      if (typeof id !== "string" || !GUID_RE.test(id))
        throw errors.invalidParameter(`The id '${String(id)}' in sharing group '${type ?? ""}' is not a valid GUID.`, `groups[${i}].ids`);
      if (!target.includes(id.toLowerCase())) target.push(id.toLowerCase());
    }
  }
  return { operationType, subscriptions, tenants };
}

function notAllowed(message: string): ArmError {
  return new ArmError(409, "OperationNotAllowed", message);
}

/** Validates the change against the gallery now; returns the function that applies it. */
function plan(ctx: Ctx, g: Gallery, change: ShareChange): () => void {
  const limits = ctx.core.config.shareLimits;
  switch (change.operationType) {
    case "Add":
    case "Remove": {
      if (g.permissions !== "Groups") {
        throw notAllowed(
          `The gallery '${g.name}' has sharing permission '${g.permissions}'. Sharing profile groups can only be updated for a gallery whose sharingProfile.permissions is 'Groups'.`,
        );
      }
      if (change.subscriptions.length + change.tenants.length === 0) {
        throw errors.invalidParameter(`The '${change.operationType}' sharing operation requires at least one subscription or tenant id in 'groups'.`, "groups");
      }
      if (change.operationType === "Remove") {
        return () => {
          g.sharedSubscriptions = g.sharedSubscriptions.filter((s) => !change.subscriptions.includes(s));
          g.sharedTenants = g.sharedTenants.filter((t) => !change.tenants.includes(t));
        };
      }
      const subs = [...new Set([...g.sharedSubscriptions, ...change.subscriptions])];
      const tenants = [...new Set([...g.sharedTenants, ...change.tenants])];
      const exceed = (kind: string, limit: number, current: number, requested: number): ArmError =>
        notAllowed(
          `Operation could not be completed as it results in exceeding the maximum number of ${kind} a gallery can be shared with. Current Limit: ${limit}, Current Usage: ${current}, Additional Required: ${requested - current}.`,
        );
      if (subs.length > limits.maxSubscriptions) throw exceed("subscriptions", limits.maxSubscriptions, g.sharedSubscriptions.length, subs.length);
      if (tenants.length > limits.maxTenants) throw exceed("AAD tenants", limits.maxTenants, g.sharedTenants.length, tenants.length);
      return () => {
        g.sharedSubscriptions = [...new Set([...g.sharedSubscriptions, ...change.subscriptions])];
        g.sharedTenants = [...new Set([...g.sharedTenants, ...change.tenants])];
      };
    }
    case "Reset":
      return () => {
        g.sharedSubscriptions = [];
        g.sharedTenants = [];
        if (g.permissions === "Groups") g.permissions = "Private";
        g.sharingProfileShown = true;
      };
    case "EnableCommunity": {
      if (g.permissions !== "Community" || !g.community) {
        throw notAllowed(
          `The gallery '${g.name}' was not created with sharingProfile.permissions 'Community' and communityGalleryInfo; it cannot be shared to the community.`,
        );
      }
      const community = g.community;
      return () => {
        community.enabled = true;
        if (community.publicNames.length === 0) {
          const prefix = typeof community.info.publicNamePrefix === "string" ? community.info.publicNamePrefix : "gallery";
          community.publicNames.push(`${prefix}-${ctx.core.guid("community-public-name", galleryId(g).toLowerCase())}`);
        }
      };
    }
  }
}

function share(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = { subscriptionId: req.params.subscriptionId ?? "", resourceGroup: req.params.resourceGroupName ?? "", gallery: req.params.galleryName ?? "" };
  const scope = galleryId({ subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, name: p.gallery });
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/share/action", scope);
  const headers = computeWindow(ctx, p.subscriptionId, "PostShareGallery");
  const g = findGallery(ctx, p);
  const change = parse(req.body);
  const apply = plan(ctx, g, change);
  // Real share calls finished in 0.3-3.4 s.
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 3_000 });
  op.onComplete = (done) => {
    if (done.status === "Succeeded") apply();
  };
  const groups = [
    ...(change.subscriptions.length > 0 ? [{ type: "Subscriptions", ids: change.subscriptions }] : []),
    ...(change.tenants.length > 0 ? [{ type: "AADTenants", ids: change.tenants }] : []),
  ];
  // The swagger's final body, unless the emulator is told to answer as the 2021 recordings do (empty).
  if (!ctx.core.config.lro.emptyShareResult) {
    op.result = { operationType: change.operationType, ...(groups.length > 0 || change.operationType !== "Reset" ? { groups } : {}) };
  }
  return lroResponse(ctx, op, 202, undefined, { location: true, headers });
}

export function sharingRoutes(): Route<Ctx>[] {
  return [
    {
      method: "POST",
      pattern: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/galleries/{galleryName}/share",
      kind: "arm",
      family: "galleries",
      handler: share,
    },
  ];
}
