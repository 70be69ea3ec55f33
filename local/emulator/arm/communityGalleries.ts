// Community galleries (EnableCommunity): public to every subscription, addressed by public name
// (`/CommunityGalleries/{publicName}/Images/{img}/Versions/{ver}`); versions appear in a region once
// replicated there.
import { requireAction } from "../authz";
import { callerOf, type Ctx } from "../context";
import type { EmuRequest, EmuResponse, JsonObject } from "../http";
import type { Route } from "../router";
import type { Gallery, GalleryImage } from "../store";
import { resourceTime } from "../util/time";
import { json, requireRegion } from "./common";
import { ArmError, errors } from "./errors";
import { versionUsableIn } from "./sharedGalleries";

interface Where {
  region: string;
  now: number;
  publicName: string;
}

function where(req: EmuRequest, ctx: Ctx): Where {
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/locations/communityGalleries/read", `/subscriptions/${req.params.subscriptionId ?? ""}`);
  const region = requireRegion(req.params.location, "Microsoft.Compute/locations/communityGalleries");
  return { region: region.name, now: ctx.core.clock.now(), publicName: req.params.publicGalleryName ?? "" };
}

function findCommunity(ctx: Ctx, w: Where): Gallery {
  const g = [...ctx.core.world.galleries.values()].find(
    (x) => x.community?.enabled && x.community.publicNames.some((n) => n.toLowerCase() === w.publicName.toLowerCase()),
  );
  if (!g) throw new ArmError(404, "ResourceNotFound", `The community gallery '${w.publicName}' was not found in location '${w.region}'.`);
  return g;
}

function imageIn(g: Gallery, name: string, w: Where): GalleryImage {
  const img = g.images.get(name.toLowerCase());
  if (!img || (g.location !== w.region && ![...img.versions.values()].some((v) => versionUsableIn(v, w.region, w.now)))) {
    throw errors.galleryImageNotFound(`/CommunityGalleries/${w.publicName}/Images/${name}`);
  }
  return img;
}

function galleryView(g: Gallery, w: Where): JsonObject {
  const info = g.community?.info ?? {};
  return {
    name: w.publicName,
    location: w.region,
    type: "Microsoft.Compute/locations/communityGalleries",
    identifier: { uniqueId: `/CommunityGalleries/${w.publicName}` },
    properties: {
      disclaimer: "",
      communityMetadata: {
        publisherUri: info.publisherUri,
        publisherContact: info.publisherContact,
        eula: info.eula,
        publicNames: [...(g.community?.publicNames ?? [])],
      },
    },
  };
}

function imageView(img: GalleryImage, w: Where): JsonObject {
  const p = img.properties;
  const properties: JsonObject = {};
  for (const k of ["osType", "osState", "endOfLifeDate", "identifier", "hyperVGeneration", "features", "architecture", "eula", "privacyStatementUri"])
    if (p[k] !== undefined) properties[k] = structuredClone(p[k]);
  return {
    name: img.name,
    location: w.region,
    type: "Microsoft.Compute/locations/communityGalleries/images",
    identifier: { uniqueId: `/CommunityGalleries/${w.publicName}/Images/${img.name}` },
    properties,
  };
}

function versionsOf(img: GalleryImage, w: Where): JsonObject[] {
  return [...img.versions.values()]
    .filter((v) => versionUsableIn(v, w.region, w.now))
    .map((v) => ({
      name: v.name,
      location: w.region,
      type: "Microsoft.Compute/locations/communityGalleries/images/versions",
      identifier: { uniqueId: `/CommunityGalleries/${w.publicName}/Images/${img.name}/Versions/${v.name}` },
      properties: {
        publishedDate: resourceTime(v.publishedAt),
        excludeFromLatest: v.excludeFromLatest,
        storageProfile: { osDiskImage: { diskSizeGB: 30, hostCaching: "ReadWrite" } },
      },
    }));
}

function getGallery(req: EmuRequest, ctx: Ctx): EmuResponse {
  const w = where(req, ctx);
  return json(200, galleryView(findCommunity(ctx, w), w), undefined, true);
}

function listImages(req: EmuRequest, ctx: Ctx): EmuResponse {
  const w = where(req, ctx);
  const g = findCommunity(ctx, w);
  const visible = [...g.images.values()].filter(
    (img) => g.location === w.region || [...img.versions.values()].some((v) => versionUsableIn(v, w.region, w.now)),
  );
  return json(200, { value: visible.map((img) => imageView(img, w)) });
}

function getImage(req: EmuRequest, ctx: Ctx): EmuResponse {
  const w = where(req, ctx);
  return json(200, imageView(imageIn(findCommunity(ctx, w), req.params.galleryImageName ?? "", w), w), undefined, true);
}

function listVersions(req: EmuRequest, ctx: Ctx): EmuResponse {
  const w = where(req, ctx);
  return json(200, { value: versionsOf(imageIn(findCommunity(ctx, w), req.params.galleryImageName ?? "", w), w) });
}

function getVersion(req: EmuRequest, ctx: Ctx): EmuResponse {
  const w = where(req, ctx);
  const img = imageIn(findCommunity(ctx, w), req.params.galleryImageName ?? "", w);
  const name = req.params.galleryImageVersionName ?? "";
  const v = versionsOf(img, w).find((x) => String(x.name).toLowerCase() === name.toLowerCase());
  if (!v) throw errors.galleryImageVersionNotFound(`/CommunityGalleries/${w.publicName}/Images/${img.name}/Versions/${name}`);
  return json(200, v, undefined, true);
}

export function communityGalleryRoutes(): Route<Ctx>[] {
  const base = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/communityGalleries/{publicGalleryName}";
  const r = (pattern: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({ method: "GET", pattern, kind: "arm", family: "communityGalleries", handler });
  return [
    r(base, getGallery),
    r(`${base}/images`, listImages),
    r(`${base}/images/{galleryImageName}`, getImage),
    r(`${base}/images/{galleryImageName}/versions`, listVersions),
    r(`${base}/images/{galleryImageName}/versions/{galleryImageVersionName}`, getVersion),
  ];
}
