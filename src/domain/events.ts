// Recognises "an image version was written" among Event Grid deliveries, in the Event Grid schema
// and in CloudEvents 1.0. There is no gallery-specific event: the signal is
// Microsoft.Resources.ResourceWriteSuccess with operationName .../galleries/images/versions/write.
// Azure Resource Notifications' CreatedOrUpdated for a version is a replication hint: it makes a
// waiting publish read at once, and never starts or completes anything by itself.
// A system topic also delivers every other write in its scope, so well-formed events that are not
// ours are "ignore" (never an error), while malformed ones are "invalid" with every failing field.
// The resource id is only validated once the event claims to be a version write: other writes
// (storage accounts, Microsoft's samples with placeholders) are not ours to judge.

import { z } from "zod";
import { formatImageVersionId, parseImageVersionId, resourceIdIssue, type ImageVersionRef } from "./resourceIds";
import { boundedText, isObject, quoteForError, type FieldError } from "./validation";
import { parseWithSchema, type Parsed } from "./zodIssues";

type EventSchema = "EventGrid" | "CloudEvents";

type EventClassification =
  | {
      kind: "imageVersionWritten";
      schema: EventSchema;
      eventId: string;
      eventTime?: string;
      correlationId?: string;
      /** Canonical casing (formatImageVersionId). */
      imageVersionId: string;
      ref: ImageVersionRef;
    }
  | {
      kind: "replicationHint";
      schema: EventSchema;
      eventId: string;
      eventTime?: string;
      /** Canonical casing (formatImageVersionId). */
      imageVersionId: string;
      ref: ImageVersionRef;
    }
  | { kind: "ignore"; schema?: EventSchema; eventId?: string; reason: string }
  | { kind: "invalid"; errors: FieldError[] };

/** Longest event id, correlation id or event time kept from an event: they reach logs, statuses and outcome events. */
const MAX_CALLER_TEXT = 128;

const RESOURCE_WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess";
const IMAGE_VERSION_WRITE = "Microsoft.Compute/galleries/images/versions/write";
const RESOURCE_CREATED_OR_UPDATED = "Microsoft.ResourceNotifications.Resources.CreatedOrUpdated";
const IMAGE_VERSION_TYPE = "Microsoft.Compute/galleries/images/versions";

const required = z.string().min(1, { error: "must not be empty" });

const eventGridEnvelope = z.object({
  id: required,
  eventType: required,
  subject: z.string().optional(),
  eventTime: z.string().optional(),
  topic: z.string().optional(),
  dataVersion: z.string().optional(),
  metadataVersion: z.string().optional(),
});

const cloudEventEnvelope = z.object({
  specversion: z.literal("1.0", { error: (iss) => (iss.input === undefined ? "is required" : 'must be "1.0" (CloudEvents 1.0)') }),
  id: required,
  source: required,
  type: required,
  subject: z.string().optional(),
  time: z.string().optional(),
});

const resourceWriteData = z.object({
  operationName: required,
  status: required,
  resourceUri: z.string().optional(),
  correlationId: z.string().optional(),
});

const resourceNotificationData = z.object({
  resourceInfo: z.object({ id: required, type: required }),
});

interface Envelope {
  schema: EventSchema;
  id: string;
  type: string;
  time?: string;
}

function equalsIgnoreCase(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** CloudEvents carry `specversion`; an event with `type` but no `eventType` is a CloudEvent missing it. */
function detectSchema(raw: Record<string, unknown>): EventSchema {
  return "specversion" in raw || ("type" in raw && !("eventType" in raw)) ? "CloudEvents" : "EventGrid";
}

function parseEnvelope(schema: EventSchema, raw: Record<string, unknown>): Parsed<Envelope> {
  if (schema === "CloudEvents") {
    const parsed = parseWithSchema(cloudEventEnvelope, raw);
    if (!parsed.ok) return parsed;
    const e = parsed.value;
    return { ok: true, value: { schema, id: e.id, type: e.type, ...(e.time === undefined ? {} : { time: e.time }) } };
  }
  const parsed = parseWithSchema(eventGridEnvelope, raw);
  if (!parsed.ok) return parsed;
  const e = parsed.value;
  return { ok: true, value: { schema, id: e.id, type: e.eventType, ...(e.eventTime === undefined ? {} : { time: e.eventTime }) } };
}

type WriteCheck =
  | { outcome: "invalid"; errors: FieldError[] }
  | { outcome: "ignore"; reason: string }
  | { outcome: "imageVersion"; ref: ImageVersionRef; correlationId?: string };

/** Checks the `data` of a ResourceWriteSuccess event and decides whether it is an image version write. */
function checkWrite(data: unknown): WriteCheck {
  if (!isObject(data)) return { outcome: "invalid", errors: [{ path: "data", rule: data === undefined ? "is required" : "must be an object" }] };
  const parsed = parseWithSchema(resourceWriteData, data);
  if (!parsed.ok) return { outcome: "invalid", errors: parsed.errors.map((e) => ({ path: `data.${e.path}`, rule: e.rule })) };
  const { operationName, status, resourceUri, correlationId } = parsed.value;
  if (!equalsIgnoreCase(operationName, IMAGE_VERSION_WRITE)) {
    return { outcome: "ignore", reason: `operation ${quoteForError(operationName)} is not ${IMAGE_VERSION_WRITE}` };
  }
  if (!equalsIgnoreCase(status, "Succeeded")) {
    return { outcome: "ignore", reason: `the image version write has status ${quoteForError(status)}, not Succeeded` };
  }
  const uriIssue = resourceUri === undefined ? "is required" : resourceIdIssue("imageVersion", resourceUri);
  if (uriIssue !== undefined || resourceUri === undefined) {
    return { outcome: "invalid", errors: [{ path: "data.resourceUri", rule: uriIssue ?? "is required" }] };
  }
  return { outcome: "imageVersion", ref: parseImageVersionId(resourceUri), ...(correlationId === undefined ? {} : { correlationId }) };
}

type HintCheck = { outcome: "invalid"; errors: FieldError[] } | { outcome: "ignore"; reason: string } | { outcome: "imageVersion"; ref: ImageVersionRef };

/** Checks the `data` of a Resource Notifications CreatedOrUpdated event and decides whether it is about an image version. */
function checkNotification(data: unknown): HintCheck {
  if (!isObject(data)) return { outcome: "invalid", errors: [{ path: "data", rule: data === undefined ? "is required" : "must be an object" }] };
  const parsed = parseWithSchema(resourceNotificationData, data);
  if (!parsed.ok) return { outcome: "invalid", errors: parsed.errors.map((e) => ({ path: `data.${e.path}`, rule: e.rule })) };
  const { id, type } = parsed.value.resourceInfo;
  if (!equalsIgnoreCase(type, IMAGE_VERSION_TYPE)) return { outcome: "ignore", reason: `resource type ${quoteForError(type)} is not ${IMAGE_VERSION_TYPE}` };
  const idIssue = resourceIdIssue("imageVersion", id);
  if (idIssue !== undefined) return { outcome: "invalid", errors: [{ path: "data.resourceInfo.id", rule: idIssue }] };
  return { outcome: "imageVersion", ref: parseImageVersionId(id) };
}

function classifyHint(raw: Record<string, unknown>, schema: EventSchema, envelope: Parsed<Envelope>): EventClassification {
  const errors = envelope.ok ? [] : [...envelope.errors];
  const hint = checkNotification(raw.data);
  if (hint.outcome === "invalid") errors.push(...hint.errors);
  if (!envelope.ok || hint.outcome === "invalid") return { kind: "invalid", errors };
  const eventId = boundedText(envelope.value.id, MAX_CALLER_TEXT);
  if (hint.outcome === "ignore") return { kind: "ignore", schema, eventId, reason: hint.reason };
  const time = envelope.value.time === undefined ? undefined : boundedText(envelope.value.time, MAX_CALLER_TEXT);
  return {
    kind: "replicationHint",
    schema,
    eventId,
    ...(time === undefined ? {} : { eventTime: time }),
    imageVersionId: formatImageVersionId(hint.ref),
    ref: hint.ref,
  };
}

export function classifyEvent(raw: unknown): EventClassification {
  if (!isObject(raw)) return { kind: "invalid", errors: [{ path: "", rule: "must be an event object" }] };
  const schema = detectSchema(raw);
  const envelope = parseEnvelope(schema, raw);
  // Even a malformed envelope is checked further when its type is ours, so every failing field is listed.
  const errors = envelope.ok ? [] : [...envelope.errors];
  const typeField = raw[schema === "CloudEvents" ? "type" : "eventType"];
  const type = typeof typeField === "string" && typeField !== "" ? typeField : undefined;
  if (type !== undefined && equalsIgnoreCase(type, RESOURCE_CREATED_OR_UPDATED)) return classifyHint(raw, schema, envelope);

  if (type === undefined || !equalsIgnoreCase(type, RESOURCE_WRITE_SUCCESS)) {
    if (!envelope.ok) return { kind: "invalid", errors };
    return {
      kind: "ignore",
      schema,
      eventId: boundedText(envelope.value.id, MAX_CALLER_TEXT),
      reason: `event type ${quoteForError(envelope.value.type)} is not ${RESOURCE_WRITE_SUCCESS} or ${RESOURCE_CREATED_OR_UPDATED}`,
    };
  }
  const write = checkWrite(raw.data);
  if (write.outcome === "invalid") errors.push(...write.errors);
  if (!envelope.ok || write.outcome === "invalid") return { kind: "invalid", errors };

  // Caller-supplied text is bounded and stripped of control characters before anyone logs it.
  const eventId = boundedText(envelope.value.id, MAX_CALLER_TEXT);
  const time = envelope.value.time === undefined ? undefined : boundedText(envelope.value.time, MAX_CALLER_TEXT);
  const correlationId = write.outcome === "imageVersion" && write.correlationId !== undefined ? boundedText(write.correlationId, MAX_CALLER_TEXT) : undefined;
  if (write.outcome === "ignore") return { kind: "ignore", schema, eventId, reason: write.reason };
  return {
    kind: "imageVersionWritten",
    schema,
    eventId,
    ...(time === undefined ? {} : { eventTime: time }),
    ...(correlationId === undefined ? {} : { correlationId }),
    imageVersionId: formatImageVersionId(write.ref),
    ref: write.ref,
  };
}
