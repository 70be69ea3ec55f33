// The emulated world: directory objects (tenants, apps, service principals) and ARM resources.
// Plain data in maps keyed by lower-cased names, because ARM names and ids are case-insensitive.
import type { JsonObject } from "./http";

export type ProvisioningState = "Creating" | "Updating" | "Deleting" | "Succeeded" | "Failed";
export type PrincipalType = "ServicePrincipal" | "User" | "Group";
export type GalleryPermissions = "Private" | "Groups" | "Community";

export interface Tenant {
  id: string;
  displayName: string;
  /** What the tenant's admin answers on the admin-consent page. */
  consentDecision: "approve" | "decline";
}

export interface Subscription {
  id: string;
  tenantId: string;
  displayName: string;
}

export interface ResourceGroup {
  subscriptionId: string;
  name: string;
  location: string;
}

export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  /** Emulator-clock time (ms) from which token requests see it; earlier it is still propagating. */
  activeFrom: number;
}

export interface App {
  appId: string;
  homeTenantId: string;
  displayName: string;
  secrets: string[];
  multiTenant: boolean;
  /** Empty = any redirect URI accepted by admin consent. */
  redirectUris: string[];
  federatedCredentials: FederatedCredential[];
}

export interface Principal {
  objectId: string;
  tenantId: string;
  type: PrincipalType;
  displayName: string;
  /** Set for service principals (apps and managed identities). */
  appId?: string;
  managedIdentity?: boolean;
}

export interface RoleAssignment {
  name: string;
  scope: string;
  principalId: string;
  principalType: PrincipalType;
  roleDefinitionGuid: string;
  /** The subscription in whose roleDefinitions path the role was named (for echoing it back). */
  roleDefinitionSubscription?: string;
  description?: string;
  createdOn: number;
  updatedOn: number;
  createdBy?: string;
}

export interface Provisioning {
  state: ProvisioningState;
  /** Operation currently changing the resource. */
  opId?: string;
  /** Why the last operation failed: a VM's instance view reports it (`ProvisioningState/failed/{code}`). */
  error?: { code: string; message: string };
}

export interface Gallery {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  description?: string;
  permissions: GalleryPermissions;
  /** Whether the sharingProfile block is reported (real galleries created without one omit it). */
  sharingProfileShown: boolean;
  sharedSubscriptions: string[];
  sharedTenants: string[];
  community?: { info: JsonObject; enabled: boolean; publicNames: string[] };
  softDeletePolicy?: JsonObject;
  provisioning: Provisioning;
  images: Map<string, GalleryImage>;
}

export interface GalleryImage {
  name: string;
  location: string;
  tags?: Record<string, string>;
  properties: JsonObject;
  provisioning: Provisioning;
  versions: Map<string, GalleryImageVersion>;
}

export interface RegionReplication {
  name: string;
  displayName: string;
  regionalReplicaCount: number;
  storageAccountType: string;
  encryption?: unknown;
  excludeFromLatest?: boolean;
  /** Clock times (ms) of this region's replication. */
  startAt: number;
  endAt: number;
  /** When set, replication stops at this time with state Failed. */
  failAt?: number;
  failDetails?: string;
}

export interface GalleryImageVersion {
  name: string;
  location: string;
  tags?: Record<string, string>;
  publishedAt: number;
  replicaCount: number;
  storageAccountType: string;
  excludeFromLatest: boolean;
  endOfLifeDate?: string;
  storageProfile: JsonObject;
  safetyProfile?: JsonObject;
  regions: RegionReplication[];
  provisioning: Provisioning;
}

export interface NetworkInterface {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  properties: JsonObject;
  resourceGuid: string;
  provisioning: Provisioning;
}

export interface VirtualNetwork {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  addressPrefixes: string[];
  subnets: { name: string; addressPrefix: string }[];
  resourceGuid: string;
}

export interface VirtualMachine {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  properties: JsonObject;
  vmId: string;
  timeCreated: number;
  provisioning: Provisioning;
  /** For an instance of a Flexible scale set: key(subscription, resource group, scale set). */
  scaleSet?: string;
}

export type OrchestrationMode = "Uniform" | "Flexible";
export type UpgradeMode = "Automatic" | "Rolling" | "Manual";

/** One VM of a scale set (Uniform: only reachable through the scale set; Flexible: also a VM resource). */
export interface ScaleSetInstance {
  /** Uniform: "0", "1", ...; Flexible: the VM's name. */
  instanceId: string;
  name: string;
  vmId: string;
  /** The scale set model version this instance runs (latestModelApplied = this equals the set's modelVersion). */
  modelVersion: number;
  /** What the instance was built from: the model's reference plus `exactVersion`. */
  imageReference: JsonObject;
  osType: string;
  timeCreated: number;
  provisioning: Provisioning;
}

export interface VirtualMachineScaleSet {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  sku: { name?: string; tier?: string; capacity: number };
  orchestrationMode: OrchestrationMode;
  /** Stored request properties (upgradePolicy, virtualMachineProfile, overprovision, ...). */
  properties: JsonObject;
  /** Incremented on every change of virtualMachineProfile. */
  modelVersion: number;
  uniqueId: string;
  timeCreated: number;
  provisioning: Provisioning;
  instances: ScaleSetInstance[];
  nextInstanceId: number;
}

export function key(...parts: string[]): string {
  return parts.map((p) => p.toLowerCase()).join("|");
}

/** A custom role: its actions, and the scopes it may be assigned at (at or below). */
export interface CustomRoleDefinition {
  guid: string;
  roleName: string;
  description: string;
  actions: string[];
  notActions: string[];
  assignableScopes: string[];
}

export class World {
  readonly tenants = new Map<string, Tenant>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly resourceGroups = new Map<string, ResourceGroup>();
  readonly apps = new Map<string, App>();
  /** By object id. */
  readonly principals = new Map<string, Principal>();
  /** Service principal object id by key(tenantId, appId). */
  readonly servicePrincipals = new Map<string, string>();
  /** By lower-cased full id. */
  readonly roleAssignments = new Map<string, RoleAssignment>();
  /** Custom role definitions (EmulatorControl.addCustomRole), by GUID. */
  readonly customRoles = new Map<string, CustomRoleDefinition>();
  /** By key(subscriptionId, resourceGroup, gallery). */
  readonly galleries = new Map<string, Gallery>();
  readonly virtualNetworks = new Map<string, VirtualNetwork>();
  readonly networkInterfaces = new Map<string, NetworkInterface>();
  readonly virtualMachines = new Map<string, VirtualMachine>();
  readonly virtualMachineScaleSets = new Map<string, VirtualMachineScaleSet>();
  /** Outcome events received on the Event Grid stand-in, by lower-cased topic. */
  readonly events = new Map<string, unknown[]>();

  resourceGroup(subscriptionId: string, name: string): ResourceGroup | undefined {
    return this.resourceGroups.get(key(subscriptionId, name));
  }

  gallery(subscriptionId: string, resourceGroup: string, name: string): Gallery | undefined {
    return this.galleries.get(key(subscriptionId, resourceGroup, name));
  }

  galleryByUniqueName(uniqueName: string): Gallery | undefined {
    for (const g of this.galleries.values()) if (uniqueNameOf(g).toLowerCase() === uniqueName.toLowerCase()) return g;
    return undefined;
  }

  servicePrincipalId(appId: string, tenantId: string): string | undefined {
    return this.servicePrincipals.get(key(tenantId, appId));
  }
}

/** `<subscriptionId>-<GALLERY NAME UPPER-CASED>`, as real galleries report `identifier.uniqueName`. */
export function uniqueNameOf(g: Gallery): string {
  return `${g.subscriptionId}-${g.name.toUpperCase()}`;
}

export function galleryId(g: Pick<Gallery, "subscriptionId" | "resourceGroup" | "name">): string {
  return `/subscriptions/${g.subscriptionId}/resourceGroups/${g.resourceGroup}/providers/Microsoft.Compute/galleries/${g.name}`;
}
