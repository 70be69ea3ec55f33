// The Key Vault (RBAC authorization only) that holds the key signing consent links
// (consent-state-key, the app's CONSENT_STATE_KEY setting is a reference to it) and, where a
// deployment cannot use the secretless federated credential, the multi-tenant app's certificate.
// The app holds Key Vault Secrets User (app/rbac.bicep), which also reads a certificate's private
// key (certificates are exposed as secrets).
//
// The consent-state key is written only when it does not exist yet (the preprovision hook looks):
// writing it again would make a new version, and every consent link already sent would stop
// verifying. Its value is a secure parameter whose default ARM draws at deployment time, so it is
// never in a parameter file, a log or an output.

@description('Key Vault name (3-24 letters, digits and hyphens, globally unique).')
param name string

@description('Region of the vault.')
param location string

@description('Tags for the vault.')
param tags object = {}

@description('Write the consent-state key: true only when the vault does not hold one yet.')
param createConsentStateKey bool

@secure()
@description('The new consent-state key, when createConsentStateKey.')
param consentStateKey string

@description('Name of the secret holding the consent-state key.')
param consentStateKeyName string

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

resource consentStateKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-05-15' = if (createConsentStateKey) {
  parent: vault
  name: consentStateKeyName
  properties: {
    value: consentStateKey
    contentType: 'HMAC key that signs gallery-share admin-consent links'
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
