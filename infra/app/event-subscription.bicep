// The event subscription that sends image-version writes to the imageVersionEvents function (or,
// on an Azure Resource Notifications topic, image-version CreatedOrUpdated events: replication hints).
// Deployed by infra/hooks/postdeploy.sh / .ps1 (once per system topic, at the topic's resource
// group) after `azd deploy`, because it needs the deployed function: Event Grid validates a
// webhook when the subscription is created, and the URL carries the host's eventgrid_extension
// system key. Redeploying it is harmless (same name, same properties).

@description('Name of the Event Grid system topic in this resource group (infra/access.bicep).')
param systemTopicName string

@description('Default host name of the function app (AZURE_FUNCTION_HOST).')
param functionAppHostName string

@secure()
@description('The function app\'s eventgrid_extension system key.')
param eventGridExtensionKey string

@description('Resource id of the storage account that receives dead letters.')
param deadLetterStorageAccountId string

@description('Blob container for dead letters.')
param deadLetterContainerName string

// The Event Grid trigger the app registers (src/functions); test/infra checks the name.
var functionName = 'imageVersionEvents'

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

// One template for both kinds of topic (infra/access.bicep): the filter follows the topic's type.
var hintTopic = systemTopic.properties.topicType == 'Microsoft.ResourceNotifications.Resources'

var writeFilter = {
  includedEventTypes: [
    'Microsoft.Resources.ResourceWriteSuccess'
  ]
  advancedFilters: [
    {
      operatorType: 'StringIn'
      key: 'data.operationName'
      values: [
        'Microsoft.Compute/galleries/images/versions/write'
      ]
    }
  ]
}

var hintFilter = {
  includedEventTypes: [
    'Microsoft.ResourceNotifications.Resources.CreatedOrUpdated'
  ]
  advancedFilters: [
    {
      operatorType: 'StringIn'
      key: 'data.resourceInfo.type'
      values: [
        'Microsoft.Compute/galleries/images/versions'
      ]
    }
  ]
}

resource imageVersionEvents 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'gallery-share-image-versions'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        // The URL carries the @secure() key, but the linter does not follow secrecy through string
        // interpolation (it wants a secure-typed value, which only a secure parameter or a
        // user-defined type would give, and such a type makes the template ARM languageVersion 2.0).
        #disable-next-line use-secure-value-for-secure-inputs
        endpointUrl: 'https://${functionAppHostName}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${uriComponent(eventGridExtensionKey)}'
        // One event per request: image versions are written a few times a day, and a failed
        // delivery then retries only the event that failed.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    // The native schema of system topics; the trigger also accepts CloudEvents.
    eventDeliverySchema: 'EventGridSchema'
    filter: hintTopic ? hintFilter : writeFilter
    // Writes: the maximum on both, since a missed write delays sharing until someone notices, so
    // Event Grid keeps retrying for the full 24 hours (exponential back-off) before it dead-letters.
    // Hints: worth something only while a publish waits, and polling finds completion anyway.
    retryPolicy: {
      maxDeliveryAttempts: hintTopic ? 5 : 30
      eventTimeToLiveInMinutes: hintTopic ? 30 : 1440
    }
    // Dead letters are written with the system topic's own identity, so the storage account keeps
    // shared keys disabled.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output id string = imageVersionEvents.id
