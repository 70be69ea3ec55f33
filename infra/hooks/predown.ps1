# azd predown hook (azure.yaml), PowerShell twin of predown.sh: removes the Event Grid system topics
# next to the galleries, the role assignments of the app's identity (and of the consumer app) on the
# galleries, the records of those deployments, the multi-tenant app registration this
# environment's deployment created (only that one) and the operators' sign-in registration whose
# redirect URI is this environment's app, before `azd down` deletes the app's resource group. It never touches the galleries, their images or their sharing profiles.
. "$PSScriptRoot/common.ps1"
Set-Location (Join-Path $PSScriptRoot '../..')

Assert-AzdEnv @('AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID', 'GALLERY_IDS', 'AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID')

foreach ($topicId in (Get-SystemTopicIds)) {
    $parts = $topicId -split '/'
    Write-Host "Deleting Event Grid system topic $topicId"
    az resource delete --ids $topicId --output none
    if ($LASTEXITCODE -ne 0) { Write-Warning "Could not delete $topicId" }
    az deployment group delete --subscription $parts[2] --resource-group $parts[4] --name (Get-EventsDeploymentName) --output none 2>$null
}

$principals = @($env:AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID, $env:CONSUMER_APP_PRINCIPAL_ID) | Where-Object { $_ }
foreach ($galleryId in (Split-Commas $env:GALLERY_IDS)) {
    foreach ($principal in $principals) {
        $assignmentIds = @(az role assignment list --scope $galleryId --query "[?principalId=='$principal'].id" --output tsv 2>$null | Where-Object { $_ })
        if ($assignmentIds.Count -gt 0) {
            Write-Host "Removing the role assignments of $principal on $galleryId"
            az role assignment delete --ids @assignmentIds --output none
            if ($LASTEXITCODE -ne 0) { Write-Warning 'Could not remove them' }
        }
    }
}

az deployment sub delete --subscription $env:AZURE_SUBSCRIPTION_ID --name (Get-AccessDeploymentName) --output none 2>$null

if ($env:CROSS_TENANT_APP_CREATED -eq 'true' -and $env:CROSS_TENANT_APP_ID) {
    # Only a registration that trusts this environment's identity: never one the user brought.
    $trusted = az ad app federated-credential list --id $env:CROSS_TENANT_APP_ID `
        --query "[?subject=='$env:AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID'].name" --output tsv 2>$null
    if ("$trusted".Trim()) {
        Write-Host "Deleting the app registration $env:CROSS_TENANT_APP_ID (and its service principal) this environment created"
        az ad app delete --id $env:CROSS_TENANT_APP_ID --output none
        if ($LASTEXITCODE -ne 0) { Write-Warning 'Could not delete it' }
    } else {
        Write-Warning "Not deleting app registration $($env:CROSS_TENANT_APP_ID): it has no federated credential for this environment's identity"
    }
}
if ($env:OPERATOR_SIGN_IN_APP_ID -and $env:AZURE_FUNCTION_HOST) {
    # Only the operators' sign-in registration that sends its users back to this environment's app.
    $callback = "https://$env:AZURE_FUNCTION_HOST/.auth/login/aad/callback"
    $ours = "$(az ad app show --id $env:OPERATOR_SIGN_IN_APP_ID --query "web.redirectUris[?@=='$callback'] | length(@)" --output tsv 2>$null)".Trim()
    if ($ours -eq '1') {
        Write-Host "Deleting the operators' sign-in app registration $env:OPERATOR_SIGN_IN_APP_ID"
        az ad app delete --id $env:OPERATOR_SIGN_IN_APP_ID --output none
        if ($LASTEXITCODE -ne 0) { Write-Warning 'Could not delete it' }
    } else {
        Write-Warning "Not deleting app registration $($env:OPERATOR_SIGN_IN_APP_ID): it does not send its users to $callback"
    }
}
Write-Host "Removed the Event Grid sources, the gallery role assignments and the app registrations; azd now deletes the app's resource group."
# A failed clean-up step above is a warning, not a reason to stop `azd down`.
exit 0
