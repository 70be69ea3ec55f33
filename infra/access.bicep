// gallery-share: access and event sources. Deployed by the postprovision hook
// (infra/hooks/postprovision.sh / .ps1), after infra/main.bicep, as a deployment of its own.
//
//   - one Event Grid system topic per resource group holding a managed gallery (or per subscription,
//     eventSourceScope = 'subscription'), created in that resource group;
//   - every role assignment of the deployment (app/rbac.bicep, which calls app/gallery-rbac.bicep at
//     each gallery's resource group).
//
// Why not in main.bicep: `azd down` deletes every resource group that azd's deployment touched, and
// these resources live in the galleries' resource groups. The predown hook removes them instead.
targetScope = 'subscription'

@minLength(1)
@description('Name of the azd environment (AZURE_ENV_NAME); tags and names derive from it.')
param environmentName string

@description('The app\'s resource group (AZURE_RESOURCE_GROUP).')
param resourceGroupName string

@minLength(1)
@description('Comma-separated resource ids of the managed galleries (GALLERY_IDS).')
param galleryIds string

@allowed([
  'resourceGroup'
  'subscription'
])
@description('Where image-version events come from: a system topic on each gallery\'s resource group (default), or on each gallery\'s subscription (also sees galleries added later anywhere in it; more events to filter).')
param eventSourceScope string = 'resourceGroup'

@description('Also subscribe to Azure Resource Notifications (preview) of each gallery subscription: a version\'s CreatedOrUpdated event makes a waiting publish read at once (a hint; polling still decides).')
param enableReplicationHints bool = true

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

@description('Key Vault name (KEY_VAULT_NAME); empty: no Key Vault role.')
param keyVaultName string = ''

@description('Durable Task Scheduler name; empty with the Azure Storage backend.')
param durableTaskSchedulerName string = ''

@description('Durable task hub name.')
param taskHubName string = ''

@description('Let the app grant Reader on the galleries to consumer principals (principal sharing mode): Role Based Access Control Administrator, constrained to assigning and removing Reader only.')
param enablePrincipalSharing bool = false

@description('Object id of the multi-tenant app registration\'s service principal in this tenant; when set it gets Reader on every gallery (rbac sharing mode).')
param consumerAppPrincipalId string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var tags = {
  'azd-env-name': environmentName
}

var galleryIdList = filter(map(split(galleryIds, ','), id => trim(id)), id => !empty(id))

// Resource groups holding the galleries, once each (ARM ids are case-insensitive).
var galleryResourceGroups = union(
  map(galleryIdList, id => {
    subscriptionId: toLower(split(id, '/')[2])
    resourceGroup: toLower(split(id, '/')[4])
  }),
  []
)
var galleryResourceGroupSubscriptions = map(galleryResourceGroups, g => g.subscriptionId)

// A subscription-scope topic is placed in the first gallery resource group of its subscription.
var firstGroupPerSubscription = filter(galleryResourceGroups, (g, i) => indexOf(galleryResourceGroupSubscriptions, g.subscriptionId) == i)

// Subscription scope: one topic per subscription.
var eventSources = eventSourceScope == 'subscription' ? firstGroupPerSubscription : galleryResourceGroups

// Replication hints: one Resource Notifications topic per gallery subscription.
var hintSources = enableReplicationHints ? firstGroupPerSubscription : []

// Every system topic: the write-event topics (named as before, so a redeployment keeps them), then
// the hint topics.
var topics = concat(
  map(eventSources, source => {
    subscriptionId: source.subscriptionId
    resourceGroup: source.resourceGroup
    token: take(uniqueString(environmentName, source.subscriptionId, source.resourceGroup), 8)
    deployment: 'gallery-share-event-source'
    topicName: 'galleryshare'
    events: 'resourceWrites'
  }),
  map(hintSources, source => {
    subscriptionId: source.subscriptionId
    resourceGroup: source.resourceGroup
    token: take(uniqueString(environmentName, source.subscriptionId), 8)
    deployment: 'gallery-share-hint-source'
    topicName: 'galleryshare-hints'
    events: 'resourceNotifications'
  })
)

module eventSource 'app/event-source.bicep' = [
  for topic in topics: {
    name: '${topic.deployment}-${topic.token}'
    scope: resourceGroup(topic.subscriptionId, topic.resourceGroup)
    params: {
      name: '${abbrs.eventGridSystemTopics}${topic.topicName}-${topic.token}'
      scopeKind: eventSourceScope
      events: topic.events
      tags: tags
    }
  }
]

module rbac 'app/rbac.bicep' = {
  name: 'gallery-share-rbac-${take(uniqueString(environmentName), 8)}'
  scope: resourceGroup(resourceGroupName)
  params: {
    principalId: principalId
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
    serviceBusNamespaceName: serviceBusNamespaceName
    onboardingQueueName: onboardingQueueName
    outcomeTopicName: outcomeTopicName
    applicationInsightsName: applicationInsightsName
    keyVaultName: keyVaultName
    durableTaskSchedulerName: durableTaskSchedulerName
    taskHubName: taskHubName
    galleryIds: galleryIdList
    enablePrincipalSharing: enablePrincipalSharing
    consumerAppPrincipalId: consumerAppPrincipalId
    eventSourcePrincipalIds: [for i in range(0, length(topics)): eventSource[i].outputs.principalId]
  }
}

// Read by the postdeploy hook (event subscriptions) and the predown hook (removal).
// The replication-hint topics are among them: the postdeploy hook's event subscription picks its
// filter by the topic's type.
output systemTopicIds array = [for i in range(0, length(topics)): eventSource[i].outputs.id]
