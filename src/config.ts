// Typed application settings, read from the environment once, when the app starts, and validated
// then. SETTINGS (src/settings.ts) is the single list of what the code reads.
// Ids are checked with the domain's own parsers, so a setting that passes here is one an event can match.
import { resourceIdIssue, formatGalleryId, parseGalleryId, sameResourceId } from "./domain/resourceIds";
import { MAX_ROLLOUT_RINGS } from "./domain/rollout";
import { DEFAULT_SHARE_LIMITS } from "./domain/sharePlan";
import { isGuid, quoteForError, readableTextIssue } from "./domain/validation";
import { SETTINGS, type SettingName, type SettingSpec } from "./settings";

export interface AppConfig {
  readonly galleryIds: readonly string[];
  readonly tenantId: string;
  readonly clientId: string | undefined;
  /** Never log this. */
  readonly clientSecret: string | undefined;
  /** The multi-tenant app used in consumer tenants, and how it proves itself there. */
  readonly crossTenant:
    | { readonly appId: string; readonly credential: "federated" }
    | { readonly appId: string; readonly credential: "secret"; /** Never log this. */ readonly secret: string }
    | { readonly appId: string; readonly credential: "certificate"; readonly certificatePath: string }
    | undefined;
  /** Admin consent (rbac mode). */
  readonly consent: {
    /** Never log this. */
    readonly stateKey: string | undefined;
    readonly expiryHours: number;
    readonly reminderHours: number;
    /** The app's public origin, no trailing slash. */
    readonly publicBaseUrl: string | undefined;
    readonly publisherName: string;
    /** The multi-tenant app registration's display name. */
    readonly appName: string;
  };
  readonly armEndpoint: string;
  readonly authorityHost: string;
  /** easyauth: App Service Authentication is in front of the app, so X-MS-CLIENT-PRINCIPAL can be trusted. */
  readonly operatorSignIn: "easyauth" | "off";
  /** Safe rollouts: which images' latest is gated (canonical image definition ids), the rings and the soak. */
  readonly rollout: { readonly gatedImages: readonly string[]; readonly rings: number; readonly soakMinutes: number };
  readonly shareSubscriptionIds: readonly string[];
  readonly shareTenantIds: readonly string[];
  readonly shareLimits: { readonly maxSubscriptions: number; readonly maxTenants: number };
  readonly outcomeTopicEndpoint: string | undefined;
  readonly polling: { readonly minSeconds: number; readonly maxSeconds: number; readonly timeoutMinutes: number };
  readonly retry: { readonly attempts: number; readonly firstSeconds: number };
  /** Consumer VMs and scale sets a publish moves to the new version at once. */
  readonly creationsInFlight: number;
  /** The reconciler: remove direct-sharing targets nobody registered (DRIFT_REMOVE_UNKNOWN), or only report them. */
  readonly reconcile: { readonly removeUnknown: boolean };
  /** The onboarding queue and its namespace: a connection string (never log it) or a host name used with the app's identity. */
  readonly onboardingQueue: {
    readonly queueName: string;
    readonly connection: { readonly connectionString: string } | { readonly fullyQualifiedNamespace: string } | undefined;
  };
  /** Where the audit table lives: a connection string (never log it) or a Table service URI used with the app's identity. */
  readonly audit: { readonly tableName: string } & TableStorage;
  /** The registry of tenants, grants and requests, in the same storage. */
  readonly registry: { readonly tableName: string } & TableStorage;
}

/** Where the app's tables live: a connection string (never log it) or a Table service URI used with the app's identity. */
export type TableStorage = { readonly connectionString: string } | { readonly tableServiceUri: string };

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads settings by name; each bad one adds a problem naming the setting and the expected form. */
interface SettingsReader {
  readonly env: Env;
  readonly problems: string[];
  /** The trimmed value, else the default; an absent required setting is a problem. */
  raw(name: SettingName): string;
  /** A comma-separated list; `issue` says what is wrong with one item, or undefined when it is fine. */
  list(name: SettingName, issue: (item: string) => string | undefined, form: string): string[];
  int(name: SettingName, min: number, max: number): number;
  url(name: SettingName, optional: boolean): string | undefined;
  guid(name: SettingName, optional: boolean): string | undefined;
}

function settingsReader(env: Env, problems: string[]): SettingsReader {
  const raw = (name: SettingName): string => {
    const spec: SettingSpec = SETTINGS.find((s) => s.name === name)!;
    const value = env[name]?.trim();
    if (value) return value;
    if (spec.default === undefined) problems.push(`${name} is required (${spec.meaning})`);
    return spec.default ?? "";
  };
  const list = (name: SettingName, issue: (item: string) => string | undefined, form: string): string[] => {
    const text = raw(name);
    if (text === "") return [];
    // Empty items (a trailing comma) are no data and are dropped; a list of nothing but commas is a mistake.
    const items = text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (items.length === 0) problems.push(`${name} must be ${form}, comma-separated; got only commas`);
    for (const item of items) {
      const why = issue(item);
      if (why !== undefined) problems.push(`${name}: ${quoteForError(item)} ${why}`);
    }
    const seen = new Set<string>();
    for (const item of items) {
      const key = item.toLowerCase();
      if (seen.has(key)) problems.push(`${name} lists ${quoteForError(item)} twice`);
      seen.add(key);
    }
    return items;
  };
  const int = (name: SettingName, min: number, max: number): number => {
    const text = raw(name);
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}; got ${quoteForError(text)}`);
    }
    return n;
  };
  const url = (name: SettingName, optional: boolean): string | undefined => {
    const text = raw(name);
    if (!text && optional) return undefined;
    try {
      const u = new URL(text);
      if (u.protocol !== "https:") throw new Error("not https");
      return text.replace(/\/+$/, "");
    } catch {
      problems.push(`${name} must be an https URL; got ${quoteForError(text)}`);
      return undefined;
    }
  };
  const guid = (name: SettingName, optional: boolean): string | undefined => {
    const text = raw(name);
    if (!text && optional) return undefined;
    if (!isGuid(text)) problems.push(`${name} must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); got ${quoteForError(text)}`);
    return text.toLowerCase();
  };
  return { env, problems, raw, list, int, url, guid };
}

const guidIssue = (item: string): string | undefined => (isGuid(item) ? undefined : "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");

/** The managed galleries, and the subscriptions and tenants every one of them is shared with directly. */
function readSharing(r: SettingsReader): Pick<AppConfig, "galleryIds" | "shareSubscriptionIds" | "shareTenantIds" | "shareLimits"> {
  const galleryIds = r.list(
    "GALLERY_IDS",
    (id) => resourceIdIssue("gallery", id),
    "gallery resource ids (/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{name})",
  );
  const shareLimits = {
    maxSubscriptions: r.int("SHARE_MAX_SUBSCRIPTIONS", 1, DEFAULT_SHARE_LIMITS.maxSubscriptions),
    maxTenants: r.int("SHARE_MAX_TENANTS", 1, DEFAULT_SHARE_LIMITS.maxTenants),
  };
  const shareSubscriptionIds = r.list("SHARE_SUBSCRIPTION_IDS", guidIssue, "subscription ids (GUIDs)").map((s) => s.toLowerCase());
  const shareTenantIds = r.list("SHARE_TENANT_IDS", guidIssue, "tenant ids (GUIDs)").map((s) => s.toLowerCase());
  // A list longer than the share limit could never be shared: every publish would fail on it.
  if (shareSubscriptionIds.length > shareLimits.maxSubscriptions) {
    r.problems.push(
      `SHARE_SUBSCRIPTION_IDS lists ${shareSubscriptionIds.length} subscriptions; a gallery can be shared directly with at most ${shareLimits.maxSubscriptions} (SHARE_MAX_SUBSCRIPTIONS)`,
    );
  }
  if (shareTenantIds.length > shareLimits.maxTenants) {
    r.problems.push(
      `SHARE_TENANT_IDS lists ${shareTenantIds.length} tenants; a gallery can be shared directly with at most ${shareLimits.maxTenants} (SHARE_MAX_TENANTS); use rbac mode for more`,
    );
  }
  return {
    // Canonical casing, so ids compare and print the same way everywhere.
    galleryIds: galleryIds.filter((id) => resourceIdIssue("gallery", id) === undefined).map((id) => formatGalleryId(parseGalleryId(id))),
    shareSubscriptionIds,
    shareTenantIds,
    shareLimits,
  };
}

/** GATED_IMAGES: image definitions of managed galleries, in canonical casing; and the rings and soak. */
function readRollout(r: SettingsReader, galleryIds: readonly string[]): AppConfig["rollout"] {
  const imageOf = (id: string): { galleryId: string; name: string } | undefined => {
    const m = /^(.*)\/images\/([^/]+)\/?$/i.exec(id);
    return m && resourceIdIssue("gallery", m[1]) === undefined ? { galleryId: m[1]!, name: m[2]! } : undefined;
  };
  const gated = r.list(
    "GATED_IMAGES",
    (id) => {
      const image = imageOf(id);
      if (!image) return "must be an image definition id ({gallery id}/images/{name})";
      return galleryIds.some((g) => sameResourceId(g, image.galleryId)) ? undefined : "must be an image of a gallery in GALLERY_IDS";
    },
    "image definition ids of managed galleries",
  );
  const gatedImages = gated.flatMap((id) => {
    const image = imageOf(id);
    const gallery = image && galleryIds.find((g) => sameResourceId(g, image.galleryId));
    return gallery && image ? [`${gallery}/images/${image.name}`] : [];
  });
  return { gatedImages, rings: r.int("ROLLOUT_RINGS", 1, MAX_ROLLOUT_RINGS), soakMinutes: r.int("ROLLOUT_SOAK_MINUTES", 0, 7 * 24 * 60) };
}

function readOperatorSignIn(r: SettingsReader): AppConfig["operatorSignIn"] {
  const value = r.raw("OPERATOR_SIGN_IN").toLowerCase();
  if (value === "easyauth" || value === "off") return value;
  r.problems.push(`OPERATOR_SIGN_IN must be easyauth or off; got ${quoteForError(value)}`);
  return "off";
}

/** Who the app is: in the publisher tenant, and (as the multi-tenant app) in consumer tenants. */
function readIdentity(r: SettingsReader): Pick<AppConfig, "tenantId" | "clientId" | "clientSecret" | "crossTenant"> {
  return {
    tenantId: r.guid("AZURE_TENANT_ID", false) ?? "",
    clientId: r.raw("AZURE_CLIENT_ID") || undefined,
    clientSecret: r.raw("AZURE_CLIENT_SECRET") || undefined,
    crossTenant: readCrossTenant(r),
  };
}

function readCrossTenant(r: SettingsReader): AppConfig["crossTenant"] {
  const appId = r.guid("CROSS_TENANT_APP_ID", true);
  const secret = r.raw("CROSS_TENANT_CLIENT_SECRET");
  const certificatePath = r.raw("CROSS_TENANT_CERTIFICATE_PATH");
  if (appId === undefined) {
    if (secret || certificatePath)
      r.problems.push("CROSS_TENANT_CLIENT_SECRET and CROSS_TENANT_CERTIFICATE_PATH need CROSS_TENANT_APP_ID, the app they belong to");
    return undefined;
  }
  if (secret && certificatePath) r.problems.push("set at most one of CROSS_TENANT_CLIENT_SECRET and CROSS_TENANT_CERTIFICATE_PATH");
  if (secret) return { appId, credential: "secret", secret };
  if (certificatePath) return { appId, credential: "certificate", certificatePath };
  return { appId, credential: "federated" };
}

/** The app's public origin: PUBLIC_BASE_URL, else the host name Functions sets. */
function readPublicBaseUrl(r: SettingsReader): string | undefined {
  const given = r.raw("PUBLIC_BASE_URL");
  const host = r.env["WEBSITE_HOSTNAME"]?.trim();
  if (given) {
    try {
      const u = new URL(given);
      const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost";
      if (u.protocol !== "https:" && !(loopback && u.protocol === "http:")) throw new Error("not https");
      return given.replace(/\/+$/, "");
    } catch {
      r.problems.push(`PUBLIC_BASE_URL must be an https URL (http only for localhost); got ${quoteForError(given)}`);
      return undefined;
    }
  }
  // Functions sets WEBSITE_HOSTNAME; the local host sets it to its loopback address, served over http.
  if (host) return /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host) ? `http://${host}` : `https://${host}`;
  return undefined;
}

function readConsent(r: SettingsReader): AppConfig["consent"] {
  const stateKey = r.raw("CONSENT_STATE_KEY") || undefined;
  if (stateKey !== undefined && stateKey.length < 32)
    r.problems.push("CONSENT_STATE_KEY must be at least 32 characters (a random key; in Azure a Key Vault reference)");
  const publicBaseUrl = readPublicBaseUrl(r);
  const publisherName = r.raw("PUBLISHER_DISPLAY_NAME");
  const nameIssue = publisherName === "" ? undefined : readableTextIssue(publisherName);
  if (nameIssue) r.problems.push(`PUBLISHER_DISPLAY_NAME ${nameIssue} (the consent page shows it)`);
  const appName = r.raw("CROSS_TENANT_APP_NAME");
  const appNameIssue = readableTextIssue(appName);
  if (appNameIssue) r.problems.push(`CROSS_TENANT_APP_NAME ${appNameIssue} (the consent page shows it)`);
  return {
    stateKey,
    expiryHours: r.int("CONSENT_EXPIRY_HOURS", 1, 24 * 90),
    reminderHours: r.int("CONSENT_REMINDER_HOURS", 1, 24 * 30),
    publicBaseUrl,
    publisherName,
    appName,
  };
}

function readEndpoints(r: SettingsReader): Pick<AppConfig, "armEndpoint" | "authorityHost" | "outcomeTopicEndpoint"> {
  return {
    armEndpoint: r.url("ARM_ENDPOINT", false) ?? "",
    authorityHost: r.url("AUTHORITY_HOST", false) ?? "",
    outcomeTopicEndpoint: r.url("OUTCOME_TOPIC_ENDPOINT", true),
  };
}

/** Replication polling, activity retries and how many creations run at once. */
function readReconcile(r: SettingsReader): AppConfig["reconcile"] {
  const text = r.raw("DRIFT_REMOVE_UNKNOWN").toLowerCase();
  if (text !== "true" && text !== "false") r.problems.push(`DRIFT_REMOVE_UNKNOWN must be true or false; got ${quoteForError(text)}`);
  // The schedule is read by the Functions host (%RECONCILE_SCHEDULE%); an empty one would never run.
  if (r.raw("RECONCILE_SCHEDULE").split(/\s+/).length !== 6)
    r.problems.push("RECONCILE_SCHEDULE must be a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week})");
  return { removeUnknown: text === "true" };
}

function readTiming(r: SettingsReader): Pick<AppConfig, "polling" | "retry" | "creationsInFlight"> {
  return {
    polling: {
      minSeconds: r.int("REPLICATION_POLL_MIN_SECONDS", 5, 86400),
      maxSeconds: r.int("REPLICATION_POLL_MAX_SECONDS", 5, 86400),
      timeoutMinutes: r.int("REPLICATION_TIMEOUT_MINUTES", 1, 7 * 24 * 60),
    },
    retry: { attempts: r.int("ACTIVITY_RETRY_ATTEMPTS", 1, 20), firstSeconds: r.int("ACTIVITY_RETRY_FIRST_SECONDS", 1, 3600) },
    creationsInFlight: r.int("VM_CREATIONS_IN_FLIGHT", 1, 100),
  };
}

function readOnboardingQueue(r: SettingsReader): AppConfig["onboardingQueue"] {
  const queueName = r.raw("ONBOARDING_QUEUE_NAME");
  // Service Bus entity names: letters, digits, '.', '-', '_' (and '/'), starting and ending with a letter or digit.
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,258}[A-Za-z0-9])?$/.test(queueName)) {
    r.problems.push(
      `ONBOARDING_QUEUE_NAME must be 1-260 letters, digits, '.', '-', '_' or '/', starting and ending with a letter or digit; got ${quoteForError(queueName)}`,
    );
  }
  const connectionString = r.raw("ServiceBusConnection");
  if (connectionString) {
    if (!/(^|;)\s*Endpoint=sb:\/\//i.test(connectionString))
      r.problems.push("ServiceBusConnection must be a Service Bus connection string (Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...)");
    return { queueName, connection: { connectionString } };
  }
  const namespace = r.env["ServiceBusConnection__fullyQualifiedNamespace"]?.trim();
  if (namespace) {
    if (!/^[A-Za-z0-9.-]+$/.test(namespace))
      r.problems.push(
        `ServiceBusConnection__fullyQualifiedNamespace must be a host name like mynamespace.servicebus.windows.net; got ${quoteForError(namespace)}`,
      );
    return { queueName, connection: { fullyQualifiedNamespace: namespace } };
  }
  return { queueName, connection: undefined };
}

function readStorage(r: SettingsReader): TableStorage {
  const connectionString = r.raw("AzureWebJobsStorage");
  if (connectionString) return { connectionString };
  const serviceUri = r.env["AzureWebJobsStorage__tableServiceUri"]?.trim();
  const account = r.env["AzureWebJobsStorage__accountName"]?.trim();
  if (serviceUri) return { tableServiceUri: serviceUri.replace(/\/+$/, "") };
  if (account) return { tableServiceUri: `https://${account}.table.core.windows.net` };
  r.problems.push("AzureWebJobsStorage is required: a connection string, or AzureWebJobsStorage__accountName (identity-based)");
  return { connectionString: "" };
}

/** The audit and registry tables, both in the app's table storage. */
function readTables(r: SettingsReader, tables: TableStorage): Pick<AppConfig, "audit" | "registry"> {
  const tableName = (name: "AUDIT_TABLE_NAME" | "REGISTRY_TABLE_NAME"): string => {
    const value = r.raw(name);
    if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(value))
      r.problems.push(`${name} must be 3-63 letters and digits, starting with a letter; got ${quoteForError(value)}`);
    return value;
  };
  return { audit: { tableName: tableName("AUDIT_TABLE_NAME"), ...tables }, registry: { tableName: tableName("REGISTRY_TABLE_NAME"), ...tables } };
}

/** Rules between settings of different groups, checked once each group is read. */
function checkAcrossSettings(config: AppConfig, problems: string[]): void {
  if (config.audit.tableName.toLowerCase() === config.registry.tableName.toLowerCase())
    problems.push("AUDIT_TABLE_NAME and REGISTRY_TABLE_NAME must name different tables");
  if (config.clientSecret && !config.clientId) problems.push("AZURE_CLIENT_SECRET is set but AZURE_CLIENT_ID is empty: a secret needs the app's client id");
  if (config.polling.minSeconds > config.polling.maxSeconds) {
    problems.push("REPLICATION_POLL_MIN_SECONDS must not exceed REPLICATION_POLL_MAX_SECONDS");
  }
}

/** Parses and validates settings; reports every problem at once, each naming the setting and the expected form. */
export function loadConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const r = settingsReader(env, problems);
  // Problems are reported in the order the groups are read.
  const sharing = readSharing(r);
  const tables = readStorage(r);
  const identity = readIdentity(r);
  const consent = readConsent(r);
  const endpoints = readEndpoints(r);
  const timing = readTiming(r);
  const reconcile = readReconcile(r);
  const onboardingQueue = readOnboardingQueue(r);
  const config: AppConfig = {
    galleryIds: sharing.galleryIds,
    ...identity,
    consent,
    armEndpoint: endpoints.armEndpoint,
    authorityHost: endpoints.authorityHost,
    shareSubscriptionIds: sharing.shareSubscriptionIds,
    shareTenantIds: sharing.shareTenantIds,
    shareLimits: sharing.shareLimits,
    outcomeTopicEndpoint: endpoints.outcomeTopicEndpoint,
    ...timing,
    reconcile,
    onboardingQueue,
    ...readTables(r, tables),
    rollout: readRollout(r, sharing.galleryIds),
    operatorSignIn: readOperatorSignIn(r),
  };
  checkAcrossSettings(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
