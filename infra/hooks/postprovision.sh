#!/bin/sh
# azd postprovision hook (azure.yaml): deploys infra/access.bicep, which
#   - creates the Event Grid system topic(s) next to the managed galleries, and
#   - makes every role assignment of the app (infra/app/rbac.bicep, which calls
#     infra/app/gallery-rbac.bicep at each gallery's resource group).
# It is a deployment of its own, not part of azd's: `azd down` deletes every resource group that azd's
# deployment touched, and the galleries' resource groups hold the publisher's images. The predown
# hook removes what this creates. Safe to run again: same names, same assignments.
set -eu
cd "$(dirname "$0")/../.."
. ./infra/hooks/common.sh

require_env AZURE_ENV_NAME AZURE_SUBSCRIPTION_ID AZURE_LOCATION AZURE_RESOURCE_GROUP GALLERY_IDS \
  AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID AZURE_STORAGE_ACCOUNT_NAME EVENTGRID_DEADLETTER_CONTAINER \
  SERVICE_BUS_NAMESPACE ONBOARDING_QUEUE_NAME OUTCOME_TOPIC_NAME APPLICATIONINSIGHTS_NAME

echo "Granting the app's roles and creating the Event Grid sources for: $GALLERY_IDS"
az deployment sub create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --location "$AZURE_LOCATION" \
  --name "$(access_deployment_name)" \
  --template-file infra/access.bicep \
  --parameters \
    environmentName="$AZURE_ENV_NAME" \
    resourceGroupName="$AZURE_RESOURCE_GROUP" \
    galleryIds="$GALLERY_IDS" \
    eventSourceScope="${EVENT_SOURCE_SCOPE:-resourceGroup}" \
    enableReplicationHints="${ENABLE_REPLICATION_HINTS:-true}" \
    principalId="$AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID" \
    storageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" \
    deadLetterContainerName="$EVENTGRID_DEADLETTER_CONTAINER" \
    serviceBusNamespaceName="$SERVICE_BUS_NAMESPACE" \
    onboardingQueueName="$ONBOARDING_QUEUE_NAME" \
    outcomeTopicName="$OUTCOME_TOPIC_NAME" \
    applicationInsightsName="$APPLICATIONINSIGHTS_NAME" \
    keyVaultName="${KEY_VAULT_NAME:-}" \
    durableTaskSchedulerName="${DURABLE_TASK_SCHEDULER_NAME:-}" \
    taskHubName="${TASK_HUB_NAME:-}" \
    enablePrincipalSharing="${ENABLE_PRINCIPAL_SHARING:-false}" \
    consumerAppPrincipalId="${CONSUMER_APP_PRINCIPAL_ID:-}" \
  --output none

echo "Event Grid system topics:"
system_topic_ids
