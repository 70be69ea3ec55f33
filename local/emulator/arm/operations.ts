// Operation-status polling. `azure-asyncoperation` URLs answer 200 with the status body;
// `location` URLs (monitor=true, or Network's operationResults) answer 202 while running and 200
// with an empty body once done, as the 2021 recordings show. Exception: the share POST's final
// answer carries the SharingUpdate body, which is what the swagger defines as the operation's 200
// result and what @azure/arm-compute 25 deserializes (it throws on an empty body there).
import type { Ctx } from "../context";
import { queryParam, type EmuRequest, type EmuResponse } from "../http";
import { statusBody, type Operation } from "../lro";
import type { Route } from "../router";
import { computeWindow, json } from "./common";
import { ArmError } from "./errors";

function find(req: EmuRequest, ctx: Ctx): Operation {
  const id = req.params.operationId ?? "";
  const op = ctx.core.ops.poll(id);
  if (!op || op.subscriptionId !== (req.params.subscriptionId ?? "").toLowerCase()) {
    throw new ArmError(404, "NotFound", `The operation '${id}' was not found.`);
  }
  return op;
}

function retryHeaders(ctx: Ctx): Record<string, string> {
  const retry = ctx.core.config.lro.retryAfterSeconds;
  return retry === undefined ? {} : { "retry-after": String(retry) };
}

function locationAnswer(req: EmuRequest, ctx: Ctx, op: Operation, headers: Record<string, string>): EmuResponse {
  if (op.status === "InProgress") return { status: 202, headers: { ...headers, ...retryHeaders(ctx), location: req.url.toString() } };
  if (op.status === "Succeeded") return op.result === undefined ? { status: 200, headers } : json(200, op.result, headers);
  return json(
    op.error?.code?.startsWith("Internal") ? 500 : 400,
    { error: op.error ?? { code: op.status, message: `The operation ended ${op.status}.` } },
    headers,
  );
}

function statusAnswer(ctx: Ctx, op: Operation, headers: Record<string, string>): EmuResponse {
  return json(200, statusBody(op), { ...headers, ...(op.status === "InProgress" ? retryHeaders(ctx) : {}) }, true);
}

function caps(req: EmuRequest, ctx: Ctx): EmuResponse {
  const headers = computeWindow(ctx, req.params.subscriptionId ?? "", "GetOperationStatus");
  const op = find(req, ctx);
  return (queryParam(req, "monitor") ?? "").toLowerCase() === "true" ? locationAnswer(req, ctx, op, headers) : statusAnswer(ctx, op, headers);
}

function compute(req: EmuRequest, ctx: Ctx): EmuResponse {
  const op = find(req, ctx);
  return (queryParam(req, "monitor") ?? "").toLowerCase() === "true" ? locationAnswer(req, ctx, op, {}) : statusAnswer(ctx, op, {});
}

function network(req: EmuRequest, ctx: Ctx): EmuResponse {
  const op = find(req, ctx);
  const body: Record<string, unknown> = { status: op.status };
  if (op.error) body.error = op.error;
  return json(200, body, op.status === "InProgress" ? retryHeaders(ctx) : {});
}

function networkResult(req: EmuRequest, ctx: Ctx): EmuResponse {
  const op = find(req, ctx);
  if (op.status === "Succeeded") return { status: 204 };
  return locationAnswer(req, ctx, op, {});
}

export function operationRoutes(): Route<Ctx>[] {
  const sub = "/subscriptions/{subscriptionId}/providers";
  return [
    {
      method: "GET",
      pattern: `${sub}/Microsoft.Compute/locations/{location}/capsOperations/{operationId}`,
      kind: "arm",
      family: "capsOperations",
      handler: caps,
    },
    {
      method: "GET",
      pattern: `${sub}/Microsoft.Compute/locations/{location}/operations/{operationId}`,
      kind: "arm",
      family: "computeOperations",
      handler: compute,
    },
    {
      method: "GET",
      pattern: `${sub}/Microsoft.Network/locations/{location}/operations/{operationId}`,
      kind: "arm",
      family: "networkOperations",
      handler: network,
    },
    {
      method: "GET",
      pattern: `${sub}/Microsoft.Network/locations/{location}/operationResults/{operationId}`,
      kind: "arm",
      family: "networkOperations",
      handler: networkResult,
    },
  ];
}
