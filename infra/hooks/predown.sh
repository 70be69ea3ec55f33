#!/bin/sh
# azd predown hook (azure.yaml): before `azd down` deletes the app's resource group, removes what was
# created outside azd's own deployment:
#   - the Event Grid system topics next to the galleries (their event subscriptions go with them),
#   - the role assignments of the app's identity, and of the consumer app if one was granted, on
#     each gallery,
#   - the records of the access and event-subscription deployments,
#   - the multi-tenant app registration, if this environment's deployment created it (Microsoft
#     Entra objects do not go with a resource group), and only that one;
#   - the operators' sign-in app registration whose redirect URI is this environment's app.
# It never touches the galleries, their images or their sharing profiles: revoke direct shares and
# offboard consumers first (docs/deploy.md, "Removing everything").
set -eu
cd "$(dirname "$0")/../.."
. ./infra/hooks/common.sh

require_env AZURE_ENV_NAME AZURE_SUBSCRIPTION_ID GALLERY_IDS AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID

for topic_id in $(system_topic_ids); do
  topic_subscription=$(printf '%s' "$topic_id" | cut -d/ -f3)
  topic_group=$(printf '%s' "$topic_id" | cut -d/ -f5)
  echo "Deleting Event Grid system topic $topic_id"
  az resource delete --ids "$topic_id" --output none || echo "WARNING: could not delete $topic_id" >&2
  az deployment group delete --subscription "$topic_subscription" --resource-group "$topic_group" \
    --name "$(events_deployment_name)" --output none 2>/dev/null || true
done

for gallery_id in $(split_commas "$GALLERY_IDS"); do
  for principal in "$AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID" "${CONSUMER_APP_PRINCIPAL_ID:-}"; do
    [ -n "$principal" ] || continue
    assignment_ids=$(az role assignment list --scope "$gallery_id" \
      --query "[?principalId=='$principal'].id" --output tsv 2>/dev/null || true)
    if [ -n "$assignment_ids" ]; then
      echo "Removing the role assignments of $principal on $gallery_id"
      # One id per word, on purpose.
      # shellcheck disable=SC2086
      az role assignment delete --ids $assignment_ids --output none || echo "WARNING: could not remove them" >&2
    fi
  done
done

az deployment sub delete --subscription "$AZURE_SUBSCRIPTION_ID" --name "$(access_deployment_name)" --output none 2>/dev/null || true

if [ "${CROSS_TENANT_APP_CREATED:-false}" = "true" ] && [ -n "${CROSS_TENANT_APP_ID:-}" ]; then
  # Only a registration that trusts this environment's identity: never one the user brought.
  trusted=$(az ad app federated-credential list --id "$CROSS_TENANT_APP_ID" \
    --query "[?subject=='$AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID'].name" --output tsv 2>/dev/null || true)
  if [ -n "$trusted" ]; then
    echo "Deleting the app registration $CROSS_TENANT_APP_ID (and its service principal) this environment created"
    az ad app delete --id "$CROSS_TENANT_APP_ID" --output none || echo "WARNING: could not delete it" >&2
  else
    echo "WARNING: not deleting app registration $CROSS_TENANT_APP_ID: it has no federated credential for this environment's identity" >&2
  fi
fi
if [ -n "${OPERATOR_SIGN_IN_APP_ID:-}" ] && [ -n "${AZURE_FUNCTION_HOST:-}" ]; then
  # Only the operators' sign-in registration that sends its users back to this environment's app.
  callback="https://$AZURE_FUNCTION_HOST/.auth/login/aad/callback"
  ours=$(az ad app show --id "$OPERATOR_SIGN_IN_APP_ID" --query "web.redirectUris[?@=='$callback'] | length(@)" --output tsv 2>/dev/null || true)
  if [ "$ours" = "1" ]; then
    echo "Deleting the operators' sign-in app registration $OPERATOR_SIGN_IN_APP_ID"
    az ad app delete --id "$OPERATOR_SIGN_IN_APP_ID" --output none || echo "WARNING: could not delete it" >&2
  else
    echo "WARNING: not deleting app registration $OPERATOR_SIGN_IN_APP_ID: it does not send its users to $callback" >&2
  fi
fi
echo "Removed the Event Grid sources, the gallery role assignments and the app registrations; azd now deletes the app's resource group."
