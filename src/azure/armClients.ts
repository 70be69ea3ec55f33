// ARM clients, built on first use and kept per (tenant, subscription, auxiliary tenants).
// - Retries are the orchestration's job (durable timers that honour Retry-After), so the SDK's own
//   retry policy is off: nothing sleeps inside an activity.
// - A client for a tenant other than the publisher's acts as the multi-tenant app there, and one
//   with auxiliary tenants adds `x-ms-authorization-auxiliary` (tokens for the same app in those
//   tenants) to every request from the first one: a header added only after a
//   LinkedAuthorizationFailed is the most reported cross-tenant failure.
// The SDK packages are loaded when the first client is built, not when the app starts.
import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { NetworkManagementClient } from "@azure/arm-network";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { AppConfig } from "../config";
import type { CredentialProvider } from "./credentials";
import { authorizationSdk, computeSdk, networkSdk, pipelineSdk } from "./sdk";

const ARM_SCOPE_SUFFIX = "/.default";

export interface ArmClientOptions {
  /** The tenant to act in; default the publisher tenant (AZURE_TENANT_ID). */
  readonly tenantId?: string;
  /** Act as the multi-tenant app even in the publisher tenant (its token there is the auxiliary one VM creation sends). */
  readonly asApp?: boolean;
  /** Tenants whose tokens (for the same app) go in x-ms-authorization-auxiliary; at most 3. */
  readonly auxiliaryTenantIds?: readonly string[];
}

/** What every ARM client is built with: the endpoint, no SDK retries, the auxiliary-token policy when asked for. */
interface ArmPipelineOptions {
  readonly endpoint: string;
  readonly retryOptions: { readonly maxRetries: number };
  readonly additionalPolicies: { policy: PipelinePolicy; position: "perRetry" }[];
}

export interface ArmClients {
  compute(subscriptionId: string, options?: ArmClientOptions): ComputeManagementClient;
  authorization(subscriptionId: string, options?: ArmClientOptions): AuthorizationManagementClient;
  network(subscriptionId: string, options?: ArmClientOptions): NetworkManagementClient;
}

export function createArmClients(config: AppConfig, credentials: CredentialProvider): ArmClients {
  const clients = new Map<string, unknown>();
  const scope = `${config.armEndpoint}${ARM_SCOPE_SUFFIX}`;

  const credentialFor = (tenantId: string | undefined, asApp: boolean | undefined) =>
    asApp
      ? credentials.crossTenant(tenantId ?? config.tenantId)
      : tenantId === undefined || tenantId.toLowerCase() === config.tenantId
        ? credentials.publisher()
        : credentials.crossTenant(tenantId);

  /** One client per (kind, tenant, subscription, auxiliary tenants), built on first use. */
  function client<C>(
    kind: string,
    subscriptionId: string,
    options: ArmClientOptions,
    build: (credential: ReturnType<typeof credentialFor>, pipeline: ArmPipelineOptions) => C,
  ): C {
    const auxiliary = [...new Set((options.auxiliaryTenantIds ?? []).map((t) => t.toLowerCase()))].sort();
    if (auxiliary.length > 3) throw new Error(`at most 3 auxiliary tenants can be sent with one ARM request; got ${auxiliary.length}`);
    const key = [kind, options.asApp ? "app" : "", options.tenantId?.toLowerCase() ?? config.tenantId, subscriptionId.toLowerCase(), ...auxiliary].join("|");
    const existing = clients.get(key);
    if (existing) return existing as C;
    const additionalPolicies =
      auxiliary.length === 0
        ? []
        : [
            {
              policy: pipelineSdk().auxiliaryAuthenticationHeaderPolicy({ credentials: auxiliary.map((t) => credentials.crossTenant(t)), scopes: scope }),
              position: "perRetry" as const,
            },
          ];
    const built = build(credentialFor(options.tenantId, options.asApp), { endpoint: config.armEndpoint, retryOptions: { maxRetries: 0 }, additionalPolicies });
    clients.set(key, built);
    return built;
  }

  return {
    compute: (subscriptionId, options = {}) =>
      client("compute", subscriptionId, options, (credential, pipeline) => new (computeSdk().ComputeManagementClient)(credential, subscriptionId, pipeline)),
    network: (subscriptionId, options = {}) =>
      client("network", subscriptionId, options, (credential, pipeline) => new (networkSdk().NetworkManagementClient)(credential, subscriptionId, pipeline)),
    authorization: (subscriptionId, options = {}) =>
      client(
        "authorization",
        subscriptionId,
        options,
        (credential, pipeline) =>
          new (authorizationSdk().AuthorizationManagementClient)(credential, subscriptionId, { ...pipeline, credentialScopes: [scope] }),
      ),
  };
}
