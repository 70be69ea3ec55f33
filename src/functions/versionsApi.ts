// Safe rollouts over HTTP (function key):
//   GET  /api/versions/{versionId}          a version's publish (replication, rollout rings, promotion), revocation and its run
//   POST /api/versions/{versionId}/revoke   revoke a version: recorded with who and why, then revokeImageVersion runs
//   PUT  /api/tenants/{tenantId}/ring       move a tenant to another rollout ring
// {versionId} is the 32-hex key of the version (the hash in its publish's instance id `publish-<key>`;
// GalleryShare events and GET /api/status show it). Who asks comes from App Service Authentication
// (X-MS-CLIENT-PRINCIPAL-NAME) when the app sits behind it, else from the body's `requestedBy`.
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { AppConfig } from "../config";
import type { Registry } from "../azure/registry";
import { findInstance } from "../azure/durableInstances";
import { revokeInstanceId, versionKeyOf } from "../domain/instanceIds";
import { REVOKE_IMAGE_VERSION } from "../domain/orchestrationNames";
import { resourceIdIssue, sameResourceId } from "../domain/resourceIds";
import { isObject, readableTextIssue, isGuid } from "../domain/validation";
import type { RevokeImageVersionInput } from "../orchestrations/revokeImageVersion";

const MAX_REASON = 500;
const RUNNING = new Set(["Pending", "Running", "ContinuedAsNew", "Suspended"]);

export interface VersionsApiDeps {
  readonly registry: Registry;
  readonly config: AppConfig;
}

function problem(status: number, code: string, message: string, fields?: readonly { path: string; rule: string }[]): HttpResponse {
  return new HttpResponse({ status, jsonBody: { error: { code, message, ...(fields ? { fields } : {}) } } });
}

/** `{versionId}`: the 32-hex key, or the publish's instance id. */
function versionKeyFrom(request: HttpRequest): string | undefined {
  const raw = (request.params.versionId ?? "")
    .trim()
    .toLowerCase()
    .replace(/^publish-/, "");
  return /^[0-9a-f]{32}$/.test(raw) ? raw : undefined;
}

/** What the app holds of a version: its record, its publish and its revocation run, read together once. */
async function readVersion(client: DurableClient, deps: VersionsApiDeps, key: string) {
  const [record, publish, revoke] = await Promise.all([
    deps.registry.findImageVersion(key),
    findInstance(client, `publish-${key}`),
    findInstance(client, revokeInstanceId(key)),
  ]);
  const inputId = (status: typeof publish): string | undefined => {
    const input: unknown = status?.input;
    return isObject(input) && typeof input.imageVersionId === "string" ? input.imageVersionId : undefined;
  };
  return { record, publish, revoke, imageVersionId: record?.record.imageVersionId ?? inputId(publish) ?? inputId(revoke) };
}

/** A version id a caller gave: used only when it is one and its key is the route's. */
function givenId(given: unknown, key: string): string | undefined {
  return typeof given === "string" && resourceIdIssue("imageVersion", given) === undefined && versionKeyOf(given) === key ? given : undefined;
}

/** Who asks: the signed-in principal (App Service Authentication), else the body's `requestedBy`. */
function requesterOf(request: HttpRequest, body: Record<string, unknown>): string | undefined {
  const signedIn = request.headers.get("x-ms-client-principal-name")?.trim();
  if (signedIn) return signedIn.slice(0, 200);
  const named = typeof body.requestedBy === "string" ? body.requestedBy.trim() : "";
  return named && readableTextIssue(named) === undefined ? named.slice(0, 200) : undefined;
}

async function jsonBodyOf(request: HttpRequest): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await request.json();
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

export async function getVersion(client: DurableClient, deps: VersionsApiDeps, request: HttpRequest): Promise<HttpResponse> {
  const key = versionKeyFrom(request);
  if (!key) return problem(400, "InvalidVersionId", "versionId must be the version's 32-hex key (or its publish instance id publish-<key>)");
  const { record, publish, revoke, imageVersionId } = await readVersion(client, deps, key);
  if (!imageVersionId) return problem(404, "VersionNotFound", `no publish, revocation or record of version ${key}`);
  const run = (status: typeof publish) =>
    status
      ? {
          instanceId: status.instanceId,
          runtimeStatus: status.runtimeStatus,
          status: status.runtimeStatus === "Completed" ? status.output : status.customStatus,
          ...(status.runtimeStatus === "Completed" && isObject(status.customStatus) ? { progress: status.customStatus } : {}),
        }
      : null;
  return new HttpResponse({
    status: 200,
    jsonBody: {
      versionId: key,
      imageVersionId,
      publish: run(publish),
      revocation: record?.record.revoked ?? null,
      promotion: record?.record.promoted ?? null,
      revoke: run(revoke),
    },
  });
}

export async function revokeVersion(client: DurableClient, deps: VersionsApiDeps, request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const key = versionKeyFrom(request);
  if (!key) return problem(400, "InvalidVersionId", "versionId must be the version's 32-hex key (or its publish instance id publish-<key>)");
  const body = await jsonBodyOf(request);
  if (!body) return problem(400, "InvalidRequest", 'the body must be a JSON object: { "reason": "...", "requestedBy": "..." }');
  const fields: { path: string; rule: string }[] = [];
  const reason = typeof body.reason === "string" ? body.reason.trim() : "";
  if (reason === "" || reason.length > MAX_REASON)
    fields.push({ path: "reason", rule: `is required: why the version is revoked (1-${MAX_REASON} characters)` });
  else if (readableTextIssue(reason)) fields.push({ path: "reason", rule: readableTextIssue(reason) ?? "" });
  const by = requesterOf(request, body);
  if (!by) fields.push({ path: "requestedBy", rule: "is required without App Service Authentication: who asks for the revocation" });
  if (fields.length > 0 || !by) return problem(400, "InvalidRequest", "the revocation request is invalid", fields);
  const known = await readVersion(client, deps, key);
  const imageVersionId = known.imageVersionId ?? givenId(body.imageVersionId, key);
  if (!imageVersionId) return problem(404, "VersionNotFound", `no publish or record of version ${key}: send its imageVersionId in the body`);
  if (!deps.config.galleryIds.some((g) => sameResourceId(imageVersionId.replace(/\/images\/.*$/i, ""), g))) {
    return problem(400, "NotManaged", `${imageVersionId} is not in a gallery this app manages (GALLERY_IDS)`);
  }
  const at = new Date().toISOString();
  // Recorded before anything else: from now on no publish promotes the version. The first revocation's reason stays.
  const stored = await deps.registry.updateImageVersion(imageVersionId, (current) =>
    current?.revoked ? current : { ...(current ?? { imageVersionId }), revoked: { reason, by, at } },
  );
  const instanceId = revokeInstanceId(key);
  const existing = known.revoke;
  const running = existing !== undefined && RUNNING.has(String(existing.runtimeStatus));
  const done = existing?.runtimeStatus === "Completed";
  if (!running && !done) {
    const input: RevokeImageVersionInput = {
      imageVersionId,
      reason: stored.record.revoked?.reason ?? reason,
      requestedBy: stored.record.revoked?.by ?? by,
      requestedAt: stored.record.revoked?.at ?? at,
      retry: deps.config.retry,
      rollout: { rings: deps.config.rollout.rings, soakMinutes: deps.config.rollout.soakMinutes },
      workloads: { creationsInFlight: deps.config.creationsInFlight },
    };
    await client.startNew(REVOKE_IMAGE_VERSION, { instanceId, input });
    context.log(`versions: ${imageVersionId} revoked by ${by}; ${instanceId} started`);
  }
  return new HttpResponse({
    status: done ? 200 : 202,
    jsonBody: { versionId: key, imageVersionId, instanceId, revocation: stored.record.revoked, statusUrl: `/api/versions/${key}` },
  });
}

export async function setTenantRing(deps: VersionsApiDeps, request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const tenantId = request.params.tenantId ?? "";
  if (!isGuid(tenantId)) return problem(400, "InvalidTenantId", "tenantId must be a GUID");
  const body = await jsonBodyOf(request);
  if (!body) return problem(400, "InvalidRequest", 'the body must be a JSON object: { "ring": 0, "requestedBy": "..." }');
  const last = deps.config.rollout.rings - 1;
  const fields: { path: string; rule: string }[] = [];
  const ring = body.ring;
  if (typeof ring !== "number" || !Number.isInteger(ring) || ring < 0 || ring > last)
    fields.push({ path: "ring", rule: `must be a whole number from 0 to ${last} (ROLLOUT_RINGS is ${last + 1}; 0 are the canaries)` });
  const by = requesterOf(request, body);
  if (!by) fields.push({ path: "requestedBy", rule: "is required without App Service Authentication: who moves the tenant" });
  if (fields.length > 0 || !by || typeof ring !== "number") return problem(400, "InvalidRequest", "the ring change is invalid", fields);
  if (!(await deps.registry.getTenant(tenantId))) return problem(404, "TenantNotFound", `tenant ${tenantId.toLowerCase()} is not registered`);
  const at = new Date().toISOString();
  const stored = await deps.registry.updateTenant(tenantId, (current) => {
    if (!current) throw new Error(`tenant ${tenantId} disappeared`);
    return { ...current, ring, ringSet: { by, at } };
  });
  context.log(`tenants: ${stored.record.tenantId} moved to ring ${ring} by ${by}`);
  return new HttpResponse({ status: 200, jsonBody: { tenantId: stored.record.tenantId, ring, ringSet: stored.record.ringSet } });
}
