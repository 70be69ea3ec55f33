// The registry: the source of truth for who should have what, in one Table storage table.
//   request                 / <requestId>          onboarding and offboarding requests and their state
//   tenant                  / <tenantId>           consumer tenants, written with ETags (no lost updates)
//   grant-<hash of gallery> / <kind>|<targetId>    what this app granted, per gallery
//   workload-members-<hash> / <tenantId>           tenants with workloads on the gallery (an index)
//   share-inbox-<sub>       / <arrival>            share changes waiting for a coordinator (shareInbox.ts)
// This module assembles the registry from its parts: the records, the Registry interface and its
// errors (registryRecords.ts), the checks (registryChecks.ts), records to rows and back
// (registryCodec.ts), the table and its row operations (registryTable.ts) and the creation-slot
// semaphore (creationSlots.ts). The app's modules take what they use of the registry from here.
import {
  GRANT_PARTITION_END,
  GRANT_PARTITION_PREFIX,
  IMAGE_VERSION_PARTITION,
  OPERATOR_ACTION_PARTITION,
  REQUEST_PARTITION,
  TENANT_PARTITION,
  grantPartition,
  grantRowKey,
  guidKey,
  imageVersionKey,
  workloadMemberPartition,
} from "../domain/registryKeys";
import { DomainValidationError } from "../domain/validation";
import { creationSlots } from "./creationSlots";
import { GRANT, IMAGE_VERSION, OPERATOR_ACTION, REQUEST, TENANT, WORKLOAD_MEMBER, encode, sameProperties, type Codec, type EntityKeys } from "./registryCodec";
import {
  RegistryConflictError,
  RegistryNotFoundError,
  type RecordOutcome,
  type Registry,
  type RegistryOptions,
  type RequestRecord,
  type Stored,
} from "./registryRecords";
import { odata, rowsOf, tableAccess, type RegistryRows } from "./registryTable";

export type { TenantRecord, TenantState } from "../domain/tenantModel";
export { RegistryCorruptRowError, type Grant, type Registry, type RegistryOptions, type RequestRecord } from "./registryRecords";

/** Table storage's most rows per page. */
const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_ATTEMPTS = 5;
const MAX_ATTEMPTS = 50;
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

/** The table name and row limit, refused before any client is built. */
function checkedOptions(options: RegistryOptions): { tableName: string; pageSize: number } {
  const { tableName } = options;
  if (!TABLE_NAME.test(tableName))
    throw new RangeError(`registry table name must be 3-63 letters and digits, starting with a letter; got ${JSON.stringify(tableName)}`);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > DEFAULT_PAGE_SIZE)
    throw new RangeError(`pageSize must be a whole number from 1 to ${DEFAULT_PAGE_SIZE}; got ${pageSize}`);
  return { tableName, pageSize };
}

function attemptsOf(attempts: number | undefined): number {
  const n = attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ATTEMPTS) throw new RangeError(`attempts must be a whole number from 1 to ${MAX_ATTEMPTS}; got ${n}`);
  return n;
}

const requestKeys = (requestId: string): EntityKeys => ({ partitionKey: REQUEST_PARTITION, rowKey: guidKey("requestId", requestId) });
const tenantKeys = (tenantId: string): EntityKeys => ({ partitionKey: TENANT_PARTITION, rowKey: guidKey("tenantId", tenantId) });

/** Idempotent upsert: the same content again writes nothing, so the ETag stays. */
async function recordOnce<T extends object>(rows: RegistryRows, c: Codec<T>, value: T): Promise<RecordOutcome> {
  const encoded = encode(c, value);
  const existing = await rows.readRaw(encoded.keys);
  if (existing && sameProperties(encoded.properties, existing, c.fields)) return "unchanged";
  await rows.upsert(`${c.what} ${encoded.keys.rowKey}`, encoded);
  return existing ? "replaced" : "created";
}

/**
 * Read, apply, write under the ETag read; on a conflict read again and re-apply, up to `attempts`
 * times. With `etag`, one write that must find exactly that ETag.
 */
async function readApplyWrite<T extends object>(
  rows: RegistryRows,
  c: Codec<T>,
  key: { readonly field: string; readonly keys: EntityKeys },
  apply: (current: T | undefined) => T,
  options: { readonly attempts?: number; readonly etag?: string } | undefined,
): Promise<Stored<T>> {
  const subject = `${c.what} ${key.keys.rowKey}`;
  const expected = options?.etag;
  const attempts = expected === undefined ? attemptsOf(options?.attempts) : 1;
  for (let attempt = 1; ; attempt++) {
    const current = await rows.read(c, key.keys);
    if (expected !== undefined && current?.etag !== expected) throw new RegistryConflictError(subject, "changed", "ETag mismatch");
    const next = encode(c, apply(current?.record));
    if (next.keys.rowKey !== key.keys.rowKey)
      throw new DomainValidationError(`invalid ${c.what} update`, [{ path: key.field, rule: `must stay ${key.keys.rowKey}` }]);
    if (current && sameProperties(next.properties, encode(c, current.record).properties, c.fields)) return current;
    try {
      const etag = current ? await rows.replace(subject, next, current.etag) : await rows.create(subject, next);
      return { record: next.record, etag };
    } catch (err) {
      if (!(err instanceof RegistryConflictError) || expected !== undefined) throw err;
      if (attempt >= attempts) throw new RegistryConflictError(subject, "changed", `still changing after ${attempts} attempts`);
    }
  }
}

// Every method is async, so a refused key or record rejects the promise instead of throwing.

function requestMethods(rows: RegistryRows): Pick<Registry, "recordRequest" | "getRequest" | "updateRequest"> {
  return {
    recordRequest: async (request) => recordOnce(rows, REQUEST, request),

    getRequest: async (requestId) => rows.read(REQUEST, requestKeys(requestId)),

    async updateRequest(requestId, patch, options) {
      const keys = requestKeys(requestId);
      const apply = (current: RequestRecord | undefined): RequestRecord => {
        if (!current) throw new RegistryNotFoundError(`request ${keys.rowKey}`);
        return { ...current, ...patch, requestId: current.requestId };
      };
      return readApplyWrite(rows, REQUEST, { field: "requestId", keys }, apply, options);
    },
  };
}

function tenantMethods(rows: RegistryRows): Pick<Registry, "getTenant" | "listTenants" | "putTenant" | "updateTenant"> {
  return {
    getTenant: async (tenantId) => rows.read(TENANT, tenantKeys(tenantId)),

    listTenants: async () => rows.list(TENANT, odata`PartitionKey eq ${TENANT_PARTITION}`),

    async putTenant(tenant, etag) {
      const encoded = encode(TENANT, tenant);
      const subject = `tenant ${encoded.keys.rowKey}`;
      const written = etag === undefined ? await rows.create(subject, encoded) : await rows.replace(subject, encoded, etag);
      return { record: encoded.record, etag: written };
    },

    updateTenant: async (tenantId, update, options) => readApplyWrite(rows, TENANT, { field: "tenantId", keys: tenantKeys(tenantId) }, update, options),
  };
}

function grantMethods(rows: RegistryRows): Pick<Registry, "recordGrant" | "removeGrant" | "listGrants" | "listGrantsOfTenant"> {
  return {
    recordGrant: async (grant) => recordOnce(rows, GRANT, grant),

    removeGrant: async (galleryId, kind, targetId) => rows.remove({ partitionKey: grantPartition(galleryId), rowKey: grantRowKey(kind, targetId) }),

    listGrants: async (galleryId) => (await rows.list(GRANT, odata`PartitionKey eq ${grantPartition(galleryId)}`)).map((s) => s.record),

    async listGrantsOfTenant(tenantId) {
      const tenant = guidKey("tenantId", tenantId);
      const filter = odata`PartitionKey ge ${GRANT_PARTITION_PREFIX} and PartitionKey lt ${GRANT_PARTITION_END} and tenantId eq ${tenant}`;
      return (await rows.list(GRANT, filter)).map((s) => s.record);
    },
  };
}

function memberMethods(rows: RegistryRows): Pick<Registry, "recordWorkloadMember" | "listWorkloadMembers"> {
  return {
    recordWorkloadMember: async (galleryId, tenantId) => recordOnce(rows, WORKLOAD_MEMBER, { galleryId, tenantId: tenantId.toLowerCase() }),
    listWorkloadMembers: async (galleryId) =>
      (await rows.list(WORKLOAD_MEMBER, odata`PartitionKey eq ${workloadMemberPartition(galleryId)}`)).map((s) => s.record.tenantId),
  };
}

function imageVersionMethods(rows: RegistryRows): Pick<Registry, "getImageVersion" | "updateImageVersion" | "findImageVersion"> {
  const keys = (id: string): EntityKeys => ({ partitionKey: IMAGE_VERSION_PARTITION, rowKey: imageVersionKey(id) });
  return {
    getImageVersion: async (imageVersionId) => rows.read(IMAGE_VERSION, keys(imageVersionId)),
    updateImageVersion: async (imageVersionId, update, options) =>
      readApplyWrite(rows, IMAGE_VERSION, { field: "imageVersionId", keys: keys(imageVersionId) }, update, options),
    findImageVersion: async (versionKey) => {
      if (!/^[0-9a-f]{32}$/.test(versionKey)) return undefined;
      return rows.read(IMAGE_VERSION, { partitionKey: IMAGE_VERSION_PARTITION, rowKey: versionKey });
    },
  };
}

function operatorActionMethods(rows: RegistryRows): Pick<Registry, "recordOperatorAction" | "listOperatorActions"> {
  return {
    recordOperatorAction: async (action) => recordOnce(rows, OPERATOR_ACTION, action),
    listOperatorActions: async (limit) =>
      (await rows.list(OPERATOR_ACTION, odata`PartitionKey eq ${OPERATOR_ACTION_PARTITION}`)).slice(0, Math.max(0, limit)).map((s) => s.record),
  };
}

export function createRegistry(options: RegistryOptions): Registry {
  const { tableName, pageSize } = checkedOptions(options);
  const rows = rowsOf(tableAccess(options), tableName, pageSize);
  return {
    ...requestMethods(rows),
    ...tenantMethods(rows),
    ...grantMethods(rows),
    ...memberMethods(rows),
    ...imageVersionMethods(rows),
    ...operatorActionMethods(rows),
    ...creationSlots(rows),
  };
}
