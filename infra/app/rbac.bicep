// Every role assignment of gallery-share, in one place (plus app/gallery-rbac.bicep, which this
// module calls at each gallery's resource group). Deployed to the app's resource group by
// infra/access.bicep. Each assignment is named guid(scope, principalId, roleDefinitionId), so a
// redeployment finds and keeps the same assignment instead of failing on a duplicate.
//
// What the app's identity gets, and why nothing broader:
//   host storage account  Storage Blob Data Owner, Storage Queue Data Contributor, Storage Table
//                         Data Contributor: what the Functions host, the Durable Azure Storage
//                         backend, Flex deployment and the registry table need (the host documents
//                         Blob Data Owner for identity-based AzureWebJobsStorage)
//   onboarding queue      Azure Service Bus Data Receiver and Sender, on the queue only
//   outcome topic         EventGrid Data Sender
//   Application Insights  Monitoring Metrics Publisher (Entra-authenticated telemetry)
//   Key Vault             Key Vault Secrets User
//   DTS task hub (opt.)   Durable Task Data Contributor, on the task hub only
//   each gallery          Compute Gallery Sharing Admin (its only action is galleries/share/action)
//                         and Reader (the app reads the gallery's sharing profile and the versions'
//                         replication status; the sharing role grants no read), see gallery-rbac.bicep
// The Event Grid system topics' identities get Storage Blob Data Contributor on the dead-letter
// container only.

@description('Object (principal) id of the app\'s user-assigned identity.')
param principalId string

@description('Host storage account name.')
param storageAccountName string

@description('Blob container for Event Grid dead letters.')
param deadLetterContainerName string

@description('Service Bus namespace name.')
param serviceBusNamespaceName string

@description('Onboarding queue name.')
param onboardingQueueName string

@description('Outcome-event custom topic name.')
param outcomeTopicName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Key Vault name; empty when there is none.')
param keyVaultName string = ''

@description('Durable Task Scheduler name; empty with the Azure Storage backend.')
param durableTaskSchedulerName string = ''

@description('Durable task hub name.')
param taskHubName string = ''

@description('Resource ids of the managed galleries (any resource group or subscription of the tenant).')
param galleryIds array

@description('Grant the constrained Role Based Access Control Administrator on each gallery (principal sharing mode).')
param enablePrincipalSharing bool = false

@description('Object id of the multi-tenant app\'s service principal; when set it gets Reader on each gallery.')
param consumerAppPrincipalId string = ''

@description('Principal ids of the Event Grid system topics, which dead-letter to the storage account.')
param eventSourcePrincipalIds array = []

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
}

var useKeyVault = !empty(keyVaultName)
var useDurableTaskScheduler = !empty(durableTaskSchedulerName)

resource storage 'Microsoft.Storage/storageAccounts@2026-09-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource deadLetterContainer 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusNamespaceName

  resource onboardingQueue 'queues' existing = {
    name: onboardingQueueName
  }
}

resource outcomeTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: outcomeTopicName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Placeholder names keep these references well-formed when the optional resources are off; the
// assignments that use them are conditional.
resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = {
  name: useKeyVault ? keyVaultName : 'unused'
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' existing = {
  name: useDurableTaskScheduler ? '${durableTaskSchedulerName}/${taskHubName}' : 'unused/unused'
}

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    description: 'gallery-share: Functions host, Flex deployment package and Durable task hub blobs'
  }
}

resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    description: 'gallery-share: Functions host and Durable task hub queues'
  }
}

resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    description: 'gallery-share: Durable task hub history and the consumer-tenant registry'
  }
}

resource onboardingQueueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus::onboardingQueue.id, principalId, roles.serviceBusDataReceiver)
  scope: serviceBus::onboardingQueue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    description: 'gallery-share: onboarding queue trigger'
  }
}

resource onboardingQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus::onboardingQueue.id, principalId, roles.serviceBusDataSender)
  scope: serviceBus::onboardingQueue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    description: 'gallery-share: onboarding requests submitted over HTTP'
  }
}

resource outcomeTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(outcomeTopic.id, principalId, roles.eventGridDataSender)
  scope: outcomeTopic
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    description: 'gallery-share: outcome events'
  }
}

resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    description: 'gallery-share: Entra-authenticated telemetry'
  }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useKeyVault) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    description: 'gallery-share: consumer-app certificate or secret'
  }
}

resource durableTaskDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useDurableTaskScheduler) {
  name: guid(taskHub.id, principalId, roles.durableTaskDataContributor)
  scope: taskHub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.durableTaskDataContributor)
    description: 'gallery-share: Durable Task Scheduler task hub'
  }
}

resource deadLetterWriters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for eventSourcePrincipalId in eventSourcePrincipalIds: {
    name: guid(storage::blobService::deadLetterContainer.id, eventSourcePrincipalId, roles.storageBlobDataContributor)
    scope: storage::blobService::deadLetterContainer
    properties: {
      principalId: eventSourcePrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      description: 'gallery-share: Event Grid dead letters'
    }
  }
]

module galleryAccess 'gallery-rbac.bicep' = [
  for galleryId in galleryIds: {
    name: 'gallery-share-gallery-rbac-${take(uniqueString(galleryId, principalId), 8)}'
    scope: resourceGroup(split(galleryId, '/')[2], split(galleryId, '/')[4])
    params: {
      galleryName: last(split(galleryId, '/'))
      principalId: principalId
      enablePrincipalSharing: enablePrincipalSharing
      consumerAppPrincipalId: consumerAppPrincipalId
    }
  }
]
