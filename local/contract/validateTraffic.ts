// Contract check of recorded ARM traffic against the official Azure REST specs (OpenAPI 2.0) with
// oav's LiveValidator: GalleryRP 2025-03-03, Authorization 2022-04-01, ComputeRP 2023-07-01 (VMs,
// scale sets), NetworkRP 2023-05-01 (NICs, virtual networks), and ARM's common OperationStatusResult
// for operation-status polls. Which spec covers which URL: contracts.ts.
// See README.md beside this file.
import { LiveValidator, type LiveValidationIssue, type LiveValidationResult, type RequestResponseLiveValidationResult } from "oav";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  GALLERY_API_VERSION,
  defaultContracts,
  galleryContract,
  repoRoot,
  splitUrl,
  type ContractSet,
  type SpecContract,
  type ToleratedIssue,
} from "./contracts";
import { strictEnumCopy } from "./strictEnums";

export { GALLERY_SWAGGER } from "./contracts";

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
  /** The contract the exchange was validated against, e.g. "GalleryRP 2025-03-03"; none when no contract covers it. */
  contract?: string;
  /** The swagger operation the exchange matched, e.g. "GalleryImageVersions_Get". */
  operationId?: string;
  /** true: request and response both conform. false: a conformance error. undefined: not validated (unknown operation / api-version / runtime error). */
  isSuccessful: boolean | undefined;
  errors: string[];
  /** The api-version the exchange was recorded with, when it was rewritten to the contract's before validating (see mapApiVersion). */
  mappedApiVersion?: string;
  /** Response issues the contract lets through (`toleratedResponseIssues`), described like errors. */
  tolerated?: string[];
}

export interface ContractValidator {
  validate(x: RecordedExchange): Promise<ExchangeVerdict>;
}

export interface ContractValidatorOptions {
  /** Root of the GalleryRP spec tree (mirrors azure-rest-api-specs). Default: `<repo>/specs/compute-gallery`. */
  specRoot?: string;
  /**
   * Treat every enum as closed (default true). The specs mark most enums `x-ms-enum.modelAsString: true`
   * (extensible), and oav then accepts any string except a case variant of a listed value, so
   * `aggregatedState: "Done"` would pass. Our traffic comes from the emulator, which must only produce
   * values the contract lists, so by default a value outside the list is an ENUM_MISMATCH (except a
   * contract's `openEnums`). `false` gives oav's stock behaviour.
   */
  strictEnums?: boolean;
}

/** The api-version of the stored GalleryRP contract. */
export const CONTRACT_API_VERSION = GALLERY_API_VERSION;

/** `<repo>/specs/compute-gallery`: the vendored GalleryRP spec tree (see specs/README.md). */
export function defaultSpecRoot(): string {
  return path.resolve(repoRoot(), "specs", "compute-gallery");
}

// ---------------------------------------------------------------------------------------------
// Which exchanges are covered

/** The contract covering an exchange, if any. A dropped connection (recorded with status 0) has no response to check: none. */
export function contractFor(x: RecordedExchange, set: ContractSet = defaultContracts()): SpecContract | undefined {
  if (x.status === 0) return undefined;
  const { urlPath, query } = splitUrl(x.url);
  return set.contracts.find((c) => c.covers(urlPath, query));
}

/** The named family (served by the emulator, no spec vendored) an uncovered exchange belongs to, if any. */
export function uncoveredFamilyOf(x: RecordedExchange, set: ContractSet = defaultContracts()): string | undefined {
  if (contractFor(x, set)) return undefined;
  const { urlPath, query } = splitUrl(x.url);
  return set.uncovered.find((f) => f.matches(urlPath, query))?.name;
}

/**
 * Whether the GalleryRP contract covers this exchange: Microsoft.Compute galleries (list, get, put,
 * patch, delete), gallery images, image versions, `galleries/{g}/share`, and the consumer-side
 * `locations/{l}/sharedGalleries[...]` and `locations/{l}/communityGalleries[...]`. A role assignment
 * scoped to a gallery is an Authorization exchange, not a gallery one.
 */
export function isGalleryExchange(x: RecordedExchange): boolean {
  const { urlPath, query } = splitUrl(x.url);
  return galleryContract(defaultSpecRoot()).covers(urlPath, query);
}

// ---------------------------------------------------------------------------------------------
// api-version mapping (the one place it is done)

function withApiVersion(url: string, version: string): string {
  return url.replace(/([?&]api-version=)([^&#]*)/i, `$1${version}`);
}

function recordedApiVersion(url: string): string | undefined {
  const m = /[?&]api-version=([^&#]*)/i.exec(url);
  return m ? decodeURIComponent(m[1] ?? "") : undefined;
}

/**
 * Rewrites the api-version of a request URL to the contract's when the contract maps the recorded
 * one; every other URL, and every other part of the URL, is returned unchanged. The verdict records
 * the original version in `mappedApiVersion`, so the mapping is never silent.
 *
 * GalleryRP: `@azure/arm-compute` 25.x sends 2025-12-03, the stored contract is the 2025-03-03 swagger
 * (a verbatim 2025-12-03 swagger could not be taken); for the operations this project uses the two are
 * unchanged (see `specs/compute-gallery/README.txt`). Operation-status polls carry the originating
 * operation's api-version; their contract (operationStatus.json) is version-less, so every one is mapped.
 * Any other api-version is left alone: it must match a loaded swagger or the exchange fails.
 */
export function mapApiVersion(url: string, contract: SpecContract): { url: string; mappedApiVersion?: string } {
  const recorded = recordedApiVersion(url);
  if (recorded === undefined || recorded === contract.apiVersion) return { url };
  const mapped = contract.mappedApiVersions === "any" || contract.mappedApiVersions.includes(recorded);
  return mapped ? { url: withApiVersion(url, contract.apiVersion), mappedApiVersion: recorded } : { url };
}

/** The GalleryRP mapping: `api-version=2025-12-03` becomes `2025-03-03`, nothing else changes. */
export function mapToContractApiVersion(url: string): { url: string; mappedApiVersion?: string } {
  return mapApiVersion(url, galleryContract(defaultSpecRoot()));
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

function isTolerated(issue: LiveValidationIssue, tolerated: readonly ToleratedIssue[]): boolean {
  return tolerated.some(
    (t) =>
      issue.code === t.code &&
      (issue.source.jsonRef ?? "").endsWith(`#/definitions/${t.definition}`) &&
      issue.pathsInPayload.some((p) => p.endsWith(`/${t.property}`)),
  );
}

/** An ARM URL as oav matches it: duplicate slashes collapsed (SDKs send `//subscriptions/...` for a scope that starts with `/`). */
function oavUrl(url: string): string {
  return url.replace(/^(https?:\/\/[^/]+)?\/{2,}/i, "$1/");
}

class OavContractValidator implements ContractValidator {
  constructor(
    private readonly contract: SpecContract,
    private readonly live: LiveValidator,
  ) {}

  async validate(exchange: RecordedExchange): Promise<ExchangeVerdict> {
    const { url, mappedApiVersion } = mapApiVersion(oavUrl(exchange.url), this.contract);
    const method = exchange.method.toUpperCase();
    const reqHeaders = lowerKeys(exchange.requestHeaders);
    const resHeaders = lowerKeys(exchange.responseHeaders);
    const reqBody = jsonBody(exchange.requestBody, reqHeaders);
    const resBody = jsonBody(exchange.responseBody, resHeaders);
    const verdict = (v: Omit<ExchangeVerdict, "exchange" | "mappedApiVersion" | "contract">): ExchangeVerdict => ({
      exchange,
      contract: this.contract.name,
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
    const skippedResponse = result.responseValidationResult === result.requestValidationResult; // the request matched no operation
    const toleratedRules = this.contract.toleratedResponseIssues ?? [];
    const tolerated = skippedResponse
      ? []
      : result.responseValidationResult.errors.filter((i) => isTolerated(i, toleratedRules)).map((i) => describeIssue("response", i));
    const res: SideOutcome = skippedResponse
      ? { ok: req.ok, errors: [] }
      : sideOutcome(
          "response",
          result.responseValidationResult,
          (i) => !(emptyAccepted && i.code === "INVALID_CONTENT_TYPE") && !isTolerated(i, toleratedRules),
        );

    const opId = result.requestValidationResult.operationInfo.operationId;
    const errors = [...new Set([...req.errors, ...res.errors])];
    return verdict({
      ...(opId && opId !== "unknownOperationId" ? { operationId: opId } : {}),
      isSuccessful: combine(req.ok, res.ok),
      errors,
      ...(tolerated.length > 0 ? { tolerated: [...new Set(tolerated)] } : {}),
    });
  }
}

/** Loads one contract's swaggers into a LiveValidator and checks oav really loaded them. */
async function buildValidator(contract: SpecContract, strictEnums: boolean): Promise<ContractValidator> {
  for (const s of contract.swaggers) {
    if (!fs.existsSync(path.join(contract.specRoot, s))) throw new Error(`${contract.name}: swagger ${s} not found under spec root ${contract.specRoot}`);
  }
  const directory = strictEnums ? strictEnumCopy(contract.specRoot, contract.swaggers, contract.openEnums) : contract.specRoot;
  const problems: string[] = [];
  const live = new LiveValidator(
    {
      directory,
      swaggerPathsPattern: [...contract.swaggers],
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
  const probe = live.getOperationInfo({ url: contract.probe.url, method: "GET" });
  if (probe.error !== undefined || probe.info.operationId !== contract.probe.operationId) {
    throw new Error(`oav did not load ${contract.swaggers.join(", ")} from ${directory}:\n${problems.join("\n")}`);
  }
  return new OavContractValidator(contract, live);
}

const cache = new Map<string, Promise<ContractValidator>>();

/** One LiveValidator per contract, spec root and enum mode, built once per process on first use. */
function validatorFor(contract: SpecContract, strictEnums: boolean): Promise<ContractValidator> {
  const key = `${contract.name}\0${contract.specRoot}\0${strictEnums}`;
  let v = cache.get(key);
  if (!v) {
    v = buildValidator(contract, strictEnums);
    cache.set(key, v);
    v.catch(() => cache.delete(key));
  }
  return v;
}

/** Sends each exchange to the validator of the contract covering it; an exchange no contract covers is not validated. */
class ContractDispatcher implements ContractValidator {
  constructor(
    private readonly set: ContractSet,
    private readonly strictEnums: boolean,
  ) {}

  async validate(exchange: RecordedExchange): Promise<ExchangeVerdict> {
    const contract = contractFor(exchange, this.set);
    if (!contract) return { exchange, isSuccessful: undefined, errors: ["no contract covers this exchange"] };
    return (await validatorFor(contract, this.strictEnums)).validate(exchange);
  }
}

/**
 * The contract validator: GalleryRP (loaded eagerly, so a broken spec tree fails here), Authorization
 * and operation status (loaded on first use).
 */
export async function createContractValidator(options: ContractValidatorOptions = {}): Promise<ContractValidator> {
  const set = defaultContracts(options.specRoot ? path.resolve(options.specRoot) : undefined);
  const strictEnums = options.strictEnums ?? true;
  const gallery = set.contracts[0];
  if (gallery) await validatorFor(gallery, strictEnums);
  return new ContractDispatcher(set, strictEnums);
}

// ---------------------------------------------------------------------------------------------
// Recordings, per-spec counts

export interface SpecCount {
  contract: string;
  valid: number;
  invalid: number;
}

export interface UncoveredCount {
  family: string;
  reason: string;
  count: number;
}

export interface RecordingReport {
  /** One verdict per exchange a contract covers, in recording order. */
  verdicts: ExchangeVerdict[];
  /** Per contract, in contract order (every contract listed, also with 0 exchanges). */
  perSpec: SpecCount[];
  /** Exchanges of families the emulator serves whose spec is not vendored (not validated), per family. */
  uncovered: UncoveredCount[];
  /** Exchanges neither covered nor in a named family (Entra, managed identity, resource groups, emulator routes...). */
  skipped: number;
}

/** Validates every covered exchange of a JSONL recording and counts the rest. */
export async function validateRecording(file: string, options: ContractValidatorOptions = {}): Promise<RecordingReport> {
  return validateExchanges(readRecording(file), options);
}

/** Like validateRecording, for exchanges already read. */
export async function validateExchanges(exchanges: readonly RecordedExchange[], options: ContractValidatorOptions = {}): Promise<RecordingReport> {
  const set = defaultContracts(options.specRoot ? path.resolve(options.specRoot) : undefined);
  const validator = await createContractValidator(options);
  const verdicts: ExchangeVerdict[] = [];
  const uncovered = new Map(set.uncovered.map((f) => [f.name, { family: f.name, reason: f.reason, count: 0 }]));
  let skipped = 0;
  for (const x of exchanges) {
    if (contractFor(x, set)) {
      verdicts.push(await validator.validate(x));
      continue;
    }
    const family = uncoveredFamilyOf(x, set);
    const entry = family === undefined ? undefined : uncovered.get(family);
    if (entry) entry.count++;
    else skipped++;
  }
  const perSpec = set.contracts.map((c) => {
    const mine = verdicts.filter((v) => v.contract === c.name);
    const valid = mine.filter((v) => v.isSuccessful === true).length;
    return { contract: c.name, valid, invalid: mine.length - valid };
  });
  return { verdicts, perSpec, uncovered: [...uncovered.values()], skipped };
}

/** `contract: GalleryRP 2025-03-03: 33 exchanges valid; Authorization 2022-04-01: 3; ...` (failures named per spec). */
export function perSpecSummary(report: RecordingReport): string {
  const parts = report.perSpec.map((s, i) => {
    const count = i === 0 ? `${s.valid} exchanges valid` : String(s.valid);
    return `${s.contract}: ${count}${s.invalid > 0 ? ` (${s.invalid} failed)` : ""}`;
  });
  return `contract: ${parts.join("; ")}`;
}

/** `not validated (no spec vendored): ComputeRP ...: 51; ...` */
export function uncoveredSummary(report: RecordingReport): string {
  const parts = report.uncovered.filter((u) => u.count > 0).map((u) => `${u.family}: ${u.count}`);
  return `not validated (no spec vendored): ${parts.length > 0 ? parts.join("; ") : "none"}; outside every contract (Entra, identity, resource groups, emulator routes): ${report.skipped}`;
}
