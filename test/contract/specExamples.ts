// Turns the official x-ms-example files stored beside a swagger (GalleryRP by default, or the
// Authorization swaggers) into recorded exchanges.
// An example file holds `parameters` (path/query/body values by parameter name) and `responses`
// (status -> { headers?, body? }); the swagger's x-ms-examples $refs say which operation it belongs to.
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTRACT_API_VERSION, GALLERY_SWAGGER, defaultSpecRoot, type RecordedExchange } from "../../local/contract/validateTraffic";

export const SPEC_ROOT = defaultSpecRoot();
export const SWAGGER_FILE = path.join(SPEC_ROOT, GALLERY_SWAGGER);
const AUTHORIZATION_DIR = path.join(
  defaultSpecRoot(),
  "..",
  "authorization",
  "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01",
);
/** The two Authorization 2022-04-01 swaggers (role assignments; role definitions and permissions). */
export const AUTHORIZATION_SWAGGERS = ["authorization-RoleAssignmentsCalls.json", "authorization-RoleDefinitionsCalls.json"].map((f) =>
  path.join(AUTHORIZATION_DIR, f),
);
export const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const HOST = "https://management.azure.com";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readJson(file: string): JsonObject {
  const v = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
  if (!isObject(v)) throw new Error(`${file}: not a JSON object`);
  return v;
}

/** Resolves a `$ref` ("file#/a/b" or "#/a/b") relative to `fromFile`. */
function resolveRef(ref: string, fromFile: string): JsonObject {
  const [file, pointer = ""] = ref.split("#");
  const target = file ? path.resolve(path.dirname(fromFile), file) : fromFile;
  let node: Json | undefined = readJson(target);
  for (const part of pointer.split("/").filter((p) => p !== "")) {
    node = isObject(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  if (!isObject(node)) throw new Error(`unresolvable $ref ${ref} from ${fromFile}`);
  return node;
}

export interface ExampleOperation {
  swaggerFile: string;
  exampleFile: string; // relative to the swagger's folder, e.g. examples/galleryExamples/X.json
  operationId: string;
  method: string;
  pathTemplate: string;
  parameters: { name: string; in: string; skipEncoding: boolean }[];
}

/** The operations of the swagger whose x-ms-examples point at a file that is present. */
export function presentExamples(swaggerFile: string = SWAGGER_FILE): ExampleOperation[] {
  const swagger = readJson(swaggerFile);
  const paths = swagger.paths;
  if (!isObject(paths)) throw new Error("swagger has no paths");
  const out: ExampleOperation[] = [];
  for (const [pathTemplate, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op) || !isObject(op["x-ms-examples"])) continue;
      const params = Array.isArray(op.parameters) ? op.parameters : [];
      const parameters = params.filter(isObject).map((p) => {
        const resolved = typeof p.$ref === "string" ? resolveRef(p.$ref, swaggerFile) : p;
        return { name: String(resolved.name), in: String(resolved.in), skipEncoding: resolved["x-ms-skip-url-encoding"] === true };
      });
      for (const ex of Object.values(op["x-ms-examples"])) {
        if (!isObject(ex) || typeof ex.$ref !== "string") continue;
        const exampleFile = path.posix.normalize(ex.$ref);
        if (!fs.existsSync(path.join(path.dirname(swaggerFile), exampleFile))) continue;
        out.push({ swaggerFile, exampleFile, operationId: String(op.operationId), method: method.toUpperCase(), pathTemplate, parameters });
      }
    }
  }
  return out;
}

/** Examples are templates: fill the placeholders as live traffic would carry real values. */
function instantiate(v: Json): Json {
  if (typeof v === "string") {
    return v.replace(/\{subscription-?id\}/gi, SUBSCRIPTION).replace(/\{token\}/g, "token1");
  }
  if (Array.isArray(v)) return v.map(instantiate);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, instantiate(x)]));
  return v;
}

/**
 * One exchange per response status of the example. The api-version is always the contract's:
 * GalleryImageVersion_Get_WithReplicationStatus.json still says 2024-03-03 and SharedGallery_Get.json
 * names it `version` (both stored verbatim, see the spec README).
 */
export function exchangesFromExample(op: ExampleOperation, apiVersion: string = CONTRACT_API_VERSION): { status: string; exchange: RecordedExchange }[] {
  const example = instantiate(readJson(path.join(path.dirname(op.swaggerFile), op.exampleFile)));
  if (!isObject(example) || !isObject(example.parameters) || !isObject(example.responses)) {
    throw new Error(`${op.exampleFile}: not an x-ms-example`);
  }
  const values = example.parameters;
  const urlPath = op.pathTemplate.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = values[name];
    if (typeof v !== "string") throw new Error(`${op.exampleFile}: no value for path parameter ${name}`);
    // A scope (x-ms-skip-url-encoding) is a path of its own: `subscriptions/{s}/...`.
    return op.parameters.find((p) => p.name === name)?.skipEncoding ? v.replace(/^\//, "") : encodeURIComponent(v);
  });
  const query = new URLSearchParams({ "api-version": apiVersion });
  let requestBody: Json | undefined;
  for (const p of op.parameters) {
    const v = values[p.name];
    if (v === undefined) continue;
    if (p.in === "query" && p.name !== "api-version") query.set(p.name, String(v));
    if (p.in === "body") requestBody = v;
  }
  const requestHeaders: Record<string, string> = { authorization: "Bearer <redacted>" };
  if (requestBody !== undefined) requestHeaders["content-type"] = "application/json";
  return Object.entries(example.responses).map(([status, rsp]) => {
    const r = isObject(rsp) ? rsp : {};
    const responseHeaders: Record<string, string> = {};
    if (isObject(r.headers)) for (const [k, v] of Object.entries(r.headers)) responseHeaders[k.toLowerCase()] = String(v);
    if (r.body !== undefined) responseHeaders["content-type"] = "application/json; charset=utf-8";
    const exchange: RecordedExchange = {
      method: op.method,
      url: `${HOST}${urlPath}?${query.toString()}`,
      requestHeaders,
      status: Number(status),
      responseHeaders,
    };
    if (requestBody !== undefined) exchange.requestBody = requestBody;
    if (r.body !== undefined) exchange.responseBody = r.body;
    return { status, exchange };
  });
}
