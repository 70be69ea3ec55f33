// Event Grid custom topic that receives the app's outcome events (CloudEvents 1.0, e.g.
// GalleryShare.ImageVersionShared). Access keys are disabled: the app publishes with its managed
// identity (EventGrid Data Sender, app/rbac.bicep). Consumers of the outcomes add their own event
// subscriptions to this topic.

@description('Name of the custom topic.')
param name string

@description('Region of the topic.')
param location string

@description('Tags for the topic.')
param tags object = {}

resource outcomeTopic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

output name string = outcomeTopic.name
output id string = outcomeTopic.id
// https://{topic}.{region}-1.eventgrid.azure.net/api/events: the OUTCOME_TOPIC_ENDPOINT setting.
output endpoint string = outcomeTopic.properties.endpoint
