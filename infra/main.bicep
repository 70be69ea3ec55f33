// gallery-share: the resources azd provisions (`azd provision` / `azd up`).
//
// This deployment creates the app's resource group and everything in it, and in Microsoft Entra ID
// the multi-tenant app registration (app/entra.bicep; not a resource of any resource group, the
// predown hook deletes it). It deliberately creates no Azure resource outside that resource group:
// `azd down` deletes every resource group its deployment put a resource into, and the galleries'
// resource groups hold the publisher's images. The pieces that
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

@description('Comma-separated image definition ids ({gallery id}/images/{name}) whose latest the app gates (GATED_IMAGES): a version published with excludeFromLatest becomes latest when its rollout succeeded.')
param gatedImages string = ''

@description('Create the multi-tenant app registration the app acts as in consumer tenants (rbac sharing mode, VMs in consumer tenants), with its service principal and federated credential (app/entra.bicep). false: no registration, rbac onboarding is off.')
param enableCrossTenantApp bool = true

@description('Client id of an existing multi-tenant app registration to use instead of creating one; its service principal must exist in this tenant, and its federated credential is yours to manage (docs/deploy.md).')
param existingCrossTenantAppId string = ''

@description('Display name of the app registration to create, shown to customers\' administrators when they consent and on the consent page; empty means gallery-share-{environmentName}.')
param crossTenantAppDisplayName string = ''

@description('Put App Service Authentication (Microsoft Entra ID) in front of the app for the operator dashboard and API, with its own app registration and the app roles GalleryShare.Reader and GalleryShare.Operator (app/operator-signin.bicep); the deploying user gets Operator.')
param enableOperatorSignIn bool = true

@description('Whether the Key Vault already holds the consent-state key (the preprovision hook looks); when false the deployment writes a new one.')
param consentStateKeyExists bool = false

// Three GUIDs (about 366 random bits) that ARM draws when the deployment runs: the new key when the
// vault has none. A secure parameter is never logged or returned, and nothing passes this one.
@secure()
@description('Leave to its default: the new consent-state key, drawn by ARM at deployment time.')
param consentStateKey string = '${newGuid()}${newGuid()}${newGuid()}'

@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
@description('Durable Functions backend: the host storage account (default), or a Durable Task Scheduler (Consumption SKU) for many tenants and high orchestration throughput.')
param durableBackend string = 'AzureStorage'

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
var consentStateKeyName = 'consent-state-key'
var useExistingCrossTenantApp = !empty(existingCrossTenantAppId)
// The registration's key in the tenant, unique per environment, subscription and region.
var crossTenantAppUniqueName = 'gallery-share-${environmentName}-${resourceToken}'

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

module keyVault 'app/keyvault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    createConsentStateKey: !consentStateKeyExists
    consentStateKey: consentStateKey
    consentStateKeyName: consentStateKeyName
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
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

// The app registration needs the app's host name (its redirect URI); the app settings need the
// registration's client id: so the app first, then the registration, then the settings.
module entra 'app/entra.bicep' = if (enableCrossTenantApp) {
  name: 'entra'
  scope: rg
  params: {
    existingAppId: existingCrossTenantAppId
    uniqueName: crossTenantAppUniqueName
    displayName: !empty(crossTenantAppDisplayName) ? crossTenantAppDisplayName : 'gallery-share-${environmentName}'
    redirectUri: 'https://${api.outputs.defaultHostName}/api/consent/callback'
    identityPrincipalId: identity.outputs.principalId
  }
}

module operatorSignIn 'app/operator-signin.bicep' = if (enableOperatorSignIn) {
  name: 'operator-signin'
  scope: rg
  params: {
    uniqueName: 'gallery-share-ops-${environmentName}-${resourceToken}'
    displayName: 'gallery-share operators (${environmentName})'
    appHostName: api.outputs.defaultHostName
    operatorPrincipalId: deployer().objectId
  }
}

module apiSettings 'app/api-settings.bicep' = {
  name: 'api-settings'
  scope: rg
  // The site must exist. Its name is passed as known before the deployment (What-If reads it
  // better); the linter sees the order already implied through entra, which is conditional.
  dependsOn: [
    #disable-next-line no-unnecessary-dependson
    api
  ]
  params: {
    name: functionAppName
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    galleryIds: join(galleryIdList, ',')
    shareSubscriptionIds: shareSubscriptionIds
    shareTenantIds: shareTenantIds
    gatedImages: gatedImages
    crossTenantAppId: enableCrossTenantApp ? entra!.outputs.appId : ''
    crossTenantAppName: enableCrossTenantApp ? entra!.outputs.displayName : ''
    operatorSignIn: enableOperatorSignIn
    operatorSignInAppId: enableOperatorSignIn ? operatorSignIn!.outputs.appId : ''
    // rbac onboarding signs consent links with this key; the setting is a Key Vault reference.
    consentStateKeyReference: enableCrossTenantApp ? '@Microsoft.KeyVault(VaultName=${keyVault.outputs.name};SecretName=${consentStateKeyName})' : ''
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
output KEY_VAULT_NAME string = keyVault.outputs.name
output KEY_VAULT_URI string = keyVault.outputs.uri
// The multi-tenant app registration. CROSS_TENANT_APP_CREATED says whether this deployment created
// it (the predown hook deletes only such a one); CONSUMER_APP_PRINCIPAL_ID is its service principal,
// which access.bicep gives Reader on the galleries.
output CROSS_TENANT_APP_ID string = enableCrossTenantApp ? entra!.outputs.appId : ''
output CROSS_TENANT_APP_NAME string = enableCrossTenantApp ? entra!.outputs.displayName : ''
output CROSS_TENANT_APP_CREATED bool = enableCrossTenantApp && !useExistingCrossTenantApp
output CONSUMER_APP_PRINCIPAL_ID string = enableCrossTenantApp ? entra!.outputs.servicePrincipalId : ''
// The operators' sign-in: the dashboard, and the scope the command line asks a token for.
output OPERATOR_SIGN_IN_APP_ID string = enableOperatorSignIn ? operatorSignIn!.outputs.appId : ''
output OPERATOR_SIGN_IN_SCOPE string = enableOperatorSignIn ? '${operatorSignIn!.outputs.appId}/.default' : ''
output DASHBOARD_URL string = 'https://${api.outputs.defaultHostName}/api/dashboard'
output DURABLE_BACKEND string = durableBackend
output DURABLE_TASK_SCHEDULER_NAME string = useDurableTaskScheduler ? durableTaskScheduler!.outputs.name : ''
output TASK_HUB_NAME string = useDurableTaskScheduler ? durableTaskScheduler!.outputs.taskHubName : taskHubName
