// Records in the audit table which targets had access to a version once it was shared.
import type { Services } from "../services";
import { auditPartition, type AuditRow } from "../azure/auditTable";
import { parseImageVersionId } from "../domain/resourceIds";
import { runActivity } from "./activityResult";
import type { ActivityResult, RecordShareAuditInput } from "./descriptors";

export function auditRows(input: RecordShareAuditInput): AuditRow[] {
  const ref = parseImageVersionId(input.imageVersionId);
  const partitionKey = auditPartition(input.galleryId);
  const row = (targetKind: AuditRow["targetKind"], targetId: string, result: AuditRow["result"]): AuditRow => ({
    partitionKey,
    rowKey: `${ref.image}|${ref.version}|${targetKind}|${targetId}`,
    galleryId: input.galleryId,
    imageVersionId: input.imageVersionId,
    targetKind,
    targetId,
    result,
    instanceId: input.instanceId,
    at: input.at,
  });
  return [
    ...input.added.subscriptionIds.map((id) => row("subscription", id, "added")),
    ...input.added.tenantIds.map((id) => row("tenant", id, "added")),
    ...input.alreadyShared.subscriptionIds.map((id) => row("subscription", id, "already-shared")),
    ...input.alreadyShared.tenantIds.map((id) => row("tenant", id, "already-shared")),
  ];
}

export function createRecordShareAudit(services: Services) {
  return (input: RecordShareAuditInput): Promise<ActivityResult<{ rows: number }>> =>
    runActivity(async () => {
      const rows = auditRows(input);
      await services.audit.write(rows);
      return { rows: rows.length };
    });
}
