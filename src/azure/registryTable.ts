// The registry's table and its row operations, with the SDK's statuses turned into the registry's
// errors. As in the audit trail, the SDK does not retry (the orchestration retries, on durable
// timers) and the table is created on first use, a failed creation forgotten so the next call
// tries again.
import type { TableClient } from "@azure/data-tables";
import { isObject } from "../domain/validation";
import { isLocalStorage } from "./auditTable";
import { decode, type Codec, type Encoded, type EntityKeys, type RawEntity } from "./registryCodec";
import { RegistryConflictError, RegistryCorruptRowError, type CorruptRow, type RegistryOptions, type Stored } from "./registryRecords";
import { tablesSdk } from "./sdk";

/** Reads: a missing row is undefined, a row that does not parse an error naming it. */
export interface RowReads {
  readRaw(keys: EntityKeys): Promise<RawEntity | undefined>;
  read<T extends object>(c: Codec<T>, keys: EntityKeys): Promise<Stored<T> | undefined>;
  /** Every row the filter matches, a page at a time, or an error: never a partial list. */
  list<T extends object>(c: Codec<T>, filter: string): Promise<Stored<T>[]>;
}

/** Writes; each returns the row's new ETag (remove: false when there was nothing to remove). */
export interface RowWrites {
  create(subject: string, e: Encoded<unknown>): Promise<string>;
  replace(subject: string, e: Encoded<unknown>, etag: string): Promise<string>;
  upsert(subject: string, e: Encoded<unknown>): Promise<string>;
  remove(keys: EntityKeys): Promise<boolean>;
}

export type RegistryRows = RowReads & RowWrites;

/** An OData filter with its values quoted, the SDK loaded only when a filter is built. */
export const odata = (strings: TemplateStringsArray, ...values: string[]): string => tablesSdk().odata(strings, ...values);

/** The HTTP status of a Table storage error (undefined for anything else). */
export function statusOf(err: unknown): number | undefined {
  return isObject(err) && typeof err.statusCode === "number" ? err.statusCode : undefined;
}

function requireEtag(etag: string | undefined, subject: string): string {
  if (etag === undefined || etag === "") throw new Error(`Table storage returned no ETag for ${subject}`);
  return etag;
}

/** The client, built on first use; the table is created once, and again after a failed creation. */
export function tableAccess(options: RegistryOptions): () => Promise<TableClient> {
  let client: TableClient | undefined;
  let ready: Promise<void> | undefined;
  const build = (): TableClient => {
    const { TableClient } = tablesSdk();
    const { connection, tableName } = options;
    // Retries are the orchestration's, on durable timers: the SDK's own retry would sleep in the activity.
    const retryOptions = { maxRetries: 0 };
    return "connectionString" in connection
      ? TableClient.fromConnectionString(connection.connectionString, tableName, {
          allowInsecureConnection: isLocalStorage(connection.connectionString),
          retryOptions,
        })
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

function rowReads(table: () => Promise<TableClient>, tableName: string, pageSize: number): RowReads {
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
    for await (const page of t.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize })) {
      for (const entity of page) {
        const decoded = decode(c, entity);
        if (decoded.ok) found.push(decoded.stored);
        else corrupt.push(decoded.row);
      }
    }
    if (corrupt.length > 0) throw new RegistryCorruptRowError(tableName, corrupt);
    return found;
  };

  return { readRaw, read, list };
}

function rowWrites(table: () => Promise<TableClient>): RowWrites {
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

  return { create, replace, upsert, remove };
}

/** Row operations, with the SDK's statuses turned into the registry's errors. */
export function rowsOf(table: () => Promise<TableClient>, tableName: string, pageSize: number): RegistryRows {
  return { ...rowReads(table, tableName, pageSize), ...rowWrites(table) };
}
