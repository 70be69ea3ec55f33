// The control plane: seed the world, publish versions, script faults, read what happened.
// Everything here is also reachable over HTTPS under /_emulator (see controlRoutes.ts).
import { VirtualClock } from "../clock";
import { putGallery, putImage, putVersion } from "./arm/galleries";
import { latestVersion } from "./arm/imageReference";
import { isReplicatedIn } from "./arm/replication";
import { findRegion } from "./arm/regions";
import { createAssignment } from "./arm/roleAssignments";
import { findRole } from "./authz";
import type { Ctx } from "./context";
import type { Core } from "./core";
import type { CreationStats } from "./creations";
import * as directory from "./directory";
import { audienceFromScope, issueToken } from "./entra/tokens";
import type { FaultSpec } from "./faults";
import type { JsonObject } from "./http";
import type { RequestLogEntry } from "./record";
import { key, type GalleryPermissions } from "./store";

export type BuiltInRoleName = "Owner" | "Contributor" | "Reader" | "Compute Gallery Sharing Admin" | "User Access Administrator";

export interface GallerySpec {
  subscriptionId: string;
  resourceGroup: string;
  gallery: string;
  location: string;
  permissions?: GalleryPermissions;
  /** Required for permissions "Community". */
  communityGalleryInfo?: { publisherUri: string; publisherContact: string; eula: string; publicNamePrefix: string };
}

export interface ImageDefinitionSpec {
  subscriptionId: string;
  resourceGroup: string;
  gallery: string;
  image: string;
  location: string;
  osType?: "Linux" | "Windows";
  osState?: "Generalized" | "Specialized";
  hyperVGeneration?: "V1" | "V2";
  publisher?: string;
  offer?: string;
  sku?: string;
}

export interface PublishSpec {
  subscriptionId: string;
  resourceGroup: string;
  gallery: string;
  image: string;
  version: string;
  /** Default: the gallery's location. */
  location?: string;
  /** Names or display names; the gallery's region is added first when missing. */
  targetRegions: string[];
  /** Exact replication minutes per region (no jitter). */
  regionMinutes?: Record<string, number>;
  /** Regions whose replication fails halfway, with the details text. */
  failRegions?: Record<string, string>;
  /** Give every target region a disk encryption set (direct / community sharing then hide it). */
  encrypted?: boolean;
  excludeFromLatest?: boolean;
}

export interface ShareSpec {
  subscriptionId: string;
  resourceGroup: string;
  gallery: string;
  subscriptions?: string[];
  tenants?: string[];
}

export interface VirtualNetworkSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  addressPrefix?: string;
  subnets?: { name: string; addressPrefix: string }[];
}

export interface EmulatorControl {
  addTenant(tenantId: string, displayName?: string): void;
  addSubscription(subscriptionId: string, tenantId: string, displayName?: string): void;
  addResourceGroup(subscriptionId: string, resourceGroup: string, location: string): void;
  addApp(app: { appId: string; homeTenantId: string; secret?: string; multiTenant?: boolean; displayName?: string; redirectUris?: string[] }): {
    servicePrincipalId: string;
  };
  /**
   * Lets the app authenticate with a client assertion whose iss/sub/aud match (at most 20 per app,
   * issuer + subject unique). `propagationDelayMs` (emulator clock) keeps it invisible for a while.
   */
  addFederatedCredential(appId: string, credential: directory.NewFederatedCredential): void;
  /** A user-assigned managed identity (tokens from `/msi/token` or `issueToken`). */
  addManagedIdentity(identity: { tenantId: string; clientId?: string; objectId?: string; displayName?: string }): { clientId: string; objectId: string };
  addUser(user: { tenantId: string; objectId?: string; displayName?: string }): { objectId: string };
  /** What admin consent does (also reachable via GET /{tenant}/adminconsent). */
  consent(appId: string, tenantId: string): { servicePrincipalId: string };
  /** How the tenant's admin answers the admin-consent page (default "approve"). */
  setConsentDecision(tenantId: string, decision: "approve" | "decline"): void;
  servicePrincipalId(appId: string, tenantId: string): string | undefined;
  /** `role` is a built-in role name or role definition id; returns the assignment name. */
  /** A custom role definition (as infra/app/gallery-rbac.bicep declares one); returns its GUID, which addRoleAssignment takes. */
  addCustomRole(r: { roleName: string; description?: string; actions: readonly string[]; assignableScopes: readonly string[] }): string;
  addRoleAssignment(a: { scope: string; principalId: string; role: BuiltInRoleName | string }): string;
  /** What `latest` of an image resolves to in a region now, as a VM create would (undefined: no usable version). */
  latestVersion(a: { subscriptionId: string; resourceGroup: string; gallery: string; image: string; region: string }): string | undefined;
  createGallery(a: GallerySpec): void;
  createImageDefinition(a: ImageDefinitionSpec): void;
  /** Writes a version as its PUT does: replication starts on the shared clock. Returns the version id. */
  publishVersion(a: PublishSpec): string;
  /**
   * Scripts replication for image versions the app writes itself (PUT over HTTP): matching PUTs
   * (any field omitted = any) use these exact minutes / failing regions. Latest rule wins; reset() clears.
   */
  scriptReplication(rule: {
    gallery?: string;
    image?: string;
    version?: string;
    regionMinutes?: Record<string, number>;
    failRegions?: Record<string, string>;
  }): void;
  /** Adds sharing targets at once (no operation), e.g. to seed a world that is already shared. */
  shareGallery(a: ShareSpec): void;
  createVirtualNetwork(a: VirtualNetworkSpec): string;
  /** A signed access token as Entra would issue it (for a service principal, managed identity or user). */
  issueToken(a: { tenantId: string; appId?: string; objectId?: string; scope?: string }): string;
  fault(f: FaultSpec): string;
  removeFault(id: string): boolean;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  /**
   * VM and scale-set creations in flight: a create counts from its 201 until its operation ends
   * (polled to completion, or its simulated duration passed). `maxInFlight` is the most at once.
   */
  creations(): CreationStats;
  /** Restarts the maximum and the totals from what is in flight now. */
  resetCreations(): void;
  receivedEvents(topic?: string): unknown[];
  /**
   * Azure Resource Notifications events emitted so far (CreatedOrUpdated when an image version's
   * write succeeds), in the Event Grid schema; `onResourceNotification` hears each as it happens.
   */
  resourceNotifications(): unknown[];
  onResourceNotification(listener: (event: unknown) => void): () => void;
  /** Emulator clock time (ms). */
  now(): number;
  /** Moves a VirtualClock forward; throws for other clocks. */
  advance(ms: number): void;
  /** Empties the world, faults, log, operations and throttling state (then re-seeds `world`, if given). */
  reset(): void;
}

export function createControl(core: Core, reseed: (control: EmulatorControl) => void): EmulatorControl {
  const ctx = (): Ctx => {
    core.ops.settle();
    return { core, apiVersion: "2025-03-03" };
  };
  const control: EmulatorControl = {
    addTenant: (tenantId, displayName) => directory.addTenant(core, tenantId, displayName),
    addSubscription: (subscriptionId, tenantId, displayName) => directory.addSubscription(core, subscriptionId, tenantId, displayName),
    addResourceGroup(subscriptionId, resourceGroup, location) {
      if (!core.world.subscriptions.has(subscriptionId.toLowerCase())) throw new Error(`unknown subscription ${subscriptionId}: addSubscription first`);
      const region = findRegion(location);
      if (!region) throw new Error(`unknown location ${location}`);
      core.world.resourceGroups.set(key(subscriptionId, resourceGroup), {
        subscriptionId: subscriptionId.toLowerCase(),
        name: resourceGroup,
        location: region.name,
      });
    },
    addApp: (app) => directory.addApp(core, app),
    addFederatedCredential: (appId, credential) => directory.addFederatedCredential(core, appId, credential),
    addManagedIdentity: (identity) => directory.addManagedIdentity(core, identity),
    addUser: (user) => directory.addUser(core, user),
    consent: (appId, tenantId) => directory.consent(core, appId, tenantId),
    setConsentDecision(tenantId, decision) {
      const t = core.world.tenants.get(tenantId.toLowerCase());
      if (!t) throw new Error(`unknown tenant ${tenantId}`);
      t.consentDecision = decision;
    },
    servicePrincipalId: (appId, tenantId) => core.world.servicePrincipalId(appId, tenantId),
    addCustomRole(r) {
      const guid = core.guid("custom-role", r.roleName);
      core.world.customRoles.set(guid, {
        guid,
        roleName: r.roleName,
        description: r.description ?? "",
        actions: [...r.actions],
        notActions: [],
        assignableScopes: [...r.assignableScopes],
      });
      return guid;
    },
    latestVersion(a) {
      const img = core.world.gallery(a.subscriptionId, a.resourceGroup, a.gallery)?.images.get(a.image.toLowerCase());
      const region = findRegion(a.region)?.name ?? a.region;
      const now = core.clock.now();
      return img ? latestVersion(img, region, (v) => v.provisioning.state !== "Deleting" && isReplicatedIn(v, region, now))?.name : undefined;
    },
    addRoleAssignment(a) {
      const role = findRole(a.role, core.world.customRoles.values());
      if (!role) throw new Error(`unknown role ${a.role}`);
      return createAssignment(core, { scope: a.scope, principalId: a.principalId, roleDefinition: role.guid }).assignment.name;
    },
    createGallery(a) {
      const c = ctx();
      const sharingProfile: JsonObject = {};
      if (a.permissions) sharingProfile.permissions = a.permissions;
      if (a.communityGalleryInfo) sharingProfile.communityGalleryInfo = { ...a.communityGalleryInfo };
      const body: JsonObject = { location: a.location, properties: a.permissions ? { sharingProfile } : {} };
      const { op } = putGallery(c, { subscriptionId: a.subscriptionId, resourceGroup: a.resourceGroup, gallery: a.gallery }, body);
      core.ops.finish(op);
    },
    createImageDefinition(a) {
      const c = ctx();
      const body: JsonObject = {
        location: a.location,
        properties: {
          osType: a.osType ?? "Linux",
          osState: a.osState ?? "Generalized",
          hyperVGeneration: a.hyperVGeneration ?? "V2",
          identifier: { publisher: a.publisher ?? "publisher", offer: a.offer ?? a.image, sku: a.sku ?? "default" },
        },
      };
      const { op } = putImage(c, { subscriptionId: a.subscriptionId, resourceGroup: a.resourceGroup, gallery: a.gallery, image: a.image }, body);
      core.ops.finish(op);
    },
    publishVersion(a) {
      const c = ctx();
      const g = core.world.gallery(a.subscriptionId, a.resourceGroup, a.gallery);
      if (!g) throw new Error(`unknown gallery ${a.gallery}`);
      const home = g.location;
      const names = a.targetRegions.map((r) => findRegion(r)?.name ?? r);
      const regions = names.includes(home) ? names : [home, ...names];
      const targetRegions = regions.map((name) => ({
        name,
        regionalReplicaCount: 1,
        storageAccountType: "Standard_LRS",
        ...(a.encrypted
          ? {
              encryption: {
                osDiskImage: {
                  diskEncryptionSetId: `/subscriptions/${a.subscriptionId}/resourceGroups/${a.resourceGroup}/providers/Microsoft.Compute/diskEncryptionSets/des-${name}`,
                },
              },
            }
          : {}),
      }));
      const source = `/subscriptions/${a.subscriptionId}/resourceGroups/${a.resourceGroup}/providers/Microsoft.Compute/images/${a.image}-${a.version}`;
      const body: JsonObject = {
        location: a.location ?? home,
        properties: {
          publishingProfile: { targetRegions, replicaCount: 1, ...(a.excludeFromLatest !== undefined ? { excludeFromLatest: a.excludeFromLatest } : {}) },
          storageProfile: { source: { id: source } },
        },
      };
      const script = { ...(a.regionMinutes ? { regionMinutes: a.regionMinutes } : {}), ...(a.failRegions ? { failRegions: a.failRegions } : {}) };
      putVersion(c, { subscriptionId: a.subscriptionId, resourceGroup: a.resourceGroup, gallery: a.gallery, image: a.image, version: a.version }, body, script);
      return `/subscriptions/${g.subscriptionId}/resourceGroups/${g.resourceGroup}/providers/Microsoft.Compute/galleries/${g.name}/images/${a.image}/versions/${a.version}`;
    },
    scriptReplication(rule) {
      core.replicationScripts.push({ ...rule });
    },
    shareGallery(a) {
      ctx();
      const g = core.world.gallery(a.subscriptionId, a.resourceGroup, a.gallery);
      if (!g) throw new Error(`unknown gallery ${a.gallery}`);
      if (g.permissions !== "Groups") throw new Error(`gallery ${a.gallery} is not a Groups gallery`);
      g.sharedSubscriptions = [...new Set([...g.sharedSubscriptions, ...(a.subscriptions ?? []).map((s) => s.toLowerCase())])];
      g.sharedTenants = [...new Set([...g.sharedTenants, ...(a.tenants ?? []).map((t) => t.toLowerCase())])];
    },
    createVirtualNetwork(a) {
      const rg = core.world.resourceGroup(a.subscriptionId, a.resourceGroup);
      if (!rg) throw new Error(`unknown resource group ${a.resourceGroup}`);
      const region = findRegion(a.location);
      if (!region) throw new Error(`unknown location ${a.location}`);
      const k = key(a.subscriptionId, a.resourceGroup, a.name);
      core.world.virtualNetworks.set(k, {
        subscriptionId: a.subscriptionId.toLowerCase(),
        resourceGroup: rg.name,
        name: a.name,
        location: region.name,
        addressPrefixes: [a.addressPrefix ?? "10.0.0.0/16"],
        subnets: a.subnets ?? [{ name: "default", addressPrefix: "10.0.0.0/24" }],
        resourceGuid: core.guid("vnet", k),
      });
      return `/subscriptions/${a.subscriptionId}/resourceGroups/${rg.name}/providers/Microsoft.Network/virtualNetworks/${a.name}`;
    },
    issueToken(a) {
      const tenantId = a.tenantId.toLowerCase();
      let objectId = a.objectId?.toLowerCase();
      let appId = a.appId?.toLowerCase();
      if (!objectId && appId) objectId = core.world.servicePrincipalId(appId, tenantId);
      const principal = objectId ? core.world.principals.get(objectId) : undefined;
      if (!principal || principal.tenantId !== tenantId) throw new Error(`no principal ${a.objectId ?? a.appId ?? ""} in tenant ${a.tenantId}`);
      appId ??= principal.appId;
      const audience = audienceFromScope(a.scope ?? "https://management.azure.com/.default");
      return issueToken(core, {
        tenantId,
        objectId: principal.objectId,
        ...(appId ? { appId } : {}),
        audience,
        ...(principal.type === "User" ? { idtyp: "user" } : {}),
      }).token;
    },
    fault: (f) => core.faults.add(f),
    removeFault: (id) => core.faults.remove(id),
    clearFaults: () => core.faults.clear(),
    requestLog: () => core.recorder.all(),
    clearRequestLog: () => core.recorder.clear(),
    creations: () => {
      core.ops.settle();
      return core.creations.stats();
    },
    resetCreations: () => core.creations.resetStats(),
    resourceNotifications() {
      ctx();
      return core.notifications.list();
    },
    onResourceNotification(listener) {
      return core.notifications.subscribe(listener);
    },
    receivedEvents(topic) {
      if (topic !== undefined) return [...(core.world.events.get(topic.toLowerCase()) ?? [])];
      return [...core.world.events.values()].flat();
    },
    now: () => core.clock.now(),
    advance(ms) {
      if (!(core.clock instanceof VirtualClock)) throw new Error("advance() needs a VirtualClock");
      core.clock.advance(ms);
    },
    reset() {
      core.reset();
      reseed(control);
    },
  };
  return control;
}
