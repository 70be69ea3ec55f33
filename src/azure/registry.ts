// The registry: the source of truth for who should have what, in one Table storage table.
//   request                 / <requestId>          onboarding and offboarding requests and their state
//   tenant                  / <tenantId>           consumer tenants, written with ETags (no lost updates)
//   grant-<hash of gallery> / <kind>|<targetId>    what this app granted, per gallery
// Table storage has no arrays or objects: those fields are JSON strings, parsed back with the same
// checks they were written with. A row that does not parse is an error naming the row and the
// field, never skipped: a skipped grant or tenant would read as "nobody should have this".
// As in the audit trail, the SDK does not retry (the orchestration retries, on durable timers) and
// the table is created on first use, a failed creation forgotten so the next call tries again.
// The record types have no field for a token, key or connection string: nothing secret is stored.
import type { TableClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import {
  CREATION_SLOT_PARTITION,
  GRANT_KINDS,
  GRANT_PARTITION_END,
  GRANT_PARTITION_PREFIX,
  REQUEST_PARTITION,
  TENANT_PARTITION,
  grantPartition,
  grantRowKey,
  guidKey,
  tableKeyIssue,
  type GrantKind,
} from "../domain/registryKeys";
import { NAME_RULES, formatGalleryId, parseGalleryId, resourceIdIssue } from "../domain/resourceIds";
import { MAX_TENANT_HISTORY, PRINCIPAL_TYPES, SHARING_MODES, TENANT_STATES, type TenantRecord } from "../domain/tenantModel";
import { DomainValidationError, isGuid, isObject, type FieldError } from "../domain/validation";
import type { WorkloadKind } from "../domain/workloads";
import { isLocalStorage } from "./auditTable";
import { tablesSdk } from "./sdk";

export type { TenantWorkload } from "../domain/workloads";

export type { GrantKind } from "../domain/registryKeys";
export type { TenantHistoryEntry, TenantRecord, TenantState } from "../domain/tenantModel";
export { MAX_TENANT_HISTORY } from "../domain/tenantModel";

// ---------------------------------------------------------------------------------------------
// Records

const REQUEST_SCHEMAS = ["onboarding/v1", "offboarding/v1", "unknown"] as const;
const REQUEST_STATES = ["accepted", "rejected", "running", "succeeded", "failed"] as const;
const WORKLOAD_KINDS = ["vm", "vmss"] as const satisfies readonly WorkloadKind[];

export type RequestState = (typeof REQUEST_STATES)[number];

export interface RequestRecord {
  readonly requestId: string;
  readonly schema: (typeof REQUEST_SCHEMAS)[number];
  readonly tenantId?: string;
  readonly state: RequestState;
  readonly receivedAt: string;
  readonly updatedAt: string;
  readonly instanceId?: string;
  readonly reason?: string;
  /** Every failing field of a rejected request, all of them. */
  readonly fields?: readonly FieldError[];
  readonly messageId?: string;
}

/** Fields to change; a field given as `undefined` is removed. */
export type RequestPatch = Partial<Omit<RequestRecord, "requestId">>;

export interface Grant {
  readonly galleryId: string;
  readonly kind: GrantKind;
  readonly targetId: string;
  readonly tenantId: string;
  readonly requestId: string;
  readonly at: string;
  readonly roleAssignmentId?: string;
}

/** A record as stored, with the ETag a conditional write must name. */
export interface Stored<T> {
  readonly record: T;
  readonly etag: string;
}

/** What an idempotent record call did: "unchanged" wrote nothing (the ETag stays). */
export type RecordOutcome = "created" | "replaced" | "unchanged";

export interface Registry {
  recordRequest(request: RequestRecord): Promise<RecordOutcome>;
  getRequest(requestId: string): Promise<Stored<RequestRecord> | undefined>;
  /** Read, patch, write with the ETag read (retried on conflict); with `etag`, one write conditional on it. */
  updateRequest(requestId: string, patch: RequestPatch, options?: { etag?: string; attempts?: number }): Promise<Stored<RequestRecord>>;

  getTenant(tenantId: string): Promise<Stored<TenantRecord> | undefined>;
  listTenants(): Promise<Stored<TenantRecord>[]>;
  /** Without `etag`: create only. With it: replace only if the row still has that ETag. */
  putTenant(record: TenantRecord, etag?: string): Promise<Stored<TenantRecord>>;
  /** `update` may run more than once (once per attempt): it must only compute. */
  updateTenant(tenantId: string, update: (current: TenantRecord | undefined) => TenantRecord, options?: { attempts?: number }): Promise<Stored<TenantRecord>>;

  recordGrant(grant: Grant): Promise<RecordOutcome>;
  /** False when there was nothing to remove. */
  removeGrant(galleryId: string, kind: GrantKind, targetId: string): Promise<boolean>;
  listGrants(galleryId: string): Promise<Grant[]>;
  listGrantsOfTenant(tenantId: string): Promise<Grant[]>;

  /**
   * One of `slots` places for a VM or scale-set creation, held by `holder` until `until` (ISO): true
   * when it got one (or holds one already, whose lease it renews), false when all are held. A lease
   * that ran out (a holder that crashed) is free again. ETag-checked writes: two callers never get
   * the same slot.
   */
  acquireCreationSlot(holder: string, now: string, until: string, slots: number): Promise<boolean>;
  /** Frees the slot `holder` holds; false when it held none. */
  releaseCreationSlot(holder: string): Promise<boolean>;
}

export interface RegistryOptions {
  readonly connection: { readonly connectionString: string } | { readonly tableServiceUri: string; readonly credential: TokenCredential };
  readonly tableName: string;
  /** Most rows one list call reads; more is an error, not a silently partial list. */
  readonly maxListRows?: number;
}

const DEFAULT_MAX_LIST_ROWS = 5000;
const DEFAULT_ATTEMPTS = 5;
const MAX_ATTEMPTS = 50;
const PAGE_SIZE = 1000;

// ---------------------------------------------------------------------------------------------
// Errors

/** The row exists (create-only write) or changed since it was read (ETag mismatch). */
export class RegistryConflictError extends Error {
  /** Read by src/domain/errors.ts like an SDK error's status. */
  readonly statusCode: number;
  constructor(
    readonly subject: string,
    readonly reason: "exists" | "changed",
    detail?: string,
  ) {
    super(reason === "exists" ? `${subject} already exists` : `${subject} changed since it was read${detail ? ` (${detail})` : ""}`);
    this.name = "RegistryConflictError";
    this.statusCode = reason === "exists" ? 409 : 412;
  }
}

export class RegistryNotFoundError extends Error {
  readonly statusCode = 404;
  constructor(readonly subject: string) {
    super(`${subject} does not exist`);
    this.name = "RegistryNotFoundError";
  }
}

export interface CorruptRow {
  readonly partitionKey: string;
  readonly rowKey: string;
  /** With it, putTenant can overwrite the row once it is repaired. */
  readonly etag: string;
  readonly errors: readonly FieldError[];
}

const MAX_ROWS_IN_MESSAGE = 10;

/** Rows that do not parse; the message names each row and field, never the stored values. */
export class RegistryCorruptRowError extends Error {
  constructor(
    readonly table: string,
    readonly rows: readonly CorruptRow[],
  ) {
    const shown = rows.slice(0, MAX_ROWS_IN_MESSAGE).map((r) => `${r.partitionKey}/${r.rowKey}: ${r.errors.map((e) => (e.path ? `${e.path} ${e.rule}` : e.rule)).join("; ")}`);
    const more = rows.length > MAX_ROWS_IN_MESSAGE ? ` | and ${rows.length - MAX_ROWS_IN_MESSAGE} more` : "";
    super(`registry table ${table}: ${rows.length} row(s) do not parse: ${shown.join(" | ")}${more}`);
    this.name = "RegistryCorruptRowError";
  }
}

// ---------------------------------------------------------------------------------------------
// Checks: one set validates a record before it is written and the row after it is read.

const INVALID = Symbol("invalid");
type Check<T> = (value: unknown, path: string, errors: FieldError[]) => T | typeof INVALID;
type Shape = Record<string, Check<unknown>>;
type Parsed<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

function fail(errors: FieldError[], path: string, rule: string): typeof INVALID {
  errors.push({ path, rule });
  return INVALID;
}

const anyText: Check<string> = (v, path, errors) => (typeof v === "string" ? v : fail(errors, path, "must be a string"));
const text: Check<string> = (v, path, errors) => (typeof v === "string" && v.trim() !== "" ? v : fail(errors, path, "must be a non-empty string"));
const bool: Check<boolean> = (v, path, errors) => (typeof v === "boolean" ? v : fail(errors, path, "must be true or false"));
const wholeNumber: Check<number> = (v, path, errors) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fail(errors, path, "must be a whole number, 0 or more"));
const guid: Check<string> = (v, path, errors) => (isGuid(v) ? v.toLowerCase() : fail(errors, path, "must be a GUID"));

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const timestamp: Check<string> = (v, path, errors) =>
  typeof v === "string" && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v)) ? v : fail(errors, path, "must be an ISO 8601 time like 2026-01-01T09:00:00.000Z");

/** Stored in canonical casing, so ids read back the way config.ts and the messages spell them. */
const galleryId: Check<string> = (v, path, errors) => {
  if (typeof v !== "string") return fail(errors, path, "must be a gallery resource id");
  const issue = resourceIdIssue("gallery", v);
  return issue === undefined ? formatGalleryId(parseGalleryId(v)) : fail(errors, path, issue);
};

const resourceGroup: Check<string> = (v, path, errors) =>
  typeof v === "string" && NAME_RULES.resourceGroup.test(v) ? v : fail(errors, path, NAME_RULES.resourceGroup.rule);

/** An https link without user info: a consent URL is shown to people, and never carries a credential. */
const httpsUrl: Check<string> = (v, path, errors) => {
  const rule = "must be an https URL without user name or password";
  if (typeof v !== "string" || !URL.canParse(v)) return fail(errors, path, rule);
  const url = new URL(v);
  return url.protocol === "https:" && url.username === "" && url.password === "" ? v : fail(errors, path, rule);
};

function oneOf<T extends string>(values: readonly T[]): Check<T> {
  const rule = `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  return (v, path, errors) => values.find((x) => x === v) ?? fail(errors, path, rule);
}

/** Absent (undefined, or null as Table storage may return) is fine; present must pass `check`. */
function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path, errors) => (v === undefined || v === null ? undefined : check(v, path, errors));
}

function listOf<T>(item: Check<T>): Check<readonly T[]> {
  return (v, path, errors) => {
    if (!Array.isArray(v)) return fail(errors, path, "must be an array");
    const before = errors.length;
    const out: T[] = [];
    v.forEach((x: unknown, i) => {
      const parsed = item(x, `${path}[${i}]`, errors);
      if (parsed !== INVALID) out.push(parsed);
    });
    return errors.length === before ? out : INVALID;
  };
}

/** Only the shape's fields come out: anything else on the input is not stored. */
/**
 * An object of the shape's fields. `strict` (records being written) refuses a field the shape does
 * not list: it would not be stored, and a field added to a record type but not to its shape must
 * fail loudly instead of vanishing on write. Rows read back carry the table's own properties too.
 */
function struct<S extends Shape>(shape: S, strict = false): Check<Parsed<S>> {
  return (v, path, errors) => {
    if (!isObject(v)) return fail(errors, path, "must be an object");
    const before = errors.length;
    if (strict) {
      for (const key of Object.keys(v)) {
        if (!(key in shape) && v[key] !== undefined) fail(errors, path === "" ? key : `${path}.${key}`, "is not a field the registry stores");
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const parsed = check(v[key], path === "" ? key : `${path}.${key}`, errors);
      if (parsed !== INVALID && parsed !== undefined) out[key] = parsed;
    }
    // Every field passed its check, so `out` has the shape's types.
    return errors.length === before ? (out as Parsed<S>) : INVALID;
  };
}

/** A field stored as a JSON string, checked after parsing. */
function storedJson(check: Check<unknown>): Check<unknown> {
  return (v, path, errors) => {
    if (v === undefined || v === null) return check(v, path, errors);
    if (typeof v !== "string") return fail(errors, path, "must be a JSON string");
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return fail(errors, path, "is not valid JSON");
    }
    return check(parsed, path, errors);
  };
}

// ---------------------------------------------------------------------------------------------
// Codecs: a record's checks, which of its fields are JSON, and its keys. Each shape is a const of
// its own so TypeScript infers its type before it types the codec's callbacks.

interface EntityKeys {
  readonly partitionKey: string;
  readonly rowKey: string;
}

interface Codec<T extends object> {
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

const REQUEST: Codec<RequestRecord> = codec({
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
  consent: optional(struct({ url: httpsUrl, expiresAt: timestamp })),
  workloads: optional(listOf(struct({
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
  }))),
};

const TENANT: Codec<TenantRecord> = codec({
  what: "tenant",
  shape: tenantShape,
  json: ["galleries", "subscriptionIds", "consumer", "principal", "history", "consent", "workloads"],
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
interface CreationSlot {
  /** Its number, zero-padded (the row key). */
  readonly slot: string;
  readonly holder: string;
  readonly until: string;
}

const slotKey = (index: number): string => String(index).padStart(4, "0");

const SLOT: Codec<CreationSlot> = codec({
  what: "creation slot",
  shape: { slot: text, holder: anyText, until: timestamp },
  json: [],
  keys: (r) => ({ partitionKey: CREATION_SLOT_PARTITION, rowKey: r.slot }),
});

const GRANT: Codec<Grant> = codec({
  what: "grant",
  shape: grantShape,
  json: [],
  keys: (g) => ({ partitionKey: grantPartition(g.galleryId), rowKey: grantRowKey(g.kind, g.targetId) }),
});

// ---------------------------------------------------------------------------------------------
// Encoding, decoding and Table storage's limits

type Properties = Readonly<Record<string, string>>;

interface Encoded<T> {
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
  for (const [name, key] of [["PartitionKey", keys.partitionKey], ["RowKey", keys.rowKey]] as const) {
    const issue = tableKeyIssue(key);
    if (issue !== undefined) errors.push({ path: name, rule: issue });
  }
  // Azure's size formula: 4 + 2 per key character + per property 8 + 2 per name character + 4 + 2 per value character.
  let total = 4 + utf16Bytes(keys.partitionKey) + utf16Bytes(keys.rowKey);
  for (const [name, value] of Object.entries(properties)) {
    const bytes = utf16Bytes(value);
    if (bytes > MAX_STRING_BYTES) errors.push({ path: name, rule: `is ${bytes} bytes as stored; Table storage allows at most ${MAX_STRING_BYTES} bytes (64 KiB) per string property` });
    total += 8 + utf16Bytes(name) + 4 + bytes;
  }
  if (total > MAX_ENTITY_BYTES) errors.push({ path: "", rule: `the row would be ${total} bytes; Table storage allows at most ${MAX_ENTITY_BYTES} bytes (1 MiB) per entity` });
  if (errors.length > 0) throw new DomainValidationError(`${what} does not fit in Table storage`, errors);
}

function encode<T extends object>(c: Codec<T>, record: unknown): Encoded<T> {
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

type RawEntity = Record<string, unknown> & { etag: string; partitionKey?: string; rowKey?: string };

function decode<T extends object>(c: Codec<T>, entity: RawEntity): { ok: true; stored: Stored<T> } | { ok: false; row: CorruptRow } {
  const errors: FieldError[] = [];
  const partitionKey = entity.partitionKey ?? "";
  const rowKey = entity.rowKey ?? "";
  const record = c.entity(entity, "", errors);
  if (record !== INVALID) {
    // A row under the wrong key would answer for another tenant, gallery or request.
    const keys = c.keys(record);
    if (keys.partitionKey !== partitionKey) errors.push({ path: "PartitionKey", rule: `does not match the record (expected ${JSON.stringify(keys.partitionKey)})` });
    if (keys.rowKey !== rowKey) errors.push({ path: "RowKey", rule: `does not match the record (expected ${JSON.stringify(keys.rowKey)})` });
  }
  if (record === INVALID || errors.length > 0) return { ok: false, row: { partitionKey, rowKey, etag: entity.etag, errors } };
  return { ok: true, stored: { record, etag: entity.etag } };
}

function sameProperties(a: Properties, b: Readonly<Record<string, unknown>>, fields: readonly string[]): boolean {
  for (const field of fields) if ((a[field] ?? null) !== (b[field] ?? null)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The table

function statusOf(err: unknown): number | undefined {
  return isObject(err) && typeof err.statusCode === "number" ? err.statusCode : undefined;
}

function requireEtag(etag: string | undefined, subject: string): string {
  if (etag === undefined || etag === "") throw new Error(`Table storage returned no ETag for ${subject}`);
  return etag;
}

/** The client, built on first use; the table is created once, and again after a failed creation. */
function tableAccess(options: RegistryOptions): () => Promise<TableClient> {
  let client: TableClient | undefined;
  let ready: Promise<void> | undefined;
  const build = (): TableClient => {
    const { TableClient } = tablesSdk();
    const { connection, tableName } = options;
    // Retries are the orchestration's, on durable timers: the SDK's own retry would sleep in the activity.
    const retryOptions = { maxRetries: 0 };
    return "connectionString" in connection
      ? TableClient.fromConnectionString(connection.connectionString, tableName, { allowInsecureConnection: isLocalStorage(connection.connectionString), retryOptions })
      : new TableClient(connection.tableServiceUri, tableName, connection.credential, { retryOptions });
  };
  return async () => {
    client ??= build();
    const attempt = (ready ??= client.createTable());
    try {
      await attempt;
    } catch (err) {
      // Forget the failure (unless a newer attempt already replaced it) so the next call retries.
      if (ready === attempt) ready = undefined;
      throw err;
    }
    return client;
  };
}

/** Row operations, with the SDK's statuses turned into this module's errors. */
function rowsOf(table: () => Promise<TableClient>, tableName: string, maxListRows: number) {
  const readRaw = async (keys: EntityKeys): Promise<RawEntity | undefined> => {
    const t = await table();
    try {
      return await t.getEntity<Record<string, unknown>>(keys.partitionKey, keys.rowKey);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };

  const read = async <T extends object>(c: Codec<T>, keys: EntityKeys): Promise<Stored<T> | undefined> => {
    const raw = await readRaw(keys);
    if (raw === undefined) return undefined;
    const decoded = decode(c, raw);
    if (!decoded.ok) throw new RegistryCorruptRowError(tableName, [decoded.row]);
    return decoded.stored;
  };

  const list = async <T extends object>(c: Codec<T>, filter: string): Promise<Stored<T>[]> => {
    const t = await table();
    const found: Stored<T>[] = [];
    const corrupt: CorruptRow[] = [];
    let count = 0;
    for await (const page of t.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: PAGE_SIZE })) {
      count += page.length;
      if (count > maxListRows) throw new Error(`registry table ${tableName}: more than ${maxListRows} ${c.what} rows; refusing to return a partial list`);
      for (const entity of page) {
        const decoded = decode(c, entity);
        if (decoded.ok) found.push(decoded.stored);
        else corrupt.push(decoded.row);
      }
    }
    if (corrupt.length > 0) throw new RegistryCorruptRowError(tableName, corrupt);
    return found;
  };

  const create = async (subject: string, e: Encoded<unknown>): Promise<string> => {
    const t = await table();
    try {
      return requireEtag((await t.createEntity({ ...e.properties, ...e.keys })).etag, subject);
    } catch (err) {
      if (statusOf(err) === 409) throw new RegistryConflictError(subject, "exists");
      throw err;
    }
  };

  const replace = async (subject: string, e: Encoded<unknown>, etag: string): Promise<string> => {
    const t = await table();
    try {
      return requireEtag((await t.updateEntity({ ...e.properties, ...e.keys }, "Replace", { etag })).etag, subject);
    } catch (err) {
      const status = statusOf(err);
      if (status === 412) throw new RegistryConflictError(subject, "changed", "ETag mismatch");
      if (status === 404) throw new RegistryConflictError(subject, "changed", "it was deleted");
      throw err;
    }
  };

  const upsert = async (subject: string, e: Encoded<unknown>): Promise<string> => {
    const t = await table();
    return requireEtag((await t.upsertEntity({ ...e.properties, ...e.keys }, "Replace")).etag, subject);
  };

  const remove = async (keys: EntityKeys): Promise<boolean> => {
    const t = await table();
    try {
      await t.deleteEntity(keys.partitionKey, keys.rowKey);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  };

  return { readRaw, read, list, create, replace, upsert, remove };
}

// ---------------------------------------------------------------------------------------------
// The registry

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

function attemptsOf(attempts: number | undefined): number {
  const n = attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ATTEMPTS) throw new RangeError(`attempts must be a whole number from 1 to ${MAX_ATTEMPTS}; got ${n}`);
  return n;
}

const requestKeys = (requestId: string): EntityKeys => ({ partitionKey: REQUEST_PARTITION, rowKey: guidKey("requestId", requestId) });
const tenantKeys = (tenantId: string): EntityKeys => ({ partitionKey: TENANT_PARTITION, rowKey: guidKey("tenantId", tenantId) });

export function createRegistry(options: RegistryOptions): Registry {
  const { tableName } = options;
  if (!TABLE_NAME.test(tableName)) throw new RangeError(`registry table name must be 3-63 letters and digits, starting with a letter; got ${JSON.stringify(tableName)}`);
  const maxListRows = options.maxListRows ?? DEFAULT_MAX_LIST_ROWS;
  if (!Number.isInteger(maxListRows) || maxListRows < 1) throw new RangeError(`maxListRows must be a whole number of at least 1; got ${maxListRows}`);
  const rows = rowsOf(tableAccess(options), tableName, maxListRows);
  const odata = (strings: TemplateStringsArray, ...values: string[]): string => tablesSdk().odata(strings, ...values);

  /** Idempotent upsert: the same content again writes nothing, so the ETag stays. */
  const recordOnce = async <T extends object>(c: Codec<T>, value: T): Promise<RecordOutcome> => {
    const encoded = encode(c, value);
    const existing = await rows.readRaw(encoded.keys);
    if (existing && sameProperties(encoded.properties, existing, c.fields)) return "unchanged";
    await rows.upsert(`${c.what} ${encoded.keys.rowKey}`, encoded);
    return existing ? "replaced" : "created";
  };

  /**
   * Read, apply, write under the ETag read; on a conflict read again and re-apply, up to `attempts`
   * times. With `etag`, one write that must find exactly that ETag.
   */
  const readApplyWrite = async <T extends object>(
    c: Codec<T>,
    key: { readonly field: string; readonly keys: EntityKeys },
    apply: (current: T | undefined) => T,
    options: { readonly attempts?: number; readonly etag?: string } | undefined,
  ): Promise<Stored<T>> => {
    const subject = `${c.what} ${key.keys.rowKey}`;
    const expected = options?.etag;
    const attempts = expected === undefined ? attemptsOf(options?.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      const current = await rows.read(c, key.keys);
      if (expected !== undefined && current?.etag !== expected) throw new RegistryConflictError(subject, "changed", "ETag mismatch");
      const next = encode(c, apply(current?.record));
      if (next.keys.rowKey !== key.keys.rowKey) throw new DomainValidationError(`invalid ${c.what} update`, [{ path: key.field, rule: `must stay ${key.keys.rowKey}` }]);
      if (current && sameProperties(next.properties, encode(c, current.record).properties, c.fields)) return current;
      try {
        const etag = current ? await rows.replace(subject, next, current.etag) : await rows.create(subject, next);
        return { record: next.record, etag };
      } catch (err) {
        if (!(err instanceof RegistryConflictError) || expected !== undefined) throw err;
        if (attempt >= attempts) throw new RegistryConflictError(subject, "changed", `still changing after ${attempts} attempts`);
      }
    }
  };

  return {
    // Every method is async, so a refused key or record rejects the promise instead of throwing.
    recordRequest: async (request) => recordOnce(REQUEST, request),

    getRequest: async (requestId) => rows.read(REQUEST, requestKeys(requestId)),

    async updateRequest(requestId, patch, options) {
      const keys = requestKeys(requestId);
      const apply = (current: RequestRecord | undefined): RequestRecord => {
        if (!current) throw new RegistryNotFoundError(`request ${keys.rowKey}`);
        return { ...current, ...patch, requestId: current.requestId };
      };
      return readApplyWrite(REQUEST, { field: "requestId", keys }, apply, options);
    },

    getTenant: async (tenantId) => rows.read(TENANT, tenantKeys(tenantId)),

    listTenants: async () => rows.list(TENANT, odata`PartitionKey eq ${TENANT_PARTITION}`),

    async putTenant(tenant, etag) {
      const encoded = encode(TENANT, tenant);
      const subject = `tenant ${encoded.keys.rowKey}`;
      const written = etag === undefined ? await rows.create(subject, encoded) : await rows.replace(subject, encoded, etag);
      return { record: encoded.record, etag: written };
    },

    updateTenant: async (tenantId, update, options) => readApplyWrite(TENANT, { field: "tenantId", keys: tenantKeys(tenantId) }, update, options),

    recordGrant: async (grant) => recordOnce(GRANT, grant),

    removeGrant: async (galleryId, kind, targetId) => rows.remove({ partitionKey: grantPartition(galleryId), rowKey: grantRowKey(kind, targetId) }),

    listGrants: async (galleryId) => (await rows.list(GRANT, odata`PartitionKey eq ${grantPartition(galleryId)}`)).map((s) => s.record),

    async listGrantsOfTenant(tenantId) {
      const tenant = guidKey("tenantId", tenantId);
      const filter = odata`PartitionKey ge ${GRANT_PARTITION_PREFIX} and PartitionKey lt ${GRANT_PARTITION_END} and tenantId eq ${tenant}`;
      return (await rows.list(GRANT, filter)).map((s) => s.record);
    },

    async acquireCreationSlot(holder, now, until, slots) {
      if (holder === "") throw new RangeError("a creation slot's holder must not be empty");
      const held = await rows.list(SLOT, odata`PartitionKey eq ${CREATION_SLOT_PARTITION}`);
      const take = async (row: Stored<CreationSlot> | undefined, slot: string): Promise<boolean> => {
        const next = encode(SLOT, { slot, holder, until });
        try {
          if (row) await rows.replace(`creation slot ${slot}`, next, row.etag);
          else await rows.create(`creation slot ${slot}`, next);
          return true;
        } catch (err) {
          if (err instanceof RegistryConflictError) return false; // another caller was quicker
          throw err;
        }
      };
      const mine = held.find((s) => s.record.holder === holder);
      if (mine && (await take(mine, mine.record.slot))) return true;
      const bySlot = new Map(held.map((s) => [s.record.slot, s]));
      for (let index = 0; index < slots; index++) {
        const row = bySlot.get(slotKey(index));
        const free = !row || row.record.holder === "" || Date.parse(row.record.until) <= Date.parse(now);
        if (free && (await take(row, slotKey(index)))) return true;
      }
      return false;
    },

    async releaseCreationSlot(holder) {
      const held = await rows.list(SLOT, odata`PartitionKey eq ${CREATION_SLOT_PARTITION}`);
      let released = false;
      for (const row of held.filter((s) => s.record.holder === holder)) {
        try {
          await rows.replace(`creation slot ${row.record.slot}`, encode(SLOT, { ...row.record, holder: "" }), row.etag);
          released = true;
        } catch (err) {
          // Taken over after its lease ran out: it is not ours to free any more.
          if (!(err instanceof RegistryConflictError)) throw err;
        }
      }
      return released;
    },
  };
}
