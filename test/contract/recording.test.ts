// Contract check of recorded traffic: every gallery exchange of a JSONL recording must conform to the
// GalleryRP 2025-03-03 swagger (isSuccessful === true). Any recording can be checked with
// `npm run contract -- <file.jsonl>`; here:
//  - an emulator session driven by the real @azure/arm-compute + @azure/identity clients, recorded and
//    validated (CONTRACT_SESSION_RECORDING=path keeps the file).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClientSecretCredential } from "@azure/identity";
import { ComputeManagementClient } from "@azure/arm-compute";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startEmulator } from "../../local/emulator";
import {
  createContractValidator,
  isGalleryExchange,
  readRecording,
  type ExchangeVerdict,
  type RecordedExchange,
} from "../../local/contract/validateTraffic";

function describeFailure(v: ExchangeVerdict): string {
  const x = v.exchange;
  return [`${x.method} ${x.url} -> ${x.status} (${v.operationId ?? "no matching operation"}): isSuccessful=${String(v.isSuccessful)}`, ...v.errors.map((e) => `  ${e}`)].join("\n");
}

/** Validates every gallery exchange of a JSONL recording; fails naming each non-conforming exchange. */
async function validateRecordingFile(file: string): Promise<ExchangeVerdict[]> {
  const validator = await createContractValidator();
  const gallery = readRecording(file).filter(isGalleryExchange);
  expect(gallery.length, `${file} holds no gallery exchanges`).toBeGreaterThan(0);
  const verdicts: ExchangeVerdict[] = [];
  for (const x of gallery) verdicts.push(await validator.validate(x));
  const failures = verdicts.filter((v) => v.isSuccessful !== true).map(describeFailure);
  expect(failures, `${failures.length} of ${verdicts.length} gallery exchanges in ${file} break the contract:\n${failures.join("\n")}`).toEqual([]);
  return verdicts;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "contract-recording-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("validateRecordingFile", () => {
  const sub = "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10";
  const gallery = `https://127.0.0.1:8443/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1`;
  const caps = `https://127.0.0.1:8443/subscriptions/${sub}/providers/Microsoft.Compute/locations/westeurope/capsOperations/1?api-version=2025-12-03`;
  const json = { "content-type": "application/json; charset=utf-8" };
  const session: RecordedExchange[] = [
    { method: "POST", url: "https://127.0.0.1:8443/7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01/oauth2/v2.0/token", requestHeaders: {}, requestBody: "grant_type=client_credentials&client_secret=***", status: 200, responseHeaders: json, responseBody: { access_token: "<redacted>" } },
    { method: "PUT", url: `${gallery}?api-version=2025-12-03`, requestHeaders: { authorization: "Bearer <redacted>", "content-type": "application/json" }, requestBody: { location: "westeurope", properties: { sharingProfile: { permissions: "Groups" } } }, status: 201, responseHeaders: { ...json, "azure-asyncoperation": caps }, responseBody: { id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1`, name: "g1", type: "Microsoft.Compute/galleries", location: "westeurope", properties: { identifier: { uniqueName: `${sub}-G1` }, sharingProfile: { permissions: "Groups" }, provisioningState: "Creating" } } },
    { method: "GET", url: caps, requestHeaders: { authorization: "Bearer <redacted>" }, status: 200, responseHeaders: json, responseBody: { startTime: "2026-01-01T08:00:00+00:00", endTime: "2026-01-01T08:00:01+00:00", status: "Succeeded", name: "1" } },
    { method: "POST", url: `${gallery}/share?api-version=2025-12-03`, requestHeaders: { authorization: "Bearer <redacted>", "content-type": "application/json" }, requestBody: { operationType: "Add", groups: [{ type: "AADTenants", ids: ["1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41"] }] }, status: 202, responseHeaders: { "content-length": "0", location: caps.replace("?", "?monitor=true&"), "azure-asyncoperation": caps }, responseBody: null },
    { method: "PUT", url: `https://127.0.0.1:8443/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments/0b7e?api-version=2022-04-01`, requestHeaders: {}, status: 201, responseHeaders: json, responseBody: {} },
    { method: "POST", url: "https://127.0.0.1:8443/_emulator/clock/advance", requestHeaders: {}, status: 204, responseHeaders: {} },
  ];
  const write = (name: string, xs: RecordedExchange[]): string => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, xs.map((x) => JSON.stringify(x)).join("\n") + "\n");
    return file;
  };

  it("passes a conforming recording, validating only its gallery exchanges", async () => {
    const verdicts = await validateRecordingFile(write("good.jsonl", session));
    expect(verdicts.map((v) => v.operationId)).toEqual(["Galleries_CreateOrUpdate", "GallerySharingProfile_Update"]);
    expect(verdicts.every((v) => v.mappedApiVersion === "2025-12-03")).toBe(true);
  });

  it("fails a recording with a non-conforming gallery exchange, naming it", async () => {
    const bad = structuredClone(session);
    const put = bad[1];
    if (put) put.responseBody = { ...(put.responseBody as object), properties: { provisioningState: 7 } };
    await expect(validateRecordingFile(write("bad.jsonl", bad))).rejects.toThrow(/PUT .*galleries\/g1\?api-version=2025-12-03 -> 201 \(Galleries_CreateOrUpdate\)[\s\S]*INVALID_TYPE/);
  });

  it("fails a recording without gallery exchanges", async () => {
    await expect(validateRecordingFile(write("none.jsonl", [session[0] as RecordedExchange]))).rejects.toThrow(/holds no gallery exchanges/);
  });
});

// ---------------------------------------------------------------------------------------------
// Emulator session: the real SDK clients against local/emulator, recorded and validated.

describe("emulator session with the real SDK clients", () => {
  const P = { tenantId: "7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01", subscriptionId: "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10", appId: "3c9e2f71-5a8b-4d06-b1e4-7f2a9c0d5e21" };
  const C = { tenantId: "1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41", subscriptionId: "9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a51", appId: "4d0f3a82-6b9c-4e17-82f5-8a3b0d1e6f32" };
  const rg = "rg-contract";
  const location = "westeurope";
  const galleryName = "contract_gallery";
  const imageName = "ubuntu-2404";
  const version = "1.0.0";
  const lro = { updateIntervalInMs: 20 };

  it("records only traffic that conforms to the GalleryRP contract", async () => {
    // CONTRACT_SESSION_RECORDING=path keeps the session's recording (e.g. for local/contract/main.ts).
    const recordPath = process.env.CONTRACT_SESSION_RECORDING ? path.resolve(process.env.CONTRACT_SESSION_RECORDING) : path.join(tmp, "session.jsonl");
    fs.rmSync(recordPath, { force: true });
    const clock = new VirtualClock();
    const emulator = await startEmulator({ recordPath, clock, seed: 1 });
    try {
      const { control } = emulator;
      const secret = "contract-test-secret";
      control.addTenant(P.tenantId, "Contoso (publisher)");
      control.addSubscription(P.subscriptionId, P.tenantId);
      control.addResourceGroup(P.subscriptionId, rg, location);
      const publisherApp = control.addApp({ appId: P.appId, homeTenantId: P.tenantId, secret, multiTenant: true, displayName: "gallery-share" });
      control.addRoleAssignment({ scope: `/subscriptions/${P.subscriptionId}`, principalId: publisherApp.servicePrincipalId, role: "Owner" });
      control.addTenant(C.tenantId, "Fabrikam (consumer)");
      control.addSubscription(C.subscriptionId, C.tenantId);
      const consumerApp = control.addApp({ appId: C.appId, homeTenantId: C.tenantId, secret, multiTenant: false, displayName: "consumer" });
      control.addRoleAssignment({ scope: `/subscriptions/${C.subscriptionId}`, principalId: consumerApp.servicePrincipalId, role: "Reader" });

      const credential = (tenantId: string, appId: string): ClientSecretCredential =>
        new ClientSecretCredential(tenantId, appId, secret, { authorityHost: emulator.authorityHost, disableInstanceDiscovery: true });
      const publisher = new ComputeManagementClient(credential(P.tenantId, P.appId), P.subscriptionId, { endpoint: emulator.armEndpoint });
      const consumer = new ComputeManagementClient(credential(C.tenantId, C.appId), C.subscriptionId, { endpoint: emulator.armEndpoint });

      // Publisher: gallery (direct sharing needs permissions Groups), image definition, version.
      const gallery = await publisher.galleries.createOrUpdate(rg, galleryName, { location, sharingProfile: { permissions: "Groups" } }, lro);
      await publisher.galleryImages.createOrUpdate(
        rg,
        galleryName,
        imageName,
        { location, osType: "Linux", osState: "Generalized", hyperVGeneration: "V2", identifier: { publisher: "contoso", offer: "ubuntu", sku: "2404" } },
        lro,
      );
      const versionPut = publisher.galleryImageVersions.createOrUpdate(
        rg,
        galleryName,
        imageName,
        version,
        {
          location,
          publishingProfile: { targetRegions: [{ name: location, regionalReplicaCount: 1 }, { name: "northeurope", regionalReplicaCount: 1 }] },
          storageProfile: { source: { id: `/subscriptions/${P.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/images/ubuntu-2404-base` } },
        },
        lro,
      );
      await versionPut.submitted();
      // Replication takes simulated time: read the version with $expand=ReplicationStatus as time passes.
      let state: string | undefined;
      for (let step = 0; step < 200 && state !== "Completed"; step++) {
        const v = await publisher.galleryImageVersions.get(rg, galleryName, imageName, version, { expand: "ReplicationStatus" });
        state = v.replicationStatus?.aggregatedState;
        if (state === "Failed") throw new Error(`replication failed: ${JSON.stringify(v.replicationStatus)}`);
        if (state !== "Completed") clock.advance(2 * 60_000);
      }
      expect(state).toBe("Completed");
      await versionPut;
      await publisher.galleries.get(rg, galleryName, { select: "Permissions" });

      // Share with the consumer tenant; the consumer sees the gallery, the image and the version.
      const tenants = [{ type: "AADTenants" as const, ids: [C.tenantId] }];
      const share = (operationType: "Add" | "Remove") => publisher.gallerySharingProfile.update(rg, galleryName, { operationType, groups: tenants }, lro);
      await share("Add");
      await publisher.galleries.get(rg, galleryName, { expand: "SharingProfile/Groups" });
      const uniqueName = gallery.identifier?.uniqueName;
      expect(uniqueName).toBeTruthy();
      const seen: string[] = [];
      for await (const g of consumer.sharedGalleries.list(location, { sharedTo: "tenant" })) if (g.name) seen.push(g.name);
      expect(seen.map((n) => n.toLowerCase())).toContain(String(uniqueName).toLowerCase());
      await consumer.sharedGalleryImages.get(location, String(uniqueName), imageName);
      await consumer.sharedGalleryImageVersions.get(location, String(uniqueName), imageName, version);
      for await (const _ of consumer.sharedGalleryImageVersions.list(location, String(uniqueName), imageName)) void _;

      await share("Remove");
    } finally {
      await emulator.close();
    }

    const verdicts = await validateRecordingFile(recordPath);
    const operations = new Set(verdicts.map((v) => v.operationId));
    for (const op of [
      "Galleries_CreateOrUpdate",
      "GalleryImages_CreateOrUpdate",
      "GalleryImageVersions_CreateOrUpdate",
      "GalleryImageVersions_Get",
      "Galleries_Get",
      "GallerySharingProfile_Update",
      "SharedGalleries_List",
      "SharedGalleryImages_Get",
      "SharedGalleryImageVersions_Get",
      "SharedGalleryImageVersions_List",
    ]) {
      expect(operations, `the session recorded no ${op} exchange`).toContain(op);
    }
    // The SDK sends 2025-12-03; every gallery exchange was validated as 2025-03-03.
    expect(verdicts.every((v) => v.mappedApiVersion === "2025-12-03")).toBe(true);
    // Recordings must not hold live tokens.
    for (const x of readRecording(recordPath)) expect(x.requestHeaders.authorization ?? "", `${x.method} ${x.url}`).not.toMatch(/^Bearer ey/i);
  }, 120_000);
});
