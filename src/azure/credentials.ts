// The app's own identity toward ARM and Event Grid. In Azure that is the user-assigned managed
// identity (AZURE_CLIENT_ID); a client secret is a local-development fallback and is never logged.
import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import type { AppConfig } from "../config";

const PUBLIC_AUTHORITY = "https://login.microsoftonline.com";

export function appCredential(config: AppConfig): TokenCredential {
  if (config.clientSecret && config.clientId) {
    return new ClientSecretCredential(config.tenantId, config.clientId, config.clientSecret, {
      authorityHost: config.authorityHost,
      // Instance discovery only knows Microsoft's clouds; a sovereign or local authority host skips it.
      disableInstanceDiscovery: config.authorityHost !== PUBLIC_AUTHORITY,
    });
  }
  return config.clientId ? new ManagedIdentityCredential({ clientId: config.clientId }) : new ManagedIdentityCredential();
}
