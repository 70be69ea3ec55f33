// ARM clients, built on first use and kept per (tenant, subscription, auxiliary tenants).
// - Retries are the orchestration's job (durable timers that honour Retry-After), so the SDK's own
//   retry policy is off: nothing sleeps inside an activity.
// - A client for a tenant other than the publisher's acts as the multi-tenant app there, and one
//   with auxiliary tenants adds `x-ms-authorization-auxiliary` (tokens for the same app in those
//   tenants) to every request from the first one: a header added only after a
//   LinkedAuthorizationFailed is the most reported cross-tenant failure.
// The SDK packages are loaded when the first client is built, not when the app starts.
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { AppConfig } from "../config";
import type { CredentialProvider } from "./credentials";
import { computeSdk, pipelineSdk } from "./sdk";

const ARM_SCOPE_SUFFIX = "/.default";

export interface ArmClientOptions {
  /** The tenant to act in; default the publisher tenant (AZURE_TENANT_ID). */
  readonly tenantId?: string;
  /** Tenants whose tokens (for the same app) go in x-ms-authorization-auxiliary; at most 3. */
  readonly auxiliaryTenantIds?: readonly string[];
}

export interface ArmClients {
  compute(subscriptionId: string, options?: ArmClientOptions): ComputeManagementClient;
}

export function createArmClients(config: AppConfig, credentials: CredentialProvider): ArmClients {
  const clients = new Map<string, ComputeManagementClient>();
  const scope = `${config.armEndpoint}${ARM_SCOPE_SUFFIX}`;

  const credentialFor = (tenantId: string | undefined) =>
    tenantId === undefined || tenantId.toLowerCase() === config.tenantId ? credentials.publisher() : credentials.crossTenant(tenantId);

  return {
    compute(subscriptionId, options = {}) {
      const auxiliary = [...new Set((options.auxiliaryTenantIds ?? []).map((t) => t.toLowerCase()))].sort();
      if (auxiliary.length > 3) throw new Error(`at most 3 auxiliary tenants can be sent with one ARM request; got ${auxiliary.length}`);
      const key = [options.tenantId?.toLowerCase() ?? config.tenantId, subscriptionId.toLowerCase(), ...auxiliary].join("|");
      const existing = clients.get(key);
      if (existing) return existing;
      const additionalPolicies =
        auxiliary.length === 0
          ? []
          : [{ policy: pipelineSdk().auxiliaryAuthenticationHeaderPolicy({ credentials: auxiliary.map((t) => credentials.crossTenant(t)), scopes: scope }), position: "perRetry" as const }];
      const client = new (computeSdk().ComputeManagementClient)(credentialFor(options.tenantId), subscriptionId, {
        endpoint: config.armEndpoint,
        retryOptions: { maxRetries: 0 },
        additionalPolicies,
      });
      clients.set(key, client);
      return client;
    },
  };
}
