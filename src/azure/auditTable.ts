// The audit trail: one row per (image version, target) saying who got access to what, and when.
// Upserts, so an activity that runs twice writes the same rows again.
import { TableClient, type TableEntity } from "@azure/data-tables";
import type { AppConfig } from "../config";
import { stableHash } from "../domain/instanceIds";
import { normalizeResourceId } from "../domain/resourceIds";
import { appCredential } from "./credentials";

export interface AuditRow {
  /** Partition: one gallery. */
  readonly partitionKey: string;
  /** Row: image|version|target kind|target id. */
  readonly rowKey: string;
  readonly galleryId: string;
  readonly imageVersionId: string;
  readonly targetKind: "subscription" | "tenant";
  readonly targetId: string;
  readonly result: "added" | "already-shared";
  readonly instanceId: string;
  readonly at: string;
}

/** The audit partition of a gallery: a hash, since table keys may not contain "/". */
export function auditPartition(galleryId: string): string {
  return `gallery-${stableHash(normalizeResourceId(galleryId))}`;
}

let forConfig: AppConfig | undefined;
let client: TableClient | undefined;
let tableReady: Promise<void> | undefined;

function auditClient(config: AppConfig): TableClient {
  if (forConfig !== config || !client) {
    forConfig = config;
    const { audit } = config;
    client =
      "connectionString" in audit
        ? TableClient.fromConnectionString(audit.connectionString, audit.tableName, {
            // Azurite serves plain http on loopback; a real account is always https.
            allowInsecureConnection: /TableEndpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(audit.connectionString) || /UseDevelopmentStorage=true/i.test(audit.connectionString),
          })
        : new TableClient(audit.tableServiceUri, audit.tableName, appCredential(config));
    tableReady = undefined;
  }
  return client;
}

export async function writeAuditRows(config: AppConfig, rows: readonly AuditRow[]): Promise<void> {
  const table = auditClient(config);
  tableReady ??= table.createTable();
  await tableReady;
  for (const row of rows) {
    const entity: TableEntity<Omit<AuditRow, "partitionKey" | "rowKey">> = {
      partitionKey: row.partitionKey,
      rowKey: row.rowKey,
      galleryId: row.galleryId,
      imageVersionId: row.imageVersionId,
      targetKind: row.targetKind,
      targetId: row.targetId,
      result: row.result,
      instanceId: row.instanceId,
      at: row.at,
    };
    await table.upsertEntity(entity, "Replace");
  }
}

export async function readAuditRows(config: AppConfig, partitionKey: string): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  const escaped = partitionKey.replace(/'/g, "''");
  for await (const e of auditClient(config).listEntities<Omit<AuditRow, "partitionKey" | "rowKey">>({ queryOptions: { filter: `PartitionKey eq '${escaped}'` } })) {
    rows.push({ ...e, partitionKey: e.partitionKey ?? "", rowKey: e.rowKey ?? "" } as AuditRow);
  }
  return rows;
}
