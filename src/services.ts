// The services activities and triggers are given: everything that talks to Azure, built once from
// the validated settings. Their SDK clients are made (and their packages loaded) on first use.
import { createArmClients, type ArmClients } from "./azure/armClients";
import { createAuditTrail, type AuditTrail } from "./azure/auditTable";
import { createCredentialProvider, type CredentialProvider } from "./azure/credentials";
import { createOutcomePublisher, type OutcomePublisher } from "./azure/outcomePublisher";
import { createRegistry, type Registry, type RegistryOptions } from "./azure/registry";
import { createShareInbox, type ShareInbox } from "./azure/shareInbox";
import { createArmWriteSchedule, type ArmWriteSchedule } from "./azure/writeSchedule";
import { createTenantRequestQueue, type TenantRequestQueue } from "./azure/tenantRequestQueue";
import type { AppConfig } from "./config";

/** What activities and triggers are given: everything that talks to Azure. */
export interface Services {
  readonly config: AppConfig;
  readonly credentials: CredentialProvider;
  readonly arm: ArmClients;
  readonly audit: AuditTrail;
  readonly outcomes: OutcomePublisher;
  readonly tenantRequests: TenantRequestQueue;
  /** Who should have what: tenants, what the app granted them, every request. */
  readonly registry: Registry;
  /** Share changes waiting for their subscription's share coordinator (in the registry's table). */
  readonly shareInbox: ShareInbox;
  /** ARM's write budget in each subscription, shared by share calls and role assignments (in the registry's table). */
  readonly armWrites: ArmWriteSchedule;
}

export function createServices(config: AppConfig): Services {
  const credentials = createCredentialProvider(config);
  const table: RegistryOptions = {
    tableName: config.registry.tableName,
    connection:
      "connectionString" in config.registry
        ? { connectionString: config.registry.connectionString }
        : { tableServiceUri: config.registry.tableServiceUri, credential: credentials.publisher() },
  };
  return {
    config,
    credentials,
    arm: createArmClients(config, credentials),
    audit: createAuditTrail(config, credentials),
    outcomes: createOutcomePublisher(config, credentials),
    tenantRequests: createTenantRequestQueue(config, credentials),
    registry: createRegistry(table),
    shareInbox: createShareInbox(table),
    armWrites: createArmWriteSchedule(table),
  };
}
