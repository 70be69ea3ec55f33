// The app's user-assigned managed identity. The Function App runs as it (host storage, Service Bus,
// Event Grid, Application Insights, Key Vault, ARM) and it backs the federated credential of the
// multi-tenant app registration used for cross-tenant sharing (docs/deploy.md).

@description('Name of the user-assigned identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags for the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
// The object id: the subject of the federated credential and the principal of every role assignment.
output principalId string = identity.properties.principalId
