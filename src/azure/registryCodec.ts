// How registry records become Table storage rows and back. Table storage has no arrays or objects:
// those fields are JSON strings, parsed back with the same checks they were written with. A row
// that does not parse is an error naming the row and the field, never skipped: a skipped grant or
// tenant would read as "nobody should have this".
import {
  CREATION_SLOT_PARTITION,
  GRANT_KINDS,
  IMAGE_VERSION_PARTITION,
  OPERATOR_ACTION_PARTITION,
  imageVersionKey,
  operatorActionKey,
  REQUEST_PARTITION,
  TENANT_PARTITION,
  grantPartition,
  grantRowKey,
  guidKey,
  tableKeyIssue,
  workloadMemberPartition,
} from "../domain/registryKeys";
import { MAX_TENANT_HISTORY, PRINCIPAL_TYPES, SHARING_MODES, TENANT_STATES, type TenantRecord } from "../domain/tenantModel";
import { DomainValidationError, type FieldError } from "../domain/validation";
import {
  INVALID,
  anyText,
  bool,
  galleryId,
  guid,
  httpsUrl,
  listOf,
  oneOf,
  optional,
  resourceGroup,
  storedJson,
  struct,
  text,
  timestamp,
  wholeNumber,
  type Check,
  type Parsed,
  type Shape,
} from "./registryChecks";
import {
  REQUEST_SCHEMAS,
  REQUEST_STATES,
  WORKLOAD_KINDS,
  type CorruptRow,
  type Grant,
  type ImageVersionRecord,
  type OperatorAction,
  type RequestRecord,
  type Stored,
  type WorkloadMember,
} from "./registryRecords";

// ---------------------------------------------------------------------------------------------
// Codecs: a record's checks, which of its fields are JSON, and its keys. Each shape is a const of
// its own so TypeScript infers its type before it types the codec's callbacks.

export interface EntityKeys {
  readonly partitionKey: string;
  readonly rowKey: string;
}

export interface Codec<T extends object> {
  readonly what: string;
  readonly record: Check<T>;
  /** The same checks, with the JSON fields parsed first. */
  readonly entity: Check<T>;
  readonly jsonFields: ReadonlySet<string>;
  /** Every stored property name, present or not. */
  readonly fields: readonly string[];
  keys(record: T): EntityKeys;
  /** Applied to a valid record before it is written. */
  normalize?(record: T): T;
}

function codec<S extends Shape>(spec: {
  what: string;
  shape: S;
  json: readonly NoInfer<keyof S & string>[];
  keys(record: NoInfer<Parsed<S>>): EntityKeys;
  normalize?(record: NoInfer<Parsed<S>>): NoInfer<Parsed<S>>;
}): Codec<Parsed<S>> {
  const entityShape: Shape = { ...spec.shape };
  for (const field of spec.json) {
    const check = spec.shape[field];
    if (check) entityShape[field] = storedJson(check);
  }
  return {
    what: spec.what,
    record: struct(spec.shape, true),
    // Same fields and output types as `shape`; only the input side differs.
    entity: struct(entityShape) as Check<Parsed<S>>,
    jsonFields: new Set(spec.json),
    fields: Object.keys(spec.shape),
    keys: spec.keys,
    normalize: spec.normalize,
  };
}

const fieldError = struct({ path: anyText, rule: text });

const requestShape = {
  requestId: guid,
  schema: oneOf(REQUEST_SCHEMAS),
  tenantId: optional(guid),
  state: oneOf(REQUEST_STATES),
  receivedAt: timestamp,
  updatedAt: timestamp,
  instanceId: optional(text),
  reason: optional(text),
  fields: optional(listOf(fieldError)),
  messageId: optional(text),
};

export const REQUEST: Codec<RequestRecord> = codec({
  what: "request",
  shape: requestShape,
  json: ["fields"],
  keys: (r) => ({ partitionKey: REQUEST_PARTITION, rowKey: r.requestId }),
});

const historyEntry = struct({ state: oneOf(TENANT_STATES), at: timestamp, requestId: guid, reason: optional(text) });

/** The newest entries, oldest first; a stable sort keeps entries of the same time in their order. */
function newestHistory<E extends { at: string }>(history: readonly E[]): readonly E[] {
  return [...history].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).slice(-MAX_TENANT_HISTORY);
}

const tenantShape = {
  tenantId: guid,
  displayName: text,
  mode: oneOf(SHARING_MODES),
  galleries: listOf(galleryId),
  subscriptionIds: listOf(guid),
  consumer: optional(struct({ subscriptionId: guid, resourceGroup, location: text })),
  principal: optional(struct({ objectId: guid, type: oneOf(PRINCIPAL_TYPES) })),
  state: oneOf(TENANT_STATES),
  since: timestamp,
  reason: optional(text),
  lastRequestId: guid,
  history: listOf(historyEntry),
  consent: optional(struct({ url: httpsUrl, expiresAt: timestamp, claimedAt: optional(timestamp) })),
  ring: optional(wholeNumber),
  ringSet: optional(struct({ by: anyText, at: timestamp })),
  workloads: optional(
    listOf(
      struct({
        kind: oneOf(WORKLOAD_KINDS),
        resourceId: text,
        galleryId,
        imageVersion: text,
        provisioningState: text,
        error: optional(struct({ code: text, message: anyText })),
        changedBy: text,
        at: timestamp,
        spec: struct({
          kind: oneOf(WORKLOAD_KINDS),
          image: text,
          version: text,
          size: text,
          subnetId: text,
          adminUsername: text,
          sshPublicKey: text,
          updateOnPublish: bool,
          orchestrationMode: optional(oneOf(["Uniform", "Flexible"] as const)),
          instanceCount: optional(wholeNumber),
          upgradePolicy: optional(oneOf(["Automatic", "Manual"] as const)),
        }),
      }),
    ),
  ),
};

export const TENANT: Codec<TenantRecord> = codec({
  what: "tenant",
  shape: tenantShape,
  json: ["galleries", "subscriptionIds", "consumer", "principal", "history", "consent", "ring", "ringSet", "workloads"],
  keys: (r) => ({ partitionKey: TENANT_PARTITION, rowKey: r.tenantId }),
  normalize: (r) => ({ ...r, history: newestHistory(r.history) }),
});

const grantShape = {
  galleryId,
  kind: oneOf(GRANT_KINDS),
  targetId: guid,
  tenantId: guid,
  requestId: guid,
  at: timestamp,
  roleAssignmentId: optional(text),
};

/** A slot row: who holds it, until when ("" when free). */
export interface CreationSlot {
  /** Its number, zero-padded (the row key). */
  readonly slot: string;
  readonly holder: string;
  readonly until: string;
}

export const SLOT: Codec<CreationSlot> = codec({
  what: "creation slot",
  shape: { slot: text, holder: anyText, until: timestamp },
  json: [],
  keys: (r) => ({ partitionKey: CREATION_SLOT_PARTITION, rowKey: r.slot }),
});

/** A tenant that has workloads using a gallery (an index row: the tenant's row is the truth). */
export const WORKLOAD_MEMBER: Codec<WorkloadMember> = codec({
  what: "workload member",
  shape: { galleryId, tenantId: guid },
  json: [],
  keys: (m) => ({ partitionKey: workloadMemberPartition(m.galleryId), rowKey: guidKey("tenantId", m.tenantId) }),
});

const operatorActionShape = { id: text, at: timestamp, by: anyText, action: text, target: anyText, status: wholeNumber, detail: optional(anyText) };

export const OPERATOR_ACTION: Codec<OperatorAction> = codec({
  what: "operator action",
  shape: operatorActionShape,
  json: ["status"],
  keys: (a) => ({ partitionKey: OPERATOR_ACTION_PARTITION, rowKey: operatorActionKey(a.at, a.id) }),
});

const imageVersionShape = {
  imageVersionId: text,
  revoked: optional(struct({ reason: anyText, by: anyText, at: timestamp })),
  promoted: optional(struct({ at: timestamp, by: anyText })),
};

export const IMAGE_VERSION: Codec<ImageVersionRecord> = codec({
  what: "image version",
  shape: imageVersionShape,
  json: ["revoked", "promoted"],
  keys: (v) => ({ partitionKey: IMAGE_VERSION_PARTITION, rowKey: imageVersionKey(v.imageVersionId) }),
});

export const GRANT: Codec<Grant> = codec({
  what: "grant",
  shape: grantShape,
  json: [],
  keys: (g) => ({ partitionKey: grantPartition(g.galleryId), rowKey: grantRowKey(g.kind, g.targetId) }),
});

// ---------------------------------------------------------------------------------------------
// Encoding, decoding and Table storage's limits

type Properties = Readonly<Record<string, string>>;

export interface Encoded<T> {
  readonly record: T;
  readonly keys: EntityKeys;
  readonly properties: Properties;
}

// Table storage: strings are UTF-16, at most 64 KiB each, and an entity at most 1 MiB.
const MAX_STRING_BYTES = 64 * 1024;
const MAX_ENTITY_BYTES = 1024 * 1024;
const utf16Bytes = (s: string): number => s.length * 2;

/** Refuses what Table storage would refuse, naming the property, before any request is sent. */
function checkStorageLimits(what: string, keys: EntityKeys, properties: Properties): void {
  const errors: FieldError[] = [];
  for (const [name, key] of [
    ["PartitionKey", keys.partitionKey],
    ["RowKey", keys.rowKey],
  ] as const) {
    const issue = tableKeyIssue(key);
    if (issue !== undefined) errors.push({ path: name, rule: issue });
  }
  // Azure's size formula: 4 + 2 per key character + per property 8 + 2 per name character + 4 + 2 per value character.
  let total = 4 + utf16Bytes(keys.partitionKey) + utf16Bytes(keys.rowKey);
  for (const [name, value] of Object.entries(properties)) {
    const bytes = utf16Bytes(value);
    if (bytes > MAX_STRING_BYTES)
      errors.push({ path: name, rule: `is ${bytes} bytes as stored; Table storage allows at most ${MAX_STRING_BYTES} bytes (64 KiB) per string property` });
    total += 8 + utf16Bytes(name) + 4 + bytes;
  }
  if (total > MAX_ENTITY_BYTES)
    errors.push({ path: "", rule: `the row would be ${total} bytes; Table storage allows at most ${MAX_ENTITY_BYTES} bytes (1 MiB) per entity` });
  if (errors.length > 0) throw new DomainValidationError(`${what} does not fit in Table storage`, errors);
}

export function encode<T extends object>(c: Codec<T>, record: unknown): Encoded<T> {
  const errors: FieldError[] = [];
  const checked = c.record(record, "", errors);
  if (checked === INVALID) throw new DomainValidationError(`invalid ${c.what}`, errors);
  const normalized = c.normalize ? c.normalize(checked) : checked;
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(normalized) as [string, unknown][]) {
    if (value === undefined) continue;
    properties[name] = c.jsonFields.has(name) || typeof value !== "string" ? JSON.stringify(value) : value;
  }
  const keys = c.keys(normalized);
  checkStorageLimits(c.what, keys, properties);
  return { record: normalized, keys, properties };
}

export type RawEntity = Record<string, unknown> & { etag: string; partitionKey?: string; rowKey?: string };

export function decode<T extends object>(c: Codec<T>, entity: RawEntity): { ok: true; stored: Stored<T> } | { ok: false; row: CorruptRow } {
  const errors: FieldError[] = [];
  const partitionKey = entity.partitionKey ?? "";
  const rowKey = entity.rowKey ?? "";
  const record = c.entity(entity, "", errors);
  if (record !== INVALID) {
    // A row under the wrong key would answer for another tenant, gallery or request.
    const keys = c.keys(record);
    if (keys.partitionKey !== partitionKey)
      errors.push({ path: "PartitionKey", rule: `does not match the record (expected ${JSON.stringify(keys.partitionKey)})` });
    if (keys.rowKey !== rowKey) errors.push({ path: "RowKey", rule: `does not match the record (expected ${JSON.stringify(keys.rowKey)})` });
  }
  if (record === INVALID || errors.length > 0) return { ok: false, row: { partitionKey, rowKey, etag: entity.etag, errors } };
  return { ok: true, stored: { record, etag: entity.etag } };
}

/** Whether a write would change nothing (absent and null are the same as stored). */
export function sameProperties(a: Properties, b: Readonly<Record<string, unknown>>, fields: readonly string[]): boolean {
  for (const field of fields) if ((a[field] ?? null) !== (b[field] ?? null)) return false;
  return true;
}
