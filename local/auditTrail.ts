// Reads the app's audit table (in Azurite) for the demo and the tests: what the app wrote, read
// the way anyone with the storage account would read it, through @azure/data-tables.
import { TableClient } from "@azure/data-tables";
import { auditPartition, type AuditRow } from "../src/azure/auditTable";

const DEFAULT_TABLE = "shareaudit";

/** Every audit row of one gallery. `settings` are the app settings the world gave the host. */
export async function readAuditRows(settings: Readonly<Record<string, string>>, galleryId: string): Promise<AuditRow[]> {
  const connectionString = settings.AzureWebJobsStorage ?? "";
  const table = TableClient.fromConnectionString(connectionString, settings.AUDIT_TABLE_NAME || DEFAULT_TABLE, { allowInsecureConnection: true });
  const partition = auditPartition(galleryId).replace(/'/g, "''");
  const rows: AuditRow[] = [];
  for await (const e of table.listEntities<Omit<AuditRow, "partitionKey" | "rowKey">>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) {
    rows.push({
      partitionKey: e.partitionKey ?? "",
      rowKey: e.rowKey ?? "",
      galleryId: e.galleryId,
      imageVersionId: e.imageVersionId,
      targetKind: e.targetKind,
      targetId: e.targetId,
      result: e.result,
      instanceId: e.instanceId,
      at: e.at,
    });
  }
  return rows;
}
