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
