// Who the app is toward Azure, per tenant.
// - The publisher tenant: the app's user-assigned managed identity (AZURE_CLIENT_ID). A client
//   secret (AZURE_CLIENT_SECRET) is for a developer's own machine against real Azure only.
// - Any other tenant (and the publisher tenant, where an auxiliary token for the same app is
//   needed): the multi-tenant app registration CROSS_TENANT_APP_ID, whose credential is a federated
//   identity credential backed by the managed identity: the identity's token for
//   api://AzureADTokenExchange is the client assertion. No secret exists anywhere. A certificate or
//   a client secret of the app are documented fallbacks.
// @azure/identity is loaded on the first token request, not when the app starts (cold start).
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import type { AppConfig } from "../config";
import { identitySdk, type Identity } from "./sdk";

const PUBLIC_AUTHORITY = "https://login.microsoftonline.com";
/** The audience Entra expects of a managed identity's token used as a federated credential. */
export const TOKEN_EXCHANGE_SCOPE = "api://AzureADTokenExchange/.default";

export interface CredentialProvider {
  /** The app in the publisher tenant (AZURE_TENANT_ID). */
  publisher(): TokenCredential;
  /** The multi-tenant app in `tenantId`; throws when CROSS_TENANT_APP_ID is not set. */
  crossTenant(tenantId: string): TokenCredential;
}

/** A credential whose SDK and construction wait for its first token request. */
function lazyCredential(build: (identity: Identity) => TokenCredential): TokenCredential {
  let built: TokenCredential | undefined;
  return {
    getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      built ??= build(identitySdk());
      return built.getToken(scopes, options);
    },
  };
}

export function createCredentialProvider(config: AppConfig): CredentialProvider {
  const authority = {
    authorityHost: config.authorityHost,
    // Instance discovery only knows Microsoft's clouds; a sovereign or local authority host skips it.
    disableInstanceDiscovery: config.authorityHost !== PUBLIC_AUTHORITY,
  };
  const managedIdentity = lazyCredential((identity) =>
    config.clientId ? new identity.ManagedIdentityCredential({ clientId: config.clientId }) : new identity.ManagedIdentityCredential(),
  );
  const publisher =
    config.clientSecret && config.clientId
      ? lazyCredential((identity) => new identity.ClientSecretCredential(config.tenantId, config.clientId ?? "", config.clientSecret ?? "", authority))
      : managedIdentity;

  const perTenant = new Map<string, TokenCredential>();
  const crossTenant = (tenantId: string): TokenCredential => {
    const app = config.crossTenant;
    if (!app) throw new Error("CROSS_TENANT_APP_ID is not set: the app has no credential in other tenants");
    const key = tenantId.toLowerCase();
    let credential = perTenant.get(key);
    if (!credential) {
      credential = lazyCredential((identity) => {
        switch (app.credential) {
          case "federated":
            return new identity.ClientAssertionCredential(
              key,
              app.appId,
              async () => {
                const token = await managedIdentity.getToken(TOKEN_EXCHANGE_SCOPE);
                if (!token) throw new Error("the managed identity returned no token for the federated credential exchange");
                return token.token;
              },
              authority,
            );
          case "certificate":
            return new identity.ClientCertificateCredential(key, app.appId, { certificatePath: app.certificatePath }, authority);
          case "secret":
            return new identity.ClientSecretCredential(key, app.appId, app.secret, authority);
        }
      });
      perTenant.set(key, credential);
    }
    return credential;
  };
  return { publisher: () => publisher, crossTenant };
}
