// Storage for the Functions host (AzureWebJobsStorage), the Durable task hub when the Azure Storage
// backend is used, the Flex Consumption deployment package, the share audit table, the
// consumer-tenant registry table and Event Grid dead letters. Shared-key access is off: the host, Durable Functions, Flex deployment,
// Event Grid and azd all authenticate with Microsoft Entra ID.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
param name string

@description('Region of the account.')
param location string

@description('Tags for the account.')
param tags object = {}

@description('Blob container the Flex Consumption app runs its package from.')
param deploymentContainerName string

@description('Blob container that receives events Event Grid could not deliver.')
param deadLetterContainerName string

@description('Table of registered consumer tenants (REGISTRY_TABLE_NAME).')
param registryTableName string

@description('Table of the share audit trail (AUDIT_TABLE_NAME).')
param auditTableName string

resource storage 'Microsoft.Storage/storageAccounts@2026-09-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
    }

    resource deadLetterContainer 'containers' = {
      name: deadLetterContainerName
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource registryTable 'tables' = {
      name: registryTableName
    }

    // The app also creates it on first use (Storage Table Data Contributor allows that); creating it
    // here makes the name visible and checked.
    resource auditTable 'tables' = {
      name: auditTableName
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainerName string = storage::blobService::deploymentContainer.name
output deadLetterContainerName string = storage::blobService::deadLetterContainer.name
output registryTableName string = storage::tableService::registryTable.name
output auditTableName string = storage::tableService::auditTable.name
