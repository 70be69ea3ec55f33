// Contract check of recorded ARM gallery traffic against the official GalleryRP REST spec
// (OpenAPI 2.0, api-version 2025-03-03) with oav's LiveValidator. See README.md beside this file.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LiveValidator, type LiveValidationIssue, type LiveValidationResult, type RequestResponseLiveValidationResult } from "oav";

/** One HTTP exchange as the emulator records it (one JSON object per line of a .jsonl file). */
export interface RecordedExchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody?: unknown;
}

export interface ExchangeVerdict {
  exchange: RecordedExchange;
  /** The swagger operation the exchange matched, e.g. "GalleryImageVersions_Get". */
  operationId?: string;
  /** true: request and response both conform. false: a conformance error. undefined: not validated (unknown operation / api-version / runtime error). */
  isSuccessful: boolean | undefined;
  errors: string[];
  /** The api-version the exchange was recorded with, when it was rewritten to the contract's before validating (see mapToContractApiVersion). */
  mappedApiVersion?: string;
}

export interface ContractValidator {
  validate(x: RecordedExchange): Promise<ExchangeVerdict>;
}

export interface ContractValidatorOptions {
  /** Root of the spec tree (mirrors azure-rest-api-specs). Default: `<repo>/specs/compute-gallery`. */
  specRoot?: string;
  /**
   * Treat every enum as closed (default true). The spec marks most enums `x-ms-enum.modelAsString: true`
   * (extensible), and oav then accepts any string except a case variant of a listed value, so
   * `aggregatedState: "Done"` would pass. Our traffic comes from the emulator, which must only produce
   * values the contract lists, so by default a value outside the list is an ENUM_MISMATCH.
   * `false` gives oav's stock behaviour.
   */
  strictEnums?: boolean;
}

/** The api-version of the stored contract (the GalleryRP swagger this module loads). */
export const CONTRACT_API_VERSION = "2025-03-03";
/** The api-version @azure/arm-compute 25.x sends for gallery operations. */
export const SDK_GALLERY_API_VERSION = "2025-12-03";

/** The swagger loaded, relative to the spec root. Only this file (plus what it $refs) is loaded: fast. */
export const GALLERY_SWAGGER =
  "specification/compute/resource-manager/Microsoft.Compute/GalleryRP/stable/2025-03-03/GalleryRP.json";

/** The repo root: the nearest directory above this module holding package.json (works from dist/ too). */
function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, "..", "..");
  }
}

/** `<repo>/specs/compute-gallery`: the vendored spec tree (see specs/README.md). */
export function defaultSpecRoot(): string {
  return path.resolve(repoRoot(), "specs", "compute-gallery");
}

// ---------------------------------------------------------------------------------------------
// Which exchanges the contract covers

const ARM_BASE = "https://management.azure.com";

// Resource families of the GalleryRP swagger this project uses. Everything at or below them is
// covered, so an operation the swagger does not define (a typo'd path, an unsupported verb) is
// validated and fails instead of being skipped.
const GALLERY_PATHS: readonly RegExp[] = [
  // galleries (subscription and resource-group scope), images, versions, share, ...
  /^\/subscriptions\/[^/]+(?:\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.Compute\/galleries(?:\/.*)?$/i,
  // consumer view: sharedGalleries, .../images, .../images/{i}/versions
  /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/locations\/[^/]+\/sharedGalleries(?:\/.*)?$/i,
];

function urlPath(url: string): string {
  try {
    return new URL(url, ARM_BASE).pathname.replace(/\/+$/, "");
  } catch {
    return "";
  }
}

/**
 * Whether the contract covers this exchange: Microsoft.Compute galleries (list, get, put, patch,
 * delete), gallery images, image versions, `galleries/{g}/share`, and the consumer-side
 * `locations/{l}/sharedGalleries[/{u}/images[/{i}/versions[/{v}]]]`, all of which the 2025-03-03
 * GalleryRP swagger defines. Not covered: Entra (`/{tenant}/oauth2/...`, `/.well-known/...`),
 * role assignments (also those scoped to a gallery), virtual machines, network interfaces, `locations/{l}/capsOperations/{id}` LRO
 * polling (the swagger defines no operation-status path), and the emulator's own `/_emulator` and
 * `/_eventgrid` routes.
 */
export function isGalleryExchange(x: RecordedExchange): boolean {
  const p = urlPath(x.url);
  // A second `/providers/` means an extension resource scoped to a gallery (a role assignment on it).
  const providerSegments = p.match(/\/providers\//gi)?.length ?? 0;
  return providerSegments === 1 && GALLERY_PATHS.some((re) => re.test(p));
}

// ---------------------------------------------------------------------------------------------
// api-version mapping (the one place it is done)

/**
 * Rewrites `api-version=2025-12-03` in a request URL to `api-version=2025-03-03`; every other URL,
 * and every other part of the URL, is returned unchanged.
 *
 * Why: `@azure/arm-compute` 25.x sends api-version 2025-12-03 for gallery operations, but the stored
 * contract (`specs/compute-gallery`) is the 2025-03-03 GalleryRP swagger; a verbatim copy of
 * the 2025-12-03 swagger could not be taken. For the operations this project uses (image version GET
 * with `$expand=ReplicationStatus`, gallery share POST, sharedGalleries list/get,
 * sharedGalleryImages/sharedGalleryImageVersions list/get, and the gallery / image / version CRUD that
 * sets them up) the two versions are unchanged (see `specs/compute-gallery/README.txt`), so
 * 2025-03-03 is the contract and traffic recorded with 2025-12-03 is validated as 2025-03-03.
 * Without the mapping oav finds no operation for 2025-12-03 and leaves `isSuccessful` undefined.
 * The verdict records the original version in `mappedApiVersion`, so the mapping is never silent.
 * Any other api-version is left alone: it must match a loaded swagger or the exchange fails.
 */
export function mapToContractApiVersion(url: string): { url: string; mappedApiVersion?: string } {
  const re = /([?&]api-version=)([^&#]*)/i;
  const m = re.exec(url);
  if (!m || decodeURIComponent(m[2] ?? "") !== SDK_GALLERY_API_VERSION) return { url };
  return { url: url.replace(re, `$1${CONTRACT_API_VERSION}`), mappedApiVersion: SDK_GALLERY_API_VERSION };
}

// ---------------------------------------------------------------------------------------------
// Recordings

function headerMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${where}: headers must be an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.map(String).join(", ") : String(v);
  }
  return out;
}

/** Reads a JSON Lines recording: one RecordedExchange per non-blank line. Throws naming the bad line. */
export function readRecording(file: string): RecordedExchange[] {
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
  const out: RecordedExchange[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${file}:${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not JSON (${(e as Error).message})`, { cause: e });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${where}: expected a JSON object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.method !== "string" || typeof r.url !== "string") throw new Error(`${where}: method and url must be strings`);
    const status = typeof r.status === "string" ? Number(r.status) : r.status;
    if (typeof status !== "number" || !Number.isInteger(status)) throw new Error(`${where}: status must be an integer`);
    const x: RecordedExchange = {
      method: r.method,
      url: r.url,
      requestHeaders: headerMap(r.requestHeaders, where),
      status,
      responseHeaders: headerMap(r.responseHeaders, where),
    };
    if (r.requestBody !== undefined) x.requestBody = r.requestBody;
    if (r.responseBody !== undefined) x.responseBody = r.responseBody;
    out.push(x);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The validator

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/** A recorded body as oav wants it: parsed JSON, or undefined when there is none. */
function jsonBody(body: unknown, headers: Record<string, string>): Record<string, unknown> | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") {
    if (body.trim() === "") return undefined;
    const ct = headers["content-type"] ?? "";
    if (ct === "" || /json/i.test(ct)) {
      try {
        return JSON.parse(body) as Record<string, unknown>;
      } catch {
        // left as a string: the schema check reports the type mismatch
      }
    }
  }
  // oav types bodies as string maps but validates any JSON value against the schema.
  return structuredClone(body) as Record<string, unknown>;
}

function describeIssue(side: string, issue: LiveValidationIssue): string {
  const at = issue.pathsInPayload.filter((p) => p !== "").join(", ");
  const ref = issue.source.jsonRef ? ` (spec ${issue.source.jsonRef})` : "";
  const params: unknown = issue.params;
  const allowed = issue.code === "ENUM_MISMATCH" && Array.isArray(params) && Array.isArray(params[1]) ? ` (allowed: ${params[1].join(", ")})` : "";
  return `${side} ${issue.code}: ${issue.message}${allowed}${at ? ` at ${at}` : ""}${ref}`;
}

interface SideOutcome {
  ok: boolean | undefined;
  errors: string[];
}

function sideOutcome(side: string, r: LiveValidationResult, keep: (i: LiveValidationIssue) => boolean): SideOutcome {
  const errors = r.errors.filter(keep).map((i) => describeIssue(side, i));
  if (r.runtimeException) {
    return { ok: undefined, errors: [...errors, `${side} ${r.runtimeException.code}: ${r.runtimeException.message}`] };
  }
  if (r.isSuccessful === undefined) return { ok: undefined, errors: [...errors, `${side}: not validated by oav`] };
  return { ok: errors.length === 0, errors };
}

function combine(a: boolean | undefined, b: boolean | undefined): boolean | undefined {
  if (a === false || b === false) return false;
  if (a === undefined || b === undefined) return undefined;
  return true;
}

/**
 * A copy of the spec tree's JSON files with every x-ms-enum made closed, in a directory under the OS
 * temp dir named by a hash of the inputs: built once, reused by later processes (test workers are
 * killed without an exit hook, so a per-process copy could not be cleaned up reliably).
 */
function strictEnumCopy(specRoot: string): string {
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(specRoot, rel), { withFileTypes: true })) {
      const r = path.join(rel, entry.name);
      // Examples are not needed: oav erases x-ms-examples before resolving $refs (see README).
      if (entry.isDirectory()) {
        if (entry.name !== "examples") walk(r);
      } else if (entry.name.endsWith(".json")) {
        // Same-line textual edit, so oav's source positions still point at the official file's lines.
        const text = fs.readFileSync(path.join(specRoot, r), "utf8");
        files.set(r, text.replace(/"modelAsString"(\s*):(\s*)true/g, '"modelAsString"$1:$2false'));
      }
    }
  };
  walk("specification");
  const hash = createHash("sha256").update("strict-enums-v1");
  for (const [r, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) hash.update(`\0${r}\0${text}`);
  const dir = path.join(os.tmpdir(), `gallery-share-contract-${hash.digest("hex").slice(0, 16)}`);
  if (fs.existsSync(dir)) return dir;
  const staging = fs.mkdtempSync(`${dir}.tmp-`);
  for (const [r, text] of files) {
    fs.mkdirSync(path.dirname(path.join(staging, r)), { recursive: true });
    fs.writeFileSync(path.join(staging, r), text);
  }
  try {
    fs.renameSync(staging, dir);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw e; // else another process won the race with the same content
  }
  return dir;
}

class OavContractValidator implements ContractValidator {
  constructor(private readonly live: LiveValidator) {}

  async validate(exchange: RecordedExchange): Promise<ExchangeVerdict> {
    const { url, mappedApiVersion } = mapToContractApiVersion(exchange.url);
    const method = exchange.method.toUpperCase();
    const reqHeaders = lowerKeys(exchange.requestHeaders);
    const resHeaders = lowerKeys(exchange.responseHeaders);
    const reqBody = jsonBody(exchange.requestBody, reqHeaders);
    const resBody = jsonBody(exchange.responseBody, resHeaders);
    const verdict = (v: Omit<ExchangeVerdict, "exchange" | "mappedApiVersion">): ExchangeVerdict => ({
      exchange,
      ...v,
      ...(mappedApiVersion ? { mappedApiVersion } : {}),
    });

    let result: RequestResponseLiveValidationResult;
    try {
      result = await this.live.validateLiveRequestResponse({
        liveRequest: { url, method, headers: reqHeaders, ...(reqBody !== undefined ? { body: reqBody } : {}) },
        liveResponse: { statusCode: String(exchange.status), headers: resHeaders, ...(resBody !== undefined ? { body: resBody } : {}) },
      });
    } catch (e) {
      return verdict({ isSuccessful: undefined, errors: [`oav threw: ${(e as Error).message}`] });
    }
    if (result.runtimeException) {
      return verdict({ isSuccessful: undefined, errors: [`${result.runtimeException.code}: ${result.runtimeException.message}`] });
    }

    const req = sideOutcome("request", result.requestValidationResult, () => true);
    // ARM answers an accepted LRO (202) with an empty body and no Content-Type (real traffic: the share
    // POST gives 202, content-length 0). With no body there is no content to type, so oav's
    // INVALID_CONTENT_TYPE (it assumes application/octet-stream when the header is absent) is dropped there.
    const emptyAccepted = exchange.status === 202 && resBody === undefined && resHeaders["content-type"] === undefined;
    const res: SideOutcome =
      result.responseValidationResult === result.requestValidationResult
        ? { ok: req.ok, errors: [] } // oav skipped the response: the request matched no operation
        : sideOutcome("response", result.responseValidationResult, (i) => !(emptyAccepted && i.code === "INVALID_CONTENT_TYPE"));

    const opId = result.requestValidationResult.operationInfo.operationId;
    const errors = [...new Set([...req.errors, ...res.errors])];
    return verdict({
      ...(opId && opId !== "unknownOperationId" ? { operationId: opId } : {}),
      isSuccessful: combine(req.ok, res.ok),
      errors,
    });
  }
}

async function buildValidator(specRoot: string, strictEnums: boolean): Promise<ContractValidator> {
  if (!fs.existsSync(path.join(specRoot, GALLERY_SWAGGER))) {
    throw new Error(`GalleryRP swagger not found under spec root ${specRoot}`);
  }
  const directory = strictEnums ? strictEnumCopy(specRoot) : specRoot;
  const problems: string[] = [];
  const live = new LiveValidator(
    {
      directory,
      swaggerPathsPattern: [GALLERY_SWAGGER],
      git: { shouldClone: false },
      isPathCaseSensitive: false, // ARM ids are case-insensitive (resourcegroups vs resourceGroups)
      isArmCall: true, // ARM rules: `id` on GET/PUT resources, LRO 202 needs Location or Azure-AsyncOperation
      eraseXmsExamples: true, // oav's default, made explicit: example files not copied are never read
      loadSuppression: [], // no readme.md suppressions: validate against the swagger as written
      loadValidatorInBackground: false, // no floating background work; validators are built on first use
      loadValidatorInInitialize: false,
    },
    (message, level) => {
      if ((level === "error" || level === "warn") && problems.length < 20) problems.push(message);
    },
  );
  await live.initialize();
  // oav logs and skips a swagger it cannot load; fail loudly instead.
  const probe = live.getOperationInfo({
    url: `/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g?api-version=${CONTRACT_API_VERSION}`,
    method: "GET",
  });
  if (probe.error !== undefined || probe.info.operationId !== "Galleries_Get") {
    throw new Error(`oav did not load ${GALLERY_SWAGGER} from ${directory}:\n${problems.join("\n")}`);
  }
  return new OavContractValidator(live);
}

const cache = new Map<string, Promise<ContractValidator>>();

/** Builds oav's LiveValidator for the GalleryRP swagger once per process (per spec root and enum mode). */
export function createContractValidator(options: ContractValidatorOptions = {}): Promise<ContractValidator> {
  const specRoot = path.resolve(options.specRoot ?? defaultSpecRoot());
  const strictEnums = options.strictEnums ?? true;
  const key = `${specRoot}\0${strictEnums}`;
  let v = cache.get(key);
  if (!v) {
    v = buildValidator(specRoot, strictEnums);
    cache.set(key, v);
    v.catch(() => cache.delete(key));
  }
  return v;
}

export interface RecordingReport {
  verdicts: ExchangeVerdict[];
  /** Exchanges the contract does not cover (Entra, role assignments, VMs, LRO polls, emulator routes...). */
  skipped: number;
}

/** Validates every gallery exchange of a JSONL recording. */
export async function validateRecording(file: string, options: ContractValidatorOptions = {}): Promise<RecordingReport> {
  const exchanges = readRecording(file);
  const validator = await createContractValidator(options);
  const verdicts: ExchangeVerdict[] = [];
  for (const x of exchanges.filter(isGalleryExchange)) verdicts.push(await validator.validate(x));
  return { verdicts, skipped: exchanges.length - verdicts.length };
}
