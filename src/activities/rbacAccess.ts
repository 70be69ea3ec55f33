// rbac mode and the Reader role: the app registration both tenants use (Microsoft's cross-tenant
// sharing docs), and the role assignments that give principals read access to a gallery.
// 1. createConsentRequest: the consumer's administrator must consent to the multi-tenant app in
//    their tenant. The link's `state` is HMAC-signed, expires, and is bound to this orchestration and
//    this tenant; it is kept on the tenant's record (consent-pending), and the callback accepts it
//    once (src/functions/consentPages.ts).
// 2. verifyRbacAccess: after consent, from the consumer tenant with the federated credential: the
//    app's effective permissions on the consumer resource group include what creating a VM from the
//    image needs (any missing action named exactly: Contributor alone was not always enough), and the
//    gallery's newest version is readable with the app's publisher-tenant token.
// 3. ensureGalleryReader / ensureAppReader / removeRoleAssignment: Reader on a gallery for a
//    principal (principal mode) or for the app's own service principal (rbac mode), with
//    deterministic assignment names, so a repeat finds its own assignment.
import { randomUUID } from "node:crypto";
import type { Services } from "../services";

import { adminConsentUrl } from "../domain/adminConsent";
import { createConsentState } from "../domain/consentState";
import { stableGuid } from "../domain/instanceIds";
import { normalizeResourceId, parseGalleryId, sameResourceId } from "../domain/resourceIds";
import type { PrincipalType } from "../domain/tenantModel";
import { transition } from "../domain/tenantLifecycle";
import { WRITE_RESERVE } from "../domain/writeBudget";
import { ActivityRuleError, heldBackWrite, runActivity } from "./activity";
import { managedGalleryId } from "./managedGallery";

export interface GalleryReaderInput {
  readonly galleryId: string;
  readonly principalId: string;
  readonly principalType: PrincipalType;
  /** The orchestration's time (ISO): the write is booked in the subscription's ARM write schedule at it. */
  readonly at?: string;
  /** A slot an earlier attempt booked (and waited for): the write goes without booking again. */
  readonly writeSlot?: number;
}

export interface GalleryReaderResult {
  /** The role assignment's resource id (deterministic: the same principal and gallery give the same id). */
  readonly roleAssignmentId: string;
  /** False when it already existed (RoleAssignmentExists counts as done). */
  readonly created: boolean;
}

export interface ConsentRequestInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly instanceId: string;
  /** ISO times: when the link was made (orchestration time) and when it stops working. */
  readonly issuedAt: string;
  readonly expiresAt: string;
}

export interface ConsentRequestResult {
  /** The page that explains who asks for what, with the button to Microsoft's consent page. */
  readonly consentPageUrl: string;
  /** Microsoft's admin-consent link itself (v2.0, scope https://management.azure.com/.default). */
  readonly adminConsentUrl: string;
}

export interface RbacAccessInput {
  readonly tenantId: string;
  readonly galleryId: string;
  readonly consumer: { readonly subscriptionId: string; readonly resourceGroup: string };
  /** The request asks for a scale set: the app must be able to make one too. */
  readonly scaleSets?: boolean;
}

export interface RbacAccess {
  /** Actions creating a VM from the image needs that the app does not hold on the consumer resource group, named exactly. */
  readonly missingActions: readonly string[];
  /** The newest version of the gallery's images, read with the app's publisher-tenant token (the auxiliary token VM creation sends). */
  readonly newestVersion?: string;
  readonly note?: string;
}

/** What creating a VM with a NIC from a gallery image in the consumer resource group needs there. */
export const VM_CREATE_ACTIONS = [
  "Microsoft.Compute/virtualMachines/write",
  "Microsoft.Compute/virtualMachines/read",
  "Microsoft.Network/networkInterfaces/write",
  "Microsoft.Network/networkInterfaces/read",
  "Microsoft.Network/networkInterfaces/join/action",
] as const;

/** What a scale set needs on top (its NICs are its own). */
export const VMSS_CREATE_ACTIONS = ["Microsoft.Compute/virtualMachineScaleSets/write", "Microsoft.Compute/virtualMachineScaleSets/read"] as const;

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

/** What these activities use of the app's services. */
type Deps = Pick<Services, "config" | "arm" | "registry" | "credentials" | "armWrites">;

export function createRbacActivities(services: Deps) {
  return {
    /** Reader on a gallery for a principal of the publisher tenant (principal mode). */
    ensureGalleryReader: (input: GalleryReaderInput) => runActivity(() => ensureReader(services, input)),
    ensureAppReader: (input: { readonly galleryId: string; readonly at?: string; readonly writeSlot?: number }) =>
      runActivity(() => ensureAppReader(services, input)),
    releaseAppReader: (input: { readonly tenantId: string; readonly galleries?: readonly string[] }) => runActivity(() => releaseAppReader(services, input)),
    removeRoleAssignment: (input: { roleAssignmentId: string }) => runActivity(() => removeRoleAssignment(services, input)),
    createConsentRequest: (input: ConsentRequestInput) => runActivity(() => createConsentRequest(services, input)),
    verifyRbacAccess: (input: RbacAccessInput) => runActivity(() => verifyRbacAccess(services, input)),
  };
}

/**
 * Reader on a gallery for the multi-tenant app's own service principal in the publisher tenant (rbac
 * mode: VM creation in a consumer tenant reads the image with that principal's token). Its object id
 * is the `oid` of the app's own token there: no directory lookup needed.
 */
async function ensureAppReader(
  services: Deps,
  input: { readonly galleryId: string; readonly at?: string; readonly writeSlot?: number },
): Promise<GalleryReaderResult> {
  return ensureReader(services, { ...input, principalId: await appObjectId(services), principalType: "ServicePrincipal" });
}

/** The object id of the app's own service principal in the publisher tenant: the `oid` of its token there. */
async function appObjectId(services: Deps): Promise<string> {
  const token = await services.credentials.crossTenant(services.config.tenantId).getToken(`${services.config.armEndpoint}/.default`);
  const oid = token ? objectIdOf(token.token) : undefined;
  if (!oid) throw new Error("the app's token in the publisher tenant carries no object id");
  return oid;
}

/**
 * An rbac tenant leaves: the app's own Reader goes from each gallery it leaves that no other rbac
 * tenant still uses (onboarding, waiting for consent or active), so onboarding and then offboarding
 * the last one leaves the gallery's role assignments as they were. Another tenant's use keeps it.
 */
async function releaseAppReader(
  services: Deps,
  input: { readonly tenantId: string; readonly galleries?: readonly string[] },
): Promise<{ removed: string[]; kept: string[] }> {
  const leaving = (await services.registry.getTenant(input.tenantId))?.record;
  if (leaving?.mode !== "rbac") return { removed: [], kept: [] };
  const galleries = leaving.galleries.filter((g) => !input.galleries || input.galleries.some((asked) => sameResourceId(asked, g)));
  const others = (await services.registry.listTenants())
    .map(({ record }) => record)
    .filter((t) => t.mode === "rbac" && t.tenantId !== leaving.tenantId && STILL_USING.has(t.state));
  const removed: string[] = [];
  const kept: string[] = [];
  for (const galleryId of galleries) {
    if (others.some((t) => t.galleries.some((g) => sameResourceId(g, galleryId)))) {
      kept.push(galleryId);
      continue;
    }
    const managed = managedGalleryId(services.config, galleryId);
    const { subscriptionId } = parseGalleryId(managed);
    const roleAssignmentId = `${managed}/providers/Microsoft.Authorization/roleAssignments/${readerAssignmentName(managed, await appObjectId(services))}`;
    await services.arm.authorization(subscriptionId).roleAssignments.deleteById(roleAssignmentId);
    removed.push(galleryId);
  }
  return { removed, kept };
}

const STILL_USING = new Set(["requested", "consent-pending", "active"]);

/** Deletes one role assignment this app made, by the id the registry recorded; a missing one is fine (204). */
async function removeRoleAssignment(services: Deps, input: { roleAssignmentId: string }): Promise<{ removed: boolean }> {
  const galleryId = input.roleAssignmentId.split("/providers/Microsoft.Authorization/")[0] ?? "";
  managedGalleryId(services.config, galleryId);
  const { subscriptionId } = parseGalleryId(galleryId);
  const deleted = await services.arm.authorization(subscriptionId).roleAssignments.deleteById(input.roleAssignmentId);
  return { removed: deleted !== undefined && Object.keys(deleted).length > 0 };
}

async function createConsentRequest(services: Deps, input: ConsentRequestInput): Promise<ConsentRequestResult> {
  const { config, registry } = services;
  if (!config.crossTenant)
    throw new ActivityRuleError("CrossTenantAppNotConfigured", "rbac mode needs CROSS_TENANT_APP_ID, the multi-tenant app the consumer consents to");
  if (!config.consent.stateKey) throw new ActivityRuleError("ConsentNotConfigured", "rbac mode needs CONSENT_STATE_KEY, the key that signs consent links");
  if (!config.consent.publicBaseUrl)
    throw new ActivityRuleError("ConsentNotConfigured", "rbac mode needs PUBLIC_BASE_URL (or WEBSITE_HOSTNAME) to build the consent callback address");
  const stored = await registry.getTenant(input.tenantId);
  // A retried activity finds its own link and keeps it (the link in an event already sent stays valid).
  if (stored?.record.state === "consent-pending" && stored.record.lastRequestId === input.requestId && stored.record.consent) {
    return { consentPageUrl: `${config.consent.publicBaseUrl}/api/consent/${input.requestId}`, adminConsentUrl: stored.record.consent.url };
  }
  const state = await createConsentState({
    key: config.consent.stateKey,
    instanceId: input.instanceId,
    requestId: input.requestId,
    tenantId: input.tenantId,
    nonce: randomUUID(),
    issuedAt: Date.parse(input.issuedAt),
    expiresAt: Date.parse(input.expiresAt),
  });
  const url = adminConsentUrl({
    authorityHost: config.authorityHost,
    consumerTenantId: input.tenantId,
    appId: config.crossTenant.appId,
    redirectUri: `${config.consent.publicBaseUrl}/api/consent/callback`,
    state,
  });
  await registry.updateTenant(input.tenantId, (current) => {
    if (!current) throw new Error(`tenant ${input.tenantId} is not in the registry`);
    return { ...transition(current, "consent-pending", { at: input.issuedAt, requestId: input.requestId }), consent: { url, expiresAt: input.expiresAt } };
  });
  return { consentPageUrl: `${config.consent.publicBaseUrl}/api/consent/${input.requestId}`, adminConsentUrl: url };
}

async function verifyRbacAccess(services: Deps, input: RbacAccessInput): Promise<RbacAccess> {
  const galleryId = managedGalleryId(services.config, input.galleryId);
  const ref = parseGalleryId(galleryId);
  const gallery = await services.arm.compute(ref.subscriptionId).galleries.get(ref.resourceGroup, ref.gallery, { expand: "SharingProfile/Groups" });
  if (gallery.sharingProfile?.permissions?.toLowerCase() === "community") {
    throw new ActivityRuleError(
      "community-gallery",
      `${ref.gallery} is a community gallery, public to all of Azure; direct and rbac onboarding do not apply to it`,
    );
  }
  // From the consumer tenant, as the multi-tenant app: what may it do in the resource group?
  const consumer = services.arm.authorization(input.consumer.subscriptionId, { tenantId: input.tenantId });
  const actions: string[] = [];
  const notActions: string[] = [];
  for await (const p of consumer.permissions.listForResourceGroup(input.consumer.resourceGroup)) {
    actions.push(...(p.actions ?? []));
    notActions.push(...(p.notActions ?? []));
  }
  const needed = [...VM_CREATE_ACTIONS, ...(input.scaleSets ? VMSS_CREATE_ACTIONS : [])];
  const missingActions = needed.filter((a) => !allows(actions, a) || allows(notActions, a));
  // In the publisher tenant, as the same app: can it read the images (what the auxiliary token proves)?
  const publisher = services.arm.compute(ref.subscriptionId, { asApp: true });
  let newestVersion: string | undefined;
  let newest = 0;
  for await (const image of publisher.galleryImages.listByGallery(ref.resourceGroup, ref.gallery)) {
    if (!image.name) continue;
    for await (const v of publisher.galleryImageVersions.listByGalleryImage(ref.resourceGroup, ref.gallery, image.name)) {
      const t = v.publishingProfile?.publishedDate ? new Date(v.publishingProfile.publishedDate).getTime() : 0;
      if (v.name && t >= newest) {
        newest = t;
        newestVersion = `${image.name}/${v.name}`;
      }
    }
  }
  return { missingActions, ...(newestVersion ? { newestVersion } : { note: "the gallery has no image version yet" }) };
}

async function ensureReader(services: Deps, input: GalleryReaderInput): Promise<GalleryReaderResult> {
  const galleryId = managedGalleryId(services.config, input.galleryId);
  const { subscriptionId } = parseGalleryId(galleryId);
  const name = readerAssignmentName(galleryId, input.principalId);
  const roleAssignmentId = `${galleryId}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  const client = services.arm.authorization(subscriptionId);
  // An onboarding wave's role assignments keep within ARM's write budget, leaving room for share calls.
  const now = input.at === undefined ? Number.NaN : Date.parse(input.at);
  if (Number.isFinite(now) && input.writeSlot === undefined) {
    const slot = await services.armWrites.reserve(subscriptionId, now, WRITE_RESERVE);
    if (slot > now) throw heldBackWrite(slot - now, slot);
  }
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

/** Whether a list of action patterns (with `*` wildcards, case-insensitive) covers an action. */
export function allows(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action));
}
