// A small, fully local world: the Azure emulator seeded with a publisher tenant (a gallery created
// with `permissions: Groups`, an image definition, the app's identity with the roles it needs) and
// consumer tenants, plus the local Functions host running the app against it. The demo, `npm run dev`
// and the end-to-end tests all start this same world.
//
// No secret anywhere, as in Azure: the app's identity is a user-assigned managed identity whose
// tokens come from the App Service identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER, as
// Functions sets them), and in other tenants the app acts as the multi-tenant app registration
// "gallery-share" (CROSS_TENANT_APP_ID), whose federated identity credential trusts that identity.
import { startAzurite, type Azurite } from "../azurite";
import { VirtualClock, WallClock, type Clock } from "../clock";
import { startEmulator, type Emulator, type EmulatorOptions } from "../emulator";
import { hashGuid } from "../emulator/util/rng";
import { startLocalHost, type LocalHost } from "../host";
import { startServiceBusBroker, type ServiceBusBroker } from "../servicebus";
import type { SettingName } from "../../src/config";

export const PUBLISHER = {
  tenantId: "7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01",
  subscriptionId: "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10",
  resourceGroup: "rg-golden-images",
  location: "westeurope",
  gallery: "contoso_golden",
  image: "ubuntu-2404-hardened",
  appId: "3c9e2f71-5a8b-4d06-b1e4-7f2a9c0d5e21",
} as const;

export const CONSUMERS = [
  { name: "Fabrikam", tenantId: "1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41", subscriptionId: "9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a51" },
  { name: "Northwind", tenantId: "2c5e8f1b-3d60-4924-8f7b-1e4d9a2c3b42", subscriptionId: "8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f52" },
  { name: "Tailspin", tenantId: "3d6f9a2c-4e71-4a35-9a8c-2f5e0b3d4c43", subscriptionId: "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e53" },
] as const;

export const DEFAULT_REGIONS = ["westeurope", "northeurope", "eastus"] as const;

export const GALLERY_ID = `/subscriptions/${PUBLISHER.subscriptionId}/resourceGroups/${PUBLISHER.resourceGroup}/providers/Microsoft.Compute/galleries/${PUBLISHER.gallery}`;
export const OUTCOME_TOPIC = "gallery-share-outcomes";
export const ONBOARDING_QUEUE = "onboarding";

export interface WorldOptions {
  /** Shared by the emulator (replication progress) and the host (durable timers). Default: a VirtualClock (a real-time WallClock with the "dtfx" engine). */
  readonly clock?: Clock;
  /** The durable engine of the local host: "node" (default) or "dtfx", the real Durable extension and DTFx (local/durable-engine). */
  readonly durableEngine?: "node" | "dtfx";
  /** "dtfx" only: settings merged over host.json's durableTask section. */
  readonly durableEngineSettings?: Record<string, unknown>;
  readonly seed?: number;
  /** Overrides of the app settings the world derives. */
  readonly settings?: Partial<Record<SettingName, string>>;
  readonly emulator?: Omit<EmulatorOptions, "clock" | "seed">;
  /** An Azurite to use (tests share one per file; with "dtfx" it must serve blobs and queues too); by default the world starts its own. */
  readonly azurite?: Azurite;
  readonly log?: (line: string) => void;
  /** The roles the app's identity holds on the gallery. Default, as infra/app/gallery-rbac.bicep grants:
   *  Reader (to read versions and the sharing profile) and Compute Gallery Sharing Admin (share/action only). */
  readonly publisherRoles?: ReadonlyArray<"Compute Gallery Sharing Admin" | "Owner" | "Reader" | "User Access Administrator">;
  /** Consumer tenants whose admin has consented to the multi-tenant app (it has a service principal
   *  there). Default: every consumer in CONSUMERS. */
  readonly consentedTenants?: readonly string[];
}

export interface WorldIdentity {
  /** AZURE_CLIENT_ID. */
  readonly clientId: string;
  /** The principal the gallery's role assignments name, and the subject of the app's federated credential. */
  readonly objectId: string;
}

export interface World {
  readonly clock: Clock;
  readonly emulator: Emulator;
  readonly azurite: Azurite;
  /** The local Service Bus broker with the onboarding queue (ONBOARDING_QUEUE). */
  readonly serviceBus: ServiceBusBroker;
  readonly host: LocalHost;
  readonly settings: Record<string, string>;
  /** The app's user-assigned managed identity in the publisher tenant. */
  readonly identity: WorldIdentity;
  /** The multi-tenant app registration (CROSS_TENANT_APP_ID = PUBLISHER.appId) trusting `identity`. */
  readonly appId: string;
  /** Publishes a version (as an image-version PUT does) and returns its resource id. */
  publishVersion(version: string, options?: { regions?: readonly string[]; regionMinutes?: Record<string, number>; failRegions?: Record<string, string>; encrypted?: boolean }): string;
  /** POSTs events to the imageVersionEvents webhook as Event Grid would. */
  deliver(events: unknown, eventType?: "Notification" | "SubscriptionValidation"): Promise<Response>;
  close(): Promise<void>;
}

export function imageVersionId(version: string): string {
  return `${GALLERY_ID}/images/${PUBLISHER.image}/versions/${version}`;
}

/** The event Azure sends for a version write, in the Event Grid schema (resource group segment lower-cased as Azure writes it). */
export function versionWriteEvent(versionId: string, options: { id?: string; status?: string; correlationId?: string } = {}): Record<string, unknown> {
  const uri = versionId.replace("/resourceGroups/", "/resourcegroups/");
  return {
    id: options.id ?? `evt-${versionId.split("/").pop() ?? "x"}`,
    topic: `/subscriptions/${PUBLISHER.subscriptionId}/resourceGroups/${PUBLISHER.resourceGroup}`,
    subject: uri,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2026-01-01T08:00:00.0000000Z",
    dataVersion: "",
    metadataVersion: "1",
    data: {
      authorization: { scope: uri, action: "Microsoft.Compute/galleries/images/versions/write", evidence: { role: "Contributor" } },
      correlationId: options.correlationId ?? "5b8a7c3e-1d2f-4e6a-9b0c-3d4e5f6a7b8c",
      resourceProvider: "Microsoft.Compute",
      resourceUri: uri,
      operationName: "Microsoft.Compute/galleries/images/versions/write",
      status: options.status ?? "Succeeded",
      subscriptionId: PUBLISHER.subscriptionId,
      tenantId: PUBLISHER.tenantId,
    },
  };
}

/** Worlds started in this process so far (see the identity below). */
let worldsStarted = 0;

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dtfx = options.durableEngine === "dtfx";
  // The real engine's timers are real time: the emulator must see the same time.
  const clock = options.clock ?? (dtfx ? new WallClock(1) : new VirtualClock());
  const azurite = options.azurite ?? (await startAzurite(dtfx ? { services: "all" } : {}));
  let emulator: Emulator | undefined;
  let serviceBus: ServiceBusBroker | undefined;
  try {
    emulator = await startEmulator({ ...options.emulator, clock, ...(options.seed === undefined ? {} : { seed: options.seed }) });
    // The onboarding queue with the settings infra/ deploys, on the world's clock.
    serviceBus = await startServiceBusBroker({ clock, queues: [ONBOARDING_QUEUE] });
    return await buildWorld(options, clock, azurite, emulator, serviceBus);
  } catch (err) {
    // A world that fails to start leaves nothing running: what it started, it stops.
    await serviceBus?.close();
    await emulator?.close();
    if (!options.azurite) await azurite.stop();
    throw err;
  }
}

async function buildWorld(options: WorldOptions, clock: Clock, azurite: Azurite, emulator: Emulator, serviceBus: ServiceBusBroker): Promise<World> {
  const control = emulator.control;

  // Publisher side: the tenant, its subscription and resource group, the app's identity with the
  // roles direct sharing needs (on the gallery), the multi-tenant app trusting that identity, and the
  // gallery itself.
  control.addTenant(PUBLISHER.tenantId, "Contoso (publisher)");
  control.addSubscription(PUBLISHER.subscriptionId, PUBLISHER.tenantId);
  control.addResourceGroup(PUBLISHER.subscriptionId, PUBLISHER.resourceGroup, PUBLISHER.location);
  // A new identity per world, as each deployment creates one: msal-node caches managed-identity
  // tokens process-wide by client id, so a later world in this process reusing an id would be handed
  // the previous emulator's tokens. Seeded, so the same worlds in the same order repeat exactly.
  const worldNumber = String(++worldsStarted);
  const seed = options.seed ?? 1;
  const identity = control.addManagedIdentity({
    tenantId: PUBLISHER.tenantId,
    displayName: "id-gallery-share",
    clientId: hashGuid(seed, "world-identity-client", worldNumber),
    objectId: hashGuid(seed, "world-identity-object", worldNumber),
  });
  control.addApp({ appId: PUBLISHER.appId, homeTenantId: PUBLISHER.tenantId, multiTenant: true, displayName: "gallery-share" });
  // The identity's token for api://AzureADTokenExchange carries exactly this issuer and subject.
  control.addFederatedCredential(PUBLISHER.appId, {
    name: "gallery-share-identity",
    issuer: `${emulator.authorityHost}/${PUBLISHER.tenantId}/v2.0`,
    subject: identity.objectId,
    audiences: ["api://AzureADTokenExchange"],
  });
  control.createGallery({ subscriptionId: PUBLISHER.subscriptionId, resourceGroup: PUBLISHER.resourceGroup, gallery: PUBLISHER.gallery, location: PUBLISHER.location, permissions: "Groups" });
  control.createImageDefinition({ subscriptionId: PUBLISHER.subscriptionId, resourceGroup: PUBLISHER.resourceGroup, gallery: PUBLISHER.gallery, image: PUBLISHER.image, location: PUBLISHER.location, osType: "Linux", publisher: "contoso", offer: "ubuntu", sku: "2404-hardened" });
  for (const role of options.publisherRoles ?? ["Reader", "Compute Gallery Sharing Admin"]) {
    control.addRoleAssignment({ scope: GALLERY_ID, principalId: identity.objectId, role });
  }

  for (const consumer of CONSUMERS) {
    control.addTenant(consumer.tenantId, consumer.name);
    control.addSubscription(consumer.subscriptionId, consumer.tenantId);
  }
  for (const tenantId of options.consentedTenants ?? CONSUMERS.map((c) => c.tenantId)) control.consent(PUBLISHER.appId, tenantId);

  const settings: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    FUNCTIONS_WORKER_RUNTIME: "node",
    TASK_HUB_NAME: "gallerysharelocal",
    GALLERY_IDS: GALLERY_ID,
    AZURE_TENANT_ID: PUBLISHER.tenantId,
    AZURE_CLIENT_ID: identity.clientId,
    // What Functions sets for the platform's identity endpoint; one endpoint and header per process.
    IDENTITY_ENDPOINT: emulator.identityEndpoint,
    IDENTITY_HEADER: emulator.identityHeader,
    CROSS_TENANT_APP_ID: PUBLISHER.appId,
    ARM_ENDPOINT: emulator.armEndpoint,
    AUTHORITY_HOST: emulator.authorityHost,
    SHARE_TENANT_IDS: CONSUMERS.map((c) => c.tenantId).join(","),
    OUTCOME_TOPIC_ENDPOINT: `${emulator.url}/_eventgrid/topics/${OUTCOME_TOPIC}/api/events`,
    ACTIVITY_RETRY_FIRST_SECONDS: "5",
    ONBOARDING_QUEUE_NAME: ONBOARDING_QUEUE,
    // A registry table per world: worlds of one test file share an Azurite, and tenants must not leak between them.
    REGISTRY_TABLE_NAME: `registry${worldNumber}`,
    ServiceBusConnection: serviceBus.connectionString,
    ...(options.durableEngine === "dtfx" ? { TASK_HUB_NAME: `gallerysharelocal${worldNumber}` } : {}),
    ...options.settings,
  };
  const host = await startLocalHost({
    load: () => import("../../src/app.js"),
    settings,
    clock,
    ...(options.log ? { log: options.log } : {}),
    ...(options.durableEngine === "dtfx" ? { durable: { engine: "dtfx" as const, ...(options.durableEngineSettings ? { engineSettings: options.durableEngineSettings } : {}) } } : {}),
  });

  return {
    clock,
    emulator,
    azurite,
    serviceBus,
    host,
    settings,
    identity,
    appId: PUBLISHER.appId,
    publishVersion(version, publishOptions = {}) {
      control.publishVersion({
        subscriptionId: PUBLISHER.subscriptionId,
        resourceGroup: PUBLISHER.resourceGroup,
        gallery: PUBLISHER.gallery,
        image: PUBLISHER.image,
        version,
        location: PUBLISHER.location,
        targetRegions: [...(publishOptions.regions ?? DEFAULT_REGIONS)],
        ...(publishOptions.regionMinutes ? { regionMinutes: publishOptions.regionMinutes } : {}),
        ...(publishOptions.failRegions ? { failRegions: publishOptions.failRegions } : {}),
        ...(publishOptions.encrypted ? { encrypted: true } : {}),
      });
      return imageVersionId(version);
    },
    deliver(events, eventType = "Notification") {
      return fetch(host.eventGridUrl("imageVersionEvents"), {
        method: "POST",
        headers: { "content-type": "application/json", "aeg-event-type": eventType },
        body: JSON.stringify(events),
      });
    },
    async close() {
      await host.close();
      await emulator.close();
      await serviceBus.close();
      if (!options.azurite) await azurite.stop();
    },
  };
}
