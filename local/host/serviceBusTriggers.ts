// Service Bus queue triggers, as the Functions Service Bus extension runs them (azure-sdk-for-net,
// Microsoft.Azure.WebJobs.Extensions.ServiceBus): each `app.serviceBusQueue` function gets a real
// `@azure/service-bus` peek-lock receiver on the queue its trigger names, through the connection its
// `connection` app setting holds, and is invoked once per message with the trigger metadata the
// extension hands the Node worker. Settlement follows `extensions.serviceBus` of host.json:
//  - autoCompleteMessages (default true; a trigger's own `autoCompleteMessages` wins): the message is
//    completed when the function returns. Whatever the setting, a function that throws gets its message
//    abandoned: the extension rethrows the failure to ServiceBusProcessor, which abandons every message
//    not settled yet (ReceiverManager.ProcessMessages). With false, a function that returns leaves the
//    message locked: it comes back when its lock expires (on the broker's clock), as in Azure. A Node
//    function could settle only through SDK-type bindings, which this host does not offer.
//  - maxConcurrentCalls (default 16 x processors): invocations in flight per function.
//  - prefetchCount: messages locked ahead, beyond the calls in flight (their locks are not renewed).
//  - maxAutoLockRenewalDuration (default 5 min): while the function runs, the lock is renewed through
//    the receiver's renewMessageLock when the host clock reaches the point the processor would renew at
//    (CalculateRenewDelay: 10 s, or half the time left, before the lock ends), until that long after the
//    invocation started.
// See README.md ("Service Bus queue triggers") for what differs from Azure.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type * as ServiceBusSdk from "@azure/service-bus";
import type { MessageHandlers, ProcessErrorArgs, ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver, ServiceBusSender } from "@azure/service-bus";
import type { Clock } from "../clock";
import { isVirtualClock, type Alarm, type Alarms } from "./alarms";
import type { Registration } from "./core";
import type { RpcBindingInfo, RpcInvocationResponse, RpcTypedData } from "./coreTypes";
import { invoke, triggerBindingOf, type BindingServices, type HostLog } from "./invoke";
import { topLevelEntries } from "./jsonText";

/** Resolves a whole-value `%SETTING%` from app settings; anything else (or an unknown setting) is returned as is. */
export function resolveSetting(value: string, env: Readonly<Record<string, string | undefined>>): string {
  const m = /^%([^%]+)%$/.exec(value.trim());
  if (!m?.[1]) return value;
  return env[m[1]] ?? value;
}

// ------------------------------------------------------------------ host.json

/** The part of host.json this host reads. */
export interface HostJson {
  version?: string;
  extensions?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `extensions.serviceBus` of host.json as the extension's ServiceBusOptions reads it. */
export interface ServiceBusExtensionOptions {
  autoCompleteMessages: boolean;
  maxConcurrentCalls: number;
  /** 0 = no renewal; Infinity = `-00:00:00.0010000` (Timeout.InfiniteTimeSpan). */
  maxAutoLockRenewalDurationMs: number;
  prefetchCount: number;
}

/** `<appRoot>/host.json`, or undefined when there is none. A file that is not JSON is an error, as for the host. */
export function readHostJson(appRoot: string): HostJson | undefined {
  let text: string;
  try {
    text = readFileSync(join(appRoot, "host.json"), "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, "")) as HostJson;
  } catch (err) {
    throw new Error(`${join(appRoot, "host.json")} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** .NET configuration keys are case-insensitive. */
function member(section: unknown, name: string): unknown {
  if (typeof section !== "object" || section === null) return undefined;
  const key = Object.keys(section).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (section as Record<string, unknown>)[key];
}

/** .NET TimeSpan text ([-][d.]hh:mm[:ss[.fffffff]] or whole days) in milliseconds. */
export function parseTimeSpan(text: string): number {
  const m = /^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?\s*$/.exec(text);
  if (!m) {
    if (/^\s*-?\d+\s*$/.test(text)) return Number(text) * 86_400_000;
    throw new RangeError(`'${text}' is not a TimeSpan`);
  }
  const [, minus, days, hours, minutes, seconds, fraction] = m;
  const ms =
    Number(days ?? 0) * 86_400_000 + Number(hours) * 3_600_000 + Number(minutes) * 60_000 + Number(seconds ?? 0) * 1000 + Number(`0.${fraction ?? "0"}`) * 1000;
  return minus ? -ms : ms;
}

function integerOption(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min)
    throw new RangeError(`host.json extensions.serviceBus.${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

export function serviceBusOptionsOf(hostJson: HostJson | undefined): ServiceBusExtensionOptions {
  const section = member(member(hostJson, "extensions"), "serviceBus");
  const auto = member(section, "autoCompleteMessages");
  const renewal = member(section, "maxAutoLockRenewalDuration");
  let renewalMs = 5 * 60_000;
  if (renewal !== undefined && renewal !== null) {
    renewalMs = parseTimeSpan(String(renewal));
    // Timeout.InfiniteTimeSpan is -1 ms; any other negative value is refused (Argument.AssertNotNegative).
    if (renewalMs === -1) renewalMs = Infinity;
    else if (renewalMs < 0) throw new RangeError(`host.json extensions.serviceBus.maxAutoLockRenewalDuration must not be negative, got '${String(renewal)}'`);
  }
  return {
    autoCompleteMessages: auto === undefined || auto === null ? true : auto === true || String(auto).toLowerCase() === "true",
    maxConcurrentCalls: integerOption(member(section, "maxConcurrentCalls"), "maxConcurrentCalls", 1) ?? 16 * availableParallelism(),
    maxAutoLockRenewalDurationMs: renewalMs,
    prefetchCount: integerOption(member(section, "prefetchCount"), "prefetchCount", 0) ?? 0,
  };
}

// ------------------------------------------------------------------ settings and connections

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(env)) if (key.toLowerCase() === lower && value !== undefined) return value;
  return undefined;
}

/** INameResolver.ResolveWholeString: every %NAME% in the value from app settings. */
function resolveWholeString(value: string, env: Env): string {
  return value.replace(/%([^%]+)%/g, (token, name: string) => {
    const resolved = envValue(env, name);
    if (resolved === undefined) throw new Error(`'${token}' does not resolve to a value.`);
    return resolved;
  });
}

export type ServiceBusConnection =
  { kind: "connectionString"; setting: string; connectionString: string } | { kind: "identity"; setting: string; fullyQualifiedNamespace: string };

/**
 * What a `connection` names, looked up as the extension does (GetWebJobsConnectionStringSectionServiceBus,
 * ServiceBusClientFactory): the setting itself (or ConnectionStrings:NAME), then AzureWebJobsNAME; a value is
 * a connection string, a section with `__fullyQualifiedNamespace` an identity-based connection.
 */
export function resolveServiceBusConnection(connection: string | undefined, env: Env): ServiceBusConnection {
  const name = resolveWholeString(connection ?? "ServiceBus", env);
  for (const candidate of [name, `AzureWebJobs${name}`]) {
    const value = envValue(env, `ConnectionStrings__${candidate}`) ?? envValue(env, candidate);
    if (value !== undefined && value.trim() !== "") return { kind: "connectionString", setting: candidate, connectionString: value };
    const prefix = `${candidate.toLowerCase()}__`;
    if (!Object.keys(env).some((k) => k.toLowerCase().startsWith(prefix))) continue;
    const namespace = envValue(env, `${candidate}__fullyQualifiedNamespace`);
    if (!namespace?.trim()) throw new Error("Connection should have an 'fullyQualifiedNamespace' property or be a string representing a connection string.");
    return { kind: "identity", setting: candidate, fullyQualifiedNamespace: namespace.trim() };
  }
  throw new Error(`Service Bus account connection string with name '${name}' does not exist in the settings. Make sure that it is a defined App Setting.`);
}

/** Identity-based connections need Entra ID tokens, which the local broker (local/servicebus) refuses. */
function identityUnsupported(functionName: string, c: { setting: string; fullyQualifiedNamespace: string }): Error {
  return new Error(
    `Service Bus function '${functionName}': the connection '${c.setting}' is identity-based (${c.setting}__fullyQualifiedNamespace=${c.fullyQualifiedNamespace}); ` +
      `the local broker (local/servicebus) accepts only SAS connection strings: set the app setting '${c.setting}' to the broker's connectionString for local runs.`,
  );
}

// ------------------------------------------------------------------ what the function gets

const DOTNET_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/**
 * A time as Newtonsoft writes a DateTime ("" = DateTimeKind.Unspecified, "Z" = Utc) or a DateTimeOffset
 * ("+00:00"): yyyy-MM-ddTHH:mm:ss plus the fraction without trailing zeros. Beyond .NET's range: MaxValue.
 */
export function newtonsoftDate(ms: number, suffix: "" | "Z" | "+00:00"): string {
  if (ms > DOTNET_MAX_MS) return `9999-12-31T23:59:59.9999999${suffix}`;
  const d = new Date(ms);
  const fraction = pad(d.getUTCMilliseconds(), 3).replace(/0+$/, "");
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (fraction ? `.${fraction}` : "") +
    suffix
  );
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A string Newtonsoft's reader takes for a date (DateParseHandling.DateTime): its time and kind. */
function isoDate(text: string): { ms: number; fractionText: string; kind: "utc" | "local" | "unspecified" } | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = "", zone] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(base);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let ms = base;
  let kind: "utc" | "local" | "unspecified" = "unspecified";
  if (zone === "Z") kind = "utc";
  else if (zone) {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0")) * 60_000;
    // RoundtripKind turns an offset into local time; Functions hosts run on UTC.
    kind = "local";
  }
  return { ms, fractionText: fraction.replace(/0+$/, ""), kind };
}

/** A date string as a JObject re-serialized by Newtonsoft writes it (kind kept, fraction trimmed). */
function newtonsoftDateString(text: string): string {
  const date = isoDate(text);
  if (!date) return text;
  const whole = newtonsoftDate(date.ms, ""); // whole seconds: the fraction is kept as written
  const suffix = date.kind === "utc" ? "Z" : date.kind === "local" ? "+00:00" : "";
  return whole + (date.fractionText ? `.${date.fractionText}` : "") + suffix;
}

/** Convert.ToString(DateTime, InvariantCulture): MM/dd/yyyy HH:mm:ss. */
function invariantDateTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear(), 4)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Container nesting of a JSON text, counted without recursion. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") max = Math.max(max, ++depth);
    else if (c === "}" || c === "]") depth--;
  }
  return max;
}

/** Newtonsoft's JsonReader.MaxDepth (64): JObject.Parse refuses anything deeper. */
const NEWTONSOFT_MAX_DEPTH = 64;

/**
 * The functions host's Utility.ApplyBindingData: when the trigger input is a JSON object text, its
 * top-level properties join the binding data (over the extension's names): objects as JSON, arrays and
 * nulls left out, everything else as `(string)JValue` (numbers as digits, booleans True/False, ISO dates as
 * MM/dd/yyyy HH:mm:ss).
 */
function bodyBindingData(text: string): Array<[string, RpcTypedData]> {
  const trimmed = text.trim();
  if (!(trimmed.startsWith("{") && trimmed.endsWith("}"))) return [];
  if (jsonDepth(trimmed) > NEWTONSOFT_MAX_DEPTH) return [];
  try {
    JSON.parse(trimmed);
  } catch {
    return [];
  }
  const out: Array<[string, RpcTypedData]> = [];
  for (const [key, valueText] of topLevelEntries(trimmed)) {
    const value: unknown = JSON.parse(valueText);
    if (value === null || Array.isArray(value)) continue;
    if (typeof value === "object") {
      out.push([key, { json: JSON.stringify(value, (_k, v: unknown) => (typeof v === "string" ? newtonsoftDateString(v) : v)) }]);
    } else if (typeof value === "string") {
      const date = isoDate(value);
      out.push([key, { string: date ? invariantDateTime(date.ms) : value }]);
    } else if (typeof value === "boolean") out.push([key, { string: value ? "True" : "False" }]);
    else out.push([key, { string: String(value) }]);
  }
  return out;
}

/** An application property value as Newtonsoft serializes the .NET value the AMQP decoder made of it. */
function propertyValueJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(newtonsoftDate(value.getTime(), "Z"));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return JSON.stringify(String(value));
  return JSON.stringify(value) ?? "null";
}

function propertiesJson(properties: Record<string, unknown> | undefined): string {
  const entries = Object.entries(properties ?? {}).map(([k, v]) => `${JSON.stringify(k)}:${propertyValueJson(v)}`);
  return `{${entries.join(",")}}`;
}

function idText(id: string | number | Buffer | undefined): string | undefined {
  if (id === undefined || id === null) return undefined;
  if (typeof id === "string") return id;
  if (typeof id === "number") return String(id);
  return Buffer.from(id).toString("hex");
}

interface ClientIdentity {
  /** ServiceBusClient.FullyQualifiedNamespace: the endpoint's host. */
  fullyQualifiedNamespace: string;
  /** ServiceBusClient.Identifier: `<namespace>-<guid>`. */
  identifier: string;
}

/**
 * The RPC trigger metadata the functions host sends for one message: the extension's binding data
 * (ServiceBusTriggerBindingStrategy.GetBindingData, single dispatch) converted by the host's ToRpc
 * (strings as `string`, everything else JSON by Newtonsoft, nulls left out), then the body's own properties.
 * @azure/functions turns the names (and nested keys) camelCase.
 */
export function serviceBusTriggerMetadata(
  message: ServiceBusReceivedMessage,
  client: ClientIdentity,
  bodyText: string | undefined,
): Record<string, RpcTypedData> {
  const meta: Record<string, RpcTypedData> = {};
  const str = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== null) meta[name] = { string: value };
  };
  const json = (name: string, text: string | undefined): void => {
    if (text !== undefined) meta[name] = { json: text };
  };
  // ServiceBusMessageActions / ServiceBusReceiveActions have no public properties: Newtonsoft writes {}.
  for (const name of ["MessageReceiver", "MessageSession", "MessageActions", "SessionActions", "ReceiveActions"]) json(name, "{}");
  json("Client", JSON.stringify({ FullyQualifiedNamespace: client.fullyQualifiedNamespace, IsClosed: false, TransportType: 0, Identifier: client.identifier }));
  // .NET's ServiceBusReceivedMessage.DeliveryCount is the AMQP header's count + 1; the JS SDK reports the header's.
  json("DeliveryCount", String((message.deliveryCount ?? 0) + 1));
  str("DeadLetterSource", message.deadLetterSource);
  str("LockToken", message.lockToken);
  const enqueued = message.enqueuedTimeUtc?.getTime();
  const expires = message.expiresAtUtc?.getTime() ?? Infinity;
  // The "Utc" names are DateTimeOffset.DateTime: DateTimeKind.Unspecified, written without a zone.
  json("ExpiresAtUtc", JSON.stringify(newtonsoftDate(expires, "")));
  json("ExpiresAt", JSON.stringify(newtonsoftDate(expires, "+00:00")));
  if (enqueued !== undefined) {
    json("EnqueuedTimeUtc", JSON.stringify(newtonsoftDate(enqueued, "")));
    json("EnqueuedTime", JSON.stringify(newtonsoftDate(enqueued, "+00:00")));
  }
  str("MessageId", idText(message.messageId));
  str("ContentType", message.contentType);
  str("ReplyTo", message.replyTo);
  if (message.sequenceNumber !== undefined) json("SequenceNumber", message.sequenceNumber.toString());
  str("To", message.to);
  str("Subject", message.subject);
  str("Label", message.subject);
  str("CorrelationId", idText(message.correlationId));
  const properties = propertiesJson(message.applicationProperties);
  json("ApplicationProperties", properties);
  json("UserProperties", properties);
  str("SessionId", message.sessionId);
  str("ReplyToSessionId", message.replyToSessionId);
  str("PartitionKey", message.partitionKey);
  const via: unknown = message._rawAmqpMessage.messageAnnotations?.["x-opt-via-partition-key"];
  str("TransactionPartitionKey", typeof via === "string" ? via : undefined);
  if (bodyText !== undefined) {
    for (const [key, value] of bodyBindingData(bodyText)) {
      // The host's binding data is case-insensitive: a body property replaces the extension's value.
      const existing = Object.keys(meta).find((k) => k.toLowerCase() === key.toLowerCase());
      // defineProperty: a body key such as "__proto__" is data here, not the prototype.
      Object.defineProperty(meta, existing ?? key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return meta;
}

type TriggerInput = { ok: true; data: RpcTypedData; text: string | undefined } | { ok: false; error: string };

function dataBytes(body: unknown): Buffer | undefined {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (Array.isArray(body) && body.every((b) => Buffer.isBuffer(b) || b instanceof Uint8Array))
    return Buffer.concat(body.map((b: Uint8Array) => Buffer.from(b)));
  return undefined;
}

/**
 * The trigger value: the body converted to the trigger's dataType as the extension converts it
 * (MessageToStringConverter: a data body read as UTF-8, BOM dropped; a string value body as is; any other
 * body cannot be bound to a string), then passed as a `string` (the worker JSON-parses what it can) or `bytes`.
 */
function triggerInput(message: ServiceBusReceivedMessage, dataType: string): TriggerInput {
  const raw = message._rawAmqpMessage;
  const bytes = raw.bodyType === "data" || raw.bodyType === undefined ? dataBytes(message.body as unknown) : undefined;
  if (dataType === "binary" || dataType === "stream") {
    if (bytes) return { ok: true, data: { bytes: new Uint8Array(bytes) }, text: undefined };
    const value: unknown = message.body;
    if (raw.bodyType === "value" && (Buffer.isBuffer(value) || value instanceof Uint8Array))
      return { ok: true, data: { bytes: new Uint8Array(value) }, text: undefined };
    return { ok: false, error: `A message with a ${raw.bodyType ?? "data"} body cannot be bound to byte[].` };
  }
  if (bytes) {
    const withoutBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(withoutBom);
    } catch {
      text = Buffer.from(withoutBom).toString("utf8"); // BinaryData.ToString(): replacement characters
    }
    return { ok: true, data: { string: text }, text };
  }
  const value: unknown = message.body;
  if (raw.bodyType === "value" && typeof value === "string") return { ok: true, data: { string: value }, text: value };
  if (raw.bodyType === "sequence") return { ok: false, error: "A sequence body message cannot be bound to a string." };
  return { ok: false, error: `A message with a body of type ${value === null ? "null" : typeof value} cannot be bound to a string.` };
}

// ------------------------------------------------------------------ listeners

export interface ServiceBusListenerInfo {
  functionName: string;
  /** Resolved queue name (undefined when it could not be resolved). */
  queueName: string | undefined;
  /** The `connection` of the trigger (an app setting name). */
  connection: string;
  state: "listening" | "error" | "closed";
  error?: string;
  autoCompleteMessages: boolean;
  maxConcurrentCalls: number;
  /** Messages received and not finished (running, or waiting for a call slot). */
  inFlight: number;
  /** Invocations running now, and the most that ever ran at once. */
  running: number;
  peakRunning: number;
  deliveries: number;
  completed: number;
  abandoned: number;
  /** Invocations that returned under autoCompleteMessages false: the message stays locked until its lock expires. */
  leftUnsettled: number;
  lockRenewals: number;
}

interface ClientEntry {
  client: ServiceBusClient;
  identity: ClientIdentity;
  senders: Map<string, ServiceBusSender>;
}

interface Listener {
  readonly registration: Registration;
  readonly info: ServiceBusListenerInfo;
  readonly dataType: string;
  /** Messages credited to the link: calls plus prefetch. */
  readonly credit: number;
  entry?: ClientEntry;
  receiver?: ServiceBusReceiver;
  subscription?: { close(): Promise<void> };
  slotWaiters: Array<() => void>;
  renewals: Set<Alarm>;
}

export interface ServiceBusTriggersOptions {
  clock: Clock;
  alarms: Alarms;
  log: HostLog;
  env: Env;
  options: ServiceBusExtensionOptions;
  bindings: BindingServices;
}

let sdk: Promise<typeof ServiceBusSdk> | undefined;
/** Loaded with the first Service Bus trigger or output: most hosts never need it. */
const loadSdk = (): Promise<typeof ServiceBusSdk> => (sdk ??= import("@azure/service-bus"));

/** Short client retries: a failure shows in seconds, and close is never held up by minutes of retries. */
const CLIENT_OPTIONS = { retryOptions: { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000, timeoutInMs: 10_000 } };
const START_TIMEOUT_MS = 15_000;
const CLOSE_STEP_TIMEOUT_MS = 5_000;
const CLOSE_IN_FLIGHT_TIMEOUT_MS = 10_000;
/** ReceiverManager.CalculateRenewDelay: renew this long before the lock ends at most (Constants.MaximumRenewBufferDuration). */
const MAX_RENEW_BUFFER_MS = 10_000;

function describeError(err: unknown): string {
  if (typeof err === "object" && err !== null && "code" in err && typeof (err as { code: unknown }).code === "string") {
    return `${(err as { code: string }).code}: ${err instanceof Error ? err.message : String(err)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      p.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isServiceBusTrigger(registration: Registration): boolean {
  try {
    return String(triggerBindingOf(registration)[1].type).toLowerCase() === "servicebustrigger";
  } catch {
    return false;
  }
}

function endpointHost(connectionString: string): string {
  const endpoint = /(?:^|;)\s*Endpoint\s*=\s*([^;]+)/i.exec(connectionString)?.[1]?.trim();
  try {
    return endpoint ? new URL(endpoint).hostname : "";
  } catch {
    return endpoint ?? "";
  }
}

/**
 * The host's Service Bus side: one listener per `serviceBusTrigger` function, the clients they share (one
 * per connection string, as the extension's MessagingProvider caches them) and Service Bus outputs.
 */
export class ServiceBusTriggers {
  private readonly listeners: Listener[] = [];
  private readonly clients = new Map<string, ClientEntry>();
  private readonly pendingOutputs = new Set<Promise<void>>();
  private changeWaiters: Array<() => void> = [];
  /** Bumped by everything that may make a message available or change what is in flight. */
  private generation = 0;
  /** The generation at which drain() last saw nothing available and nothing in flight. */
  private confirmed = -1;
  private unsubscribeClock: (() => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: ServiceBusTriggersOptions) {}

  get options(): ServiceBusExtensionOptions {
    return { ...this.o.options };
  }

  /**
   * Starts a listener for every Service Bus trigger. Settings problems (a missing connection setting, a
   * queue name that does not resolve, a queue the broker does not have) put that function in error, as in
   * Azure, and the others run; what this host cannot run at all (identity-based connections, sessions,
   * batches, topics, SDK-type bindings) fails the start.
   */
  async start(registrations: readonly Registration[]): Promise<void> {
    const functions = registrations.filter(isServiceBusTrigger);
    const prepared: Array<{ listener: Listener; connectionString: string }> = [];
    for (const registration of functions) {
      const [, trigger] = triggerBindingOf(registration);
      const name = registration.metadata.name;
      const unsupported = this.unsupported(trigger);
      if (unsupported) throw new Error(`Service Bus function '${name}': ${unsupported} is not supported by the local host.`);
      const autoComplete = typeof trigger.autoCompleteMessages === "boolean" ? trigger.autoCompleteMessages : this.o.options.autoCompleteMessages;
      const listener: Listener = {
        registration,
        dataType: String(trigger.dataType ?? "string").toLowerCase(),
        credit: this.o.options.maxConcurrentCalls + this.o.options.prefetchCount,
        slotWaiters: [],
        renewals: new Set(),
        info: {
          functionName: name,
          queueName: undefined,
          connection: typeof trigger.connection === "string" ? trigger.connection : "ServiceBus",
          state: "error",
          autoCompleteMessages: autoComplete,
          maxConcurrentCalls: this.o.options.maxConcurrentCalls,
          inFlight: 0,
          running: 0,
          peakRunning: 0,
          deliveries: 0,
          completed: 0,
          abandoned: 0,
          leftUnsettled: 0,
          lockRenewals: 0,
        },
      };
      this.listeners.push(listener);
      let connection: ServiceBusConnection;
      try {
        listener.info.queueName = resolveWholeString(String(trigger.queueName), this.o.env);
        connection = resolveServiceBusConnection(typeof trigger.connection === "string" ? trigger.connection : undefined, this.o.env);
      } catch (err) {
        this.fail(listener, err);
        continue;
      }
      if (connection.kind === "identity") throw identityUnsupported(name, connection);
      prepared.push({ listener, connectionString: connection.connectionString });
    }
    if (prepared.length > 0) {
      await Promise.all(prepared.map(({ listener, connectionString }) => this.listen(listener, connectionString)));
      if (isVirtualClock(this.o.clock)) this.unsubscribeClock = this.o.clock.onAdvance(() => this.changed());
    }
    const summary = this.listeners.map((l) => `${l.info.functionName} <- ${l.info.queueName ?? "?"} (${l.info.state})`).join(", ");
    if (this.listeners.length > 0) this.o.log(`[servicebus] triggers: ${summary}`);
  }

  private unsupported(trigger: RpcBindingInfo): string | undefined {
    if (trigger.isSessionsEnabled === true) return "isSessionsEnabled (sessions)";
    if (String(trigger.cardinality ?? "one").toLowerCase() === "many") return "cardinality 'many' (batches)";
    if (trigger.properties?.supportsDeferredBinding === "true") return "sdkBinding (SDK-type bindings)";
    if (typeof trigger.queueName !== "string") return "a topic subscription (topicName/subscriptionName)";
    return undefined;
  }

  private fail(listener: Listener, err: unknown): void {
    listener.info.state = "error";
    listener.info.error = describeError(err);
    // As the functions host reports a function it could not start; the other functions run.
    this.o.log(`[servicebus] error: the listener for function '${listener.info.functionName}' was unable to start: ${listener.info.error}`);
  }

  private async clientFor(connectionString: string): Promise<ClientEntry> {
    const { ServiceBusClient } = await loadSdk();
    let entry = this.clients.get(connectionString); // looked up after the await: listeners start in parallel
    if (!entry) {
      const namespace = endpointHost(connectionString);
      entry = {
        client: new ServiceBusClient(connectionString, CLIENT_OPTIONS),
        identity: { fullyQualifiedNamespace: namespace, identifier: `${namespace}-${randomUUID()}` },
        senders: new Map(),
      };
      this.clients.set(connectionString, entry);
    }
    return entry;
  }

  private async listen(listener: Listener, connectionString: string): Promise<void> {
    const queueName = listener.info.queueName ?? "";
    try {
      const entry = await this.clientFor(connectionString);
      listener.entry = entry;
      // The SDK's own renewal runs on real time; the host renews on its clock instead.
      const receiver = entry.client.createReceiver(queueName, {
        receiveMode: "peekLock",
        maxAutoLockRenewalDurationInMs: 0,
        skipParsingBodyAsJson: true,
        skipConvertingDate: true,
      });
      listener.receiver = receiver;
      await receiver.peekMessages(1); // a missing queue fails here (MessagingEntityNotFound) instead of retrying forever
      let ready!: () => void;
      const attached = new Promise<void>((resolve) => (ready = resolve));
      const handlers: MessageHandlers & { postInitialize(): Promise<void> } = {
        processMessage: (message) => this.process(listener, message),
        processError: async (args: ProcessErrorArgs) => {
          if (!this.closed) this.o.log(`[servicebus] ${listener.info.functionName}: ${args.errorSource} error: ${describeError(args.error)}`);
        },
        // Called by the streaming receiver once its link is attached, just before it grants credit.
        postInitialize: async () => ready(),
      };
      listener.subscription = receiver.subscribe(handlers, { autoCompleteMessages: false, maxConcurrentCalls: listener.credit });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        attached.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), START_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (timedOut) throw new Error(`the receiver on '${queueName}' did not attach within ${START_TIMEOUT_MS} ms`);
      listener.info.state = "listening";
    } catch (err) {
      await withTimeout(listener.subscription?.close(), CLOSE_STEP_TIMEOUT_MS);
      await withTimeout(listener.receiver?.close(), CLOSE_STEP_TIMEOUT_MS);
      listener.subscription = undefined;
      listener.receiver = undefined;
      this.fail(listener, err);
    }
  }

  private active(): Listener[] {
    return this.listeners.filter((l) => l.info.state === "listening");
  }

  private busy(): boolean {
    return this.pendingOutputs.size > 0 || this.listeners.some((l) => l.info.inFlight > 0);
  }

  private changed(): void {
    this.generation++;
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Anything might have been sent since the last drain (runUntilIdle and waitFor call this first). */
  invalidate(): void {
    this.generation++;
  }

  /** No invocation or output in flight, and drain() confirmed nothing available since the last change. */
  isIdle(): boolean {
    if (this.closed) return true;
    if (this.pendingOutputs.size > 0) return false;
    if (this.active().length === 0) return true;
    return !this.busy() && this.confirmed === this.generation;
  }

  /**
   * Waits until the listening functions' queues have no message available and nothing is in flight
   * (invocations, settlements, outputs); fails after `timeoutMs` of real time (default 30 s). "Nothing
   * available" is asked of the broker itself: a request on each client's connection (a peek), answered after
   * every delivery the broker made to that connection's receivers before it, so a message the broker has
   * handed over is counted even while it is still on the wire.
   */
  async drain(options: { timeoutMs?: number } = {}): Promise<void> {
    // timeoutMs bounds a wait without progress: a long queue worked through steadily is not stuck.
    const timeoutMs = options.timeoutMs ?? 30_000;
    let deadline = Date.now() + timeoutMs;
    this.generation++;
    for (;;) {
      if (this.closed) return;
      while (this.busy()) {
        await this.nextChange(deadline, timeoutMs);
        deadline = Date.now() + timeoutMs;
      }
      if (this.active().length === 0) {
        this.confirmed = this.generation;
        return;
      }
      await immediate(); // lets the receivers grant the credit of finished messages back first
      const seen = this.generation;
      await this.pingBroker(deadline);
      await immediate();
      if (!this.busy() && seen === this.generation) {
        this.confirmed = this.generation;
        return;
      }
      if (Date.now() > deadline) throw this.timeoutError(timeoutMs);
    }
  }

  private async pingBroker(deadline: number): Promise<void> {
    const byClient = new Map<ClientEntry, ServiceBusReceiver>();
    for (const l of this.active()) if (l.entry && l.receiver && !byClient.has(l.entry)) byClient.set(l.entry, l.receiver);
    await Promise.all(
      [...byClient.values()].map(async (receiver) => {
        try {
          await receiver.peekMessages(1);
        } catch (err) {
          if (Date.now() > deadline) throw err;
        }
      }),
    );
  }

  private nextChange(deadline: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.changeWaiters = this.changeWaiters.filter((w) => w !== done);
          reject(this.timeoutError(timeoutMs));
        },
        Math.max(0, deadline - Date.now()),
      );
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.changeWaiters.push(done);
    });
  }

  private timeoutError(timeoutMs: number): Error {
    const busy = this.listeners.filter((l) => l.info.inFlight > 0).map((l) => `${l.info.functionName} (${l.info.inFlight} in flight)`);
    const outputs = this.pendingOutputs.size > 0 ? [`${this.pendingOutputs.size} output send(s)`] : [];
    return new Error(`Service Bus drain: no progress for ${timeoutMs} ms: ${[...busy, ...outputs].join(", ") || "messages keep arriving"}`);
  }

  info(): ServiceBusListenerInfo[] {
    return this.listeners.map((l) => ({ ...l.info }));
  }

  // ---------------------------------------------------------------- one message

  private async process(listener: Listener, message: ServiceBusReceivedMessage): Promise<void> {
    const info = listener.info;
    info.inFlight++;
    info.deliveries++;
    this.changed();
    try {
      if (this.closed) {
        await this.settle(listener, message, "abandon");
        return;
      }
      await this.acquire(listener);
      try {
        if (this.closed) await this.settle(listener, message, "abandon");
        else await this.run(listener, message);
      } finally {
        this.release(listener);
      }
    } finally {
      info.inFlight--;
      this.changed();
    }
  }

  private async run(listener: Listener, message: ServiceBusReceivedMessage): Promise<void> {
    const { info, registration } = listener;
    const label = `[servicebus] ${info.functionName}: message '${idText(message.messageId) ?? "?"}' (delivery ${(message.deliveryCount ?? 0) + 1})`;
    const renewal = this.renewLock(listener, message);
    try {
      const input = triggerInput(message, listener.dataType);
      if (!input.ok) {
        // A binding failure fails the invocation before the function runs: the processor abandons.
        this.o.log(`${label}: Exception binding parameter '${triggerBindingOf(registration)[0]}': ${input.error}`);
        await this.settle(listener, message, "abandon");
        return;
      }
      const identity = listener.entry?.identity ?? { fullyQualifiedNamespace: "", identifier: "" };
      const outcome = await invoke(registration, {
        trigger: input.data,
        triggerMetadata: serviceBusTriggerMetadata(
          message,
          identity,
          listener.dataType === "binary" || listener.dataType === "stream" ? undefined : input.text,
        ),
        bindings: this.o.bindings,
        log: this.o.log,
      });
      if (!outcome.ok) {
        this.o.log(`${label} failed: ${outcome.error.message}`);
        await this.settle(listener, message, "abandon");
      } else if (info.autoCompleteMessages) {
        await this.settle(listener, message, "complete");
      } else {
        info.leftUnsettled++;
        this.o.log(
          `${label}: autoCompleteMessages is false and nothing settled it; it stays locked until ${message.lockedUntilUtc?.toISOString() ?? "its lock ends"}`,
        );
      }
    } finally {
      renewal.stop();
    }
  }

  private async settle(listener: Listener, message: ServiceBusReceivedMessage, kind: "complete" | "abandon"): Promise<void> {
    const receiver = listener.receiver;
    if (!receiver) return;
    try {
      if (kind === "complete") {
        await receiver.completeMessage(message);
        listener.info.completed++;
      } else {
        await receiver.abandonMessage(message);
        listener.info.abandoned++;
      }
    } catch (err) {
      // As the processor reports it (ProcessErrorEventArgs); a lost lock is not retried.
      this.o.log(`[servicebus] ${listener.info.functionName}: ${kind} of message '${idText(message.messageId) ?? "?"}' failed: ${describeError(err)}`);
    }
  }

  private acquire(listener: Listener): Promise<void> {
    const info = listener.info;
    const take = (): void => {
      info.running++;
      info.peakRunning = Math.max(info.peakRunning, info.running);
    };
    if (info.running < info.maxConcurrentCalls) {
      take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      listener.slotWaiters.push(() => {
        take();
        resolve();
      }),
    );
  }

  private release(listener: Listener): void {
    listener.info.running--;
    listener.slotWaiters.shift()?.();
  }

  /**
   * ReceiverManager.RenewMessageLockAsync on the host clock: renew when the clock reaches the lock's end
   * minus min(half the time left, 10 s) (at once with under 400 ms left), until maxAutoLockRenewalDuration
   * after the invocation started; stops at the first failure.
   */
  private renewLock(listener: Listener, message: ServiceBusReceivedMessage): { stop(): void } {
    const limit = this.o.options.maxAutoLockRenewalDurationMs;
    if (!(limit > 0)) return { stop: () => undefined };
    const { clock, alarms } = this.o;
    const deadline = clock.now() + limit;
    let alarm: Alarm | undefined;
    let stopped = false;
    const arm = (): void => {
      const lockedUntil = message.lockedUntilUtc?.getTime();
      if (stopped || this.closed || lockedUntil === undefined) return;
      const now = clock.now();
      const remaining = lockedUntil - now;
      const at = remaining < 400 ? now : now + remaining - Math.min(remaining / 2, MAX_RENEW_BUFFER_MS);
      if (at >= deadline) return;
      alarm = alarms.schedule(at, "serviceBusLockRenewal", () => {
        if (alarm) listener.renewals.delete(alarm);
        alarm = undefined;
        void renew();
      });
      listener.renewals.add(alarm);
    };
    const renew = async (): Promise<void> => {
      const receiver = listener.receiver;
      if (stopped || this.closed || !receiver) return;
      const before = message.lockedUntilUtc?.getTime() ?? 0;
      try {
        await receiver.renewMessageLock(message);
        listener.info.lockRenewals++;
      } catch (err) {
        if (!stopped)
          this.o.log(
            `[servicebus] ${listener.info.functionName}: renewing the lock of message '${idText(message.messageId) ?? "?"}' failed: ${describeError(err)}`,
          );
        return;
      }
      // A renewal that did not move the lock on would only spin.
      if ((message.lockedUntilUtc?.getTime() ?? 0) > before) arm();
    };
    arm();
    return {
      stop: () => {
        stopped = true;
        if (alarm) {
          alarm.cancel();
          listener.renewals.delete(alarm);
        }
      },
    };
  }

  // ---------------------------------------------------------------- outputs

  /**
   * Service Bus queue outputs (`output.serviceBusQueue`, extra outputs or the return value): each value (an
   * array: each element) becomes one message on the output's queue, through its connection. The send runs
   * after the invocation returned; drain() and runUntilIdle() wait for it, a failure is logged.
   */
  applyOutputs(registration: Registration, response: RpcInvocationResponse): void {
    const outputs: Array<[RpcBindingInfo, RpcTypedData]> = [];
    for (const out of response.outputData ?? []) {
      const binding = out.name ? registration.metadata.bindings[out.name] : undefined;
      if (binding && out.data && String(binding.type).toLowerCase() === "servicebus") outputs.push([binding, out.data]);
    }
    const returnBinding = registration.metadata.bindings.$return;
    if (returnBinding && response.returnValue && String(returnBinding.type).toLowerCase() === "servicebus") outputs.push([returnBinding, response.returnValue]);
    for (const [binding, data] of outputs) {
      const p: Promise<void> = this.send(registration, binding, data).finally(() => {
        this.pendingOutputs.delete(p);
        this.changed();
      });
      this.pendingOutputs.add(p);
      this.changed();
    }
  }

  private async send(registration: Registration, binding: RpcBindingInfo, data: RpcTypedData): Promise<void> {
    const name = registration.metadata.name;
    try {
      if (this.closed) throw new Error("the host is closing");
      if (typeof binding.queueName !== "string") throw new Error("topic outputs are not supported by the local host");
      const queueName = resolveWholeString(binding.queueName, this.o.env);
      const connection = resolveServiceBusConnection(typeof binding.connection === "string" ? binding.connection : undefined, this.o.env);
      if (connection.kind === "identity") throw identityUnsupported(name, connection);
      const entry = await this.clientFor(connection.connectionString);
      let sender = entry.senders.get(queueName);
      if (!sender) {
        sender = entry.client.createSender(queueName);
        entry.senders.set(queueName, sender);
      }
      const values: unknown[] = [];
      if (typeof data.json === "string") {
        const parsed: unknown = JSON.parse(data.json);
        values.push(...(Array.isArray(parsed) ? (parsed as unknown[]) : [parsed]));
      } else if (typeof data.string === "string") values.push(data.string);
      else if (data.bytes) values.push(Buffer.from(data.bytes));
      // Bodies go as raw bytes (a data section): a string as its UTF-8, anything else as its JSON text.
      const messages = values.map((v) => ({ body: Buffer.isBuffer(v) ? v : Buffer.from(typeof v === "string" ? v : JSON.stringify(v), "utf8") }));
      if (messages.length > 0) await sender.sendMessages(messages);
    } catch (err) {
      this.o.log(`[servicebus] ${name}: the Service Bus output could not be sent: ${describeError(err)}`);
    }
  }

  // ---------------------------------------------------------------- close

  /** Stops receiving, lets running invocations settle (bounded), then closes receivers, senders and clients. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.unsubscribeClock?.();
      this.changed();
      await Promise.all(this.listeners.map((l) => withTimeout(l.subscription?.close(), CLOSE_STEP_TIMEOUT_MS)));
      // Messages waiting for a call slot are abandoned rather than run.
      for (const l of this.listeners) for (const wake of l.slotWaiters.splice(0)) wake();
      const until = Date.now() + CLOSE_IN_FLIGHT_TIMEOUT_MS;
      while (this.busy() && Date.now() < until) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
          this.changeWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      for (const l of this.listeners) {
        for (const alarm of l.renewals) alarm.cancel();
        l.renewals.clear();
        if (l.info.state === "listening") l.info.state = "closed";
      }
      await Promise.all(this.listeners.map((l) => withTimeout(l.receiver?.close(), CLOSE_STEP_TIMEOUT_MS)));
      for (const entry of this.clients.values()) await Promise.all([...entry.senders.values()].map((s) => withTimeout(s.close(), CLOSE_STEP_TIMEOUT_MS)));
      await Promise.all([...this.clients.values()].map((entry) => withTimeout(entry.client.close(), CLOSE_STEP_TIMEOUT_MS)));
      this.clients.clear();
      const waiters = this.changeWaiters;
      this.changeWaiters = [];
      for (const resolve of waiters) resolve();
    })();
    return this.closing;
  }
}
