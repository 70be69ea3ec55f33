# azd postdeploy hook (azure.yaml), PowerShell twin of postdeploy.sh: subscribes the
# imageVersionEvents function to the Event Grid system topic(s) by deploying
# infra/app/event-subscription.bicep at each topic's resource group, with the host's
# eventgrid_extension system key.
. "$PSScriptRoot/common.ps1"
Set-Location (Join-Path $PSScriptRoot '../..')

Assert-AzdEnv @('AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_NAME', 'AZURE_FUNCTION_HOST',
    'AZURE_STORAGE_ACCOUNT_ID', 'EVENTGRID_DEADLETTER_CONTAINER')

$functionName = 'imageVersionEvents'

Write-Host "Waiting for $env:AZURE_FUNCTION_NAME to list function $functionName..."
$attempt = 0
while ($true) {
    az functionapp function show `
        --subscription $env:AZURE_SUBSCRIPTION_ID `
        --resource-group $env:AZURE_RESOURCE_GROUP `
        --name $env:AZURE_FUNCTION_NAME `
        --function-name imageVersionEvents `
        --output none 2>$null
    if ($LASTEXITCODE -eq 0) { break }
    $attempt++
    if ($attempt -ge 30) { throw "$functionName did not appear in $env:AZURE_FUNCTION_NAME within 5 minutes; see the deployment log in the portal (Deployment Center)." }
    Start-Sleep -Seconds 10
}

# The host creates the key when the Event Grid extension first loads; wait a little for it, then
# create it ourselves (the host uses an existing key of that name).
$key = ''
for ($attempt = 0; -not $key -and $attempt -lt 12; $attempt++) {
    $key = az functionapp keys list `
        --subscription $env:AZURE_SUBSCRIPTION_ID `
        --resource-group $env:AZURE_RESOURCE_GROUP `
        --name $env:AZURE_FUNCTION_NAME `
        --query "systemKeys.eventgrid_extension" `
        --output tsv 2>$null
    if (-not $key) { Start-Sleep -Seconds 10 }
}
if (-not $key) {
    Write-Host 'The host has not created the eventgrid_extension system key yet; creating it.'
    $key = az functionapp keys set `
        --subscription $env:AZURE_SUBSCRIPTION_ID `
        --resource-group $env:AZURE_RESOURCE_GROUP `
        --name $env:AZURE_FUNCTION_NAME `
        --key-type systemKey `
        --key-name eventgrid_extension `
        --query value `
        --output tsv
    Assert-AzSucceeded 'Creating the eventgrid_extension system key'
}

$topicIds = Get-SystemTopicIds
if ($topicIds.Count -eq 0) { throw "No Event Grid system topic found (deployment $(Get-AccessDeploymentName)); run 'azd provision' first." }

# The key goes to ARM in a parameters file in the user's temp directory, never on a command line.
$paramsFile = New-TemporaryFile
try {
    $json = '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {"eventGridExtensionKey": {"value": "' + $key + '"}}}'
    Set-Content -Path $paramsFile -Value $json -Encoding utf8NoBOM
    foreach ($topicId in $topicIds) {
        $parts = $topicId -split '/'
        $topicSubscription = $parts[2]
        $topicGroup = $parts[4]
        $topicName = $parts[8]
        Write-Host "Subscribing $functionName to $topicName (resource group $topicGroup)..."
        for ($attempt = 1; ; $attempt++) {
            az deployment group create `
                --subscription $topicSubscription `
                --resource-group $topicGroup `
                --name (Get-EventsDeploymentName) `
                --template-file infra/app/event-subscription.bicep `
                --parameters "@$paramsFile" `
                --parameters `
                    "systemTopicName=$topicName" `
                    "functionAppHostName=$env:AZURE_FUNCTION_HOST" `
                    "deadLetterStorageAccountId=$env:AZURE_STORAGE_ACCOUNT_ID" `
                    "deadLetterContainerName=$env:EVENTGRID_DEADLETTER_CONTAINER" `
                --output none
            if ($LASTEXITCODE -eq 0) { break }
            if ($attempt -ge 3) { throw "Could not create the event subscription on $topicName; Event Grid reports the webhook validation error above." }
            Write-Host 'Retrying in 30 s (the endpoint validation can fail while the app starts).'
            Start-Sleep -Seconds 30
        }
    }
}
finally {
    Remove-Item -Path $paramsFile -Force -ErrorAction SilentlyContinue
}
Write-Host 'imageVersionEvents receives Microsoft.Resources.ResourceWriteSuccess events for gallery image versions (and, with ENABLE_REPLICATION_HINTS, their Resource Notifications as replication hints).'
