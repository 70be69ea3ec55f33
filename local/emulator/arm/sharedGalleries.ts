// The consumer's view of directly shared galleries: GET
// /subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/sharedGalleries[/{uniqueName}
// [/images[/{img}[/versions[/{ver}]]]]]. A gallery is visible to a subscription it was shared with,
// or (with sharedTo=tenant when listing) to every subscription of a tenant it was shared with. In a
// region, a version appears only once replicated there, and encrypted versions never appear
// (direct sharing does not support them). Bodies carry `identifier.uniqueId`, never `id`.
import { requireAction } from "../authz";
import { callerOf, type Ctx } from "../context";
import { queryParam, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Route } from "../router";
import { uniqueNameOf, type Gallery, type GalleryImage, type GalleryImageVersion } from "../store";
import { resourceTime } from "../util/time";
import { json, requireRegion } from "./common";
import { ArmError, errors } from "./errors";
import { isReplicatedIn } from "./replication";

export function versionUsableIn(v: GalleryImageVersion, region: string, now: number): boolean {
  return v.provisioning.state !== "Deleting" && !v.regions.some((r) => r.encryption !== undefined) && isReplicatedIn(v, region, now);
}

function imageVisibleIn(g: Gallery, img: GalleryImage, region: string, now: number): boolean {
  return g.location === region || [...img.versions.values()].some((v) => versionUsableIn(v, region, now));
}

function galleryVisibleIn(g: Gallery, region: string, now: number): boolean {
  return g.location === region || [...g.images.values()].some((img) => imageVisibleIn(g, img, region, now));
}

/** Whether subscription `subscriptionId` (of tenant `tenantId`) may see gallery `g` through direct sharing. */
export function sharedWith(g: Gallery, subscriptionId: string, tenantId: string, mode: "subscription" | "tenant" | "any"): boolean {
  if (g.permissions !== "Groups") return false;
  const bySub = g.sharedSubscriptions.includes(subscriptionId.toLowerCase());
  const byTenant = g.sharedTenants.includes(tenantId.toLowerCase());
  return mode === "subscription" ? bySub : mode === "tenant" ? byTenant : bySub || byTenant;
}

function sharedGalleryView(g: Gallery, region: string): JsonObject {
  const u = uniqueNameOf(g);
  return { name: u, location: region, identifier: { uniqueId: `/SharedGalleries/${u}` } };
}

function sharedImageView(g: Gallery, img: GalleryImage, region: string): JsonObject {
  const p = img.properties;
  const properties: JsonObject = {};
  for (const k of [
    "osType",
    "osState",
    "endOfLifeDate",
    "identifier",
    "disallowed",
    "hyperVGeneration",
    "features",
    "purchasePlan",
    "architecture",
    "privacyStatementUri",
    "eula",
  ]) {
    if (p[k] !== undefined) properties[k] = structuredClone(p[k]);
  }
  properties.recommended = p.recommended !== undefined ? structuredClone(p.recommended) : {};
  return { name: img.name, location: region, identifier: { uniqueId: `/SharedGalleries/${uniqueNameOf(g)}/Images/${img.name}` }, properties };
}

function sharedVersionView(g: Gallery, img: GalleryImage, v: GalleryImageVersion, region: string): JsonObject {
  const properties: JsonObject = {
    publishedDate: resourceTime(v.publishedAt),
    ...(v.endOfLifeDate !== undefined ? { endOfLifeDate: v.endOfLifeDate } : {}),
    excludeFromLatest: v.excludeFromLatest,
    storageProfile: { osDiskImage: { diskSizeGB: 30, hostCaching: "ReadWrite" } },
  };
  return {
    name: v.name,
    location: region,
    identifier: { uniqueId: `/SharedGalleries/${uniqueNameOf(g)}/Images/${img.name}/Versions/${v.name}` },
    properties,
  };
}

interface Consumer {
  subscriptionId: string;
  tenantId: string;
  region: string;
  now: number;
}

function consumer(req: EmuRequest, ctx: Ctx, action: string): Consumer {
  const subscriptionId = (req.params.subscriptionId ?? "").toLowerCase();
  requireAction(ctx, callerOf(ctx), action, `/subscriptions/${req.params.subscriptionId ?? ""}`);
  const region = requireRegion(req.params.location, "Microsoft.Compute/locations/sharedGalleries");
  const sub = ctx.core.world.subscriptions.get(subscriptionId);
  return { subscriptionId, tenantId: sub?.tenantId ?? "", region: region.name, now: ctx.core.clock.now() };
}

function notFound(what: string, c: Consumer): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The shared gallery resource '${what}' was not found in location '${c.region}' for subscription '${c.subscriptionId}'.`,
  );
}

function visibleGallery(ctx: Ctx, c: Consumer, uniqueName: string): Gallery {
  const g = ctx.core.world.galleryByUniqueName(uniqueName);
  if (!g || !sharedWith(g, c.subscriptionId, c.tenantId, "any") || !galleryVisibleIn(g, c.region, c.now)) throw notFound(`/SharedGalleries/${uniqueName}`, c);
  return g;
}

function visibleImage(g: Gallery, c: Consumer, image: string): GalleryImage {
  const img = g.images.get(image.toLowerCase());
  if (!img || !imageVisibleIn(g, img, c.region, c.now)) throw errors.galleryImageNotFound(`/SharedGalleries/${uniqueNameOf(g)}/Images/${image}`);
  return img;
}

function listGalleries(req: EmuRequest, ctx: Ctx): EmuResponse {
  const c = consumer(req, ctx, "Microsoft.Compute/locations/sharedGalleries/read");
  const sharedTo = queryParam(req, "sharedTo");
  if (sharedTo !== undefined && sharedTo.toLowerCase() !== "tenant")
    throw errors.invalidParameter(`The value '${sharedTo}' of parameter 'sharedTo' is not valid. Allowed values: tenant.`, "sharedTo");
  const mode = sharedTo === undefined ? "subscription" : "tenant";
  const value = [...ctx.core.world.galleries.values()]
    .filter((g) => sharedWith(g, c.subscriptionId, c.tenantId, mode) && galleryVisibleIn(g, c.region, c.now))
    .map((g) => sharedGalleryView(g, c.region));
  return json(200, { value });
}

function getGallery(req: EmuRequest, ctx: Ctx): EmuResponse {
  const c = consumer(req, ctx, "Microsoft.Compute/locations/sharedGalleries/read");
  return json(200, sharedGalleryView(visibleGallery(ctx, c, req.params.galleryUniqueName ?? ""), c.region), undefined, true);
}

function listImages(req: EmuRequest, ctx: Ctx): EmuResponse {
  const c = consumer(req, ctx, "Microsoft.Compute/locations/sharedGalleries/images/read");
  const g = visibleGallery(ctx, c, req.params.galleryUniqueName ?? "");
  const value = [...g.images.values()].filter((img) => imageVisibleIn(g, img, c.region, c.now)).map((img) => sharedImageView(g, img, c.region));
  return json(200, { value });
}

function getImage(req: EmuRequest, ctx: Ctx): EmuResponse {
  const c = consumer(req, ctx, "Microsoft.Compute/locations/sharedGalleries/images/read");
  const g = visibleGallery(ctx, c, req.params.galleryUniqueName ?? "");
  return json(200, sharedImageView(g, visibleImage(g, c, req.params.galleryImageName ?? ""), c.region), undefined, true);
}

function listVersions(req: EmuRequest, ctx: Ctx): EmuResponse {
  const c = consumer(req, ctx, "Microsoft.Compute/locations/sharedGalleries/images/versions/read");
  const g = visibleGallery(ctx, c, req.params.galleryUniqueName ?? "");
  const img = visibleImage(g, c, req.params.galleryImageName ?? "");
  const value = [...img.versions.values()].filter((v) => versionUsableIn(v, c.region, c.now)).map((v) => sharedVersionView(g, img, v, c.region));
  return json(200, { value });
}

function getVersion(req: EmuRequest, ctx: Ctx): EmuResponse {
  const c = consumer(req, ctx, "Microsoft.Compute/locations/sharedGalleries/images/versions/read");
  const g = visibleGallery(ctx, c, req.params.galleryUniqueName ?? "");
  const img = visibleImage(g, c, req.params.galleryImageName ?? "");
  const name = req.params.galleryImageVersionName ?? "";
  const v = img.versions.get(name.toLowerCase());
  if (!v || !versionUsableIn(v, c.region, c.now))
    throw errors.galleryImageVersionNotFound(`/SharedGalleries/${uniqueNameOf(g)}/Images/${img.name}/Versions/${name}`);
  return json(200, sharedVersionView(g, img, v, c.region), undefined, true);
}

export function sharedGalleryRoutes(): Route<Ctx>[] {
  const base = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/sharedGalleries";
  const r = (pattern: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({ method: "GET", pattern, kind: "arm", family: "sharedGalleries", handler });
  return [
    r(base, listGalleries),
    r(`${base}/{galleryUniqueName}`, getGallery),
    r(`${base}/{galleryUniqueName}/images`, listImages),
    r(`${base}/{galleryUniqueName}/images/{galleryImageName}`, getImage),
    r(`${base}/{galleryUniqueName}/images/{galleryImageName}/versions`, listVersions),
    r(`${base}/{galleryUniqueName}/images/{galleryImageName}/versions/{galleryImageVersionName}`, getVersion),
  ];
}
