#!/bin/sh
# azd postdeploy hook (azure.yaml): subscribes the imageVersionEvents function to the Event Grid
# system topic(s) of infra/access.bicep, by deploying infra/app/event-subscription.bicep at each
# topic's resource group. It runs after the code is deployed because Event Grid validates the
# webhook when the subscription is created, and the webhook URL carries the host's
# eventgrid_extension system key, which exists only once the host has loaded the Event Grid
# extension. Safe to run again: the subscription keeps its name and is updated in place.
set -eu
cd "$(dirname "$0")/../.."
. ./infra/hooks/common.sh

require_env AZURE_ENV_NAME AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP AZURE_FUNCTION_NAME AZURE_FUNCTION_HOST \
  AZURE_STORAGE_ACCOUNT_ID EVENTGRID_DEADLETTER_CONTAINER

function_name=imageVersionEvents

echo "Waiting for $AZURE_FUNCTION_NAME to list function $function_name..."
attempt=0
until az functionapp function show \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_NAME" \
    --function-name imageVersionEvents \
    --output none 2>/dev/null; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "ERROR: $function_name did not appear in $AZURE_FUNCTION_NAME within 5 minutes; see the deployment log in the portal (Deployment Center)." >&2
    exit 1
  fi
  sleep 10
done

# The host creates the key when the Event Grid extension first loads; wait a little for it, then
# create it ourselves (the host uses an existing key of that name).
key=""
attempt=0
while [ -z "$key" ] && [ "$attempt" -lt 12 ]; do
  key=$(az functionapp keys list \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_NAME" \
    --query "systemKeys.eventgrid_extension" \
    --output tsv 2>/dev/null || true)
  if [ -z "$key" ]; then
    attempt=$((attempt + 1))
    sleep 10
  fi
done
if [ -z "$key" ]; then
  echo "The host has not created the eventgrid_extension system key yet; creating it."
  key=$(az functionapp keys set \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_NAME" \
    --key-type systemKey \
    --key-name eventgrid_extension \
    --query value \
    --output tsv)
fi

topic_ids=$(system_topic_ids)
if [ -z "$topic_ids" ]; then
  echo "ERROR: no Event Grid system topic found (deployment $(access_deployment_name)); run 'azd provision' first." >&2
  exit 1
fi

# The key goes to ARM in a parameters file only this user can read, never on a command line.
umask 077
params_file=$(mktemp)
trap 'rm -f "$params_file"' EXIT INT TERM
printf '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {"eventGridExtensionKey": {"value": "%s"}}}\n' "$key" > "$params_file"

for topic_id in $topic_ids; do
  topic_subscription=$(printf '%s' "$topic_id" | cut -d/ -f3)
  topic_group=$(printf '%s' "$topic_id" | cut -d/ -f5)
  topic_name=$(printf '%s' "$topic_id" | cut -d/ -f9)
  echo "Subscribing $function_name to $topic_name (resource group $topic_group)..."
  attempt=0
  until az deployment group create \
      --subscription "$topic_subscription" \
      --resource-group "$topic_group" \
      --name "$(events_deployment_name)" \
      --template-file infra/app/event-subscription.bicep \
      --parameters @"$params_file" \
      --parameters \
        systemTopicName="$topic_name" \
        functionAppHostName="$AZURE_FUNCTION_HOST" \
        deadLetterStorageAccountId="$AZURE_STORAGE_ACCOUNT_ID" \
        deadLetterContainerName="$EVENTGRID_DEADLETTER_CONTAINER" \
      --output none; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 3 ]; then
      echo "ERROR: could not create the event subscription on $topic_name; Event Grid reports the webhook validation error above." >&2
      exit 1
    fi
    echo "Retrying in 30 s (the endpoint validation can fail while the app starts)."
    sleep 30
  done
done
echo "imageVersionEvents receives Microsoft.Resources.ResourceWriteSuccess events for gallery image versions (and, with ENABLE_REPLICATION_HINTS, their Resource Notifications as replication hints)."
