// Service Bus namespace and the onboarding queue (tenant onboarding / offboarding requests).
// The queue's consumer is not built yet: its settings (ONBOARDING_QUEUE_NAME,
// ServiceBusConnection__fullyQualifiedNamespace) are RESERVED_SETTINGS in src/config.ts, and the
// app already gets them, so the trigger can land without an infrastructure change.

@description('Service Bus namespace name (6-50 letters, digits and hyphens, globally unique).')
param namespaceName string

@description('Name of the onboarding queue (ONBOARDING_QUEUE_NAME).')
param queueName string

@description('Region of the namespace.')
param location string

@description('Tags for the namespace.')
param tags object = {}

// Standard, not Basic: duplicate detection needs it. SAS keys are disabled; clients use Entra ID.
resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource onboardingQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: serviceBus
  name: queueName
  properties: {
    // The trigger only parses, validates and starts (or signals) an orchestration: seconds of work.
    // Two minutes cover a Flex cold start plus that work without relying on lock renewal
    // (host.json renews up to 10 minutes anyway), and a message held by a crashed instance is
    // offered again within two minutes.
    lockDuration: 'PT2M'
    // Processing is idempotent (the orchestration instance id derives from requestId). Five
    // deliveries ride out transient faults (storage throttling, a cold start timing out); a message
    // that is malformed is dead-lettered by the trigger itself, with a reason, on its first delivery.
    maxDeliveryCount: 5
    // Senders set MessageId = requestId. A one-day window drops a request re-sent by a client that
    // retried after an outage; a genuinely new request carries a new requestId. (Cannot be changed
    // after the queue exists.)
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    // A request nobody processed for 14 days (app stopped) goes to the dead-letter queue, where an
    // operator sees it, instead of vanishing.
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    maxSizeInMegabytes: 1024
    requiresSession: false
    enablePartitioning: false
    enableBatchedOperations: true
  }
}

output namespaceName string = serviceBus.name
output namespaceId string = serviceBus.id
output queueName string = onboardingQueue.name
output queueId string = onboardingQueue.id
// serviceBusEndpoint is https://{namespace}.servicebus.windows.net:443/ (cloud-specific suffix);
// identity-based connections want the bare host name.
output fullyQualifiedNamespace string = split(split(replace(serviceBus.properties.serviceBusEndpoint, 'https://', ''), ':')[0], '/')[0]
