// Helpers shared by the ARM route modules.
import type { Ctx } from "../context";
import type { EmuResponse } from "../http";
import { asyncHeaders, type NewOperation, type Operation } from "../lro";
import type { ResourceGroup } from "../store";
import { ArmError, errors } from "./errors";
import { allRegionNames, findRegion, type Region } from "./regions";

export function requireResourceGroup(ctx: Ctx, subscriptionId: string, resourceGroup: string): ResourceGroup {
  const rg = ctx.core.world.resourceGroup(subscriptionId, resourceGroup);
  if (!rg) throw errors.resourceGroupNotFound(resourceGroup);
  return rg;
}

export function requireRegion(input: unknown, resourceType: string): Region {
  if (typeof input !== "string" || input.trim() === "") {
    throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
  }
  const region = findRegion(input);
  if (!region) throw errors.locationNotAvailable(input, resourceType, allRegionNames());
  return region;
}

/** Counts a Compute RP gallery policy call; 429 in the Compute RP's words when a window is full. */
export function computeWindow(ctx: Ctx, subscriptionId: string, policy: string): Record<string, string> {
  const windows = ctx.core.windows;
  if (!windows) return {};
  const r = windows.count(subscriptionId, policy);
  if (r.ok) return r.header ? { "x-ms-ratelimit-remaining-resource": r.header } : {};
  const detail = JSON.stringify({
    operationGroup: r.policy,
    startTime: new Date(r.windowStart).toISOString(),
    endTime: new Date(r.windowEnd).toISOString(),
    allowedRequestCount: r.allowed,
    measuredRequestCount: r.measured,
  });
  throw new ArmError(429, "OperationNotAllowed", "The server rejected the request because too many requests have been received for this subscription.", {
    details: [{ code: "TooManyRequests", target: r.policy, message: detail }],
    headers: { "retry-after": String(r.retryAfterSeconds), "x-ms-ratelimit-remaining-resource": `Microsoft.Compute/${r.policy};0` },
  });
}

export function startOperation(ctx: Ctx, spec: Omit<NewOperation, "apiVersion" | "forced">): Operation {
  return ctx.core.ops.create({ ...spec, apiVersion: ctx.apiVersion ?? "", ...(ctx.forcedOutcome ? { forced: ctx.forcedOutcome } : {}) });
}

/** An LRO answer: `azure-asyncoperation` always, `location` (monitor=true) for POST/DELETE. */
export function lroResponse(
  ctx: Ctx,
  op: Operation,
  status: number,
  body: unknown,
  opts: { location?: boolean; pretty?: boolean; headers?: Record<string, string> } = {},
): EmuResponse {
  const headers = { ...opts.headers, ...asyncHeaders(op, ctx.core.baseUrl, opts.location ?? false) };
  const retry = ctx.core.config.lro.retryAfterSeconds;
  if (retry !== undefined) headers["retry-after"] = String(retry);
  const res: EmuResponse = { status, headers };
  if (body !== undefined) res.body = body;
  if (opts.pretty) res.pretty = true;
  return res;
}

export function json(status: number, body: unknown, headers?: Record<string, string>, pretty = false): EmuResponse {
  return { status, body, ...(headers ? { headers } : {}), ...(pretty ? { pretty } : {}) };
}

export function tagsOf(v: unknown): Record<string, string> | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
  return out;
}

/** Copies the listed keys that are present (request properties the emulator stores verbatim). */
export function pick(source: unknown, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof source !== "object" || source === null) return out;
  for (const k of keys) {
    const v = (source as Record<string, unknown>)[k];
    if (v !== undefined && v !== null) out[k] = structuredClone(v);
  }
  return out;
}
