#!/bin/sh
# azd preprovision hook (azure.yaml), before azd compiles and deploys infra/main.bicep:
#   1. builds the Microsoft Graph Bicep extension package that infra/app/entra.bicep uses
#      (tools/graph-extension.mjs, from the vendored types; no registry needed);
#   2. looks whether the app's Key Vault already holds the consent-state key, and tells the
#      deployment (CONSENT_STATE_KEY_EXISTS): it writes a new key only when there is none, so that
#      consent links already sent stay valid across re-deployments.
# The key itself never passes through here: ARM draws it (infra/main.bicep, consentStateKey).
set -eu
cd "$(dirname "$0")/../.."
. ./infra/hooks/common.sh

require_env AZURE_ENV_NAME AZURE_SUBSCRIPTION_ID

node tools/graph-extension.mjs

exists=false
vault_id=$(app_key_vault_id) || { echo "ERROR: could not look for the app's Key Vault (az failed above)" >&2; exit 1; }
if [ -n "$vault_id" ]; then
  if answer=$(az resource show --ids "$vault_id/secrets/$CONSENT_STATE_KEY_NAME" --query id --output tsv 2>&1); then
    exists=true
  elif ! printf '%s' "$answer" | grep -q 'NotFound'; then
    # Not knowing is not "absent": writing a new key would invalidate every consent link sent.
    echo "ERROR: could not read whether $vault_id holds $CONSENT_STATE_KEY_NAME: $answer" >&2
    exit 1
  fi
fi
echo "Consent-state key in the app's Key Vault: $([ "$exists" = true ] && echo 'present, kept' || echo 'none yet, the deployment creates it')"
azd env set CONSENT_STATE_KEY_EXISTS "$exists"
