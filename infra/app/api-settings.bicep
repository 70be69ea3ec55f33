// The Function App's app settings (app/api.bicep creates the app): the single place the app's
// settings are set in Azure.
//
// test/infra checks these settings against src/config.ts (SETTINGS, HOST_SETTINGS,
// RESERVED_SETTINGS) and local.settings.sample.json. These settings are deliberately absent:
//   - AZURE_CLIENT_SECRET: local development only; in Azure the app authenticates with the managed
//     identity named by AZURE_CLIENT_ID, and a secret here would be a long-lived credential.
//   - CROSS_TENANT_CLIENT_SECRET, CROSS_TENANT_CERTIFICATE_PATH: fallbacks for where a federated
//     credential cannot be used; in Azure the multi-tenant app's credential is the managed identity.
//   - FUNCTIONS_WORKER_RUNTIME: Flex Consumption takes the language from functionAppConfig.runtime
//     (app/api.bicep) and rejects this app setting.

@description('Name of the Function App app/api.bicep created.')
param name string

@description('Client id of the user-assigned identity the app runs as (AZURE_CLIENT_ID).')
param identityClientId string

@description('Host storage account name (identity-based AzureWebJobsStorage).')
param storageAccountName string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Comma-separated gallery resource ids (GALLERY_IDS).')
param galleryIds string

@description('Comma-separated subscription ids for direct sharing (SHARE_SUBSCRIPTION_IDS).')
param shareSubscriptionIds string

@description('Comma-separated tenant ids for direct sharing (SHARE_TENANT_IDS).')
param shareTenantIds string

@description('Client id of the multi-tenant app used in consumer tenants (CROSS_TENANT_APP_ID); may be empty.')
param crossTenantAppId string

@description('Display name of that app registration, which the consent page shows (CROSS_TENANT_APP_NAME).')
param crossTenantAppName string

@description('Put App Service Authentication in front of the app for operators (OPERATOR_SIGN_IN=easyauth); false: the dashboard answers 401.')
param operatorSignIn bool = false

@description('Client id of the operators\' sign-in app registration (app/operator-signin.bicep), with operatorSignIn.')
param operatorSignInAppId string = ''

@description('Key Vault reference of the key that signs consent links (CONSENT_STATE_KEY), e.g. @Microsoft.KeyVault(VaultName=...;SecretName=consent-state-key); empty: rbac onboarding is off.')
param consentStateKeyReference string = ''

@description('The publisher name the consent page shows (PUBLISHER_DISPLAY_NAME).')
param publisherDisplayName string = ''

@description('Comma-separated image definition ids whose latest the app gates (GATED_IMAGES).')
param gatedImages string = ''

@description('Endpoint of the outcome-event topic (OUTCOME_TOPIC_ENDPOINT).')
param outcomeTopicEndpoint string

@description('Service Bus namespace host name (ServiceBusConnection__fullyQualifiedNamespace).')
param serviceBusFullyQualifiedNamespace string

@description('Onboarding queue name (ONBOARDING_QUEUE_NAME).')
param onboardingQueueName string

@description('Registry table name (REGISTRY_TABLE_NAME).')
param registryTableName string

@description('Share audit table name (AUDIT_TABLE_NAME).')
param auditTableName string

@description('Durable task hub name (TASK_HUB_NAME, host.json extensions.durableTask.hubName).')
param taskHubName string

@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
@description('Durable Functions backend.')
param durableBackend string

@description('Durable Task Scheduler endpoint; empty with the Azure Storage backend.')
param durableTaskSchedulerEndpoint string = ''

// Settings the Functions host reads. AzureWebJobsStorage (also read by the code, for the audit
// table) is identity-based: account name plus the managed identity, no connection string (the
// account has shared keys disabled anyway).
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  TASK_HUB_NAME: taskHubName
}

// Telemetry goes to Application Insights with the managed identity (local auth is disabled there).
var monitoringSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// Settings src/config.ts reads (SETTINGS). Tuning values repeat the code's defaults on purpose, so
// that what runs in Azure is visible here and can be changed without a code release.
var codeSettings = {
  GALLERY_IDS: galleryIds
  AZURE_TENANT_ID: tenant().tenantId
  AZURE_CLIENT_ID: identityClientId
  CROSS_TENANT_APP_ID: crossTenantAppId
  CROSS_TENANT_APP_NAME: crossTenantAppName
  // Admin consent (rbac mode): the signing key comes from Key Vault, never as a value here.
  CONSENT_STATE_KEY: consentStateKeyReference
  CONSENT_EXPIRY_HOURS: '168'
  CONSENT_REMINDER_HOURS: '48'
  PUBLIC_BASE_URL: ''
  PUBLISHER_DISPLAY_NAME: publisherDisplayName
  // App Service Authentication (authSettings below) signs operators in with Entra ID.
  OPERATOR_SIGN_IN: operatorSignIn ? 'easyauth' : 'off'
  ARM_ENDPOINT: environment().resourceManager
  AUTHORITY_HOST: environment().authentication.loginEndpoint
  SHARE_SUBSCRIPTION_IDS: shareSubscriptionIds
  SHARE_TENANT_IDS: shareTenantIds
  SHARE_MAX_SUBSCRIPTIONS: '30'
  SHARE_MAX_TENANTS: '5'
  OUTCOME_TOPIC_ENDPOINT: outcomeTopicEndpoint
  GATED_IMAGES: gatedImages
  ROLLOUT_RINGS: '3'
  ROLLOUT_SOAK_MINUTES: '60'
  REPLICATION_POLL_MIN_SECONDS: '30'
  REPLICATION_POLL_MAX_SECONDS: '900'
  REPLICATION_TIMEOUT_MINUTES: '720'
  VM_CREATIONS_IN_FLIGHT: '10'
  RECONCILE_SCHEDULE: '0 0 * * * *'
  DRIFT_REMOVE_UNKNOWN: 'false'
  ACTIVITY_RETRY_ATTEMPTS: '6'
  ACTIVITY_RETRY_FIRST_SECONDS: '5'
  AUDIT_TABLE_NAME: auditTableName
  REGISTRY_TABLE_NAME: registryTableName
  // The onboarding queue (POST /api/onboarding sends to it), identity-based.
  ONBOARDING_QUEUE_NAME: onboardingQueueName
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId
}

// Settings reserved for parts not built yet (RESERVED_SETTINGS): none at the moment.
var reservedSettings = {}

// Durable Task Scheduler backend: host.json names the Azure Storage provider by default; these
// app settings override host.json (AzureFunctionsJobHost__path__to__setting) so that one package
// runs on either backend.
var durableSettings = durableBackend == 'DurableTaskScheduler'
  ? {
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
    }
  : {}

resource functionApp 'Microsoft.Web/sites@2025-03-01' existing = {
  name: name
}

resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(hostSettings, monitoringSettings, codeSettings, reservedSettings, durableSettings)
}

// App Service Authentication (Easy Auth) in front of the app: operators sign in with Entra ID for the
// dashboard and the operator API (/api/ops/*, /api/dashboard); the app reads X-MS-CLIENT-PRINCIPAL
// and checks the app roles. What Event Grid, the Durable runtime, customers' administrators and
// machine callers with function keys reach stays outside it (excludedPaths).
resource authSettings 'Microsoft.Web/sites/config@2025-03-01' = if (operatorSignIn) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/runtime/webhooks/*'
        '/api/consent/*'
        '/api/status/*'
        '/api/onboarding'
        '/api/offboarding'
        '/api/tenants'
        '/api/tenants/*'
        '/api/requests/*'
        '/api/versions/*'
        '/api/drift'
        '/api/reconcile'
        '/api/publishes/*'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: operatorSignInAppId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            operatorSignInAppId
            'api://${operatorSignInAppId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}
