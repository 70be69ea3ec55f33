// The audit trail against real Azurite with the real @azure/data-tables: a table creation that
// fails once must not switch the trail off; the next write creates the table and lands.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../local/azurite";
import { readAuditRows } from "../../local/auditTrail";
import { auditPartition, createAuditTrail, type AuditRow } from "../../src/azure/auditTable";
import { createCredentialProvider } from "../../src/azure/credentials";
import { loadConfig } from "../../src/config";
import { startFaultyProxy, type FaultyProxy } from "../support/faultyProxy";

const GALLERY = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden_images";

function row(version: string): AuditRow {
  return {
    partitionKey: auditPartition(GALLERY),
    rowKey: `ubuntu|${version}|tenant|aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`,
    galleryId: GALLERY,
    imageVersionId: `${GALLERY}/images/ubuntu/versions/${version}`,
    targetKind: "tenant",
    targetId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    result: "added",
    instanceId: `publish-${version}`,
    at: "2026-01-01T09:00:00.000Z",
  };
}

describe("audit trail", () => {
  let azurite: Azurite;
  let proxy: FaultyProxy;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await proxy?.close();
    await azurite?.stop();
  });

  it("retries the table creation on the next write after a failed one, and both rows land", async () => {
    const tableEndpoint = /TableEndpoint=([^;]+)/.exec(azurite.connectionString)?.[1] ?? "";
    proxy = await startFaultyProxy(new URL(tableEndpoint).origin, [{ method: "POST", path: /\/Tables(\?|$)/, status: 503, count: 1 }]);
    const throughProxy = azurite.connectionString.replace(new URL(tableEndpoint).origin, proxy.url);
    const settings = {
      GALLERY_IDS: GALLERY,
      AZURE_TENANT_ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
      AzureWebJobsStorage: throughProxy,
      AUDIT_TABLE_NAME: "auditretried",
    };
    const config = loadConfig(settings);
    const trail = createAuditTrail(config, createCredentialProvider(config));

    await expect(trail.write([row("1.0.0")])).rejects.toThrow();
    expect(proxy.failed).toBe(1);
    // The orchestration retries the activity; the same trail (same worker) must create the table now.
    await trail.write([row("1.0.0")]);
    await trail.write([row("1.0.1")]);

    const rows = await readAuditRows({ ...settings, AzureWebJobsStorage: azurite.connectionString }, GALLERY);
    expect(rows.map((r) => r.rowKey.split("|")[1]).sort()).toEqual(["1.0.0", "1.0.1"]);
  });
});
