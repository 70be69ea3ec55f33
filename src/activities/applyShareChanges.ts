// Applies a batch of share changes to one managed gallery: reads its sharing profile, merges the
// changes (src/domain/shareTargets.ts: each change all-or-nothing within Azure's direct-sharing
// limits), and makes at most one Remove and one Add call for all of them. Only the share
// coordinator calls it, so nothing else calls the share API. Targets a publish asks for
// (`ensureRegistered`) are read here, when the share runs: the static SHARE_* settings plus every
// active direct-mode tenant the registry has for the gallery.
// Safe to run twice: the second run finds nothing missing and makes no call.
import type { Services } from "../services";
import { parseGalleryId, sameResourceId } from "../domain/resourceIds";
import { mergeShareRequests, type ShareChangeRequest } from "../domain/shareTargets";
import { permissionsNotGroupsReason, type ShareTargets } from "../domain/sharePlan";
import { runActivity } from "./activityResult";
import type { ActivityResult, AppliedShareChanges, ApplyShareChangesInput, ShareChange, ShareIds } from "./descriptors";
import { endedWithEmptyBody } from "./shareLro";
import { managedGalleryId } from "./managedGallery";

const EMPTY: ShareTargets = { subscriptionIds: [], tenantIds: [] };
const lower = (ids: readonly string[] | undefined): string[] => [...new Set((ids ?? []).map((id) => id.trim().toLowerCase()))];

/**
 * What every publish makes sure of: the seed settings, and what the registry says this app granted
 * on the gallery to tenants that are active (a gallery a tenant asked for but was refused, and a
 * tenant being offboarded, are not targets).
 */
async function registeredTargets(services: Services, galleryId: string): Promise<ShareTargets> {
  const subscriptionIds = new Set(services.config.shareSubscriptionIds);
  const tenantIds = new Set(services.config.shareTenantIds);
  const active = new Set((await services.registry.listTenants()).filter(({ record }) => record.state === "active").map(({ record }) => record.tenantId.toLowerCase()));
  for (const grant of await services.registry.listGrants(galleryId)) {
    if (!active.has(grant.tenantId.toLowerCase()) || !sameResourceId(grant.galleryId, galleryId)) continue;
    if (grant.kind === "subscription") subscriptionIds.add(grant.targetId.toLowerCase());
    if (grant.kind === "tenant") tenantIds.add(grant.targetId.toLowerCase());
  }
  return { subscriptionIds: [...subscriptionIds], tenantIds: [...tenantIds] };
}

export function createApplyShareChanges(services: Services) {
  return (input: ApplyShareChangesInput): Promise<ActivityResult<AppliedShareChanges>> =>
    runActivity(async () => {
      const galleryId = managedGalleryId(services.config, input.galleryId);
      const ref = parseGalleryId(galleryId);
      const client = services.arm.compute(ref.subscriptionId);
      const read = async (): Promise<{ permissions?: string; current: ShareTargets; community?: { enabled: boolean; publicName?: string } }> => {
        const gallery = await client.galleries.get(ref.resourceGroup, ref.gallery, { expand: "SharingProfile/Groups" });
        const groups = gallery.sharingProfile?.groups ?? [];
        const ids = (type: string): string[] => lower(groups.filter((g) => g.type?.toLowerCase() === type.toLowerCase()).flatMap((g) => g.ids ?? []));
        const info = gallery.sharingProfile?.communityGalleryInfo;
        return {
          ...(gallery.sharingProfile?.permissions ? { permissions: gallery.sharingProfile.permissions } : {}),
          current: { subscriptionIds: ids("Subscriptions"), tenantIds: ids("AADTenants") },
          ...(info ? { community: { enabled: info.communityGalleryEnabled === true, ...(info.publicNames?.[0] ? { publicName: info.publicNames[0] } : {}) } } : {}),
        };
      };
      const registered = input.changes.some((c) => c.ensureRegistered) ? await registeredTargets(services, galleryId) : { subscriptionIds: [], tenantIds: [] };
      // Nothing asked of the gallery at all (say, a publish with no registered targets): do not touch it.
      const asked = (c: ShareChange): number =>
        [c.add?.subscriptionIds, c.add?.tenantIds, c.remove?.subscriptionIds, c.remove?.tenantIds].reduce((n, ids) => n + (ids?.length ?? 0), 0) +
        (c.ensureRegistered ? registered.subscriptionIds.length + registered.tenantIds.length : 0);
      // (A publish always looks at the gallery: a community gallery needs publishing even with no targets.)
      if (input.changes.every((c) => asked(c) === 0 && !c.ensureRegistered)) {
        return { results: input.changes.map((c) => ({ requestId: c.requestId, result: "applied" as const, added: EMPTY, alreadyShared: EMPTY, removed: EMPTY })), shareCalls: 0 };
      }
      const profile = await read();
      const { permissions, current } = profile;
      if (permissions?.toLowerCase() === "community") return applyToCommunityGallery(profile);
      // An encrypted version cannot be directly shared: its publish is refused while the gallery has
      // (or its registry says it should have) any direct-sharing target.
      const sharedAtAll = [current, registered].some((t) => t.subscriptionIds.length + t.tenantIds.length > 0);
      const refused = new Map<string, string>();
      for (const c of input.changes) {
        if (c.encrypted && sharedAtAll) refused.set(c.requestId, "encrypted-version: an image version with encryption settings cannot be directly shared, and this gallery is directly shared");
      }
      const requests: ShareChangeRequest[] = input.changes.filter((c) => !refused.has(c.requestId)).map((c) => toRequest(c, registered));

      /**
       * A community gallery is public to all of Azure: a publish makes sure it is published to the
       * community (EnableCommunity, once); a change for a tenant is refused, naming the rule.
       */
      async function applyToCommunityGallery(before: Awaited<ReturnType<typeof read>>): Promise<AppliedShareChanges> {
        let shareCalls = 0;
        if (input.changes.some((c) => c.ensureRegistered) && !before.community?.enabled) {
          try {
            await client.gallerySharingProfile.update(ref.resourceGroup, ref.gallery, { operationType: "EnableCommunity" });
          } catch (err) {
            if (!endedWithEmptyBody(err)) throw err;
          }
          shareCalls = 1;
        }
        const after = shareCalls > 0 ? await read() : before;
        const results = input.changes.map((c) =>
          c.ensureRegistered && asked({ ...c, ensureRegistered: false }) === 0
            ? { requestId: c.requestId, result: "applied" as const, added: EMPTY, alreadyShared: EMPTY, removed: EMPTY }
            : rejected(c.requestId, `community-gallery: ${ref.gallery} is a community gallery, public to all of Azure; direct and rbac onboarding do not apply to it`),
        );
        return { results, shareCalls, ...(after.community?.publicName ? { communityPublicName: after.community.publicName } : {}) };
      }
      const merged = mergeShareRequests(current, requests, services.config.shareLimits);
      const operations = merged.operations;
      // Nothing to change: no call, whatever the gallery's settings (a publish with no targets).
      if (operations.length > 0 && permissions?.toLowerCase() !== "groups") {
        const reason = permissionsNotGroupsReason(permissions);
        return { results: input.changes.map((c) => rejected(c.requestId, refused.get(c.requestId) ?? reason)), shareCalls: 0 };
      }
      let remainingHeader: string | undefined;
      for (const operation of operations) {
        try {
          await client.gallerySharingProfile.update(ref.resourceGroup, ref.gallery, operation, {
            onResponse: (response) => {
              remainingHeader = response.headers.get("x-ms-ratelimit-remaining-resource") ?? remainingHeader;
            },
          });
        } catch (err) {
          if (!endedWithEmptyBody(err)) throw err;
          // ARM may end the share LRO with an empty 200 body, which @azure/arm-compute 25 fails to
          // deserialize although the share succeeded: confirm by reading the profile back.
          const after = (await read()).current;
          const missing = operation.groups.some((g) => g.ids.some((id) => (operation.operationType === "Add") !== (g.type === "Subscriptions" ? after.subscriptionIds : after.tenantIds).includes(id)));
          if (missing) throw new Error("the share call ended with an empty result and the gallery does not show the change");
        }
      }
      const has = (ids: readonly string[], id: string): boolean => ids.includes(id);
      const results = merged.results.map((r, i) => {
        const request = requests[i]!;
        if (r.result === "rejected") return rejected(r.requestId, r.reason ?? "rejected");
        const asked = { subscriptionIds: lower(request.add?.subscriptionIds), tenantIds: lower(request.add?.tenantIds) };
        const asRemoved = { subscriptionIds: lower(request.remove?.subscriptionIds), tenantIds: lower(request.remove?.tenantIds) };
        return {
          requestId: r.requestId,
          result: "applied" as const,
          added: { subscriptionIds: asked.subscriptionIds.filter((id) => !has(current.subscriptionIds, id)), tenantIds: asked.tenantIds.filter((id) => !has(current.tenantIds, id)) },
          alreadyShared: { subscriptionIds: asked.subscriptionIds.filter((id) => has(current.subscriptionIds, id)), tenantIds: asked.tenantIds.filter((id) => has(current.tenantIds, id)) },
          removed: { subscriptionIds: asRemoved.subscriptionIds.filter((id) => has(current.subscriptionIds, id)), tenantIds: asRemoved.tenantIds.filter((id) => has(current.tenantIds, id)) },
        };
      });
      const all = input.changes.map((c) => (refused.has(c.requestId) ? rejected(c.requestId, refused.get(c.requestId) ?? "") : results.find((r) => r.requestId === c.requestId) ?? rejected(c.requestId, "internal: no result")));
      return { results: all, shareCalls: operations.length, ...(remainingHeader ? { remainingHeader } : {}) };
    });
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
