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
resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
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

// The queue's properties live in ../servicebus-queue.json, which the local broker
// (local/servicebus) reads too, so local runs lock, redeliver, dead-letter and de-duplicate with
// exactly what is deployed. Why each value:
// - lockDuration PT2M: the trigger only parses, validates and starts (or signals) an orchestration:
//   seconds of work. Two minutes cover a Flex cold start plus that work without relying on lock
//   renewal (host.json renews up to 10 minutes anyway), and a message held by a crashed instance
//   is offered again within two minutes.
// - maxDeliveryCount 5: processing is idempotent (the orchestration instance id derives from
//   requestId). Five deliveries ride out transient faults (storage throttling, a cold start timing
//   out); a message that can never be processed is recorded as rejected and completed on its first
//   delivery (docs/decisions/0001-service-bus-settlement.md).
// - requiresDuplicateDetection with a P1D window: senders set MessageId = requestId, so a request
//   re-sent by a client that retried after an outage is dropped; a genuinely new request carries a
//   new requestId. (Cannot be changed after the queue exists.)
// - defaultMessageTimeToLive P14D with deadLetteringOnMessageExpiration: a request nobody
//   processed for 14 days (app stopped) goes to the dead-letter queue, where an operator sees it,
//   instead of vanishing.
// - maxSizeInMegabytes 1024, no sessions, no partitioning, batched operations on.
resource onboardingQueue 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = {
  parent: serviceBus
  name: queueName
  properties: loadJsonContent('../servicebus-queue.json')
}

output namespaceName string = serviceBus.name
output namespaceId string = serviceBus.id
output queueName string = onboardingQueue.name
output queueId string = onboardingQueue.id
// serviceBusEndpoint is https://{namespace}.servicebus.windows.net:443/ (cloud-specific suffix);
// identity-based connections want the bare host name.
output fullyQualifiedNamespace string = split(split(replace(serviceBus.properties.serviceBusEndpoint, 'https://', ''), ':')[0], '/')[0]
