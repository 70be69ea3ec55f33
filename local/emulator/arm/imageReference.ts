// `storageProfile.imageReference` of a VM or of a scale set's virtualMachineProfile, checked in two
// steps as Azure does:
//
// 1. ARM's linked-resource check (before the Compute RP sees the request), on the body's `id`:
//    it must be a fully qualified ARM id (else LinkedInvalidPropertyId), and the caller — or, for an
//    image in another tenant, the principal of an `x-ms-authorization-auxiliary` token of that
//    tenant — must be allowed to read it (else 403 LinkedAuthorizationFailed). Wording: a create
//    without a usable token gets "…does not have permission to perform action 'read' on the linked
//    scope(s) '…' or the linked scope(s) are invalid." (recorded, MicrosoftDocs/azure-docs#114801);
//    changing an existing VM or scale set built from another tenant's image without the token gets
//    "…however the current tenant '…' is not authorized to access linked subscription '…'." (the
//    "Troubleshoot shared images" page, as quoted in MicrosoftDocs/azure-docs#96669).
// 2. The Compute RP: exactly one of `id`, `sharedGalleryImageId`, `communityGalleryImageId` (or a
//    marketplace publisher/offer/sku), and a version usable in the region: replicated there
//    (GalleryImageNotFound "… is not available in {region} region …" otherwise). No version, or
//    `latest`, means the highest version replicated to the region and not excluded from latest
//    (publishingProfile.excludeFromLatest, or the target region's own excludeFromLatest).
import { isAllowed } from "../authz";
import type { Caller, Ctx } from "../context";
import { str, type JsonObject } from "../http";
import { uniqueNameOf, type Gallery, type GalleryImage, type GalleryImageVersion } from "../store";
import { pick } from "./common";
import { errors } from "./errors";
import { imageIdOf, versionIdOf } from "./galleries";
import { isReplicatedIn } from "./replication";
import { sharedWith, versionUsableIn } from "./sharedGalleries";

export const VERSION_READ = "Microsoft.Compute/galleries/images/versions/read";

export interface ImageTarget {
  ctx: Ctx;
  caller: Caller;
  /** The VM or scale set being written, and the action that writes it. */
  resourceId: string;
  writeAction: string;
  /** Subscription and region (name) of the VM or scale set. */
  subscriptionId: string;
  region: string;
  /** JSON path of imageReference in the request body (for messages). */
  path: string;
  /** True when the resource already exists (an update). */
  update: boolean;
}

export interface ResolvedImage {
  /** The reference as given plus `exactVersion`. */
  reference: JsonObject;
  osType: string;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function excludedFromLatest(v: GalleryImageVersion, region: string): boolean {
  return v.excludeFromLatest || v.regions.some((r) => r.name === region && r.excludeFromLatest === true);
}

/** "latest": the highest version usable in the region and not excluded from latest there. */
export function latestVersion(img: GalleryImage, region: string, usable: (v: GalleryImageVersion) => boolean): GalleryImageVersion | undefined {
  return [...img.versions.values()].filter((v) => usable(v) && !excludedFromLatest(v, region)).sort((a, b) => compareVersions(b.name, a.name))[0];
}

const isLatest = (version: string | undefined): boolean => version === undefined || version.toLowerCase() === "latest";

/** Step 1: ARM's linked checks on `imageReference.id` (nothing to do without an id). */
export function checkLinkedImage(t: ImageTarget, ref: JsonObject | undefined): void {
  const id = str(ref?.id);
  if (id === undefined) return;
  if (!/^\/subscriptions\/[^/]+/i.test(id) && !/^\/providers\/[^/]+\//i.test(id)) throw errors.linkedInvalidPropertyId(id, `${t.path}.id`);
  const imageSub = /^\/subscriptions\/([^/]+)/i.exec(id)?.[1]?.toLowerCase();
  if (imageSub === undefined) return;
  const core = t.ctx.core;
  const imageTenant = core.world.subscriptions.get(imageSub)?.tenantId;
  const denied = (who: Caller) => errors.linkedReadDenied(who.objectId, who.appId, t.writeAction, t.resourceId, id);
  if (imageTenant === undefined || imageTenant === t.caller.tenantId.toLowerCase()) {
    if (!isAllowed(core, t.caller.objectId, VERSION_READ, id)) throw denied(t.caller);
    return;
  }
  const aux = (t.ctx.auxiliary ?? []).find((c) => c.tenantId.toLowerCase() === imageTenant);
  if (!aux) throw t.update ? errors.linkedTenantNotAuthorized(VERSION_READ, t.resourceId, t.caller.tenantId, imageSub) : denied(t.caller);
  if (!isAllowed(core, aux.objectId, VERSION_READ, id)) throw denied(aux);
}

function byId(t: Pick<ImageTarget, "ctx" | "region" | "path">, id: string): ResolvedImage {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/galleries\/([^/]+)\/images\/([^/]+)(?:\/versions\/([^/]+))?$/i.exec(id);
  // Managed images and other sources are not emulated.
  if (!m) throw errors.invalidParameter(`The image reference id '${id}' is not a gallery image or gallery image version id.`, `${t.path}.id`);
  const [, sub = "", rg = "", galleryName = "", imageName = "", versionName] = m;
  const g = t.ctx.core.world.gallery(sub, rg, galleryName);
  const img = g?.images.get(imageName.toLowerCase());
  if (!g || !img) throw errors.galleryImageNotFound(id);
  const now = t.ctx.core.clock.now();
  const usable = (x: GalleryImageVersion): boolean => x.provisioning.state !== "Deleting" && isReplicatedIn(x, t.region, now);
  let v: GalleryImageVersion | undefined;
  if (isLatest(versionName)) {
    v = latestVersion(img, t.region, usable);
    if (!v) throw errors.notFoundInRegion(imageIdOf(g, img), t.region);
  } else {
    v = img.versions.get((versionName ?? "").toLowerCase());
    if (!v) throw errors.galleryImageVersionNotFound(id);
    if (!usable(v)) throw errors.notFoundInRegion(versionIdOf(g, img, v), t.region);
  }
  return { reference: { id, exactVersion: v.name }, osType: String(img.properties.osType ?? "Linux") };
}

function shared(t: Pick<ImageTarget, "ctx" | "region" | "path" | "subscriptionId">, sharedId: string): ResolvedImage {
  const m = /^\/SharedGalleries\/([^/]+)\/Images\/([^/]+)(?:\/Versions\/([^/]+))?$/i.exec(sharedId);
  if (!m)
    throw errors.invalidParameter(
      `The shared gallery image id '${sharedId}' is invalid. Expected '/SharedGalleries/{galleryUniqueName}/Images/{imageName}[/Versions/{version}]'.`,
      `${t.path}.sharedGalleryImageId`,
    );
  const [, unique = "", imageName = "", versionName] = m;
  const world = t.ctx.core.world;
  const tenantId = world.subscriptions.get(t.subscriptionId.toLowerCase())?.tenantId ?? "";
  const g: Gallery | undefined = world.galleryByUniqueName(unique);
  const img = g?.images.get(imageName.toLowerCase());
  if (!g || !img || !sharedWith(g, t.subscriptionId, tenantId, "any")) throw errors.galleryImageNotFound(sharedId);
  const now = t.ctx.core.clock.now();
  const usable = (v: GalleryImageVersion): boolean => versionUsableIn(v, t.region, now);
  const v = isLatest(versionName) ? latestVersion(img, t.region, usable) : img.versions.get((versionName ?? "").toLowerCase());
  if (!v) throw errors.notFoundInRegion(sharedId, t.region);
  if (!usable(v)) throw errors.notFoundInRegion(`/SharedGalleries/${uniqueNameOf(g)}/Images/${img.name}/Versions/${v.name}`, t.region);
  return { reference: { sharedGalleryImageId: sharedId, exactVersion: v.name }, osType: String(img.properties.osType ?? "Linux") };
}

function community(t: Pick<ImageTarget, "ctx" | "region">, communityId: string): ResolvedImage {
  const m = /^\/CommunityGalleries\/([^/]+)\/Images\/([^/]+)(?:\/Versions\/([^/]+))?$/i.exec(communityId);
  const [, publicName = "", imageName = "", versionName] = m ?? [];
  const g = [...t.ctx.core.world.galleries.values()].find(
    (x) => x.community?.enabled && x.community.publicNames.some((n) => n.toLowerCase() === publicName.toLowerCase()),
  );
  const img = g?.images.get(imageName.toLowerCase());
  if (!m || !g || !img) throw errors.galleryImageNotFound(communityId);
  const now = t.ctx.core.clock.now();
  const usable = (v: GalleryImageVersion): boolean => versionUsableIn(v, t.region, now);
  const v = isLatest(versionName) ? latestVersion(img, t.region, usable) : img.versions.get((versionName ?? "").toLowerCase());
  if (!v || !usable(v)) throw errors.notFoundInRegion(communityId, t.region);
  return { reference: { communityGalleryImageId: communityId, exactVersion: v.name }, osType: String(img.properties.osType ?? "Linux") };
}

/** Step 2: the Compute RP's checks and resolution to the version the VM (instance) gets. */
export function resolveImage(t: Pick<ImageTarget, "ctx" | "subscriptionId" | "region" | "path">, ref: JsonObject | undefined): ResolvedImage {
  const r = ref ?? {};
  const id = str(r.id);
  const sharedId = str(r.sharedGalleryImageId);
  const communityId = str(r.communityGalleryImageId);
  const marketplace = ["publisher", "offer", "sku"].some((k) => str(r[k]) !== undefined);
  if ([id, sharedId, communityId].filter((x) => x !== undefined).length + (marketplace ? 1 : 0) > 1) {
    throw errors.invalidParameter(
      "The properties 'id', 'sharedGalleryImageId', 'communityGalleryImageId' and publisher/offer/sku/version of imageReference are mutually exclusive: specify only one.",
      t.path,
    );
  }
  if (id !== undefined) return byId(t, id);
  if (sharedId !== undefined) return shared(t, sharedId);
  if (communityId !== undefined) return community(t, communityId);
  if (marketplace) return { reference: pick(r, ["publisher", "offer", "sku", "version"]), osType: "Linux" };
  throw errors.invalidParameter("Required parameter 'imageReference' is missing (null).", t.path);
}

/** The fields that say which image a reference means (`exactVersion` is an answer, not a choice). */
export const IMAGE_REFERENCE_FIELDS = ["id", "sharedGalleryImageId", "communityGalleryImageId", "publisher", "offer", "sku", "version"] as const;

export function sameImageReference(a: JsonObject | undefined, b: JsonObject | undefined): boolean {
  return IMAGE_REFERENCE_FIELDS.every((f) => (str(a?.[f]) ?? "").toLowerCase() === (str(b?.[f]) ?? "").toLowerCase());
}

/** The reference as the client chose it (no `exactVersion`), for storing in a scale set model. */
export function requestedReference(ref: JsonObject | undefined): JsonObject {
  return pick(ref, IMAGE_REFERENCE_FIELDS);
}
