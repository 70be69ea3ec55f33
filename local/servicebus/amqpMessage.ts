// AMQP 1.0 messages as rhea decodes and encodes them (header, properties and sections flattened
// into one object), typed for the fields the broker reads. rhea's own typings are loose; this
// module and rhea.ts are where its values are narrowed.
import rhea from "rhea";

export type MessageId = string | number | Buffer;

export interface AmqpMessage {
  // header
  durable?: boolean;
  priority?: number;
  /** Time-to-live, milliseconds. */
  ttl?: number;
  first_acquirer?: boolean;
  delivery_count?: number;
  // properties
  message_id?: MessageId;
  user_id?: Buffer;
  to?: string;
  subject?: string;
  reply_to?: string;
  correlation_id?: MessageId;
  content_type?: string;
  content_encoding?: string;
  absolute_expiry_time?: Date;
  creation_time?: Date;
  group_id?: string;
  group_sequence?: number;
  reply_to_group_id?: string;
  // sections
  delivery_annotations?: Record<string, unknown>;
  message_annotations?: Record<string, unknown>;
  application_properties?: Record<string, unknown>;
  /** A data/sequence Section object or an amqp-value; kept as rhea made it so it re-encodes unchanged. */
  body?: unknown;
  footer?: Record<string, unknown>;
}

/** message-format of a batch: one envelope whose data sections are each an encoded message (serviceBusMessageBatch). */
export const BATCH_FORMAT = 0x80013700;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}

/** rhea's decoded Message narrowed to AmqpMessage (same fields, minus its prototype methods). */
export function toAmqpMessage(decoded: unknown): AmqpMessage {
  if (!isRecord(decoded)) throw new TypeError("not an AMQP message");
  const out: AmqpMessage = {};
  for (const [key, value] of Object.entries(decoded)) if (value !== undefined && value !== null) Object.assign(out, { [key]: value });
  for (const section of ["message_annotations", "application_properties", "delivery_annotations", "footer"] as const) {
    if (out[section] !== undefined && !isRecord(out[section])) delete out[section];
  }
  return out;
}

export function decodeMessage(bytes: Buffer): AmqpMessage {
  return toAmqpMessage(rhea.message.decode(bytes));
}

export function encodeMessage(message: AmqpMessage): Buffer {
  return rhea.message.encode(message);
}

interface SectionLike {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

function isSection(value: unknown): value is SectionLike {
  return typeof value === "object" && value !== null && typeof (value as { typecode?: unknown }).typecode === "number" && "content" in value;
}

const DATA_SECTION = 0x75;

/** The encoded messages inside a batch envelope (one data section each). */
export function batchParts(envelope: AmqpMessage): Buffer[] {
  const body = envelope.body;
  if (!isSection(body) || body.typecode !== DATA_SECTION) throw new TypeError("a batch's body must be data sections");
  const parts = body.multiple ? body.content : [body.content];
  if (!Array.isArray(parts) || !parts.every((p) => Buffer.isBuffer(p))) throw new TypeError("a batch's data sections must be binary");
  return parts as Buffer[];
}

/** The body for the record: JSON or text of a data section, else the amqp-value itself (bounded). */
export function bodyForRecord(message: AmqpMessage, maxBytes = 4096): unknown {
  const body = message.body;
  if (isSection(body)) {
    if (body.typecode !== DATA_SECTION || !Buffer.isBuffer(body.content)) return { section: body.typecode, multiple: Boolean(body.multiple) };
    if (body.content.length > maxBytes) return { bytes: body.content.length };
    const text = body.content.toString("utf8");
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (typeof body === "string" && body.length > maxBytes) return { chars: body.length };
  return body ?? null;
}

/** A stable key for a message id of any AMQP type (duplicate detection compares these). */
export function messageIdKey(id: MessageId | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (typeof id === "string") return `s:${id}`;
  if (typeof id === "number") return `n:${id}`;
  return `b:${id.toString("hex")}`;
}

/** The message id as the record and the admin view show it. */
export function messageIdText(id: MessageId | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (Buffer.isBuffer(id)) return id.length === 16 ? rhea.uuid_to_string(id) : id.toString("hex");
  return String(id);
}

/** Encoded size, for the link's max-message-size check. */
export function encodedSize(message: AmqpMessage): number {
  return encodeMessage(message).length;
}
