// The audit trail: one row per (image version, target) saying who got access to what, and when.
// Upserts, so an activity that runs twice writes the same rows again. The table is created on the
// first write; a failed creation is forgotten, so the next write tries again instead of the trail
// staying off until the worker restarts.
import type { TableClient } from "@azure/data-tables";
import type { AppConfig } from "../config";
import { stableHash } from "../domain/instanceIds";
import { normalizeResourceId } from "../domain/resourceIds";
import type { CredentialProvider } from "./credentials";
import { tablesSdk } from "./sdk";

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
  /** ISO time the share was confirmed. */
  readonly at: string;
}

/** The audit partition of a gallery: a hash, since table keys may not contain "/". */
export function auditPartition(galleryId: string): string {
  return `gallery-${stableHash(normalizeResourceId(galleryId))}`;
}

export interface AuditTrail {
  write(rows: readonly AuditRow[]): Promise<void>;
}

/** Azurite serves plain http on loopback; a real account is always https. */
export function isLocalStorage(connectionString: string): boolean {
  return /TableEndpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString) || /UseDevelopmentStorage=true/i.test(connectionString);
}

export function createAuditTrail(config: AppConfig, credentials: CredentialProvider): AuditTrail {
  let client: TableClient | undefined;
  let tableReady: Promise<unknown> | undefined;

  const table = (): TableClient => {
    if (client) return client;
    const { TableClient } = tablesSdk();
    const { audit } = config;
    // Retries are the orchestration's, on durable timers: the SDK's own retry would sleep in the activity.
    const retryOptions = { maxRetries: 0 };
    client =
      "connectionString" in audit
        ? TableClient.fromConnectionString(audit.connectionString, audit.tableName, {
            allowInsecureConnection: isLocalStorage(audit.connectionString),
            retryOptions,
          })
        : new TableClient(audit.tableServiceUri, audit.tableName, credentials.publisher(), { retryOptions });
    return client;
  };

  return {
    async write(rows) {
      const t = table();
      const ready = (tableReady ??= t.createTable());
      try {
        await ready;
      } catch (err) {
        // Forget the failure (unless a newer attempt already replaced it) so the next write retries.
        if (tableReady === ready) tableReady = undefined;
        throw err;
      }
      for (const row of rows) {
        await t.upsertEntity(
          {
            partitionKey: row.partitionKey,
            rowKey: row.rowKey,
            galleryId: row.galleryId,
            imageVersionId: row.imageVersionId,
            targetKind: row.targetKind,
            targetId: row.targetId,
            result: row.result,
            instanceId: row.instanceId,
            at: row.at,
          },
          "Replace",
        );
      }
    },
  };
}
