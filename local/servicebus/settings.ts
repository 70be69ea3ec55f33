// Queue settings: the same JSON file infra/app/messaging.bicep deploys (loadJsonContent), so the
// local broker locks, redelivers, dead-letters and de-duplicates with the values Azure will use.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseIsoDuration } from "./isoDuration";

/** Queue properties with the ARM names (Microsoft.ServiceBus/namespaces/queues, properties). */
export interface QueueSettings {
  /** ISO 8601, e.g. PT2M; Service Bus allows 5 seconds to 5 minutes. */
  lockDuration: string;
  maxDeliveryCount: number;
  requiresDuplicateDetection: boolean;
  /** ISO 8601, 20 seconds to 7 days. */
  duplicateDetectionHistoryTimeWindow: string;
  /** ISO 8601; a message's own time-to-live is capped by this. */
  defaultMessageTimeToLive: string;
  deadLetteringOnMessageExpiration: boolean;
  /** Deployed but not modelled by the broker (no size quota, sessions or partitions). */
  maxSizeInMegabytes?: number;
  requiresSession?: boolean;
  enablePartitioning?: boolean;
  enableBatchedOperations?: boolean;
}

/** The settings in milliseconds, checked against Service Bus limits. */
export interface QueueLimits {
  lockDurationMs: number;
  maxDeliveryCount: number;
  duplicateDetection: boolean;
  duplicateWindowMs: number;
  defaultTimeToLiveMs: number;
  deadLetterOnExpiration: boolean;
}

export const QUEUE_SETTINGS_FILE = path.resolve(__dirname, "../../infra/servicebus-queue.json");

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

function field<T>(source: Record<string, unknown>, name: string, type: "string" | "number" | "boolean", where: string): T {
  const value = source[name];
  if (typeof value !== type) throw new TypeError(`${where}: '${name}' must be a ${type}, got ${JSON.stringify(value)}`);
  return value as T;
}

function optional<T>(source: Record<string, unknown>, name: string, type: "number" | "boolean", where: string): T | undefined {
  return source[name] === undefined ? undefined : field<T>(source, name, type, where);
}

/** Reads and checks a queue settings object (the JSON file, or a test's overrides merged onto it). */
export function parseQueueSettings(value: unknown, where: string): QueueSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${where}: queue settings must be a JSON object`);
  const source = value as Record<string, unknown>;
  const settings: QueueSettings = {
    lockDuration: field(source, "lockDuration", "string", where),
    maxDeliveryCount: field(source, "maxDeliveryCount", "number", where),
    requiresDuplicateDetection: field(source, "requiresDuplicateDetection", "boolean", where),
    duplicateDetectionHistoryTimeWindow: field(source, "duplicateDetectionHistoryTimeWindow", "string", where),
    defaultMessageTimeToLive: field(source, "defaultMessageTimeToLive", "string", where),
    deadLetteringOnMessageExpiration: field(source, "deadLetteringOnMessageExpiration", "boolean", where),
  };
  const extras = {
    maxSizeInMegabytes: optional<number>(source, "maxSizeInMegabytes", "number", where),
    requiresSession: optional<boolean>(source, "requiresSession", "boolean", where),
    enablePartitioning: optional<boolean>(source, "enablePartitioning", "boolean", where),
    enableBatchedOperations: optional<boolean>(source, "enableBatchedOperations", "boolean", where),
  };
  for (const [name, extra] of Object.entries(extras)) if (extra !== undefined) Object.assign(settings, { [name]: extra });
  resolveQueueLimits(settings, where);
  return settings;
}

/** The settings infra/ deploys, read fresh from infra/servicebus-queue.json. */
export function readDeployedQueueSettings(file: string = QUEUE_SETTINGS_FILE): QueueSettings {
  return parseQueueSettings(JSON.parse(readFileSync(file, "utf8")) as unknown, path.basename(file));
}

function within(name: string, ms: number, min: number, max: number, where: string): number {
  if (!(ms >= min && ms <= max)) throw new RangeError(`${where}: ${name} must be between ${min / SECOND}s and ${max / SECOND}s, got ${ms / SECOND}s`);
  return ms;
}

export function resolveQueueLimits(settings: QueueSettings, where = "queue settings"): QueueLimits {
  // Sessions change receive semantics entirely (session locks, session filters): refuse rather than pretend.
  if (settings.requiresSession === true) throw new RangeError(`${where}: requiresSession is not supported by the local broker`);
  if (!Number.isInteger(settings.maxDeliveryCount) || settings.maxDeliveryCount < 1) throw new RangeError(`${where}: maxDeliveryCount must be an integer >= 1`);
  return {
    lockDurationMs: within("lockDuration", parseIsoDuration(settings.lockDuration), 5 * SECOND, 5 * MINUTE, where),
    maxDeliveryCount: settings.maxDeliveryCount,
    duplicateDetection: settings.requiresDuplicateDetection,
    duplicateWindowMs: within(
      "duplicateDetectionHistoryTimeWindow",
      parseIsoDuration(settings.duplicateDetectionHistoryTimeWindow),
      20 * SECOND,
      7 * DAY,
      where,
    ),
    defaultTimeToLiveMs: within("defaultMessageTimeToLive", parseIsoDuration(settings.defaultMessageTimeToLive), SECOND, Number.MAX_SAFE_INTEGER, where),
    deadLetterOnExpiration: settings.deadLetteringOnMessageExpiration,
  };
}
