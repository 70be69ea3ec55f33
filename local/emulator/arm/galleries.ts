// Microsoft.Compute galleries, image definitions and image versions (GalleryRP 2025-03-03 shapes).
import { requireAction } from "../authz";
import { callerOf, type Ctx } from "../context";
import { arr, at, bool, num, obj, queryParam, str, type EmuRequest, type EmuResponse, type JsonObject } from "../http";
import type { Operation } from "../lro";
import type { Route } from "../router";
import { createdOrUpdated } from "../resourceNotifications";
import { galleryId, key, uniqueNameOf, type Gallery, type GalleryImage, type GalleryImageVersion, type GalleryPermissions } from "../store";
import { resourceTime } from "../util/time";
import { computeWindow, json, lroResponse, pick, requireRegion, requireResourceGroup, startOperation, tagsOf } from "./common";
import { ArmError, errors } from "./errors";
import { findRegion } from "./regions";
import { planReplication, replicationProbe, replicationStatus, type ReplicationScript, type TargetRegionInput } from "./replication";

const GALLERY_TYPE = "Microsoft.Compute/galleries";
const GALLERY_NAME = /^[^_\W][\w\-._]{0,79}(?<![-.])$/;
const VERSION_NAME = /^\d{1,10}\.\d{1,10}\.\d{1,10}$/;
const PERMISSIONS: readonly GalleryPermissions[] = ["Private", "Groups", "Community"];

export interface GalleryRef {
  subscriptionId: string;
  resourceGroup: string;
  gallery: string;
}

export const imageIdOf = (g: Gallery, img: GalleryImage): string => `${galleryId(g)}/images/${img.name}`;
export const versionIdOf = (g: Gallery, img: GalleryImage, v: GalleryImageVersion): string => `${imageIdOf(g, img)}/versions/${v.name}`;

// ---------------------------------------------------------------------------------------------
// Lookups with ARM's not-found answers

export function findGallery(ctx: Ctx, p: GalleryRef): Gallery {
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const g = ctx.core.world.gallery(p.subscriptionId, p.resourceGroup, p.gallery);
  if (!g) throw errors.resourceNotFound(GALLERY_TYPE, p.gallery, p.resourceGroup);
  return g;
}

function parentGallery(ctx: Ctx, p: GalleryRef): Gallery {
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const g = ctx.core.world.gallery(p.subscriptionId, p.resourceGroup, p.gallery);
  if (!g)
    throw new ArmError(404, "ParentResourceNotFound", `Can not perform requested operation on nested resource. Parent resource '${p.gallery}' not found.`);
  return g;
}

export function findImage(ctx: Ctx, g: Gallery, image: string): GalleryImage {
  const img = g.images.get(image.toLowerCase());
  if (!img) throw errors.galleryImageNotFound(`${galleryId(g)}/images/${image}`);
  return img;
}

export function findVersion(g: Gallery, img: GalleryImage, version: string): GalleryImageVersion {
  const v = img.versions.get(version.toLowerCase());
  if (!v) throw errors.galleryImageVersionNotFound(`${imageIdOf(g, img)}/versions/${version}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Views (response bodies)

export function galleryView(g: Gallery, opts: { select?: boolean; expandGroups?: boolean; upperResourceGroup?: boolean } = {}): JsonObject {
  const properties: JsonObject = {};
  if (g.description !== undefined) properties.description = g.description;
  properties.identifier = { uniqueName: uniqueNameOf(g) };
  if (g.sharingProfileShown || opts.select || opts.expandGroups) {
    const sharingProfile: JsonObject = { permissions: g.permissions };
    if (opts.expandGroups) {
      const groups: JsonObject[] = [];
      if (g.sharedSubscriptions.length > 0) groups.push({ type: "Subscriptions", ids: [...g.sharedSubscriptions] });
      if (g.sharedTenants.length > 0) groups.push({ type: "AADTenants", ids: [...g.sharedTenants] });
      sharingProfile.groups = groups;
    }
    if (g.community) {
      sharingProfile.communityGalleryInfo = { ...g.community.info, communityGalleryEnabled: g.community.enabled, publicNames: [...g.community.publicNames] };
    }
    properties.sharingProfile = sharingProfile;
  }
  properties.provisioningState = g.provisioning.state;
  if (g.softDeletePolicy) properties.softDeletePolicy = g.softDeletePolicy;
  const id = opts.upperResourceGroup ? galleryId({ ...g, resourceGroup: g.resourceGroup.toUpperCase() }) : galleryId(g);
  return { name: g.name, id, type: GALLERY_TYPE, location: g.location, ...(g.tags ? { tags: g.tags } : {}), properties };
}

export function imageView(g: Gallery, img: GalleryImage): JsonObject {
  return {
    name: img.name,
    id: imageIdOf(g, img),
    type: "Microsoft.Compute/galleries/images",
    location: img.location,
    ...(img.tags ? { tags: img.tags } : {}),
    properties: { ...structuredClone(img.properties), provisioningState: img.provisioning.state },
  };
}

export function versionView(g: Gallery, img: GalleryImage, v: GalleryImageVersion, now: number, expandReplication: boolean): JsonObject {
  const publishingProfile: JsonObject = {
    targetRegions: v.regions.map((r) => ({
      name: r.displayName,
      regionalReplicaCount: r.regionalReplicaCount,
      storageAccountType: r.storageAccountType,
      ...(r.encryption !== undefined ? { encryption: structuredClone(r.encryption) } : {}),
      excludeFromLatest: r.excludeFromLatest ?? false,
    })),
    replicaCount: v.replicaCount,
    excludeFromLatest: v.excludeFromLatest,
    publishedDate: resourceTime(v.publishedAt),
    ...(v.endOfLifeDate !== undefined ? { endOfLifeDate: v.endOfLifeDate } : {}),
    storageAccountType: v.storageAccountType,
  };
  const properties: JsonObject = {
    publishingProfile,
    storageProfile: structuredClone(v.storageProfile),
    safetyProfile: { allowDeletionOfReplicatedLocations: false, reportedForPolicyViolation: false, ...v.safetyProfile },
    provisioningState: v.provisioning.state,
  };
  if (expandReplication) properties.replicationStatus = replicationStatus(v, now);
  return {
    name: v.name,
    id: versionIdOf(g, img, v),
    type: "Microsoft.Compute/galleries/images/versions",
    location: v.location,
    ...(v.tags ? { tags: v.tags } : {}),
    properties,
  };
}

// ---------------------------------------------------------------------------------------------
// Writes (shared by the HTTP routes and the control API)

function body(req: EmuRequest): JsonObject {
  const b = obj(req.body);
  if (!b) throw errors.invalidRequestContent("The request content was invalid and could not be deserialized: the body must be a JSON object.");
  return b;
}

function settle(op: Operation, resource: { provisioning: { state: string; opId?: string } }): void {
  resource.provisioning.opId = op.id;
  op.onComplete = (done) => {
    if (resource.provisioning.opId !== done.id) return;
    resource.provisioning.state = done.status === "Succeeded" ? "Succeeded" : "Failed";
    delete resource.provisioning.opId;
  };
}

export function putGallery(ctx: Ctx, p: GalleryRef, b: JsonObject): { created: boolean; gallery: Gallery; op: Operation } {
  const world = ctx.core.world;
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  if (!GALLERY_NAME.test(p.gallery)) {
    throw errors.invalidParameter(
      `The gallery name '${p.gallery}' is invalid. It must start and end with a letter or number and contain only letters, numbers, underscores and periods.`,
      "galleryName",
    );
  }
  const region = requireRegion(b.location, GALLERY_TYPE);
  const props = obj(b.properties) ?? {};
  const sharingProfile = obj(props.sharingProfile);
  const permissionsInput = str(sharingProfile?.permissions);
  let permissions: GalleryPermissions | undefined;
  if (permissionsInput !== undefined) {
    permissions = PERMISSIONS.find((x) => x.toLowerCase() === permissionsInput.toLowerCase());
    if (!permissions)
      throw errors.invalidParameter(
        `The value '${permissionsInput}' of parameter 'sharingProfile.permissions' is not valid. Allowed values: Private, Groups, Community.`,
        "sharingProfile.permissions",
      );
  }
  const communityInfo = obj(sharingProfile?.communityGalleryInfo);
  if (permissions === "Community") {
    for (const f of ["publisherUri", "publisherContact", "eula", "publicNamePrefix"]) {
      if (!str(communityInfo?.[f]))
        throw errors.invalidParameter(`Required parameter 'communityGalleryInfo.${f}' is missing (null).`, `communityGalleryInfo.${f}`);
    }
  }
  const existing = world.gallery(p.subscriptionId, p.resourceGroup, p.gallery);
  if (existing && existing.location !== region.name) throw errors.invalidResourceLocation(p.gallery, existing.location, p.resourceGroup, region.name);
  const tags = tagsOf(b.tags);
  const g: Gallery = existing ?? {
    subscriptionId: p.subscriptionId.toLowerCase(),
    resourceGroup: world.resourceGroup(p.subscriptionId, p.resourceGroup)?.name ?? p.resourceGroup,
    name: p.gallery,
    location: region.name,
    permissions: "Private",
    sharingProfileShown: false,
    sharedSubscriptions: [],
    sharedTenants: [],
    provisioning: { state: "Creating" },
    images: new Map(),
  };
  if (tags) g.tags = tags;
  else delete g.tags;
  const description = str(props.description);
  if (description !== undefined) g.description = description;
  if (permissions) {
    g.permissions = permissions;
    g.sharingProfileShown = true;
    if (permissions === "Community" && communityInfo) {
      g.community = {
        info: pick(communityInfo, ["publisherUri", "publisherContact", "eula", "publicNamePrefix"]),
        enabled: g.community?.enabled ?? false,
        publicNames: g.community?.publicNames ?? [],
      };
    }
  }
  const softDelete = obj(props.softDeletePolicy);
  if (softDelete) g.softDeletePolicy = pick(softDelete, ["isSoftDeleteEnabled"]);
  g.provisioning.state = existing ? "Updating" : "Creating";
  world.galleries.set(key(p.subscriptionId, p.resourceGroup, p.gallery), g);
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 1_000 });
  settle(op, g);
  return { created: !existing, gallery: g, op };
}

const IMAGE_PROPERTIES = [
  "description",
  "eula",
  "privacyStatementUri",
  "releaseNoteUri",
  "osType",
  "osState",
  "hyperVGeneration",
  "endOfLifeDate",
  "identifier",
  "recommended",
  "disallowed",
  "purchasePlan",
  "features",
  "architecture",
  "allowUpdateImage",
] as const;

export function putImage(
  ctx: Ctx,
  p: GalleryRef & { image: string },
  b: JsonObject,
): { created: boolean; gallery: Gallery; image: GalleryImage; op: Operation } {
  const g = parentGallery(ctx, p);
  const region = requireRegion(b.location, "Microsoft.Compute/galleries/images");
  if (region.name !== g.location) throw errors.invalidParameter(`The gallery image must be created in the gallery's location '${g.location}'.`, "location");
  const props = obj(b.properties);
  if (!props) throw errors.invalidParameter("Required parameter 'properties' is missing (null).", "properties");
  const osType = str(props.osType);
  if (!osType || !["windows", "linux"].includes(osType.toLowerCase()))
    throw errors.invalidParameter("Required parameter 'osType' is missing or invalid (allowed: Windows, Linux).", "osType");
  const osState = str(props.osState);
  if (!osState || !["generalized", "specialized"].includes(osState.toLowerCase()))
    throw errors.invalidParameter("Required parameter 'osState' is missing or invalid (allowed: Generalized, Specialized).", "osState");
  const identifier = obj(props.identifier);
  for (const f of ["publisher", "offer", "sku"]) {
    if (!str(identifier?.[f])) throw errors.invalidParameter(`Required parameter 'identifier.${f}' is missing (null).`, `identifier.${f}`);
  }
  const existing = g.images.get(p.image.toLowerCase());
  const stored = pick(props, IMAGE_PROPERTIES);
  stored.osType = osType.toLowerCase() === "windows" ? "Windows" : "Linux";
  stored.osState = osState.toLowerCase() === "generalized" ? "Generalized" : "Specialized";
  stored.hyperVGeneration ??= "V1";
  stored.architecture ??= "x64";
  const tags = tagsOf(b.tags);
  const img: GalleryImage = existing ?? { name: p.image, location: g.location, properties: {}, provisioning: { state: "Creating" }, versions: new Map() };
  img.properties = stored;
  if (tags) img.tags = tags;
  else delete img.tags;
  img.provisioning.state = existing ? "Updating" : "Creating";
  g.images.set(p.image.toLowerCase(), img);
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 2_000 });
  settle(op, img);
  return { created: !existing, gallery: g, image: img, op };
}

export function putVersion(
  ctx: Ctx,
  p: GalleryRef & { image: string; version: string },
  b: JsonObject,
  script: ReplicationScript = {},
): { created: boolean; gallery: Gallery; image: GalleryImage; version: GalleryImageVersion; op: Operation } {
  const g = parentGallery(ctx, p);
  const img = g.images.get(p.image.toLowerCase());
  if (!img)
    throw new ArmError(
      404,
      "ParentResourceNotFound",
      `Can not perform requested operation on nested resource. Parent resource '${p.gallery}/${p.image}' not found.`,
    );
  if (!VERSION_NAME.test(p.version) || p.version.split(".").some((n) => Number(n) > 2147483647)) {
    throw errors.invalidParameter(
      `The gallery image version name '${p.version}' is invalid. The version name must follow Major(int32).Minor(int32).Patch(int32) format.`,
      "galleryImageVersionName",
    );
  }
  const region = requireRegion(b.location, "Microsoft.Compute/galleries/images/versions");
  if (region.name !== g.location)
    throw errors.invalidParameter(`The gallery image version must be created in the gallery's location '${g.location}'.`, "location");
  const props = obj(b.properties) ?? {};
  const storageProfile = obj(props.storageProfile);
  if (!storageProfile || (!obj(storageProfile.source) && !obj(storageProfile.osDiskImage))) {
    throw errors.invalidParameter("Required parameter 'storageProfile' is missing (null).", "properties.storageProfile");
  }
  const publishing = obj(props.publishingProfile) ?? {};
  const replicaCount = num(publishing.replicaCount) ?? 1;
  const storageAccountType = str(publishing.storageAccountType) ?? "Standard_LRS";
  const targetsInput = arr(publishing.targetRegions) ?? [{ name: g.location }];
  const targets: TargetRegionInput[] = targetsInput.map((t, i) => {
    const name = str(at(t, "name"));
    const r = name ? findRegion(name) : undefined;
    if (!r) throw errors.invalidParameter(`The target region '${name ?? ""}' is not a valid Azure region.`, `publishingProfile.targetRegions[${i}].name`);
    const out: TargetRegionInput = {
      region: r,
      regionalReplicaCount: num(at(t, "regionalReplicaCount")) ?? replicaCount,
      storageAccountType: str(at(t, "storageAccountType")) ?? storageAccountType,
    };
    const encryption = at(t, "encryption");
    if (encryption !== undefined && encryption !== null) out.encryption = structuredClone(encryption);
    const exclude = bool(at(t, "excludeFromLatest"));
    if (exclude !== undefined) out.excludeFromLatest = exclude;
    return out;
  });
  if (!targets.some((t) => t.region.name === g.location)) {
    throw errors.invalidParameter(
      `The target regions of a gallery image version must include the gallery's region '${findRegion(g.location)?.displayName ?? g.location}'.`,
      "publishingProfile.targetRegions",
    );
  }
  const now = ctx.core.clock.now();
  const existing = img.versions.get(p.version.toLowerCase());
  const versionKey = `${galleryId(g)}/images/${img.name}/versions/${p.version}`.toLowerCase();
  const source = obj(storageProfile.source);
  const stored: JsonObject = {
    ...(source ? { source: structuredClone(source) } : {}),
    osDiskImage: { sizeInGB: 30, hostCaching: "ReadWrite", ...pick(obj(storageProfile.osDiskImage), ["hostCaching", "source"]) },
    dataDiskImages: [],
  };
  const v: GalleryImageVersion = existing ?? {
    name: p.version,
    location: g.location,
    publishedAt: now,
    replicaCount,
    storageAccountType,
    excludeFromLatest: false,
    storageProfile: stored,
    regions: [],
    provisioning: { state: "Creating" },
  };
  v.replicaCount = replicaCount;
  v.storageAccountType = storageAccountType;
  v.excludeFromLatest = bool(publishing.excludeFromLatest) ?? false;
  const eol = str(publishing.endOfLifeDate);
  if (eol !== undefined) v.endOfLifeDate = eol;
  const tags = tagsOf(b.tags);
  if (tags) v.tags = tags;
  else delete v.tags;
  const safety = obj(props.safetyProfile);
  if (safety) v.safetyProfile = pick(safety, ["allowDeletionOfReplicatedLocations", "blockDeletionBeforeEndOfLife"]);
  if (!existing) v.storageProfile = stored;
  v.regions = planReplication(ctx.core, versionKey, g.location, targets, now, script, existing?.regions ?? []);
  v.provisioning.state = existing ? "Updating" : "Creating";
  img.versions.set(p.version.toLowerCase(), v);
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 0, probe: replicationProbe(v) });
  settle(op, v);
  // The write succeeds when replication does: Resource Notifications reports it then, with the
  // version as a GET would show it at that moment. A later write to the version supersedes this one.
  ctx.core.notifications.watch(op, () => {
    if (img.versions.get(p.version.toLowerCase()) !== v || v.provisioning.state !== "Succeeded") return undefined;
    const at = op.endTime ?? ctx.core.clock.now();
    return createdOrUpdated(ctx.core.guid("resource-notification", op.id), g.subscriptionId, versionView(g, img, v, at, false), at);
  });
  return { created: !existing, gallery: g, image: img, version: v, op };
}

// ---------------------------------------------------------------------------------------------
// HTTP routes

function ref(req: EmuRequest): GalleryRef {
  return { subscriptionId: req.params.subscriptionId ?? "", resourceGroup: req.params.resourceGroupName ?? "", gallery: req.params.galleryName ?? "" };
}

function rgScope(req: EmuRequest): string {
  return `/subscriptions/${req.params.subscriptionId ?? ""}/resourceGroups/${req.params.resourceGroupName ?? ""}`;
}

function galleryScope(p: GalleryRef): string {
  return galleryId({ subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, name: p.gallery });
}

function enumQuery(req: EmuRequest, name: string, allowed: string): boolean {
  const v = queryParam(req, name);
  if (v === undefined) return false;
  if (v.toLowerCase() !== allowed.toLowerCase())
    throw errors.invalidParameter(`The value '${v}' of parameter '${name}' is not valid. Allowed values: ${allowed}.`, name);
  return true;
}

function getGallery(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = ref(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/read", galleryScope(p));
  const headers = computeWindow(ctx, p.subscriptionId, "GetGallery");
  const select = enumQuery(req, "$select", "Permissions");
  const expandGroups = enumQuery(req, "$expand", "SharingProfile/Groups");
  const g = findGallery(ctx, p);
  return json(200, galleryView(g, { select, expandGroups }), headers, true);
}

function putGalleryRoute(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = ref(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/write", galleryScope(p));
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "CreateUpdateGallery");
  const { created, gallery, op } = putGallery(ctx, p, body(req));
  return lroResponse(ctx, op, created ? 201 : 200, galleryView(gallery), { pretty: true, headers });
}

function deleteGallery(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = ref(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/delete", galleryScope(p));
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "DeleteGallery");
  const g = ctx.core.world.gallery(p.subscriptionId, p.resourceGroup, p.gallery);
  if (!g) return { status: 204, headers };
  if (g.images.size > 0) throw new ArmError(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.");
  g.provisioning.state = "Deleting";
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 5_000 });
  op.onComplete = (done) => {
    if (done.status === "Succeeded") ctx.core.world.galleries.delete(key(g.subscriptionId, g.resourceGroup, g.name));
    else g.provisioning.state = "Failed";
  };
  return lroResponse(ctx, op, 202, undefined, { location: true, headers });
}

function listGalleriesInGroup(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = req.params.subscriptionId ?? "";
  const rg = requireResourceGroup(ctx, sub, req.params.resourceGroupName ?? "");
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/read", rgScope(req));
  const headers = computeWindow(ctx, sub, "ListGalleryInResourceGroup");
  const value = [...ctx.core.world.galleries.values()]
    .filter((g) => g.subscriptionId === sub.toLowerCase() && g.resourceGroup.toLowerCase() === rg.name.toLowerCase())
    // Real list responses upper-case the resource-group segment of ids: compare ids case-insensitively.
    .map((g) => galleryView(g, { upperResourceGroup: true }));
  return json(200, { value }, headers);
}

function listGalleriesInSubscription(req: EmuRequest, ctx: Ctx): EmuResponse {
  const sub = req.params.subscriptionId ?? "";
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/read", `/subscriptions/${sub}`);
  const headers = computeWindow(ctx, sub, "ListGalleryInSubscription");
  const value = [...ctx.core.world.galleries.values()]
    .filter((g) => g.subscriptionId === sub.toLowerCase())
    .map((g) => galleryView(g, { upperResourceGroup: true }));
  return json(200, { value }, headers);
}

function imageRef(req: EmuRequest): GalleryRef & { image: string } {
  return { ...ref(req), image: req.params.galleryImageName ?? "" };
}

function getImage(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = imageRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/read", `${galleryScope(p)}/images/${p.image}`);
  const headers = computeWindow(ctx, p.subscriptionId, "GetGalleryImage");
  const g = parentGallery(ctx, p);
  return json(200, imageView(g, findImage(ctx, g, p.image)), headers, true);
}

function putImageRoute(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = imageRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/write", `${galleryScope(p)}/images/${p.image}`);
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "CreateUpdateGalleryImage");
  const { created, gallery, image, op } = putImage(ctx, p, body(req));
  return lroResponse(ctx, op, created ? 201 : 200, imageView(gallery, image), { pretty: true, headers });
}

function deleteImage(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = imageRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/delete", `${galleryScope(p)}/images/${p.image}`);
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "DeleteGalleryImage");
  const g = parentGallery(ctx, p);
  const img = g.images.get(p.image.toLowerCase());
  if (!img) return { status: 204, headers };
  if (img.versions.size > 0) throw new ArmError(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.");
  img.provisioning.state = "Deleting";
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 5_000 });
  op.onComplete = (done) => {
    if (done.status === "Succeeded") g.images.delete(p.image.toLowerCase());
    else img.provisioning.state = "Failed";
  };
  return lroResponse(ctx, op, 202, undefined, { location: true, headers });
}

function listImages(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = ref(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/read", `${galleryScope(p)}`);
  const headers = computeWindow(ctx, p.subscriptionId, "ListGalleryImagesInGallery");
  const g = parentGallery(ctx, p);
  return json(200, { value: [...g.images.values()].map((img) => imageView(g, img)) }, headers);
}

function versionRef(req: EmuRequest): GalleryRef & { image: string; version: string } {
  return { ...imageRef(req), version: req.params.galleryImageVersionName ?? "" };
}

function expandReplication(req: EmuRequest): boolean {
  const v = queryParam(req, "$expand");
  if (v === undefined) return false;
  if (!["replicationstatus", "uefisettings"].includes(v.toLowerCase())) {
    throw errors.invalidParameter(`The value '${v}' of parameter '$expand' is not valid. Allowed values: ReplicationStatus, UefiSettings.`, "$expand");
  }
  return v.toLowerCase() === "replicationstatus";
}

function getVersion(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = versionRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/versions/read", `${galleryScope(p)}/images/${p.image}/versions/${p.version}`);
  const headers = computeWindow(ctx, p.subscriptionId, "GetGalleryImageVersion");
  const expand = expandReplication(req);
  const g = parentGallery(ctx, p);
  const img = findImage(ctx, g, p.image);
  return json(200, versionView(g, img, findVersion(g, img, p.version), ctx.core.clock.now(), expand), headers, true);
}

function putVersionRoute(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = versionRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/versions/write", `${galleryScope(p)}/images/${p.image}/versions/${p.version}`);
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "CreateUpdateGalleryImageVersion");
  const r = putVersion(ctx, p, body(req), scriptFor(ctx, p));
  return lroResponse(ctx, r.op, r.created ? 201 : 200, versionView(r.gallery, r.image, r.version, ctx.core.clock.now(), false), { pretty: true, headers });
}

/**
 * PATCH (GalleryImageVersions_Update, 200 and a long-running operation): the version as a PUT would
 * give it now, with the body merged in (objects merge, arrays such as targetRegions replace), then
 * written like a PUT: provisioningState Updating, regions kept keep their replication, the
 * operation ends when replication has. This is how `excludeFromLatest` is changed after publishing.
 */
function patchVersionRoute(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = versionRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/versions/write", `${galleryScope(p)}/images/${p.image}/versions/${p.version}`);
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "CreateUpdateGalleryImageVersion");
  const g = parentGallery(ctx, p);
  const img = findImage(ctx, g, p.image);
  const current = versionView(g, img, findVersion(g, img, p.version), ctx.core.clock.now(), false);
  const merged = mergePatch(current, body(req)) as JsonObject;
  const r = putVersion(ctx, p, merged, scriptFor(ctx, p));
  return lroResponse(ctx, r.op, 200, versionView(r.gallery, r.image, r.version, ctx.core.clock.now(), false), { pretty: true, headers });
}

/** JSON merge of a PATCH body: objects merge key by key, anything else (arrays included) replaces. */
function mergePatch(base: unknown, patch: unknown): unknown {
  if (typeof base !== "object" || base === null || Array.isArray(base) || typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return structuredClone(patch);
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? mergePatch(out[k], v) : structuredClone(v);
  return out;
}

/** The latest scripted replication rule matching this version (EmulatorControl.scriptReplication). */
function scriptFor(ctx: Ctx, p: GalleryRef & { image: string; version: string }): ReplicationScript {
  const eq = (a: string | undefined, b: string): boolean => a === undefined || a.toLowerCase() === b.toLowerCase();
  const rule = [...ctx.core.replicationScripts].reverse().find((r) => eq(r.gallery, p.gallery) && eq(r.image, p.image) && eq(r.version, p.version));
  return { ...(rule?.regionMinutes ? { regionMinutes: rule.regionMinutes } : {}), ...(rule?.failRegions ? { failRegions: rule.failRegions } : {}) };
}

function deleteVersion(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = versionRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/versions/delete", `${galleryScope(p)}/images/${p.image}/versions/${p.version}`);
  requireResourceGroup(ctx, p.subscriptionId, p.resourceGroup);
  const headers = computeWindow(ctx, p.subscriptionId, "DeleteGalleryImageVersion");
  const g = parentGallery(ctx, p);
  const img = findImage(ctx, g, p.image);
  const v = img.versions.get(p.version.toLowerCase());
  if (!v) return { status: 204, headers };
  v.provisioning.state = "Deleting";
  // Real version deletes take about two minutes (test_gallery_e2e.yaml).
  const op = startOperation(ctx, { family: "caps", subscriptionId: g.subscriptionId, location: g.location, durationMs: 135_000 });
  v.provisioning.opId = op.id;
  op.onComplete = (done) => {
    if (done.status === "Succeeded") img.versions.delete(p.version.toLowerCase());
    else v.provisioning.state = "Failed";
  };
  return lroResponse(ctx, op, 202, undefined, { location: true, headers });
}

function listVersions(req: EmuRequest, ctx: Ctx): EmuResponse {
  const p = imageRef(req);
  requireAction(ctx, callerOf(ctx), "Microsoft.Compute/galleries/images/versions/read", `${galleryScope(p)}/images/${p.image}`);
  const headers = computeWindow(ctx, p.subscriptionId, "ListGalleryImageVersionsInGalleryImage");
  const g = parentGallery(ctx, p);
  const img = findImage(ctx, g, p.image);
  const now = ctx.core.clock.now();
  return json(200, { value: [...img.versions.values()].map((v) => versionView(g, img, v, now, false)) }, headers);
}

export function galleryRoutes(): Route<Ctx>[] {
  const rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/galleries";
  const g = `${rg}/{galleryName}`;
  const img = `${g}/images/{galleryImageName}`;
  const ver = `${img}/versions/{galleryImageVersionName}`;
  const r = (method: string, pattern: string, handler: Route<Ctx>["handler"]): Route<Ctx> => ({ method, pattern, kind: "arm", family: "galleries", handler });
  return [
    r("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/galleries", listGalleriesInSubscription),
    r("GET", rg, listGalleriesInGroup),
    r("GET", g, getGallery),
    r("PUT", g, putGalleryRoute),
    r("DELETE", g, deleteGallery),
    r("GET", `${g}/images`, listImages),
    r("GET", img, getImage),
    r("PUT", img, putImageRoute),
    r("DELETE", img, deleteImage),
    r("GET", `${img}/versions`, listVersions),
    r("GET", ver, getVersion),
    r("PUT", ver, putVersionRoute),
    r("PATCH", ver, patchVersionRoute),
    r("DELETE", ver, deleteVersion),
  ];
}
