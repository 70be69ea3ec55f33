// rbac mode, the app registration both tenants use (Microsoft's cross-tenant sharing docs):
// 1. createConsentRequest: the consumer's administrator must consent to the multi-tenant app in
//    their tenant. The link's `state` is HMAC-signed, expires, and is bound to this orchestration and
//    this tenant; it is kept on the tenant's record (consent-pending), and the callback accepts it
//    once (src/app.ts, consentCallback).
// 2. verifyRbacAccess: after consent, from the consumer tenant with the federated credential: the
//    app's effective permissions on the consumer resource group include what creating a VM from the
//    image needs (any missing action named exactly: Contributor alone was not always enough), and the
//    gallery's newest version is readable with the app's publisher-tenant token.
import { randomUUID } from "node:crypto";
import type { Services } from "../services";
import { adminConsentUrl } from "../domain/adminConsent";
import { createConsentState } from "../domain/consentState";
import { parseGalleryId } from "../domain/resourceIds";
import { transition } from "../domain/tenantLifecycle";
import { ActivityRuleError, runActivity } from "./activityResult";
import type { ActivityResult, ConsentRequestInput, ConsentRequestResult, RbacAccess, RbacAccessInput } from "./descriptors";
import { managedGalleryId } from "./managedGallery";

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

export function createCreateConsentRequest(services: Services) {
  return (input: ConsentRequestInput): Promise<ActivityResult<ConsentRequestResult>> =>
    runActivity(async () => {
      const { config, registry } = services;
      if (!config.crossTenant) throw new ActivityRuleError("CrossTenantAppNotConfigured", "rbac mode needs CROSS_TENANT_APP_ID, the multi-tenant app the consumer consents to");
      if (!config.consent.stateKey) throw new ActivityRuleError("ConsentNotConfigured", "rbac mode needs CONSENT_STATE_KEY, the key that signs consent links");
      if (!config.consent.publicBaseUrl) throw new ActivityRuleError("ConsentNotConfigured", "rbac mode needs PUBLIC_BASE_URL (or WEBSITE_HOSTNAME) to build the consent callback address");
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
    });
}

export function createVerifyRbacAccess(services: Services) {
  return (input: RbacAccessInput): Promise<ActivityResult<RbacAccess>> =>
    runActivity(async () => {
      const galleryId = managedGalleryId(services.config, input.galleryId);
      const ref = parseGalleryId(galleryId);
      const gallery = await services.arm.compute(ref.subscriptionId).galleries.get(ref.resourceGroup, ref.gallery, { expand: "SharingProfile/Groups" });
      if (gallery.sharingProfile?.permissions?.toLowerCase() === "community") {
        throw new ActivityRuleError("community-gallery", `${ref.gallery} is a community gallery, public to all of Azure; direct and rbac onboarding do not apply to it`);
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
    });
}

/** Whether a list of action patterns (with `*` wildcards, case-insensitive) covers an action. */
export function allows(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action));
}
