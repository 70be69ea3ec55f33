// Reader on a gallery for a principal (principal mode: a user, B2B guest, group or service
// principal), and taking it away again. The role assignment's name is a GUID derived from the
// scope, the principal and the role, so running twice makes one assignment; 409
// RoleAssignmentExists counts as done. principalType is always sent: a principal created moments
// ago is not found otherwise (replication delay, 400 PrincipalNotFound).
import type { Services } from "../services";
import { stableGuid } from "../domain/instanceIds";
import { normalizeResourceId, parseGalleryId } from "../domain/resourceIds";
import { runActivity } from "./activityResult";
import type { ActivityResult, GalleryReaderInput, GalleryReaderResult } from "./descriptors";
import { managedGalleryId } from "./managedGallery";

/** Azure's built-in Reader role. */
export const READER_ROLE_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

export function readerAssignmentName(galleryId: string, principalId: string): string {
  return stableGuid(`${normalizeResourceId(galleryId)}|${principalId.toLowerCase()}|${READER_ROLE_ID}`);
}

function isCode(err: unknown, code: string): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; statusCode?: unknown };
  return e.code === code;
}

export function createEnsureGalleryReader(services: Services) {
  return (input: GalleryReaderInput): Promise<ActivityResult<GalleryReaderResult>> =>
    runActivity(async () => {
      const galleryId = managedGalleryId(services.config, input.galleryId);
      const { subscriptionId } = parseGalleryId(galleryId);
      const name = readerAssignmentName(galleryId, input.principalId);
      const roleAssignmentId = `${galleryId}/providers/Microsoft.Authorization/roleAssignments/${name}`;
      const client = services.arm.authorization(subscriptionId);
      try {
        await client.roleAssignments.create(galleryId, name, {
          roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`,
          principalId: input.principalId.toLowerCase(),
          principalType: input.principalType,
        });
        return { roleAssignmentId, created: true };
      } catch (err) {
        // The same role for the same principal at this scope exists (ours from an earlier run, or someone's).
        if (isCode(err, "RoleAssignmentExists")) return { roleAssignmentId, created: false };
        throw err;
      }
    });
}

/**
 * Reader on a gallery for the multi-tenant app's own service principal in the publisher tenant (rbac
 * mode: VM creation in a consumer tenant reads the image with that principal's token). Its object id
 * is the `oid` of the app's own token there: no directory lookup needed.
 */
export function createEnsureAppReader(services: Services) {
  const ensure = createEnsureGalleryReader(services);
  return async (input: { galleryId: string }): Promise<ActivityResult<GalleryReaderResult>> => {
    const who = await runActivity(async () => {
      const token = await services.credentials.crossTenant(services.config.tenantId).getToken(`${services.config.armEndpoint}/.default`);
      const oid = token ? objectIdOf(token.token) : undefined;
      if (!oid) throw new Error("the app's token in the publisher tenant carries no object id");
      return oid;
    });
    if (!who.ok) return who;
    return ensure({ galleryId: input.galleryId, principalId: who.value, principalType: "ServicePrincipal" });
  };
}

/** The `oid` claim of a JWT (read, not verified: it is our own token, just issued to us). */
function objectIdOf(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { oid?: unknown };
    return typeof payload.oid === "string" ? payload.oid : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes one role assignment this app made, by the id the registry recorded; a missing one is fine (204). */
export function createRemoveRoleAssignment(services: Services) {
  return (input: { roleAssignmentId: string }): Promise<ActivityResult<{ removed: boolean }>> =>
    runActivity(async () => {
      const galleryId = input.roleAssignmentId.split("/providers/Microsoft.Authorization/")[0] ?? "";
      managedGalleryId(services.config, galleryId);
      const { subscriptionId } = parseGalleryId(galleryId);
      const deleted = await services.arm.authorization(subscriptionId).roleAssignments.deleteById(input.roleAssignmentId);
      return { removed: deleted !== undefined && Object.keys(deleted).length > 0 };
    });
}
