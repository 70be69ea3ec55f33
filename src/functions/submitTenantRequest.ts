// POST /api/onboarding and POST /api/offboarding (function key): validate a v1 request and put it on
// the onboarding queue. 400 names every failing field; 202 says where to follow the request; a queue
// that cannot be reached is a 503 with Retry-After, never a 500 with a stack or a connection string.
import { HttpResponse, type HttpRequest, type InvocationContext } from "@azure/functions";
import type { TenantRequestQueue } from "../azure/tenantRequestQueue";
import { classifyError, describeError } from "../domain/errors";
import { parseTenantMessage, type TenantMessage } from "../domain/messages";
import type { FieldError } from "../domain/validation";

/** Far above any valid request (a few KB), far below Service Bus's 256 KB message limit. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** What a client is told to wait before trying again when the queue cannot be reached. */
export const QUEUE_RETRY_AFTER_SECONDS = 10;

export interface AcceptedBody {
  readonly requestId: string;
  readonly schema: TenantMessage["schema"];
  /** Where the request's progress will be shown (GET /api/requests/{requestId}). */
  readonly statusUrl: string;
}

type Schema = TenantMessage["schema"];

export function createSubmitTenantRequest(queue: TenantRequestQueue, schema: Schema, managedGalleries?: readonly string[]) {
  return async function submitTenantRequest(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
    const text = await request.text();
    if (Buffer.byteLength(text, "utf8") > MAX_REQUEST_BYTES) {
      return error(413, "RequestTooLarge", `the request body must be at most ${MAX_REQUEST_BYTES} bytes`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return invalid([{ path: "", rule: "must be a JSON object (the body is not valid JSON)" }]);
    }
    return submitTenantMessage(queue, schema, body, context, managedGalleries);
  };
}

/**
 * Validates a request's body as `schema` and queues it: what POST /api/onboarding and
 * /api/offboarding do with their body, and what an operator action that onboards or offboards does
 * with the body it builds.
 */
export async function submitTenantMessage(
  queue: TenantRequestQueue,
  schema: Schema,
  raw: unknown,
  context: InvocationContext,
  managedGalleries?: readonly string[],
): Promise<HttpResponse> {
  let body = raw;
  // The route says which request this is; a body may omit `schema`, but may not contradict it.
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const given = (body as Record<string, unknown>).schema;
    if (given === undefined) body = { ...body, schema };
    else if (given !== schema) return invalid([{ path: "schema", rule: `must be "${schema}" on this endpoint` }]);
  }
  const parsed = parseTenantMessage(body, managedGalleries);
  if (!parsed.ok) return invalid(parsed.errors);
  const message = parsed.value;

  if (!queue.configured) {
    context.warn(`${schema}: request ${message.requestId} refused: ServiceBusConnection is not configured`);
    return error(503, "QueueNotConfigured", "the onboarding queue is not configured on this app");
  }
  try {
    await queue.send(message);
  } catch (err) {
    // The reason is logged (one line, tokens removed); the caller only learns that it may retry.
    context.warn(`${schema}: request ${message.requestId} could not be queued: ${describeError(classifyError(err))}`);
    return new HttpResponse({
      status: 503,
      headers: { "retry-after": String(QUEUE_RETRY_AFTER_SECONDS) },
      jsonBody: { error: { code: "QueueUnavailable", message: "the onboarding queue cannot be reached right now; send the same request again later" } },
    });
  }
  context.log(`${schema}: request ${message.requestId} for tenant ${message.tenantId} queued`);
  const statusUrl = `/api/requests/${message.requestId}`;
  const accepted: AcceptedBody = { requestId: message.requestId, schema, statusUrl };
  return new HttpResponse({ status: 202, headers: { location: statusUrl }, jsonBody: accepted });
}

function invalid(errors: readonly FieldError[]): HttpResponse {
  return new HttpResponse({ status: 400, jsonBody: { error: { code: "InvalidRequest", message: "the request has invalid fields", fields: errors } } });
}

function error(status: number, code: string, message: string): HttpResponse {
  return new HttpResponse({ status, jsonBody: { error: { code, message } } });
}
