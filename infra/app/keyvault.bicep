// Optional Key Vault (enableKeyVault) for the consumer-facing app registration's certificate or
// client secret, when a deployment cannot use the secretless federated credential. RBAC
// authorization only; the app holds Key Vault Secrets User (app/rbac.bicep), which also reads a
// certificate's private key (certificates are exposed as secrets).

@description('Key Vault name (3-24 letters, digits and hyphens, globally unique).')
param name string

@description('Region of the vault.')
param location string

@description('Tags for the vault.')
param tags object = {}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    // Purge protection stays off so that `azd down --purge` can remove the vault; turn it on
    // (it cannot be turned off again) for a long-lived production vault.
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
