# azd preprovision hook (azure.yaml), PowerShell twin of preprovision.sh: builds the Microsoft Graph
# Bicep extension package (tools/graph-extension.mjs) and tells the deployment whether the app's Key
# Vault already holds the consent-state key (CONSENT_STATE_KEY_EXISTS), so that a re-deployment
# keeps it and consent links already sent stay valid. The key never passes through here.
. "$PSScriptRoot/common.ps1"
Set-Location (Join-Path $PSScriptRoot '../..')

Assert-AzdEnv @('AZURE_ENV_NAME', 'AZURE_SUBSCRIPTION_ID')

node tools/graph-extension.mjs
if ($LASTEXITCODE -ne 0) { throw "Building the Microsoft Graph Bicep extension failed (exit code $LASTEXITCODE)." }

$exists = $false
$vaultId = Get-AppKeyVaultId
if ($vaultId) {
    $answer = az resource show --ids "$vaultId/secrets/$ConsentStateKeyName" --query id --output tsv 2>&1
    if ($LASTEXITCODE -eq 0) {
        $exists = $true
    } elseif (-not ("$answer" -match 'NotFound')) {
        # Not knowing is not "absent": writing a new key would invalidate every consent link sent.
        throw "Could not read whether $vaultId holds ${ConsentStateKeyName}: $answer"
    }
}
Write-Host "Consent-state key in the app's Key Vault: $(if ($exists) { 'present, kept' } else { 'none yet, the deployment creates it' })"
azd env set CONSENT_STATE_KEY_EXISTS $(if ($exists) { 'true' } else { 'false' })
