// The share inbox: the share changes waiting for a subscription's share coordinator, one row each
// in the registry's table (partition `share-inbox-<subscriptionId>`, rows in arrival order). A
// sender writes its change here first and only then wakes the coordinator, so a change can never be
// lost with an external event (an event the coordinator's code did not take before it continued as
// new, or one taken by a wait that had already lost a race); the coordinator reads the inbox, and a
// row leaves it only once its sender has been told the result.
import type { TableClient } from "@azure/data-tables";
import { stableHash } from "../domain/instanceIds";
import { guidKey } from "../domain/registryKeys";
import { normalizeResourceId } from "../domain/resourceIds";
import { readShareChange } from "../domain/durablePayloads";
import type { QueuedShareChange, ShareChange } from "../domain/shareChanges";
import type { RegistryOptions } from "./registryRecords";
import { odata, statusOf, tableAccess } from "./registryTable";

export const SHARE_INBOX_PARTITION_PREFIX = "share-inbox-";

/** Where a change stands: still queued, and how much is ahead of it. */
export interface InboxPosition {
  readonly queued: boolean;
  /** Changes ahead of it. */
  readonly ahead: number;
  /** Distinct galleries among them and it: each needs a call of its own. */
  readonly galleriesAhead: number;
}

export interface ShareInbox {
  enqueue(subscriptionId: string, change: ShareChange): Promise<{ key: string }>;
  /** The oldest changes, at most `max`, oldest first. A row that does not parse is removed and reported. */
  peek(subscriptionId: string, max: number): Promise<{ changes: QueuedShareChange[]; unreadable: string[] }>;
  remove(subscriptionId: string, keys: readonly string[]): Promise<number>;
  position(subscriptionId: string, key: string): Promise<InboxPosition>;
}

const partition = (subscriptionId: string): string => `${SHARE_INBOX_PARTITION_PREFIX}${guidKey("subscriptionId", subscriptionId)}`;

/** Arrival order: 15 digits of epoch milliseconds, then a per-process sequence and the change's hash (two senders in one millisecond). */
let sequence = 0;
function rowKey(change: ShareChange, now: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(now).padStart(15, "0")}-${String(sequence).padStart(6, "0")}-${stableHash(change.requestId).slice(0, 16)}`;
}

interface InboxRow {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly change?: unknown;
  readonly galleryKey?: unknown;
}

export function createShareInbox(options: RegistryOptions): ShareInbox {
  const table = tableAccess(options);
  return {
    async enqueue(subscriptionId, change) {
      const key = rowKey(change, Date.now());
      const t = await table();
      await t.upsertEntity({
        partitionKey: partition(subscriptionId),
        rowKey: key,
        change: JSON.stringify(change),
        galleryKey: normalizeResourceId(change.galleryId),
      });
      return { key };
    },

    async peek(subscriptionId, max) {
      const t = await table();
      const changes: QueuedShareChange[] = [];
      const unreadable: string[] = [];
      const pages = t.listEntities<InboxRow>({ queryOptions: { filter: odata`PartitionKey eq ${partition(subscriptionId)}` } }).byPage({ maxPageSize: max });
      for await (const page of pages) {
        for (const row of page) {
          const change = typeof row.change === "string" ? readShareChange(parseJson(row.change)) : undefined;
          if (change) changes.push({ key: row.rowKey, change });
          else unreadable.push(row.rowKey);
        }
        break;
      }
      // A row nobody can read would block nothing (rows are taken per gallery) but would stay forever.
      if (unreadable.length > 0) await removeRows(t, partition(subscriptionId), unreadable);
      return { changes, unreadable };
    },

    async remove(subscriptionId, keys) {
      return removeRows(await table(), partition(subscriptionId), keys);
    },

    async position(subscriptionId, key) {
      const t = await table();
      const pk = partition(subscriptionId);
      const galleries = new Set<string>();
      let ahead = 0;
      let queued = false;
      const rows = t.listEntities<InboxRow>({ queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey le ${key}`, select: ["RowKey", "galleryKey"] } });
      for await (const row of rows) {
        if (row.rowKey === key) queued = true;
        else ahead += 1;
        if (typeof row.galleryKey === "string") galleries.add(row.galleryKey);
      }
      return { queued, ahead, galleriesAhead: galleries.size };
    },
  };
}

async function removeRows(t: TableClient, partitionKey: string, keys: readonly string[]): Promise<number> {
  let removed = 0;
  for (const key of keys) {
    try {
      await t.deleteEntity(partitionKey, key);
      removed += 1;
    } catch (err) {
      // Already gone (a retried removal): nothing to do.
      if (statusOf(err) !== 404) throw err;
    }
  }
  return removed;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
