// The multi-tenant app registration the app acts as in consumer tenants (rbac sharing mode, VMs in
// consumer tenants), declared with the Microsoft Graph Bicep extension (bicepconfig.json):
//   - the application: multi-tenant (AzureADMultipleOrgs), the consent callback as its only redirect
//     URI, no API permissions (it needs Azure roles only), no client secret or certificate;
//   - its federated identity credential: the app's user-assigned managed identity may act as the
//     application (subject = the identity's object id, the cloud's token-exchange audience, the
//     tenant's v2.0 issuer), so there is no secret anywhere;
//   - its service principal in this (the publisher) tenant, which access.bicep gives Reader on the
//     galleries.
// With existingAppId set, nothing is created: the registration and its service principal are read.
//
// Graph objects are not ARM resources: deleting the resource group does not delete them. The
// predown hook deletes the registration created here (CROSS_TENANT_APP_CREATED), and only that one.
extension microsoftGraphV1

@description('Client id of an existing multi-tenant app registration to use; empty: create one.')
param existingAppId string

@description('uniqueName of the registration to create: its key, immutable, unique in the tenant.')
param uniqueName string

@description('Display name of the registration to create; customers\' administrators see it when they consent.')
param displayName string

@description('Where a customer\'s administrator lands after consenting: https://{app host}/api/consent/callback.')
param redirectUri string

@description('Object (principal) id of the app\'s user-assigned identity: the subject of the federated credential.')
param identityPrincipalId string

var create = empty(existingAppId)

// The audience a managed identity's token carries for a federated credential, per cloud
// (Microsoft's msi-as-a-fic-secretless quickstart, msgraph-bicep-types).
var tokenExchangeAudiences = {
  AzureCloud: 'api://AzureADTokenExchange'
  AzureUSGovernment: 'api://AzureADTokenExchangeUSGov'
  USNat: 'api://AzureADTokenExchangeUSNat'
  USSec: 'api://AzureADTokenExchangeUSSec'
  AzureChinaCloud: 'api://AzureADTokenExchangeChina'
}

// The managed identity's tokens are issued by this tenant's v2.0 authority (loginEndpoint ends with '/').
var issuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

resource application 'Microsoft.Graph/applications@v1.0' = if (create) {
  uniqueName: uniqueName
  displayName: displayName
  description: 'gallery-share: shares Azure Compute Gallery images with the tenants that consent to it.'
  signInAudience: 'AzureADMultipleOrgs'
  web: {
    redirectUris: [
      redirectUri
    ]
  }
}

resource managedIdentityCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = if (create) {
  name: '${application!.uniqueName}/gallery-share-managed-identity'
  description: 'The gallery-share Function App\'s user-assigned managed identity'
  issuer: issuer
  subject: identityPrincipalId
  audiences: [
    tokenExchangeAudiences[environment().name]
  ]
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = if (create) {
  appId: application!.appId
}

resource existingServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' existing = if (!create) {
  appId: existingAppId
}

// ARM evaluates only the branch if() takes, so the one that names a resource not deployed is never
// read. (The parentheses are for tree-sitter-bicep, which misreads `a ? b!.c : d!.e`.)
output appId string = create ? application!.appId : existingAppId
output displayName string = create ? application!.displayName : (existingServicePrincipal!.displayName)
output servicePrincipalId string = create ? servicePrincipal!.id : (existingServicePrincipal!.id)
output created bool = create
