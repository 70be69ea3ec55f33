// Durable Task Scheduler (durableBackend = 'DurableTaskScheduler'): a managed Durable backend with
// its own dashboard, for many tenants and high orchestration throughput. The Consumption SKU bills
// per action. The app reaches it with its managed identity (Durable Task Data Contributor on the
// task hub, app/rbac.bicep).

@description('Name of the scheduler.')
param name string

@description('Name of the task hub; the app\'s TASK_HUB_NAME must be the same.')
param taskHubName string

@description('Region of the scheduler (the Consumption SKU is offered in a subset of regions).')
param location string

@description('Tags for the scheduler.')
param tags object = {}

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // Required; an empty list would deny every caller. Access is controlled by Entra ID roles.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
    sku: {
      name: 'Consumption'
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
