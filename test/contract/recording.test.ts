// Contract check of recorded traffic: every exchange of a JSONL recording that a contract covers
// (GalleryRP 2025-03-03, Authorization 2022-04-01, operation-status polls; ComputeRP and NetworkRP in
// computeNetwork.test.ts) must conform
// (isSuccessful === true). Any recording can be checked with `npm run contract -- <file.jsonl>`; here:
//  - emulator sessions driven by the real @azure/arm-compute, @azure/arm-authorization and
//    @azure/identity clients, recorded and validated (CONTRACT_SESSION_RECORDING=path keeps the
//    gallery session's file); the demo's traffic is validated by test/e2e/demo.test.ts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClientSecretCredential } from "@azure/identity";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ComputeManagementClient } from "@azure/arm-compute";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startEmulator, type Emulator } from "../../local/emulator";
import {
  contractFor,
  createContractValidator,
  isGalleryExchange,
  perSpecSummary,
  readRecording,
  validateRecording,
  type ExchangeVerdict,
  type RecordedExchange,
} from "../../local/contract/validateTraffic";

function describeFailure(v: ExchangeVerdict): string {
  const x = v.exchange;
  return [
    `${x.method} ${x.url} -> ${x.status} (${v.operationId ?? "no matching operation"}): isSuccessful=${String(v.isSuccessful)}`,
    ...v.errors.map((e) => `  ${e}`),
  ].join("\n");
}

/** Validates every exchange of a JSONL recording that a contract covers; fails naming each non-conforming exchange. */
async function validateRecordingFile(file: string): Promise<ExchangeVerdict[]> {
  const validator = await createContractValidator();
  const covered = readRecording(file).filter((x) => contractFor(x) !== undefined);
  expect(covered.filter(isGalleryExchange).length, `${file} holds no gallery exchanges`).toBeGreaterThan(0);
  const verdicts: ExchangeVerdict[] = [];
  for (const x of covered) verdicts.push(await validator.validate(x));
  const failures = verdicts.filter((v) => v.isSuccessful !== true).map(describeFailure);
  expect(failures, `${failures.length} of ${verdicts.length} exchanges in ${file} break their contract:\n${failures.join("\n")}`).toEqual([]);
  return verdicts;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "contract-recording-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const P = {
  tenantId: "7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01",
  subscriptionId: "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10",
  appId: "3c9e2f71-5a8b-4d06-b1e4-7f2a9c0d5e21",
};
const C = {
  tenantId: "1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41",
  subscriptionId: "9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a51",
  appId: "4d0f3a82-6b9c-4e17-82f5-8a3b0d1e6f32",
};

/** A publisher tenant (an app that is Owner of its subscription) and a consumer tenant (an app that is Reader of its own). */
function seedTenants(control: Emulator["control"], rg: string, location: string) {
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
  return { secret };
}

describe("validateRecordingFile", () => {
  const sub = "5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10";
  const gallery = `https://127.0.0.1:8443/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1`;
  const caps = `https://127.0.0.1:8443/subscriptions/${sub}/providers/Microsoft.Compute/locations/westeurope/capsOperations/1?api-version=2025-12-03`;
  const json = { "content-type": "application/json; charset=utf-8" };
  const session: RecordedExchange[] = [
    {
      method: "POST",
      url: "https://127.0.0.1:8443/7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01/oauth2/v2.0/token",
      requestHeaders: {},
      requestBody: "grant_type=client_credentials&client_secret=***",
      status: 200,
      responseHeaders: json,
      responseBody: { access_token: "<redacted>" },
    },
    {
      method: "PUT",
      url: `${gallery}?api-version=2025-12-03`,
      requestHeaders: { authorization: "Bearer <redacted>", "content-type": "application/json" },
      requestBody: { location: "westeurope", properties: { sharingProfile: { permissions: "Groups" } } },
      status: 201,
      responseHeaders: { ...json, "azure-asyncoperation": caps },
      responseBody: {
        id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1`,
        name: "g1",
        type: "Microsoft.Compute/galleries",
        location: "westeurope",
        properties: { identifier: { uniqueName: `${sub}-G1` }, sharingProfile: { permissions: "Groups" }, provisioningState: "Creating" },
      },
    },
    {
      method: "GET",
      url: caps,
      requestHeaders: { authorization: "Bearer <redacted>" },
      status: 200,
      responseHeaders: json,
      responseBody: { startTime: "2026-01-01T08:00:00+00:00", endTime: "2026-01-01T08:00:01+00:00", status: "Succeeded", name: "1" },
    },
    {
      method: "POST",
      url: `${gallery}/share?api-version=2025-12-03`,
      requestHeaders: { authorization: "Bearer <redacted>", "content-type": "application/json" },
      requestBody: { operationType: "Add", groups: [{ type: "AADTenants", ids: ["1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41"] }] },
      status: 202,
      responseHeaders: { "content-length": "0", location: caps.replace("?", "?monitor=true&"), "azure-asyncoperation": caps },
      responseBody: null,
    },
    {
      method: "PUT",
      url: `https://127.0.0.1:8443/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments/0b7e?api-version=2022-04-01`,
      requestHeaders: { "content-type": "application/json" },
      requestBody: {
        properties: {
          roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
          principalId: "0e1f2a3b-0000-4000-8000-00000000a001",
          principalType: "User",
        },
      },
      status: 201,
      responseHeaders: json,
      responseBody: {
        id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments/0b7e`,
        name: "0b7e",
        type: "Microsoft.Authorization/roleAssignments",
        properties: {
          roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
          principalId: "0e1f2a3b-0000-4000-8000-00000000a001",
          principalType: "User",
          scope: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1`,
        },
      },
    },
    { method: "POST", url: "https://127.0.0.1:8443/_emulator/clock/advance", requestHeaders: {}, status: 204, responseHeaders: {} },
  ];
  const write = (name: string, xs: RecordedExchange[]): string => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, xs.map((x) => JSON.stringify(x)).join("\n") + "\n");
    return file;
  };

  it("passes a conforming recording, validating every exchange a contract covers", async () => {
    const verdicts = await validateRecordingFile(write("good.jsonl", session));
    expect(verdicts.map((v) => v.operationId)).toEqual([
      "Galleries_CreateOrUpdate",
      "ComputeCapsOperations_GetStatus",
      "GallerySharingProfile_Update",
      "RoleAssignments_Create",
    ]);
    expect(verdicts.map((v) => v.mappedApiVersion)).toEqual(["2025-12-03", "2025-12-03", "2025-12-03", undefined]);
  });

  it("fails a recording with a non-conforming gallery exchange, naming it", async () => {
    const bad = structuredClone(session);
    const put = bad[1];
    if (put) put.responseBody = { ...(put.responseBody as object), properties: { provisioningState: 7 } };
    await expect(validateRecordingFile(write("bad.jsonl", bad))).rejects.toThrow(
      /PUT .*galleries\/g1\?api-version=2025-12-03 -> 201 \(Galleries_CreateOrUpdate\)[\s\S]*INVALID_TYPE/,
    );
  });

  it("fails a recording without gallery exchanges", async () => {
    await expect(validateRecordingFile(write("none.jsonl", [session[0] as RecordedExchange]))).rejects.toThrow(/holds no gallery exchanges/);
  });
});

// ---------------------------------------------------------------------------------------------
// Emulator session: the real SDK clients against local/emulator, recorded and validated.

describe("emulator session with the real SDK clients", () => {
  const rg = "rg-contract";
  const location = "westeurope";
  const galleryName = "contract_gallery";
  const imageName = "ubuntu-2404";
  const version = "1.0.0";
  const lro = { updateIntervalInMs: 20 };

  it("records only traffic that conforms to its contracts", async () => {
    // CONTRACT_SESSION_RECORDING=path keeps the session's recording (e.g. for local/contract/main.ts).
    const recordPath = process.env.CONTRACT_SESSION_RECORDING ? path.resolve(process.env.CONTRACT_SESSION_RECORDING) : path.join(tmp, "session.jsonl");
    fs.rmSync(recordPath, { force: true });
    const clock = new VirtualClock();
    const emulator = await startEmulator({ recordPath, clock, seed: 1 });
    try {
      const { control } = emulator;
      const { secret } = seedTenants(control, rg, location);

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
          publishingProfile: {
            targetRegions: [
              { name: location, regionalReplicaCount: 1 },
              { name: "northeurope", regionalReplicaCount: 1 },
            ],
          },
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
    expect(verdicts.filter((v) => isGalleryExchange(v.exchange)).every((v) => v.mappedApiVersion === "2025-12-03")).toBe(true);
    // Recordings must not hold live tokens.
    for (const x of readRecording(recordPath)) expect(x.requestHeaders.authorization ?? "", `${x.method} ${x.url}`).not.toMatch(/^Bearer ey/i);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Community galleries, role assignments (at a gallery's scope), role definitions, permissions and
// ARM error answers, with the real SDK clients; every exchange a contract covers must pass.

describe("emulator session: community gallery, RBAC and error answers", () => {
  const rg = "rg-contract";
  const location = "westeurope";
  const lro = { updateIntervalInMs: 20 };
  const READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

  it("records only traffic that conforms to each contract, and counts it per spec", async () => {
    const recordPath = path.join(tmp, "rbac-community.jsonl");
    const clock = new VirtualClock();
    const emulator = await startEmulator({ recordPath, clock, seed: 2 });
    try {
      const { control } = emulator;
      const { secret } = seedTenants(control, rg, location);
      control.addResourceGroup(C.subscriptionId, "rg-consumer", location);

      const credential = (tenantId: string, appId: string): ClientSecretCredential =>
        new ClientSecretCredential(tenantId, appId, secret, { authorityHost: emulator.authorityHost, disableInstanceDiscovery: true });
      const pubCred = credential(P.tenantId, P.appId);
      const conCred = credential(C.tenantId, C.appId);
      const compute = new ComputeManagementClient(pubCred, P.subscriptionId, { endpoint: emulator.armEndpoint });
      const consumer = new ComputeManagementClient(conCred, C.subscriptionId, { endpoint: emulator.armEndpoint });
      const scopes = { endpoint: emulator.armEndpoint, credentialScopes: [`${emulator.armEndpoint}/.default`] };
      const authz = new AuthorizationManagementClient(pubCred, P.subscriptionId, scopes);
      const consumerAuthz = new AuthorizationManagementClient(conCred, C.subscriptionId, scopes);

      // A community gallery with an image and a version; a consumer reads it by its public name.
      const communityGalleryInfo = {
        publisherUri: "https://contoso.example",
        publisherContact: "images@contoso.example",
        eula: "https://contoso.example/eula",
        publicNamePrefix: "contoso",
      };
      await compute.galleries.createOrUpdate(rg, "community_gallery", { location, sharingProfile: { permissions: "Community", communityGalleryInfo } }, lro);
      await compute.galleryImages.createOrUpdate(
        rg,
        "community_gallery",
        "img",
        { location, osType: "Linux", osState: "Generalized", hyperVGeneration: "V2", identifier: { publisher: "contoso", offer: "ubuntu", sku: "2404" } },
        lro,
      );
      const versionPut = compute.galleryImageVersions.createOrUpdate(
        rg,
        "community_gallery",
        "img",
        "1.0.0",
        {
          location,
          publishingProfile: { targetRegions: [{ name: location, regionalReplicaCount: 1 }] },
          storageProfile: { source: { id: `/subscriptions/${P.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/images/base` } },
        },
        lro,
      );
      await versionPut.submitted();
      for (let step = 0; step < 100; step++) {
        const v = await compute.galleryImageVersions.get(rg, "community_gallery", "img", "1.0.0", { expand: "ReplicationStatus" });
        if (v.replicationStatus?.aggregatedState === "Completed") break;
        clock.advance(5 * 60_000);
      }
      await versionPut;
      await compute.gallerySharingProfile.update(rg, "community_gallery", { operationType: "EnableCommunity" }, lro);
      const publicName = (await compute.galleries.get(rg, "community_gallery")).sharingProfile?.communityGalleryInfo?.publicNames?.[0] ?? "";
      expect(publicName).toMatch(/^contoso-/);
      await consumer.communityGalleries.get(location, publicName);
      await consumer.communityGalleryImages.get(location, publicName, "img");
      for await (const _ of consumer.communityGalleryImages.list(location, publicName)) void _;
      await consumer.communityGalleryImageVersions.get(location, publicName, "img", "1.0.0");
      for await (const _ of consumer.communityGalleryImageVersions.list(location, publicName, "img")) void _;
      await expect(consumer.communityGalleries.get(location, "nobody-0000")).rejects.toMatchObject({ statusCode: 404 });

      // Reader on the gallery for a principal (as the app grants it), read back, listed, removed.
      const galleryId = `/subscriptions/${P.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/community_gallery`;
      const name = "7f0c1d2e-3a4b-4c5d-8e6f-0a1b2c3d4e5f";
      const principalId = emulator.control.addUser({ tenantId: P.tenantId, displayName: "guest reader" }).objectId;
      const parameters = {
        roleDefinitionId: `/subscriptions/${P.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER}`,
        principalId,
        principalType: "User" as const,
      };
      const created = await authz.roleAssignments.create(galleryId, name, parameters);
      await authz.roleAssignments.create(galleryId, name, parameters); // the identical assignment again
      await expect(authz.roleAssignments.create(galleryId, "1f0c1d2e-3a4b-4c5d-8e6f-0a1b2c3d4e5f", parameters)).rejects.toMatchObject({ statusCode: 409 });
      await authz.roleAssignments.get(galleryId, name);
      await authz.roleAssignments.getById(String(created.id));
      for await (const _ of authz.roleAssignments.listForScope(galleryId)) void _;
      for await (const _ of authz.roleAssignments.listForSubscription({ filter: `principalId eq '${principalId}'` })) void _;
      for await (const _ of authz.roleAssignments.listForResourceGroup(rg)) void _;
      await authz.roleDefinitions.get(`/subscriptions/${P.subscriptionId}`, READER);
      for await (const _ of authz.roleDefinitions.list(`/subscriptions/${P.subscriptionId}`, { filter: "roleName eq 'Reader'" })) void _;
      await authz.roleAssignments.deleteById(String(created.id));
      await expect(authz.roleAssignments.get(galleryId, name)).rejects.toMatchObject({ statusCode: 404 });

      // The consumer's own permissions, and what a Reader may not do.
      for await (const _ of consumerAuthz.permissions.listForResourceGroup("rg-consumer")) void _;
      await expect(
        consumerAuthz.roleAssignments.create(`/subscriptions/${C.subscriptionId}`, name, {
          ...parameters,
          roleDefinitionId: `/subscriptions/${C.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER}`,
        }),
      ).rejects.toMatchObject({ statusCode: 403 });
      await expect(consumer.galleries.get(rg, "community_gallery")).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await emulator.close();
    }

    const report = await validateRecording(recordPath);
    console.log(perSpecSummary(report));
    const failures = report.verdicts.filter((v) => v.isSuccessful !== true).map(describeFailure);
    expect(failures, `${failures.length} of ${report.verdicts.length} exchanges break their contract:\n${failures.join("\n")}`).toEqual([]);
    // VMs, scale sets and NICs have their own session (computeNetwork.test.ts).
    for (const s of report.perSpec.filter((c) => !/^(ComputeRP|NetworkRP) /.test(c.contract)))
      expect(s.valid, `${s.contract}: no exchange validated`).toBeGreaterThan(0);
    const operations = new Set(report.verdicts.map((v) => v.operationId));
    for (const op of [
      "CommunityGalleries_Get",
      "CommunityGalleryImages_Get",
      "CommunityGalleryImages_List",
      "CommunityGalleryImageVersions_Get",
      "CommunityGalleryImageVersions_List",
      "RoleAssignments_ListForSubscription",
      "RoleAssignments_ListForResourceGroup",
      "RoleDefinitions_List",
      "Permissions_ListForResourceGroup",
      "ComputeCapsOperations_GetStatus",
    ]) {
      expect(operations, `the session recorded no ${op} exchange`).toContain(op);
    }
    // Error answers were validated too (404, 409, 403).
    for (const status of [403, 404, 409])
      expect(
        report.verdicts.some((v) => v.exchange.status === status),
        `no ${status} validated`,
      ).toBe(true);
  }, 120_000);
});
