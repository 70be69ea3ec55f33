# Shared by the POSIX hook scripts (sourced, not run). azd runs the hooks from the project root with
# the azd environment's values (.azure/<env>/.env, including infra/main.bicep's outputs) exported.

# require_env NAME...: stop with a clear message when an azd environment value is missing.
require_env() {
  for name in "$@"; do
    eval "value=\${$name:-}"
    if [ -z "$value" ]; then
      echo "ERROR: $name is not set in the azd environment. Run 'azd provision' first, or 'azd env set $name <value>' (docs/deploy.md)." >&2
      exit 1
    fi
  done
}

# Deployment names (at most 64 characters).
short_env_name() {
  printf '%s' "$AZURE_ENV_NAME" | cut -c1-40
}
access_deployment_name() {
  printf 'gallery-share-access-%s' "$(short_env_name)"
}
events_deployment_name() {
  printf 'gallery-share-events-%s' "$(short_env_name)"
}

# split_commas "a, b,c": one item per line, trimmed, empty items dropped.
split_commas() {
  printf '%s\n' "$1" | tr ',' '\n' | sed 's/^[[:space:]]*//;s/[[:space:]]*$//' | grep -v '^$' || true
}

# The system topics infra/access.bicep created (its systemTopicIds output), one per line.
system_topic_ids() {
  az deployment sub show \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --name "$(access_deployment_name)" \
    --query "properties.outputs.systemTopicIds.value" \
    --output tsv 2>/dev/null || true
}

# The secret holding the key that signs consent links (infra/main.bicep, consentStateKeyName).
CONSENT_STATE_KEY_NAME=consent-state-key

# Resource id of the app's Key Vault (tagged with the environment, in the app's resource group), or
# nothing before the first provisioning. A failed look (other than the group not existing) stops.
app_key_vault_id() {
  group="${AZURE_RESOURCE_GROUP:-rg-$AZURE_ENV_NAME}"
  group_exists=$(az group exists --subscription "$AZURE_SUBSCRIPTION_ID" --name "$group") || return 1
  [ "$group_exists" = "true" ] || return 0
  az keyvault list --subscription "$AZURE_SUBSCRIPTION_ID" --resource-group "$group" \
    --query "[?tags.\"azd-env-name\"=='$AZURE_ENV_NAME'].id | [0]" --output tsv || return 1
}
