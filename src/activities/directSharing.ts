// Direct sharing: applying a batch of changes to one gallery's sharing groups (the share
// coordinator's activity; its inbox and messages are in shareInbox.ts), and checking a direct share
// from the consumer's side.
//
// applyShareChanges reads the gallery's sharing profile, merges the changes
// (src/domain/shareTargets.ts: each change all-or-nothing within Azure's direct-sharing limits), and
// makes at most one Remove and one Add call for all of them. Only the share coordinator calls it, so
// nothing else calls the share API. Targets a publish asks for (`ensureRegistered`) are read when the
// share runs: the static SHARE_* settings plus every active direct-mode tenant the registry has for
// the gallery. Safe to run twice: the second run finds nothing missing and makes no call.
import type { Services } from "../services";
import { parseGalleryId, sameResourceId } from "../domain/resourceIds";
import type { ShareChange, ShareChangeResult, ShareIds } from "../domain/shareChanges";
import { mergeShareRequests, type MergedShareChanges, type ShareChangeRequest } from "../domain/shareTargets";
import { permissionsNotGroupsReason, type ShareTargets } from "../domain/sharePlan";
import { ResumableError, runActivity } from "./activity";
import { activeTenants } from "./registeredTenants";
import { endedWithEmptyBody } from "./shareLro";
import { managedGalleryId } from "./managedGallery";
import { MAX_LISTED, sharedUniqueName } from "./sharedGalleries";

export interface ApplyShareChangesInput {
  readonly galleryId: string;
  readonly changes: readonly ShareChange[];
  /**
   * Set by an earlier attempt of the same batch that failed after sending share calls (their answer
   * lost, so they may have been applied): the groups before those calls, and how many were sent.
   * Results are reported against `before`, so what the earlier attempt added is reported as added.
   */
  readonly earlier?: { readonly before: ShareTargets; readonly shareCalls: number };
  /** The coordinator's time (ISO): the share calls are booked in the subscription's ARM write schedule, which role assignments keep room in. */
  readonly at?: string;
}

export interface AppliedShareChanges {
  readonly results: readonly Omit<ShareChangeResult, "shareCalls" | "at">[];
  readonly communityPublicName?: string;
  readonly shareCalls: number;
  /** What Compute said remained of its share budget (x-ms-ratelimit-remaining-resource), when it said. */
  readonly remainingHeader?: string;
}

export interface VerifyDirectShareInput {
  readonly tenantId: string;
  readonly galleryId: string;
  /** A subscription of the consumer to look from, and the location to look in. */
  readonly subscriptionId: string;
  readonly location: string;
}

export interface DirectShareVisibility {
  /** The consumer tenant lists the gallery among those shared with it. */
  readonly visible: boolean;
  readonly uniqueName?: string;
  /** The newest version the consumer can read in that location, when there is one. */
  readonly newestVersion?: string;
  /** A note for the record: e.g. the newest version has not replicated to the consumer's location yet. */
  readonly note?: string;
}

/** What these activities use of the app's services. */
type Deps = Pick<Services, "config" | "arm" | "registry" | "armWrites">;

export function createDirectSharingActivities(services: Deps) {
  return {
    applyShareChanges: (input: ApplyShareChangesInput) => runActivity(() => applyShareChanges(services, input)),
    verifyDirectShare: (input: VerifyDirectShareInput) => runActivity(() => verifyDirectShare(services, input)),
  };
}

async function applyShareChanges(services: Deps, input: ApplyShareChangesInput): Promise<AppliedShareChanges> {
  const galleryId = managedGalleryId(services.config, input.galleryId);
  const ref = parseGalleryId(galleryId);
  const gallery: SharedGallery = { ref, client: services.arm.compute(ref.subscriptionId) };
  const registered = input.changes.some((c) => c.ensureRegistered) ? await registeredTargets(services, galleryId) : EMPTY;
  // Nothing asked of the gallery at all (say, a publish with no registered targets): do not touch it.
  // (A publish always looks at the gallery: a community gallery needs publishing even with no targets.)
  if (input.changes.every((c) => asked(c, registered) === 0 && !c.ensureRegistered)) {
    return {
      results: input.changes.map((c) => ({ requestId: c.requestId, result: "applied" as const, added: EMPTY, alreadyShared: EMPTY, removed: EMPTY })),
      shareCalls: 0,
    };
  }
  const profile = await readSharing(gallery);
  const { permissions, current } = profile;
  if (permissions?.toLowerCase() === "community") return applyToCommunityGallery(gallery, input.changes, profile);
  // An encrypted version cannot be directly shared: its publish is refused while the gallery has
  // (or its registry says it should have) any direct-sharing target.
  const sharedAtAll = [current, registered].some((t) => t.subscriptionIds.length + t.tenantIds.length > 0);
  const refused = new Map<string, string>();
  for (const c of input.changes) {
    if (c.encrypted && sharedAtAll)
      refused.set(c.requestId, "encrypted-version: an image version with encryption settings cannot be directly shared, and this gallery is directly shared");
  }
  const requests: ShareChangeRequest[] = input.changes.filter((c) => !refused.has(c.requestId)).map((c) => toRequest(c, registered));
  const merged = mergeShareRequests(current, requests, services.config.shareLimits);
  // Nothing to change: no call, whatever the gallery's settings (a publish with no targets).
  if (merged.operations.length > 0 && permissions?.toLowerCase() !== "groups") {
    const reason = permissionsNotGroupsReason(permissions);
    return { results: input.changes.map((c) => rejected(c.requestId, refused.get(c.requestId) ?? reason)), shareCalls: 0 };
  }
  // Booked, never held back: Compute's share budget paces these calls, and role assignments leave room for them.
  const at = input.at === undefined ? Number.NaN : Date.parse(input.at);
  if (Number.isFinite(at)) for (let i = 0; i < merged.operations.length; i++) await services.armWrites.reserve(ref.subscriptionId, at, 0);
  const before = input.earlier?.before ?? current;
  const earlierCalls = input.earlier?.shareCalls ?? 0;
  const remainingHeader = await callShareApi(gallery, merged.operations, (sent) => ({ earlier: { before, shareCalls: earlierCalls + sent } }));
  const results = merged.results.map((r, i) =>
    r.result === "rejected" ? rejected(r.requestId, r.reason ?? "rejected") : appliedResult(r.requestId, requests[i]!, before),
  );
  const all = input.changes.map((c) =>
    refused.has(c.requestId)
      ? rejected(c.requestId, refused.get(c.requestId) ?? "")
      : (results.find((r) => r.requestId === c.requestId) ?? rejected(c.requestId, "internal: no result")),
  );
  return { results: all, shareCalls: earlierCalls + merged.operations.length, ...(remainingHeader ? { remainingHeader } : {}) };
}

type Compute = ReturnType<Services["arm"]["compute"]>;

export interface SharedGallery {
  readonly ref: ReturnType<typeof parseGalleryId>;
  readonly client: Compute;
}

interface SharingState {
  readonly permissions?: string;
  readonly current: ShareTargets;
  readonly community?: { readonly enabled: boolean; readonly publicName?: string };
}

/** A gallery's sharing profile: its permissions, its direct-sharing targets (lower-case) and its community state. */
export async function readSharing({ ref, client }: SharedGallery): Promise<SharingState> {
  const gallery = await client.galleries.get(ref.resourceGroup, ref.gallery, { expand: "SharingProfile/Groups" });
  const groups = gallery.sharingProfile?.groups ?? [];
  const ids = (type: string): string[] => lower(groups.filter((g) => g.type?.toLowerCase() === type.toLowerCase()).flatMap((g) => g.ids ?? []));
  const info = gallery.sharingProfile?.communityGalleryInfo;
  return {
    ...(gallery.sharingProfile?.permissions ? { permissions: gallery.sharingProfile.permissions } : {}),
    current: { subscriptionIds: ids("Subscriptions"), tenantIds: ids("AADTenants") },
    ...(info ? { community: { enabled: info.communityGalleryEnabled === true, ...(info.publicNames?.[0] ? { publicName: info.publicNames[0] } : {}) } } : {}),
  };
}

/** How many targets a change names (with those a publish asks for, the registered ones). */
function asked(c: ShareChange, registered: ShareTargets): number {
  const named = [c.add?.subscriptionIds, c.add?.tenantIds, c.remove?.subscriptionIds, c.remove?.tenantIds].reduce((n, ids) => n + (ids?.length ?? 0), 0);
  return named + (c.ensureRegistered ? registered.subscriptionIds.length + registered.tenantIds.length : 0);
}

/**
 * A community gallery is public to all of Azure: a publish makes sure it is published to the
 * community (EnableCommunity, once); a change for a tenant is refused, naming the rule.
 */
async function applyToCommunityGallery(gallery: SharedGallery, changes: readonly ShareChange[], before: SharingState): Promise<AppliedShareChanges> {
  const { ref, client } = gallery;
  let shareCalls = 0;
  if (changes.some((c) => c.ensureRegistered) && !before.community?.enabled) {
    try {
      await client.gallerySharingProfile.update(ref.resourceGroup, ref.gallery, { operationType: "EnableCommunity" });
    } catch (err) {
      if (!endedWithEmptyBody(err)) throw err;
    }
    shareCalls = 1;
  }
  const after = shareCalls > 0 ? await readSharing(gallery) : before;
  const results = changes.map((c) =>
    c.ensureRegistered && asked({ ...c, ensureRegistered: false }, EMPTY) === 0
      ? { requestId: c.requestId, result: "applied" as const, added: EMPTY, alreadyShared: EMPTY, removed: EMPTY }
      : rejected(
          c.requestId,
          `community-gallery: ${ref.gallery} is a community gallery, public to all of Azure; direct and rbac onboarding do not apply to it`,
        ),
  );
  return { results, shareCalls, ...(after.community?.publicName ? { communityPublicName: after.community.publicName } : {}) };
}

type ShareOperation = MergedShareChanges["operations"][number];
/** What a share call's response callback reads of each HTTP response (the POST and its polls). */
interface ShareResponse {
  readonly status: number;
  readonly request: { readonly method: string };
  readonly headers: { get(name: string): string | undefined };
}

/**
 * Makes the share calls; returns what Compute last said remained of its share budget. A call that
 * fails after it was sent may have been applied: the error then carries `resume(calls sent)`.
 */
async function callShareApi(
  gallery: SharedGallery,
  operations: MergedShareChanges["operations"],
  resume: (sent: number) => Readonly<Record<string, unknown>>,
): Promise<string | undefined> {
  let remainingHeader: string | undefined;
  for (const [i, operation] of operations.entries()) {
    let accepted = false;
    try {
      await callShareOperation(gallery, operation, (response) => {
        remainingHeader = response.headers.get("x-ms-ratelimit-remaining-resource") ?? remainingHeader;
        if (response.request.method === "POST" && response.status < 300) accepted = true;
      });
    } catch (err) {
      // Refused outright (an HTTP error answer to the call itself): nothing of this call was applied.
      // Accepted and then lost, or no answer at all: it may have been.
      const refused = !accepted && httpStatusOf(err) !== undefined;
      const sent = i + (refused ? 0 : 1);
      throw sent > 0 ? new ResumableError(err, resume(sent)) : err;
    }
  }
  return remainingHeader;
}

function httpStatusOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err && typeof err.statusCode === "number" ? err.statusCode : undefined;
}

/** One share call; an empty final answer is confirmed by reading the profile back. */
async function callShareOperation(gallery: SharedGallery, operation: ShareOperation, onResponse: (response: ShareResponse) => void): Promise<void> {
  const { ref, client } = gallery;
  try {
    await client.gallerySharingProfile.update(ref.resourceGroup, ref.gallery, operation, { onResponse });
  } catch (err) {
    if (!endedWithEmptyBody(err)) throw err;
    // ARM may end the share LRO with an empty 200 body, which @azure/arm-compute 25 fails to
    // deserialize although the share succeeded: confirm by reading the profile back.
    const after = (await readSharing(gallery)).current;
    const missing = operation.groups.some((g) =>
      g.ids.some((id) => (operation.operationType === "Add") !== (g.type === "Subscriptions" ? after.subscriptionIds : after.tenantIds).includes(id)),
    );
    if (missing) throw new Error("the share call ended with an empty result and the gallery does not show the change");
  }
}

/** What an applied change added, found there already, and removed, against the groups before the calls. */
function appliedResult(requestId: string, request: ShareChangeRequest, current: ShareTargets) {
  const has = (ids: readonly string[], id: string): boolean => ids.includes(id);
  const add = { subscriptionIds: lower(request.add?.subscriptionIds), tenantIds: lower(request.add?.tenantIds) };
  const remove = { subscriptionIds: lower(request.remove?.subscriptionIds), tenantIds: lower(request.remove?.tenantIds) };
  return {
    requestId,
    result: "applied" as const,
    added: {
      subscriptionIds: add.subscriptionIds.filter((id) => !has(current.subscriptionIds, id)),
      tenantIds: add.tenantIds.filter((id) => !has(current.tenantIds, id)),
    },
    alreadyShared: {
      subscriptionIds: add.subscriptionIds.filter((id) => has(current.subscriptionIds, id)),
      tenantIds: add.tenantIds.filter((id) => has(current.tenantIds, id)),
    },
    removed: {
      subscriptionIds: remove.subscriptionIds.filter((id) => has(current.subscriptionIds, id)),
      tenantIds: remove.tenantIds.filter((id) => has(current.tenantIds, id)),
    },
  };
}

/** Checks a direct share from the consumer's side, as the multi-tenant app in the consumer tenant: the gallery is listed among those shared with the tenant, and its newest version is readable in the consumer's location (a version not yet replicated there is reported as such, not as a failure to share). */
async function verifyDirectShare(services: Deps, input: VerifyDirectShareInput): Promise<DirectShareVisibility> {
  const galleryId = managedGalleryId(services.config, input.galleryId);
  const { gallery } = parseGalleryId(galleryId);
  const consumer = services.arm.compute(input.subscriptionId, { tenantId: input.tenantId });
  const find = (location: string): Promise<string | undefined> => sharedUniqueName(consumer, location, gallery);
  const uniqueName = await find(input.location);
  if (!uniqueName) {
    // Not listed in the consumer's region: shared, but nothing replicated there yet? Look in the gallery's own region.
    const { subscriptionId, resourceGroup } = parseGalleryId(galleryId);
    const home = (await services.arm.compute(subscriptionId).galleries.get(resourceGroup, gallery)).location;
    const there = home && home.toLowerCase() !== input.location.toLowerCase() ? await find(home) : undefined;
    if (there)
      return {
        visible: true,
        uniqueName: there,
        note: `shared with the tenant, but no version of it is replicated to ${input.location} yet (the gallery is in ${home})`,
      };
    return { visible: false, note: `the consumer tenant does not list ${gallery} among the galleries shared with it in ${input.location}` };
  }
  let newest: { name: string; published: number } | undefined;
  let images = 0;
  for await (const image of consumer.sharedGalleryImages.list(input.location, uniqueName)) {
    if (!image.name || ++images > MAX_LISTED) break;
    let versions = 0;
    for await (const version of consumer.sharedGalleryImageVersions.list(input.location, uniqueName, image.name)) {
      if (++versions > MAX_LISTED) break;
      const published = version.publishedDate ? new Date(version.publishedDate).getTime() : 0;
      if (version.name && (!newest || published > newest.published)) newest = { name: `${image.name}/${version.name}`, published };
    }
  }
  if (!newest)
    return {
      visible: true,
      uniqueName,
      note: `no version of the gallery's images is readable in ${input.location} yet (not replicated there, or none published)`,
    };
  return { visible: true, uniqueName, newestVersion: newest.name };
}

const EMPTY: ShareTargets = { subscriptionIds: [], tenantIds: [] };
const lower = (ids: readonly string[] | undefined): string[] => [...new Set((ids ?? []).map((id) => id.trim().toLowerCase()))];

/**
 * What every publish makes sure of: the seed settings, and what the registry says this app granted
 * on the gallery to tenants that are active (a gallery a tenant asked for but was refused, and a
 * tenant being offboarded, are not targets).
 */
export async function registeredTargets(services: Pick<Services, "config" | "registry">, galleryId: string): Promise<ShareTargets> {
  const subscriptionIds = new Set(services.config.shareSubscriptionIds);
  const tenantIds = new Set(services.config.shareTenantIds);
  const grants = await services.registry.listGrants(galleryId);
  const active = await activeTenants(
    services.registry,
    grants.map((g) => g.tenantId),
  );
  for (const grant of grants) {
    if (!active.has(grant.tenantId.toLowerCase()) || !sameResourceId(grant.galleryId, galleryId)) continue;
    if (grant.kind === "subscription") subscriptionIds.add(grant.targetId.toLowerCase());
    if (grant.kind === "tenant") tenantIds.add(grant.targetId.toLowerCase());
  }
  return { subscriptionIds: [...subscriptionIds], tenantIds: [...tenantIds] };
}

function toRequest(change: ShareChange, registered: ShareTargets): ShareChangeRequest {
  const join = (a: ShareIds | undefined, b: ShareTargets | undefined): ShareIds => ({
    subscriptionIds: [...(a?.subscriptionIds ?? []), ...(b?.subscriptionIds ?? [])],
    tenantIds: [...(a?.tenantIds ?? []), ...(b?.tenantIds ?? [])],
  });
  return {
    requestId: change.requestId,
    add: join(change.add, change.ensureRegistered ? registered : undefined),
    ...(change.remove ? { remove: change.remove } : {}),
  };
}

function rejected(requestId: string, reason: string) {
  const none = { subscriptionIds: [], tenantIds: [] };
  return { requestId, result: "rejected" as const, reason, added: none, alreadyShared: none, removed: none };
}
