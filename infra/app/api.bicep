// The Function App on the Flex Consumption plan (FC1), Node.js 22, running as the user-assigned
// identity. Its app settings are set by app/api-settings.bicep, after the Entra app registration
// (app/entra.bicep), which needs this app's host name for its redirect URI while the settings need
// the registration's client id.

@description('Function App name (globally unique host name).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags; the app also gets azd-service-name = api, which is how azd finds it.')
param tags object = {}

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Blob endpoint of the host storage account, with its trailing slash.')
param storageBlobEndpoint string

@description('Blob container of the deployment package.')
param deploymentContainerName string

@minValue(1)
@maxValue(1000)
@description('Most instances the app scales out to.')
param maximumInstanceCount int

@allowed([
  512
  2048
  4096
])
@description('Instance memory in MB.')
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

output name string = functionApp.name
output id string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
