// Event Grid system topic that publishes Azure Resource Manager events of this resource group (or
// of this subscription). Deployed at a gallery's resource group by infra/access.bicep. Its
// system-assigned identity writes undeliverable events to the dead-letter container (role in
// app/rbac.bicep). The event subscription itself is added after code deployment by
// infra/hooks/postdeploy (app/event-subscription.bicep), because it needs the function's key.
//
// Azure allows one system topic per source: if this resource group (or subscription) already has
// one, that deployment fails; see docs/deploy.md.
//
// With events = 'resourceNotifications' the topic is Azure Resource Notifications (preview) of this
// subscription instead: CreatedOrUpdated events the app takes as replication hints.

@description('Name of the system topic.')
param name string

@allowed([
  'resourceGroup'
  'subscription'
])
@description('Source of the events: this resource group, or this subscription.')
param scopeKind string = 'resourceGroup'

@allowed([
  'resourceWrites'
  'resourceNotifications'
])
@description('ARM\'s resource write events (the publish trigger), or Azure Resource Notifications of the subscription (replication hints; always subscription scope).')
param events string = 'resourceWrites'

@description('Tags for the topic.')
param tags object = {}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  // Resource-group and subscription system topics are global.
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: events == 'resourceNotifications'
    ? {
        source: subscription().id
        topicType: 'Microsoft.ResourceNotifications.Resources'
      }
    : {
        source: scopeKind == 'subscription' ? subscription().id : resourceGroup().id
        topicType: scopeKind == 'subscription' ? 'Microsoft.Resources.Subscriptions' : 'Microsoft.Resources.ResourceGroups'
      }
}

output id string = systemTopic.id
output name string = systemTopic.name
output principalId string = systemTopic.identity.principalId
