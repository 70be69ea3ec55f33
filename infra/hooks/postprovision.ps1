# azd postprovision hook (azure.yaml), PowerShell twin of postprovision.sh: deploys
# infra/access.bicep (the Event Grid system topics next to the galleries and every role assignment)
# as a deployment of its own, so that `azd down` never deletes the galleries' resource groups.
. "$PSScriptRoot/common.ps1"
Set-Location (Join-Path $PSScriptRoot '../..')

Assert-AzdEnv @('AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID', 'AZURE_LOCATION', 'AZURE_RESOURCE_GROUP', 'GALLERY_IDS',
    'AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID', 'AZURE_STORAGE_ACCOUNT_NAME', 'EVENTGRID_DEADLETTER_CONTAINER',
    'SERVICE_BUS_NAMESPACE', 'ONBOARDING_QUEUE_NAME', 'OUTCOME_TOPIC_NAME', 'APPLICATIONINSIGHTS_NAME')

$eventSourceScope = if ($env:EVENT_SOURCE_SCOPE) { $env:EVENT_SOURCE_SCOPE } else { 'resourceGroup' }
$enableReplicationHints = if ($env:ENABLE_REPLICATION_HINTS) { $env:ENABLE_REPLICATION_HINTS } else { 'true' }
$enablePrincipalSharing = if ($env:ENABLE_PRINCIPAL_SHARING) { $env:ENABLE_PRINCIPAL_SHARING } else { 'false' }

Write-Host "Granting the app's roles and creating the Event Grid sources for: $env:GALLERY_IDS"
az deployment sub create `
    --subscription $env:AZURE_SUBSCRIPTION_ID `
    --location $env:AZURE_LOCATION `
    --name (Get-AccessDeploymentName) `
    --template-file infra/access.bicep `
    --parameters `
        "environmentName=$env:AZURE_ENV_NAME" `
        "resourceGroupName=$env:AZURE_RESOURCE_GROUP" `
        "galleryIds=$env:GALLERY_IDS" `
        "eventSourceScope=$eventSourceScope" `
        "enableReplicationHints=$enableReplicationHints" `
        "principalId=$env:AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID" `
        "storageAccountName=$env:AZURE_STORAGE_ACCOUNT_NAME" `
        "deadLetterContainerName=$env:EVENTGRID_DEADLETTER_CONTAINER" `
        "serviceBusNamespaceName=$env:SERVICE_BUS_NAMESPACE" `
        "onboardingQueueName=$env:ONBOARDING_QUEUE_NAME" `
        "outcomeTopicName=$env:OUTCOME_TOPIC_NAME" `
        "applicationInsightsName=$env:APPLICATIONINSIGHTS_NAME" `
        "keyVaultName=$env:KEY_VAULT_NAME" `
        "durableTaskSchedulerName=$env:DURABLE_TASK_SCHEDULER_NAME" `
        "taskHubName=$env:TASK_HUB_NAME" `
        "enablePrincipalSharing=$enablePrincipalSharing" `
        "consumerAppPrincipalId=$env:CONSUMER_APP_PRINCIPAL_ID" `
    --output none
Assert-AzSucceeded 'Deploying infra/access.bicep'

Write-Host 'Event Grid system topics:'
Get-SystemTopicIds | ForEach-Object { Write-Host "  $_" }
