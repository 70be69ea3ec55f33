// gallery-share: the resources azd provisions (`azd provision` / `azd up`).
//
// This deployment creates the app's resource group and everything in it. It deliberately creates
// nothing outside that resource group: `azd down` deletes every resource group its deployment put a
// resource into, and the galleries' resource groups hold the publisher's images. The pieces that
// must live next to the galleries (role assignments at gallery scope, the Event Grid system topics)
// and every role assignment are made by infra/access.bicep, which the postprovision hook deploys as
// a deployment of its own; the event subscription is made by the postdeploy hook once the function
// exists (infra/app/event-subscription.bicep). See docs/deploy.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; with the subscription and region it derives the token in every resource name.')
param environmentName string

@minLength(1)
@description('Region of the app and its resources. It must offer the Flex Consumption plan: az functionapp list-flexconsumption-locations -o table.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create for the app; empty means rg-{environmentName}.')
param resourceGroupName string = ''

@minLength(1)
@description('Comma-separated resource ids of the galleries the app manages (the GALLERY_IDS setting).')
param galleryIds string

@description('Comma-separated subscription ids every managed gallery is directly shared with (SHARE_SUBSCRIPTION_IDS).')
param shareSubscriptionIds string = ''

@description('Comma-separated tenant ids every managed gallery is directly shared with (SHARE_TENANT_IDS).')
param shareTenantIds string = ''

@description('Client id of the multi-tenant app registration the app acts as in consumer tenants (CROSS_TENANT_APP_ID); empty until it is created (docs/deploy.md).')
param crossTenantAppId string = ''

@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
@description('Durable Functions backend: the host storage account (default), or a Durable Task Scheduler (Consumption SKU) for many tenants and high orchestration throughput.')
param durableBackend string = 'AzureStorage'

@description('Create a Key Vault (RBAC mode) for a consumer-app certificate or secret; the app gets Key Vault Secrets User on it.')
param enableKeyVault bool = false

@minValue(1)
@maxValue(1000)
@description('Most instances the Flex Consumption app scales out to. ARM throttles per principal, so more instances only produce more 429s; 40 is plenty.')
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
@description('Memory of each Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// The same list the app reads: trimmed, empty items dropped.
var galleryIdList = filter(map(split(galleryIds, ','), id => trim(id)), id => !empty(id))

var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Flex Consumption runs the app from a package in this blob container.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var deadLetterContainerName = 'eventgrid-deadletter'
var registryTableName = 'registry'
var auditTableName = 'shareaudit'
var onboardingQueueName = 'onboarding'
// Alphanumeric, starts with a letter: valid for both Durable backends (Azure Storage allows 3-45
// letters and digits; a Durable Task Scheduler task hub 3-64 letters, digits and hyphens).
var taskHubName = 'galleryshare'
var useDurableTaskScheduler = durableBackend == 'DurableTaskScheduler'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    registryTableName: registryTableName
    auditTableName: auditTableName
  }
}

module messaging 'app/messaging.bicep' = {
  name: 'messaging'
  scope: rg
  params: {
    namespaceName: '${abbrs.serviceBusNamespaces}${resourceToken}'
    queueName: onboardingQueueName
    location: location
    tags: tags
  }
}

module outcomeTopic 'app/outcome-topic.bicep' = {
  name: 'outcome-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridTopics}outcomes-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = if (enableKeyVault) {
  name: 'key-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
  }
}

module durableTaskScheduler 'app/dts.bicep' = if (useDurableTaskScheduler) {
  name: 'durable-task-scheduler'
  scope: rg
  params: {
    name: '${abbrs.durableTaskSchedulers}${resourceToken}'
    taskHubName: taskHubName
    location: location
    tags: tags
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    galleryIds: join(galleryIdList, ',')
    shareSubscriptionIds: shareSubscriptionIds
    shareTenantIds: shareTenantIds
    crossTenantAppId: crossTenantAppId
    consentStateKeyReference: enableKeyVault ? '@Microsoft.KeyVault(VaultName=${keyVault!.outputs.name};SecretName=consent-state-key)' : ''
    outcomeTopicEndpoint: outcomeTopic.outputs.endpoint
    serviceBusFullyQualifiedNamespace: messaging.outputs.fullyQualifiedNamespace
    onboardingQueueName: messaging.outputs.queueName
    registryTableName: storage.outputs.registryTableName
    auditTableName: storage.outputs.auditTableName
    taskHubName: useDurableTaskScheduler ? durableTaskScheduler!.outputs.taskHubName : taskHubName
    durableBackend: durableBackend
    durableTaskSchedulerEndpoint: useDurableTaskScheduler ? durableTaskScheduler!.outputs.endpoint : ''
  }
}

// Read by azd (service lookup), by infra/hooks/* and by docs/deploy.md's commands.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_FUNCTION_HOST string = api.outputs.defaultHostName
output SERVICE_API_NAME string = api.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_NAME string = identity.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_RESOURCE_ID string = identity.outputs.id
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_ACCOUNT_ID string = storage.outputs.id
output EVENTGRID_DEADLETTER_CONTAINER string = storage.outputs.deadLetterContainerName
output SERVICE_BUS_NAMESPACE string = messaging.outputs.namespaceName
output ONBOARDING_QUEUE_NAME string = messaging.outputs.queueName
output OUTCOME_TOPIC_NAME string = outcomeTopic.outputs.name
output OUTCOME_TOPIC_ENDPOINT string = outcomeTopic.outputs.endpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output KEY_VAULT_NAME string = enableKeyVault ? keyVault!.outputs.name : ''
output KEY_VAULT_URI string = enableKeyVault ? keyVault!.outputs.uri : ''
output DURABLE_BACKEND string = durableBackend
output DURABLE_TASK_SCHEDULER_NAME string = useDurableTaskScheduler ? durableTaskScheduler!.outputs.name : ''
output TASK_HUB_NAME string = useDurableTaskScheduler ? durableTaskScheduler!.outputs.taskHubName : taskHubName
