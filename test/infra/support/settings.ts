// App settings: what the Bicep sets on the Function App, what local.settings.sample.json holds, and
// whether both agree with what the code reads (src/settings.ts).
import { readFileSync } from "node:fs";
import type { Node } from "web-tree-sitter";
import { namedChildren, objectProperties, objectProperty, propertyPath, valueAfterEquals, where, type BicepFile, type FileDecls } from "./bicep";
import type { BicepModel } from "./model";

/**
 * Settings the code or host knows that must NOT be set in Azure, with the reason. The check fails
 * when the Bicep sets one of them.
 */
export const AZURE_SETTING_EXCEPTIONS: ReadonlyArray<{ readonly name: string; readonly reason: string }> = [
  {
    name: "AZURE_CLIENT_SECRET",
    reason:
      "local development only: in Azure the app authenticates with its managed identity (AZURE_CLIENT_ID), and a client secret in app settings would be a long-lived credential",
  },
  {
    name: "CROSS_TENANT_CLIENT_SECRET",
    reason:
      "a fallback only: in Azure the multi-tenant app's credential is a federated identity credential backed by the managed identity, and a secret here would be a long-lived credential",
  },
  {
    name: "CROSS_TENANT_CERTIFICATE_PATH",
    reason: "a fallback only: in Azure the multi-tenant app's credential is a federated identity credential backed by the managed identity",
  },
  {
    name: "FUNCTIONS_WORKER_RUNTIME",
    reason: "the Flex Consumption plan takes the language from functionAppConfig.runtime.name (checked to be 'node') and rejects this app setting",
  },
];

/** Settings the code does not read that may still appear, each for a documented reason. */
export const PLATFORM_SETTINGS: ReadonlyArray<{ readonly pattern: RegExp; readonly reason: string }> = [
  { pattern: /^APPLICATIONINSIGHTS_/, reason: "read by the Functions host's Application Insights integration (connection string, Entra authentication)" },
  { pattern: /^AzureFunctionsJobHost__/, reason: "overrides a host.json value (infra switches the Durable backend to the Durable Task Scheduler this way)" },
  { pattern: /^DURABLE_TASK_SCHEDULER_CONNECTION_STRING$/, reason: "the Durable Task Scheduler connection that the host.json override names" },
];

export interface SettingsConsistencyInput {
  /** Names in src/settings.ts SETTINGS. */
  readonly codeSettings: readonly string[];
  /** Names in HOST_SETTINGS (read by the Functions host). */
  readonly hostSettings: readonly string[];
  /** Names in RESERVED_SETTINGS (parts not built yet). */
  readonly reservedSettings: readonly string[];
  /** Names the Bicep sets as app settings. */
  readonly bicepSettings: readonly string[];
  /** Names in local.settings.sample.json Values. */
  readonly sampleSettings: readonly string[];
  /** functionAppConfig.runtime.name of the Function App, if the Bicep has one. */
  readonly runtimeName?: string | undefined;
  readonly exceptions?: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
  readonly platformSettings?: ReadonlyArray<{ readonly pattern: RegExp; readonly reason: string }>;
  /** How to name the two sources in messages. */
  readonly bicepLabel?: string;
  readonly sampleLabel?: string;
}

/** The part before the first "__": AzureWebJobsStorage__accountName → AzureWebJobsStorage. */
function connectionPrefix(name: string): string | undefined {
  const at = name.indexOf("__");
  return at > 0 ? name.slice(0, at) : undefined;
}

/**
 * Whether `present` holds `name` itself or an identity-based variant of it: `X__suffix` stands for
 * X (AzureWebJobsStorage__accountName provides AzureWebJobsStorage).
 */
export function provides(present: ReadonlySet<string>, name: string): boolean {
  if (present.has(name)) return true;
  if (name.includes("__")) return false;
  for (const candidate of present) if (connectionPrefix(candidate) === name) return true;
  return false;
}

/**
 * Every problem with the settings, as sentences naming the setting and what to do. Empty means
 * consistent:
 *   - each code setting is set by the Bicep (or an `X__suffix` variant is) and is in the sample;
 *   - each host and reserved setting is set by the Bicep; host settings are in the sample;
 *   - exceptions are not set by the Bicep; FUNCTIONS_WORKER_RUNTIME's job is done by the runtime;
 *   - neither the Bicep nor the sample has a setting the code, the host or the reserved list does not
 *     know (allowing `X__suffix` variants of known names and the platform settings).
 */
export function checkSettingsConsistency(input: SettingsConsistencyInput): string[] {
  const exceptions = input.exceptions ?? AZURE_SETTING_EXCEPTIONS;
  const platform = input.platformSettings ?? PLATFORM_SETTINGS;
  const bicepLabel = input.bicepLabel ?? "the Bicep app settings (infra/app/api-settings.bicep)";
  const sampleLabel = input.sampleLabel ?? "local.settings.sample.json";
  const bicep = new Set(input.bicepSettings);
  const sample = new Set(input.sampleSettings);
  const problems: string[] = [];

  const exceptionFor = (name: string) => exceptions.find((exception) => exception.name === name);
  const origin = (name: string): string =>
    input.codeSettings.includes(name) ? "SETTINGS" : input.hostSettings.includes(name) ? "HOST_SETTINGS" : "RESERVED_SETTINGS";

  const required = [...input.codeSettings, ...input.hostSettings, ...input.reservedSettings];
  for (const name of required) {
    const exception = exceptionFor(name);
    if (exception) {
      if (provides(bicep, name)) problems.push(`${name} must not be set by ${bicepLabel}: ${exception.reason}`);
      continue;
    }
    if (!provides(bicep, name)) {
      problems.push(
        `${name} is in src/settings.ts ${origin(name)} but ${bicepLabel} do not set it (nor an identity-based ${name}__* variant): add it to the app settings`,
      );
    }
  }
  if (required.includes("FUNCTIONS_WORKER_RUNTIME") && exceptionFor("FUNCTIONS_WORKER_RUNTIME")) {
    if (input.runtimeName === undefined) {
      problems.push("FUNCTIONS_WORKER_RUNTIME is left to functionAppConfig.runtime.name, but no Function App in the Bicep sets it");
    } else if (input.runtimeName !== "node") {
      problems.push(`functionAppConfig.runtime.name is '${input.runtimeName}', but this is a Node.js app ('node')`);
    }
  }

  for (const name of [...input.codeSettings, ...input.hostSettings]) {
    if (!provides(sample, name))
      problems.push(`${name} is in src/settings.ts ${origin(name)} but missing from ${sampleLabel} Values: add it with a safe placeholder`);
  }

  const known = new Set(required);
  const knownPrefixes = new Set([...required, ...required.map(connectionPrefix).filter((p): p is string => p !== undefined)]);
  const allowed = (name: string): boolean => {
    if (known.has(name)) return true;
    const prefix = connectionPrefix(name);
    if (prefix !== undefined && knownPrefixes.has(prefix)) return true;
    return platform.some((entry) => entry.pattern.test(name));
  };
  for (const name of input.bicepSettings) {
    if (!allowed(name))
      problems.push(
        `${name} is set by ${bicepLabel} but the code does not read it: add it to src/settings.ts (SETTINGS, or RESERVED_SETTINGS for a part not built yet) or remove it`,
      );
  }
  for (const name of input.sampleSettings) {
    if (!allowed(name)) problems.push(`${name} is in ${sampleLabel} but the code does not read it: add it to src/settings.ts or remove it from the sample`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Reading the settings out of the Bicep

export interface BicepAppSetting {
  readonly name: string;
  readonly file: BicepFile;
  readonly keyNode: Node;
  readonly value: Node;
  /** Set only on one branch of a condition (e.g. the Durable Task Scheduler settings). */
  readonly conditional: boolean;
}

export interface FunctionAppInfo {
  readonly file: BicepFile;
  readonly symbol: string;
  readonly runtimeName: string | undefined;
  readonly runtimeVersion: string | undefined;
}

export interface AppSettingsExtraction {
  readonly settings: BicepAppSetting[];
  readonly functionApps: FunctionAppInfo[];
  /** Places the extractor could not read names from (a setting list it cannot see through). */
  readonly problems: string[];
}

/**
 * Reads the names of the app settings of every Function App in the model: the `properties` of
 * `Microsoft.Web/sites/config` resources named 'appsettings' and `siteConfig.appSettings` arrays of
 * `Microsoft.Web/sites`. Follows variables, parameters (to their callers), union(), concat() and both
 * branches of a condition; anything else is reported rather than guessed.
 */
export function extractAppSettings(model: BicepModel): AppSettingsExtraction {
  const settings: BicepAppSetting[] = [];
  const functionApps: FunctionAppInfo[] = [];
  const problems: string[] = [];
  for (const decls of model.all()) {
    for (const resource of decls.resources.values()) {
      const type = resource.type.toLowerCase();
      if (type === "microsoft.web/sites/config" && !resource.existing) {
        if (model.literal(decls.file, objectProperty(resource.body, "name")) !== "appsettings") continue;
        const properties = objectProperty(resource.body, "properties");
        if (!properties) {
          problems.push(`${where(decls.file, resource.node)}: appsettings resource without properties`);
          continue;
        }
        readObjectKeys(model, decls, properties, false, settings, problems, new Set());
      } else if (type === "microsoft.web/sites" && !resource.existing) {
        const runtime = propertyPath(resource.body, ["properties", "functionAppConfig", "runtime"]);
        functionApps.push({
          file: decls.file,
          symbol: resource.symbol,
          runtimeName: model.literal(decls.file, objectProperty(runtime, "name")),
          runtimeVersion: model.literal(decls.file, objectProperty(runtime, "version")),
        });
        const inline = propertyPath(resource.body, ["properties", "siteConfig", "appSettings"]);
        if (inline) readNameValueArray(model, decls, inline, false, settings, problems, new Set());
      }
    }
  }
  return { settings, functionApps, problems };
}

function resolveIdentifier(model: BicepModel, decls: FileDecls, name: string): Array<{ decls: FileDecls; node: Node }> {
  const variable = decls.vars.get(name);
  if (variable) {
    const value = valueAfterEquals(variable);
    return value ? [{ decls, node: value }] : [];
  }
  const param = decls.params.get(name);
  if (!param) return [];
  const out: Array<{ decls: FileDecls; node: Node }> = [];
  for (const { caller, module } of model.callers(decls.file)) {
    const value = objectProperty(module.body ? objectProperty(module.body, "params") : undefined, name);
    if (value) out.push({ decls: caller, node: value });
  }
  const fallback = valueAfterEquals(param);
  if (fallback) out.push({ decls, node: fallback });
  return out;
}

type Reader = (model: BicepModel, decls: FileDecls, node: Node, conditional: boolean, into: BicepAppSetting[], problems: string[], seen: Set<string>) => void;

function through(
  reader: Reader,
  model: BicepModel,
  decls: FileDecls,
  node: Node,
  conditional: boolean,
  into: BicepAppSetting[],
  problems: string[],
  seen: Set<string>,
): boolean {
  const key = `${decls.file.path}:${node.startIndex}`;
  if (seen.has(key)) return true;
  seen.add(key);
  switch (node.type) {
    case "identifier": {
      const targets = resolveIdentifier(model, decls, node.text);
      if (targets.length === 0) {
        problems.push(`${where(decls.file, node)}: app settings come from '${node.text}', which has no value the check can read`);
      }
      for (const target of targets) reader(model, target.decls, target.node, conditional, into, problems, seen);
      return true;
    }
    case "parenthesized_expression": {
      const inner = namedChildren(node)[0];
      if (inner) reader(model, decls, inner, conditional, into, problems, seen);
      return true;
    }
    case "ternary_expression": {
      const [, whenTrue, whenFalse] = namedChildren(node);
      if (whenTrue) reader(model, decls, whenTrue, true, into, problems, seen);
      if (whenFalse) reader(model, decls, whenFalse, true, into, problems, seen);
      return true;
    }
    case "call_expression": {
      const fn = node.childForFieldName("function")?.text;
      if (fn !== "union" && fn !== "concat") return false;
      const args = node.childForFieldName("arguments");
      for (const arg of args ? namedChildren(args) : []) reader(model, decls, arg, conditional, into, problems, seen);
      return true;
    }
    default:
      return false;
  }
}

const readObjectKeys: Reader = (model, decls, node, conditional, into, problems, seen) => {
  if (node.type === "object") {
    const readable = new Set(objectProperties(node).map((prop) => prop.keyNode.startIndex));
    for (const prop of objectProperties(node)) {
      into.push({ name: prop.key, file: decls.file, keyNode: prop.keyNode, value: prop.value, conditional });
    }
    for (const prop of namedChildren(node)) {
      const key = prop.type === "object_property" ? namedChildren(prop)[0] : undefined;
      if (key && key.type !== "resource_declaration" && !readable.has(key.startIndex)) {
        problems.push(`${where(decls.file, key)}: the app setting name ${key.text} is computed and cannot be checked`);
      }
    }
    return;
  }
  if (!through(readObjectKeys, model, decls, node, conditional, into, problems, seen)) {
    problems.push(`${where(decls.file, node)}: cannot read app setting names from ${JSON.stringify(node.text.slice(0, 60))}`);
  }
};

const readNameValueArray: Reader = (model, decls, node, conditional, into, problems, seen) => {
  if (node.type === "array") {
    for (const item of namedChildren(node)) {
      if (item.type !== "object") {
        problems.push(`${where(decls.file, item)}: cannot read an app setting from ${JSON.stringify(item.text.slice(0, 60))}`);
        continue;
      }
      const nameNode = objectProperty(item, "name");
      const name = model.literal(decls.file, nameNode);
      const value = objectProperty(item, "value");
      if (name === undefined || !nameNode || !value) {
        problems.push(`${where(decls.file, item)}: app setting without a literal name and a value`);
        continue;
      }
      into.push({ name, file: decls.file, keyNode: nameNode, value, conditional });
    }
    return;
  }
  if (!through(readNameValueArray, model, decls, node, conditional, into, problems, seen)) {
    problems.push(`${where(decls.file, node)}: cannot read app settings from ${JSON.stringify(node.text.slice(0, 60))}`);
  }
};

/** Problems for app settings whose value carries an account key or another shared secret. */
export function checkNoKeysInSettings(settings: readonly BicepAppSetting[]): string[] {
  const problems: string[] = [];
  for (const setting of settings) {
    const text = setting.value.text;
    if (/\blist[A-Z]\w*\(|\.list[A-Z]\w*\(|AccountKey=|SharedAccessKey=|SharedAccessSignature=/i.test(text)) {
      problems.push(
        `${where(setting.file, setting.keyNode)}: ${setting.name} carries a key or shared secret (${JSON.stringify(text.slice(0, 60))}); use an identity-based connection`,
      );
    }
  }
  return problems;
}

/** The names in a local.settings*.json file's Values. */
export function readSampleSettingNames(file: string): string[] {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null || !("Values" in parsed)) throw new Error(`${file} has no Values object`);
  const values: unknown = parsed.Values;
  if (typeof values !== "object" || values === null) throw new Error(`${file} has no Values object`);
  return Object.keys(values);
}
