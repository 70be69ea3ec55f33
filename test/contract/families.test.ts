// The contracts beyond gallery CRUD: which spec covers which URL family, the official Authorization
// examples pass, and broken role assignments, permissions, community-gallery and operation-status
// traffic fails with an error that says what is wrong.
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  contractFor,
  createContractValidator,
  uncoveredFamilyOf,
  validateExchanges,
  perSpecSummary,
  type ContractValidator,
  type ExchangeVerdict,
  type RecordedExchange,
} from "../../local/contract/validateTraffic";
import { AUTHORIZATION_API_VERSION } from "../../local/contract/contracts";
import { specClosure } from "../../local/contract/strictEnums";
import { AUTHORIZATION_SWAGGERS, SUBSCRIPTION, exchangesFromExample, presentExamples } from "./specExamples";

let validator: ContractValidator;
beforeAll(async () => {
  validator = await createContractValidator();
});

const ARM = `https://127.0.0.1:8443/subscriptions/${SUBSCRIPTION}`;
const GALLERY = `${ARM}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1`;
const json = { "content-type": "application/json; charset=utf-8" };
const x = (method: string, url: string, extra: Partial<RecordedExchange> = {}): RecordedExchange => ({
  method,
  url,
  requestHeaders: {},
  status: 200,
  responseHeaders: json,
  ...extra,
});

function explain(v: ExchangeVerdict): string {
  return `${v.exchange.method} ${v.exchange.url} -> ${v.exchange.status}: isSuccessful=${String(v.isSuccessful)}\n${v.errors.join("\n")}`;
}

describe("which contract covers which URL", () => {
  it.each([
    ["GET", `${GALLERY}?api-version=2025-12-03`, "GalleryRP 2025-03-03"],
    [
      "GET",
      `${ARM}/providers/Microsoft.Compute/locations/westeurope/communityGalleries/pub-1/images/img/versions?api-version=2025-12-03`,
      "GalleryRP 2025-03-03",
    ],
    [
      "PUT",
      `https://127.0.0.1:8443//subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments/0b7e?api-version=2022-04-01`,
      "Authorization 2022-04-01",
    ],
    ["GET", `${ARM}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId%20eq%20'x'&api-version=2022-04-01`, "Authorization 2022-04-01"],
    ["GET", `${ARM}/resourcegroups/rg/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, "Authorization 2022-04-01"],
    ["GET", `${ARM}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, "Authorization 2022-04-01"],
    [
      "GET",
      `${ARM}/providers/Microsoft.Compute/locations/westeurope/capsOperations/6a1f?api-version=2025-12-03`,
      "ARM operation status (common-types v3 OperationStatusResult)",
    ],
    [
      "GET",
      `${ARM}/providers/Microsoft.Compute/locations/westeurope/operations/6a1f?p=6a1f&api-version=2026-04-01`,
      "ARM operation status (common-types v3 OperationStatusResult)",
    ],
    [
      "GET",
      `${ARM}/providers/Microsoft.Network/locations/westeurope/operations/6a1f?api-version=2026-01-01`,
      "ARM operation status (common-types v3 OperationStatusResult)",
    ],
    ["PUT", `${ARM}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`, "ComputeRP 2023-07-01"],
    ["POST", `${ARM}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/manualupgrade?api-version=2026-04-01`, "ComputeRP 2023-07-01"],
    ["GET", `${ARM}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1?api-version=2026-01-01`, "NetworkRP 2023-05-01"],
  ])("%s %s -> %s", (method, url, name) => {
    expect(contractFor(x(method, url))?.name).toBe(name);
  });

  it.each([
    ["GET", `${ARM}/providers/Microsoft.Compute/locations/westeurope/capsOperations/6a1f?monitor=true&api-version=2025-12-03`, /^Location polls/],
    ["GET", `${ARM}/providers/Microsoft.Network/locations/westeurope/operationResults/6a1f?api-version=2026-01-01`, /^Location polls/],
  ])("%s %s is a named family without a vendored spec", (method, url, family) => {
    const ex = x(method, url);
    expect(contractFor(ex)).toBeUndefined();
    expect(uncoveredFamilyOf(ex)).toMatch(family);
  });

  it.each([
    ["POST", "https://127.0.0.1:8443/7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01/oauth2/v2.0/token"],
    ["GET", `${ARM}/resourcegroups/rg?api-version=2025-04-01`],
    ["POST", "https://127.0.0.1:8443/_emulator/clock/advance"],
  ])("%s %s is outside every contract and family", (method, url) => {
    expect(contractFor(x(method, url))).toBeUndefined();
    expect(uncoveredFamilyOf(x(method, url))).toBeUndefined();
  });

  it("the strict-enum copy holds the swaggers and exactly what they $ref", () => {
    const root = path.resolve(__dirname, "../..");
    expect(specClosure(root, ["local/contract/operationStatus.json"])).toEqual([
      "local/contract/operationStatus.json",
      "specs/compute-gallery/specification/common-types/resource-management/v3/types.json",
    ]);
    const authz = specClosure(
      path.join(root, "specs/authorization"),
      AUTHORIZATION_SWAGGERS.map((f) => path.relative(path.join(root, "specs/authorization"), f)),
    );
    expect(authz.map((f) => path.basename(f))).toEqual([
      "authorization-RoleAssignmentsCalls.json",
      "authorization-RoleDefinitionsCalls.json",
      "common-types.json",
      "types.json",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

const authzExamples = AUTHORIZATION_SWAGGERS.flatMap((file) => presentExamples(file)).flatMap((op) =>
  exchangesFromExample(op, AUTHORIZATION_API_VERSION).map(({ status, exchange }) => ({ name: `${path.basename(op.exampleFile)} ${status}`, op, exchange })),
);

function roleAssignmentPut(): RecordedExchange {
  const found = authzExamples.find((e) => e.name === "RoleAssignments_CreateForResource.json 201");
  if (!found) throw new Error("RoleAssignments_CreateForResource.json 201 missing");
  return structuredClone(found.exchange);
}

describe("Authorization 2022-04-01", () => {
  it("the stored examples are found", () => {
    expect(authzExamples.map((e) => e.name).sort()).toEqual(
      [
        "RoleAssignments_CreateForResource.json 200",
        "RoleAssignments_CreateForResource.json 201",
        "RoleAssignments_Delete.json 200",
        "RoleAssignments_Delete.json 204",
        "RoleAssignments_Get.json 200",
        "RoleAssignments_ListForScope.json 200",
      ].sort(),
    );
  });

  it.each(authzExamples)("$name ($op.operationId) validates", async ({ op, exchange }) => {
    const v = await validator.validate(exchange);
    expect(v.isSuccessful, explain(v)).toBe(true);
    expect(v.contract).toBe("Authorization 2022-04-01");
    // Several templates describe the same URL (`/{scope}/.../roleAssignments/{name}` and `/{roleAssignmentId}`;
    // `/{scope}/...roleAssignments` and `/subscriptions/{s}/...roleAssignments`): oav picks one of the same verb.
    expect(v.operationId).toMatch(new RegExp(`^${op.operationId.replace(/(ForScope|ForResource)$/, "")}`));
  });

  it("a role assignment scoped to a gallery, sent as the SDK sends it (`//subscriptions`)", async () => {
    const put = roleAssignmentPut();
    put.url = `https://127.0.0.1:8443//subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments/05c5a614-a7d6-4502-b150-c2fb455033ff?api-version=2022-04-01`;
    const v = await validator.validate(put);
    expect(v.isSuccessful, explain(v)).toBe(true);
  });

  it("wrong enum value in a response: principalType Robot (extensible enum, closed by strictEnums)", async () => {
    const put = roleAssignmentPut();
    (put.responseBody as { properties: { principalType: string } }).properties.principalType = "Robot";
    const v = await validator.validate(put);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/response ENUM_MISMATCH: .*Robot.*principalType/);
  });

  it("missing required property in a request: principalId", async () => {
    const put = roleAssignmentPut();
    delete (put.requestBody as { properties: { principalId?: string } }).properties.principalId;
    const v = await validator.validate(put);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/request OBJECT_MISSING_REQUIRED_PROPERTY: .*principalId/);
  });

  it("permissions at subscription scope: the swagger defines none there, so it fails", async () => {
    const v = await validator.validate(
      x("GET", `${ARM}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, { responseBody: { value: [] } }),
    );
    expect(v.isSuccessful).toBeUndefined();
    expect(v.errors.join("\n")).toMatch(/OPERATION_NOT_FOUND/);
  });

  it("permissions for a resource group: actions must be strings", async () => {
    const url = `${ARM}/resourcegroups/rg/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`;
    const good = await validator.validate(
      x("GET", url, { responseBody: { value: [{ actions: ["*"], notActions: [], dataActions: [], notDataActions: [] }] } }),
    );
    expect(good.isSuccessful, explain(good)).toBe(true);
    expect(good.operationId).toBe("Permissions_ListForResourceGroup");
    const bad = await validator.validate(x("GET", url, { responseBody: { value: [{ actions: "*" }] } }));
    expect(bad.isSuccessful).toBe(false);
    expect(bad.errors.join("\n")).toMatch(/response INVALID_TYPE: .*actions/);
  });

  it("an error answer must be ARM's error shape", async () => {
    const url = `${ARM}/providers/Microsoft.Authorization/roleAssignments/0b7e?api-version=2022-04-01`;
    const good = await validator.validate(
      x("GET", url, { status: 404, responseBody: { error: { code: "RoleAssignmentNotFound", message: "The role assignment '0b7e' is not found." } } }),
    );
    expect(good.isSuccessful, explain(good)).toBe(true);
    const bad = await validator.validate(x("GET", url, { status: 404, responseBody: { code: "RoleAssignmentNotFound", message: 7 } }));
    expect(bad.isSuccessful).toBe(false);
  });
});

describe("community galleries (GalleryRP)", () => {
  const base = `${ARM}/providers/Microsoft.Compute/locations/westeurope/communityGalleries/contoso-1a2b`;
  it("an unknown path below a community gallery fails", async () => {
    const v = await validator.validate(x("GET", `${base}/bogus?api-version=2025-12-03`, { responseBody: {} }));
    expect(v.isSuccessful).toBeUndefined();
    expect(v.errors.join("\n")).toMatch(/OPERATION_NOT_FOUND/);
  });

  it("a community image's osType must be one of the listed values", async () => {
    const body = {
      name: "img",
      location: "westeurope",
      type: "Microsoft.Compute/locations/communityGalleries/images",
      identifier: { uniqueId: `/CommunityGalleries/contoso-1a2b/Images/img` },
      properties: { osType: "Plan9", osState: "Generalized", identifier: { publisher: "p", offer: "o", sku: "s" } },
    };
    const v = await validator.validate(x("GET", `${base}/images/img?api-version=2025-12-03`, { responseBody: body }));
    expect(v.operationId).toBe("CommunityGalleryImages_Get");
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/ENUM_MISMATCH: .*Plan9/);
  });
});

describe("operation-status polls (common-types OperationStatusResult)", () => {
  const caps = `${ARM}/providers/Microsoft.Compute/locations/westeurope/capsOperations/0dfa8ca9-f0b9-4224-b729-528b9678dbb4?api-version=2025-12-03`;
  const status = {
    startTime: "2026-01-01T08:00:00.0000000+00:00",
    endTime: "2026-01-01T08:00:01.0000000+00:00",
    status: "Succeeded",
    name: "0dfa8ca9-f0b9-4224-b729-528b9678dbb4",
  };

  it("a status body validates, and the api-version mapping is stated", async () => {
    const v = await validator.validate(x("GET", caps, { responseBody: status }));
    expect(v.isSuccessful, explain(v)).toBe(true);
    expect(v.operationId).toBe("ComputeCapsOperations_GetStatus");
    expect(v.mappedApiVersion).toBe("2025-12-03");
  });

  it("a status body without status fails", async () => {
    const { status: _drop, ...rest } = status;
    const v = await validator.validate(x("GET", caps, { responseBody: rest }));
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/response OBJECT_MISSING_REQUIRED_PROPERTY: .*status/);
  });

  it("an error that is not ARM's ErrorDetail fails", async () => {
    const v = await validator.validate(x("GET", caps, { responseBody: { ...status, status: "Failed", error: { code: 5, message: "x" } } }));
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/INVALID_TYPE: .*error\/code/);
  });

  it("a wrong start time format fails", async () => {
    const v = await validator.validate(x("GET", caps, { responseBody: { ...status, startTime: "yesterday" } }));
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/INVALID_FORMAT: .*date-time.*startTime/);
  });
});

describe("per-spec counts", () => {
  it("counts valid and failed exchanges per contract and the named families not validated", async () => {
    const put = roleAssignmentPut();
    const broken = roleAssignmentPut();
    (broken.responseBody as { properties: { principalType: string } }).properties.principalType = "Robot";
    const report = await validateExchanges([
      put,
      broken,
      x("GET", `${ARM}/providers/Microsoft.Compute/locations/westeurope/capsOperations/1?api-version=2025-12-03`, {
        responseBody: { status: "InProgress", name: "1", startTime: "2026-01-01T08:00:00+00:00" },
      }),
      x("GET", `${ARM}/providers/Microsoft.Compute/locations/westeurope/capsOperations/1?monitor=true&api-version=2025-12-03`, { status: 202 }),
      x("POST", "https://127.0.0.1:8443/_emulator/clock/advance"),
    ]);
    expect(report.perSpec).toEqual([
      { contract: "GalleryRP 2025-03-03", valid: 0, invalid: 0 },
      { contract: "Authorization 2022-04-01", valid: 1, invalid: 1 },
      { contract: "ComputeRP 2023-07-01", valid: 0, invalid: 0 },
      { contract: "NetworkRP 2023-05-01", valid: 0, invalid: 0 },
      { contract: "ARM operation status (common-types v3 OperationStatusResult)", valid: 1, invalid: 0 },
    ]);
    expect(report.uncovered.find((u) => u.family.startsWith("Location polls"))?.count).toBe(1);
    expect(report.skipped).toBe(1);
    expect(perSpecSummary(report)).toBe(
      "contract: GalleryRP 2025-03-03: 0 exchanges valid; Authorization 2022-04-01: 1 (1 failed); ComputeRP 2023-07-01: 0; NetworkRP 2023-05-01: 0; ARM operation status (common-types v3 OperationStatusResult): 1",
    );
  });
});
