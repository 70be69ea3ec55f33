# Shared by the PowerShell hook scripts (dot-sourced, not run). azd runs the hooks from the project
# root with the azd environment's values (.azure/<env>/.env, including infra/main.bicep's outputs)
# in the environment.
$ErrorActionPreference = 'Stop'

# Stops with a clear message when an azd environment value is missing.
function Assert-AzdEnv([string[]] $Names) {
    foreach ($name in $Names) {
        if (-not [Environment]::GetEnvironmentVariable($name)) {
            throw "$name is not set in the azd environment. Run 'azd provision' first, or 'azd env set $name <value>' (docs/deploy.md)."
        }
    }
}

# Stops when the last az command failed.
function Assert-AzSucceeded([string] $What) {
    if ($LASTEXITCODE -ne 0) { throw "$What failed (az exit code $LASTEXITCODE)." }
}

# Deployment names (at most 64 characters).
function Get-ShortEnvName {
    $name = $env:AZURE_ENV_NAME
    return $name.Substring(0, [Math]::Min(40, $name.Length))
}
function Get-AccessDeploymentName { return "gallery-share-access-$(Get-ShortEnvName)" }
function Get-EventsDeploymentName { return "gallery-share-events-$(Get-ShortEnvName)" }

# "a, b,c" -> @('a', 'b', 'c')
function Split-Commas([string] $Text) {
    return @($Text -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
}

# The system topics infra/access.bicep created (its systemTopicIds output).
function Get-SystemTopicIds {
    $ids = az deployment sub show `
        --subscription $env:AZURE_SUBSCRIPTION_ID `
        --name (Get-AccessDeploymentName) `
        --query "properties.outputs.systemTopicIds.value" `
        --output tsv 2>$null
    if ($LASTEXITCODE -ne 0) { return @() }
    return @($ids | Where-Object { $_ })
}

# The secret holding the key that signs consent links (infra/main.bicep, consentStateKeyName).
$ConsentStateKeyName = 'consent-state-key'

# Resource id of the app's Key Vault (tagged with the environment, in the app's resource group), or
# nothing before the first provisioning. A failed look (other than the group not existing) stops.
function Get-AppKeyVaultId {
    $group = if ($env:AZURE_RESOURCE_GROUP) { $env:AZURE_RESOURCE_GROUP } else { "rg-$env:AZURE_ENV_NAME" }
    $groupExists = az group exists --subscription $env:AZURE_SUBSCRIPTION_ID --name $group
    Assert-AzSucceeded "Looking for resource group $group"
    if ($groupExists -ne 'true') { return '' }
    $id = az keyvault list --subscription $env:AZURE_SUBSCRIPTION_ID --resource-group $group `
        --query "[?tags.\`"azd-env-name\`"=='$env:AZURE_ENV_NAME'].id | [0]" --output tsv
    Assert-AzSucceeded "Listing the Key Vaults of $group"
    return "$id".Trim()
}
