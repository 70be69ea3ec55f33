// Self-test of the contract validator: the official examples pass, and broken traffic fails with
// an error that says what is wrong and where.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACT_API_VERSION,
  createContractValidator,
  isGalleryExchange,
  mapToContractApiVersion,
  readRecording,
  type ContractValidator,
  type ExchangeVerdict,
  type RecordedExchange,
} from "../../local/contract/validateTraffic";
import { SPEC_ROOT, SUBSCRIPTION, SWAGGER_FILE, exchangesFromExample, presentExamples } from "./specExamples";

let validator: ContractValidator;

beforeAll(async () => {
  const started = performance.now();
  validator = await createContractValidator();
  console.log(`contract: LiveValidator for GalleryRP 2025-03-03 ready in ${Math.round(performance.now() - started)} ms`);
});

const examples = presentExamples().flatMap((op) =>
  exchangesFromExample(op).map(({ status, exchange }) => ({ name: `${path.basename(op.exampleFile)} ${status}`, op, exchange })),
);

function exampleExchange(file: string, status: string): RecordedExchange {
  const found = examples.find((e) => e.name === `${file} ${status}`);
  if (!found) throw new Error(`no example ${file} ${status}`);
  return structuredClone(found.exchange);
}

/** Edits a (cloned) JSON body in place: set a value, or delete it when `value` is omitted. */
function edit(body: unknown, keys: (string | number)[], ...value: [unknown?]): void {
  let node: unknown = body;
  for (const k of keys.slice(0, -1)) node = (node as Record<string | number, unknown>)[k];
  const last = keys[keys.length - 1] ?? "";
  if (value.length === 0) delete (node as Record<string | number, unknown>)[last];
  else (node as Record<string | number, unknown>)[last] = value[0];
}

function explain(v: ExchangeVerdict): string {
  return `${v.exchange.method} ${v.exchange.url} -> ${v.exchange.status}: isSuccessful=${String(v.isSuccessful)}\n${v.errors.join("\n")}`;
}

const versionGet = (): RecordedExchange => exampleExchange("GalleryImageVersion_Get_WithReplicationStatus.json", "200");
const ARM = `https://127.0.0.1:8443/subscriptions/${SUBSCRIPTION}`;
const GALLERY = `${ARM}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/g1`;
const json = { "content-type": "application/json; charset=utf-8" };

describe("official examples validate", () => {
  it("every example file stored beside the swagger is referenced by an operation", () => {
    const exampleDir = path.join(path.dirname(SWAGGER_FILE), "examples");
    const stored = fs.readdirSync(exampleDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"));
    expect(stored.length).toBeGreaterThanOrEqual(7);
    const used = new Set(presentExamples().map((op) => path.basename(op.exampleFile)));
    expect([...used].sort()).toEqual(stored.map((f) => path.basename(f)).sort());
  });

  it.each(examples)("$name ($op.operationId)", async ({ op, exchange }) => {
    expect(isGalleryExchange(exchange)).toBe(true);
    const v = await validator.validate(exchange);
    expect(v.isSuccessful, explain(v)).toBe(true);
    expect(v.errors).toEqual([]);
    expect(v.operationId).toBe(op.operationId);
    expect(v.mappedApiVersion).toBeUndefined();
  });
});

describe("contract violations are caught", () => {
  it("wrong type: replicationStatus.summary[0].progress is a string", async () => {
    const x = versionGet();
    edit(x.responseBody, ["properties", "replicationStatus", "summary", 0, "progress"], "fifty");
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(
      /response INVALID_TYPE: Expected type integer but found type string at \/properties\/replicationStatus\/summary\/0\/progress/,
    );
  });

  it("wrong enum value (extensible enum, closed by strictEnums): aggregatedState Done", async () => {
    const x = versionGet();
    edit(x.responseBody, ["properties", "replicationStatus", "aggregatedState"], "Done");
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(
      /ENUM_MISMATCH: No enum match for: Done \(allowed: Unknown, InProgress, Completed, Failed\) at \/properties\/replicationStatus\/aggregatedState/,
    );
  });

  it("wrong enum value in a closed enum: hostCaching", async () => {
    const x = versionGet();
    edit(x.responseBody, ["properties", "storageProfile", "osDiskImage", "hostCaching"], "Sometimes");
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/ENUM_MISMATCH: No enum match for: Sometimes.*hostCaching/);
  });

  it("wrong enum value in a request: share operationType", async () => {
    const x = exampleExchange("Gallery_AddToSharingProfile.json", "202");
    edit(x.requestBody, ["operationType"], "Share");
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/request ENUM_MISMATCH: No enum match for: Share.*operationType/);
  });

  it("missing required property: location of the image version", async () => {
    const x = versionGet();
    edit(x.responseBody, ["location"]);
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/response OBJECT_MISSING_REQUIRED_PROPERTY: Missing required property: location/);
  });

  it("missing required property in a request: share without operationType", async () => {
    const x = exampleExchange("Gallery_AddToSharingProfile.json", "202");
    edit(x.requestBody, ["operationType"]);
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/request .*operationType/);
  });

  it("missing resource id on a GET (ARM rule)", async () => {
    const x = versionGet();
    edit(x.responseBody, ["id"]);
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/MISSING_RESOURCE_ID/);
  });

  it("unknown path under a gallery: not validated, counts as failure", async () => {
    const x: RecordedExchange = {
      method: "GET",
      url: `${GALLERY}/bogus/x?api-version=${CONTRACT_API_VERSION}`,
      requestHeaders: {},
      status: 200,
      responseHeaders: json,
      responseBody: {},
    };
    expect(isGalleryExchange(x)).toBe(true);
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBeUndefined();
    expect(v.operationId).toBeUndefined();
    expect(v.errors.join("\n")).toMatch(/OPERATION_NOT_FOUND_IN_CACHE: Could not find best match operation for verb "get"/);
  });

  it("unknown verb on a known path", async () => {
    const x = versionGet();
    x.method = "POST";
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBeUndefined();
    expect(v.errors.join("\n")).toMatch(/OPERATION_NOT_FOUND/);
  });

  it("missing api-version", async () => {
    const x = versionGet();
    x.url = x.url.replace(/api-version=[^&]*&?/, "");
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBeUndefined();
    expect(v.errors.join("\n")).toMatch(/OPERATION_NOT_FOUND_IN_CACHE_WITH_API: .*unknown-api-version/);
  });

  it("an api-version other than 2025-03-03 / 2025-12-03 is not mapped", async () => {
    const x = versionGet();
    x.url = x.url.replace(CONTRACT_API_VERSION, "2024-03-03");
    const v = await validator.validate(x);
    expect(v.mappedApiVersion).toBeUndefined();
    expect(v.isSuccessful).toBeUndefined();
    expect(v.errors.join("\n")).toMatch(/2024-03-03/);
  });

  it("a 200 GET without a body", async () => {
    const x = versionGet();
    delete x.responseBody;
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/INVALID_RESPONSE_BODY: Body is required/);
  });

  it("a JSON body without Content-Type", async () => {
    const x = versionGet();
    x.responseHeaders = {};
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/INVALID_CONTENT_TYPE/);
  });

  it("an undeclared status code", async () => {
    const x = versionGet();
    x.status = 201;
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/INVALID_RESPONSE_CODE/);
  });

  it("a share 202 without Location or Azure-AsyncOperation", async () => {
    const x = exampleExchange("Gallery_AddToSharingProfile.json", "202");
    x.responseHeaders = json;
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/LRO_RESPONSE_HEADER/);
  });

  it("an error body that is not ARM's CloudError", async () => {
    const x = versionGet();
    x.status = 404;
    x.responseBody = { code: "ResourceNotFound", message: "gone" };
    const v = await validator.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/OBJECT_ADDITIONAL_PROPERTIES.*code/);
  });
});

describe("real ARM shapes the contract accepts", () => {
  it("share 202 as ARM sends it: empty body, no Content-Type, Location + Azure-AsyncOperation", async () => {
    const caps = `${ARM}/providers/Microsoft.Compute/locations/westeurope/capsOperations/6a1f?api-version=2025-12-03`;
    const v = await validator.validate({
      method: "POST",
      url: `${GALLERY}/share?api-version=2025-12-03`,
      requestHeaders: { authorization: "Bearer <redacted>", "content-type": "application/json" },
      requestBody: { operationType: "Add", groups: [{ type: "AADTenants", ids: ["1b4d7e0a-2c5f-4813-9e6a-0d3c8f1b2a41"] }] },
      status: 202,
      responseHeaders: { "content-length": "0", location: caps.replace("?", "?monitor=true&"), "azure-asyncoperation": caps, "retry-after": "1" },
    });
    expect(v.isSuccessful, explain(v)).toBe(true);
    expect(v.operationId).toBe("GallerySharingProfile_Update");
  });

  it("ARM's CloudError on a 404, and a lower-case resourcegroups segment", async () => {
    const x = versionGet();
    x.url = x.url.replace("/resourceGroups/", "/resourcegroups/");
    x.status = 404;
    x.responseBody = { error: { code: "ResourceNotFound", message: "The Resource was not found." } };
    const v = await validator.validate(x);
    expect(v.isSuccessful, explain(v)).toBe(true);
  });

  it("redacted and extra request headers do not matter", async () => {
    const x = versionGet();
    x.requestHeaders = {
      Authorization: "Bearer REDACTED",
      "x-ms-authorization-auxiliary": "Bearer <redacted>, Bearer REDACTED",
      "x-ms-client-request-id": "1",
      "User-Agent": "azsdk-js-arm-compute/25.1.1",
    };
    const v = await validator.validate(x);
    expect(v.isSuccessful, explain(v)).toBe(true);
  });

  it("a body recorded as JSON text", async () => {
    const x = versionGet();
    x.responseBody = JSON.stringify(x.responseBody, null, 2).replace(/\n/g, "\r\n");
    const v = await validator.validate(x);
    expect(v.isSuccessful, explain(v)).toBe(true);
  });

  it("does not modify the exchange it validates", async () => {
    const x = versionGet();
    const before = structuredClone(x);
    await validator.validate(x);
    expect(x).toEqual(before);
  });
});

describe("api-version mapping 2025-12-03 -> 2025-03-03", () => {
  it("rewrites only the api-version value", () => {
    const url = `${GALLERY}/images/i/versions/1.0.0?$expand=ReplicationStatus&api-version=2025-12-03&x=2025-12-03`;
    expect(mapToContractApiVersion(url)).toEqual({
      url: `${GALLERY}/images/i/versions/1.0.0?$expand=ReplicationStatus&api-version=2025-03-03&x=2025-12-03`,
      mappedApiVersion: "2025-12-03",
    });
    expect(mapToContractApiVersion(`${GALLERY}?api-version=2025-03-03`)).toEqual({ url: `${GALLERY}?api-version=2025-03-03` });
    expect(mapToContractApiVersion(`${GALLERY}?api-version=2024-03-03`)).toEqual({ url: `${GALLERY}?api-version=2024-03-03` });
    expect(mapToContractApiVersion(GALLERY)).toEqual({ url: GALLERY });
  });

  it("validates SDK traffic (2025-12-03) as 2025-03-03 and says so in the verdict", async () => {
    const x = versionGet();
    x.url = x.url.replace(CONTRACT_API_VERSION, "2025-12-03");
    const v = await validator.validate(x);
    expect(v.isSuccessful, explain(v)).toBe(true);
    expect(v.mappedApiVersion).toBe("2025-12-03");
    expect(v.exchange.url).toContain("api-version=2025-12-03"); // the verdict keeps the exchange as recorded
  });
});

describe("stock oav enum behaviour (strictEnums: false)", () => {
  it("accepts any value of an extensible enum but still catches a case mismatch", async () => {
    const lenient = await createContractValidator({ specRoot: SPEC_ROOT, strictEnums: false });
    const x = versionGet();
    edit(x.responseBody, ["properties", "replicationStatus", "aggregatedState"], "Done");
    expect((await lenient.validate(x)).isSuccessful).toBe(true);
    edit(x.responseBody, ["properties", "replicationStatus", "aggregatedState"], "completed");
    const v = await lenient.validate(x);
    expect(v.isSuccessful).toBe(false);
    expect(v.errors.join("\n")).toMatch(/ENUM_CASE_MISMATCH/);
  });
});

describe("isGalleryExchange", () => {
  const x = (method: string, url: string): RecordedExchange => ({ method, url, requestHeaders: {}, status: 200, responseHeaders: {} });
  const sub = `https://127.0.0.1:8443/subscriptions/${SUBSCRIPTION}`;
  it.each([
    ["GET", `${sub}/providers/Microsoft.Compute/galleries?api-version=2025-12-03`],
    ["GET", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries?api-version=2025-12-03`],
    ["PUT", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1?api-version=2025-12-03`],
    ["GET", `${sub}/resourcegroups/rg/providers/microsoft.compute/Galleries/g1?$select=Permissions&api-version=2025-12-03`],
    ["PUT", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/images/img?api-version=2025-12-03`],
    ["GET", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/images/img/versions/1.0.0?$expand=ReplicationStatus&api-version=2025-12-03`],
    ["POST", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/share?api-version=2025-12-03`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/sharedGalleries?api-version=2025-12-03&sharedTo=tenant`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/sharedGalleries/U-G1/images/img`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/sharedGalleries/U-G1/images/img/versions/1.0.0?api-version=2025-12-03`],
    ["GET", `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Compute/locations/westeurope/sharedGalleries/U-G1`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/communityGalleries/pub`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/communityGalleries/pub/images/img/versions/1.0.0?api-version=2025-12-03`],
  ])("covers %s %s", (method, url) => {
    expect(isGalleryExchange(x(method, url))).toBe(true);
  });

  it.each([
    ["POST", "https://127.0.0.1:8443/7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01/oauth2/v2.0/token"],
    ["GET", "https://127.0.0.1:8443/7a1c0f4e-0b5d-4c36-9a51-2f3e8d6b1c01/v2.0/.well-known/openid-configuration"],
    ["GET", "https://127.0.0.1:8443/common/discovery/instance?api-version=1.1"],
    ["PUT", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments/0b7e?api-version=2022-04-01`],
    ["GET", `${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`],
    ["PUT", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`],
    ["PUT", `${sub}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1?api-version=2024-05-01`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/capsOperations/6a1f?api-version=2025-12-03`],
    ["GET", `${sub}/providers/Microsoft.Compute/locations/westeurope/capsOperations/6a1f?monitor=true&api-version=2025-12-03`],
    ["POST", "https://127.0.0.1:8443/_emulator/clock/advance"],
    ["POST", "https://127.0.0.1:8443/_eventgrid/topics/outcomes/api/events"],
  ])("does not cover %s %s", (method, url) => {
    expect(isGalleryExchange(x(method, url))).toBe(false);
  });

  it("the VM-from-shared-image example (ComputeRP, not in this swagger) is not covered", () => {
    const vmExample = path.join(
      SPEC_ROOT,
      "specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2025-04-01/examples/virtualMachineExamples/VirtualMachine_Create_FromASharedGalleryImage.json",
    );
    expect(fs.existsSync(vmExample)).toBe(true);
    expect(isGalleryExchange(x("PUT", `${sub}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2025-04-01`))).toBe(
      false,
    );
  });

  it("gallery role-assignment scopes with galleries in the path are still role assignments", () => {
    // The Microsoft.Authorization extension path contains ".../galleries/g1/providers/..." and must not be
    // mistaken for a gallery sub-resource.
    expect(
      isGalleryExchange(x("GET", `${sub}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/providers/Microsoft.Authorization/roleAssignments`)),
    ).toBe(false);
  });
});

describe("readRecording", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "contract-rec-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  it("reads JSON Lines, skipping blank lines, normalising header names and values", () => {
    const file = path.join(dir, "ok.jsonl");
    const line = {
      method: "get",
      url: `${GALLERY}?api-version=2025-12-03`,
      requestHeaders: { Authorization: "Bearer <redacted>" },
      status: 200,
      responseHeaders: { "Content-Type": "application/json", "X-Multi": ["a", "b"], "Retry-After": 5 },
      responseBody: { id: "x" },
      extra: "ignored",
    };
    fs.writeFileSync(file, `${JSON.stringify(line)}\n\n${JSON.stringify({ ...line, status: 404 })}\r\n`);
    const xs = readRecording(file);
    expect(xs).toHaveLength(2);
    expect(xs[0]).toEqual({
      method: "get",
      url: line.url,
      requestHeaders: { authorization: "Bearer <redacted>" },
      status: 200,
      responseHeaders: { "content-type": "application/json", "x-multi": "a, b", "retry-after": "5" },
      responseBody: { id: "x" },
    });
    expect(xs[1]?.status).toBe(404);
  });

  it("names the line that is broken", () => {
    const file = path.join(dir, "bad.jsonl");
    fs.writeFileSync(file, `${JSON.stringify({ method: "GET", url: "/x", status: 200 })}\n{"method": "GET", "url":\n`);
    expect(() => readRecording(file)).toThrow(/bad\.jsonl:2: not JSON/);
    fs.writeFileSync(file, `${JSON.stringify({ method: "GET", url: "/x" })}\n`);
    expect(() => readRecording(file)).toThrow(/bad\.jsonl:1: status must be an integer/);
  });
});
