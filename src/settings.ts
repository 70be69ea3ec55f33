// The settings the app reads, listed once: the README table, local.settings.sample.json and the
// Bicep app settings are checked against these lists (test/infra, test/unit/readme.test.ts), and
// src/config.ts reads and validates them.

export interface SettingSpec {
  readonly name: string;
  /** Default used when the setting is absent or empty; undefined means required. */
  readonly default?: string;
  readonly meaning: string;
  /** Marks a setting whose value is a secret: it is never printed. */
  readonly secret?: boolean;
}

export const SETTINGS = [
  { name: "GALLERY_IDS", meaning: "Comma-separated resource ids of the galleries this app manages; events for other galleries are ignored." },
  { name: "AZURE_TENANT_ID", meaning: "The publisher tenant (GUID): the tenant that owns the galleries." },
  {
    name: "AZURE_CLIENT_ID",
    default: "",
    meaning: "Client id of the user-assigned managed identity (in Azure), or of the app registration when a client secret is used locally.",
  },
  {
    name: "AZURE_CLIENT_SECRET",
    default: "",
    secret: true,
    meaning: "Local development only: client secret for AZURE_CLIENT_ID. Empty in Azure, where the managed identity is used.",
  },
  {
    name: "CROSS_TENANT_APP_ID",
    default: "",
    meaning:
      "Client id of the multi-tenant app registration the app acts as in consumer tenants; its credential is a federated identity credential backed by the managed identity. Empty: no consumer-tenant access.",
  },
  {
    name: "CROSS_TENANT_APP_NAME",
    default: "gallery-share",
    meaning:
      "Display name of the CROSS_TENANT_APP_ID app registration, as customers' administrators see it when they consent; the consent page shows it. In Azure the deployment sets it from the registration.",
  },
  {
    name: "CROSS_TENANT_CLIENT_SECRET",
    default: "",
    secret: true,
    meaning: "Fallback only, where a federated credential cannot be used: a client secret of CROSS_TENANT_APP_ID (in Azure a Key Vault reference).",
  },
  {
    name: "CROSS_TENANT_CERTIFICATE_PATH",
    default: "",
    meaning: "Fallback only: path of a PEM file holding a certificate and private key of CROSS_TENANT_APP_ID.",
  },
  {
    name: "CONSENT_STATE_KEY",
    default: "",
    secret: true,
    meaning:
      "Key (at least 32 characters) that signs the state of admin-consent links (rbac mode); in Azure a Key Vault reference. Empty: rbac onboarding fails, naming this setting.",
  },
  { name: "CONSENT_EXPIRY_HOURS", default: "168", meaning: "How long an admin-consent link stays valid (rbac mode)." },
  { name: "CONSENT_REMINDER_HOURS", default: "48", meaning: "How often a GalleryShare.ConsentReminder event repeats while consent is pending." },
  {
    name: "PUBLIC_BASE_URL",
    default: "",
    meaning: "Where people's browsers reach this app (consent pages and the consent callback). Empty: https://{WEBSITE_HOSTNAME}, as Functions sets it.",
  },
  {
    name: "PUBLISHER_DISPLAY_NAME",
    default: "",
    meaning: "The publisher's name, as the consent page shows it to a customer's administrator. Empty: the page names the app instead (CROSS_TENANT_APP_NAME).",
  },
  {
    name: "OPERATOR_SIGN_IN",
    default: "off",
    meaning:
      "How operators sign in to the dashboard and its API: easyauth (App Service Authentication with Microsoft Entra ID in front of the app; the app reads X-MS-CLIENT-PRINCIPAL and its app roles GalleryShare.Reader and GalleryShare.Operator) or off (the dashboard answers 401).",
  },
  { name: "ARM_ENDPOINT", default: "https://management.azure.com", meaning: "Azure Resource Manager endpoint (https URL)." },
  { name: "AUTHORITY_HOST", default: "https://login.microsoftonline.com", meaning: "Microsoft Entra authority host (https URL)." },
  { name: "SHARE_SUBSCRIPTION_IDS", default: "", meaning: "Comma-separated subscription ids (GUIDs) every managed gallery is shared with (direct mode)." },
  { name: "SHARE_TENANT_IDS", default: "", meaning: "Comma-separated tenant ids (GUIDs) every managed gallery is shared with (direct mode)." },
  { name: "SHARE_MAX_SUBSCRIPTIONS", default: "30", meaning: "Most subscriptions one gallery may be directly shared with (Azure's preview limit)." },
  { name: "SHARE_MAX_TENANTS", default: "5", meaning: "Most tenants one gallery may be directly shared with (Azure's preview limit)." },
  { name: "OUTCOME_TOPIC_ENDPOINT", default: "", meaning: "Event Grid topic endpoint that receives outcome events (CloudEvents); empty disables publishing." },
  {
    name: "GATED_IMAGES",
    default: "",
    meaning:
      "Comma-separated image definition ids ({gallery id}/images/{name}) whose latest the app gates: a version published with excludeFromLatest becomes latest only when the app promotes it, after every ring succeeded and soaked.",
  },
  { name: "ROLLOUT_RINGS", default: "3", meaning: "How many rings a rollout has (1-10): ring 0 are the canaries; a tenant without a ring is in the last one." },
  {
    name: "ROLLOUT_SOAK_MINUTES",
    default: "60",
    meaning: "How long a rollout waits after a ring succeeded before the next ring starts, and before a gated version is promoted (0-10080).",
  },
  { name: "REPLICATION_POLL_MIN_SECONDS", default: "30", meaning: "Shortest wait between two replication reads of one version." },
  { name: "REPLICATION_POLL_MAX_SECONDS", default: "900", meaning: "Longest wait between two replication reads of one version." },
  { name: "REPLICATION_TIMEOUT_MINUTES", default: "720", meaning: "How long to wait for replication before the orchestration fails." },
  {
    name: "VM_CREATIONS_IN_FLIGHT",
    default: "10",
    meaning:
      "Most consumer VMs and scale sets the app creates or updates at once, onboardings and publishes together (1-100). 10 keeps inside Microsoft's guidance of one gallery replica per 20 VMs created at once.",
  },
  {
    name: "RECONCILE_SCHEDULE",
    default: "0 0 * * * *",
    meaning:
      "When the reconciler runs (six-field NCRONTAB): drift between the registry and Azure is reported and repaired, and publishes that failed for a transient reason run again.",
  },
  {
    name: "DRIFT_REMOVE_UNKNOWN",
    default: "false",
    meaning: "true: the reconciler also removes direct-sharing targets nobody registered; false: it only reports them.",
  },
  { name: "ACTIVITY_RETRY_ATTEMPTS", default: "6", meaning: "Attempts for an activity whose error is retryable (throttling, 5xx, connection errors)." },
  { name: "ACTIVITY_RETRY_FIRST_SECONDS", default: "5", meaning: "First retry delay; later ones double, capped at five minutes." },
  {
    name: "AzureWebJobsStorage",
    default: "",
    secret: true,
    meaning:
      "Storage of the host, the task hub and the audit table. Locally a connection string; in Azure identity-based: AzureWebJobsStorage__accountName (or __tableServiceUri) with __credential=managedidentity and __clientId.",
  },
  {
    name: "ONBOARDING_QUEUE_NAME",
    default: "onboarding",
    meaning: "Service Bus queue that receives onboarding and offboarding requests (POST /api/onboarding and /api/offboarding send to it).",
  },
  {
    name: "ServiceBusConnection",
    default: "",
    secret: true,
    meaning:
      "The Service Bus namespace of that queue. Locally a connection string (npm run demo points it at the local broker); in Azure identity-based: ServiceBusConnection__fullyQualifiedNamespace with __credential=managedidentity and __clientId. Empty: the onboarding endpoints answer 503.",
  },
  {
    name: "AUDIT_TABLE_NAME",
    default: "shareaudit",
    meaning: "Table (in AzureWebJobsStorage) that records which target got access to which version, and when.",
  },
  {
    name: "REGISTRY_TABLE_NAME",
    default: "registry",
    meaning:
      "Table (in AzureWebJobsStorage) of consumer tenants, what the app granted them and every request (who should have what), and the share changes waiting for their share coordinator.",
  },
] as const satisfies readonly SettingSpec[];

/**
 * Settings the Functions host itself reads (host.json, bindings); the code never reads them.
 * @public Part of the settings contract: test/infra checks the Bicep app settings and
 * local.settings.sample.json against it.
 */
export const HOST_SETTINGS = [
  { name: "FUNCTIONS_WORKER_RUNTIME", meaning: "Always `node`." },
  { name: "TASK_HUB_NAME", meaning: "Durable task hub name (host.json `extensions.durableTask.hubName`)." },
] as const;

/**
 * Settings reserved for parts not built yet (none at the moment; test/infra checks them like SETTINGS).
 * @public Part of the settings contract: test/infra checks the Bicep app settings against it.
 */
export const RESERVED_SETTINGS: readonly { readonly name: string; readonly meaning: string }[] = [];

export type SettingName = (typeof SETTINGS)[number]["name"];
