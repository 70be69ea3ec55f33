// Sorts errors from Azure SDK calls into "try again" and "stop and say why", without importing
// the SDK: a RestError is recognised by shape (statusCode, code, response headers and body), as
// are plain `{ statusCode }` objects and Node connection errors (`code: "ECONNRESET"`, ...).
// Retrying a 403 only burns the share call's tight throttling budget, while giving up on a 429
// or a "another operation is in progress" conflict fails work that would have succeeded.

type ErrorKind = "throttled" | "transient" | "conflict-retry" | "auth" | "not-found" | "bad-request" | "conflict" | "unknown";

interface ClassifiedError {
  retryable: boolean;
  kind: ErrorKind;
  status?: number;
  /** ARM error code (`AuthorizationFailed`), Node error code (`ECONNRESET`) or Entra code (`AADSTS65001`). */
  code?: string;
  /** Single line, bearer tokens removed. */
  message: string;
  retryAfterSeconds?: number;
  /** The action ARM says the caller lacks, e.g. `Microsoft.Compute/galleries/share/action`. */
  missingAction?: string;
  /** The scope ARM names with the missing action. */
  scope?: string;
}

const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "REQUEST_SEND_ERROR",
]);

const AUTH_CODES = new Set(
  [
    "AuthorizationFailed",
    "LinkedAuthorizationFailed",
    "InvalidAuthenticationToken",
    "InvalidAuthenticationTokenTenant",
    "AuthenticationFailed",
    "ExpiredAuthenticationToken",
    "LinkedInvalidAuthenticationToken",
    "Unauthorized",
    "Forbidden",
  ].map((c) => c.toLowerCase()),
);

const NOT_FOUND_CODES = new Set(
  [
    "ResourceNotFound",
    "ResourceGroupNotFound",
    "SubscriptionNotFound",
    "GalleryImageNotFound",
    "GalleryNotFound",
    "GalleryImageVersionNotFound",
    "NotFound",
    "ParentResourceNotFound",
    "InvalidSubscriptionId",
  ].map((c) => c.toLowerCase()),
);

/** Errors thrown by @azure/identity when a token cannot be had. Permanent unless the reason is transient (below). */
const CREDENTIAL_ERROR_NAMES = new Set(["CredentialUnavailableError", "AuthenticationError", "AuthenticationRequiredError"]);

/**
 * A token request that failed for a reason that passes: Entra's OAuth `temporarily_unavailable` and
 * `server_error`, a 5xx from the token or managed-identity endpoint, or a connection that was refused,
 * dropped or timed out. @azure/identity reports these with the same error classes as a wrong secret,
 * so the text decides. A wrong secret, a missing app or missing consent (AADSTS7000215, 700016,
 * 65001, ...) never matches and stays permanent.
 */
const TRANSIENT_CREDENTIAL_TEXT = new RegExp(
  [
    // OAuth errors that say "later" (RFC 6749 5.2), and Entra's "error issuing a token".
    /\btemporarily_unavailable\b|\bserver_error\b|\bAADSTS50000\b/.source,
    // MSAL's names for an endpoint it could not reach: a dropped or refused connection, an unreachable authority.
    /\bnetwork_error\b|\bendpoints_resolution_error\b|Network unreachable/.source,
    /\b(?:ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b|socket hang up|fetch failed|other side closed/.source,
    /\b(?:Service Unavailable|Bad Gateway|Gateway Timeout)\b|\bstatus code 5\d\d\b/.source,
  ].join("|"),
  "i",
);

const MAX_MESSAGE_LENGTH = 1000;

/** Removes bearer tokens and JWTs from text that may reach a log. */
function redactSecrets(text: string): string {
  return text
    .replace(/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, "Bearer [redacted]")
    .replace(/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "[redacted token]");
}

function oneLine(text: string): string {
  const flat = redactSecrets(text).replace(/\s+/g, " ").trim();
  return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH)}…` : flat;
}

type Bag = Record<string, unknown>;

function isBag(value: unknown): value is Bag {
  return typeof value === "object" && value !== null;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function header(response: unknown, name: string): string | undefined {
  if (!isBag(response) || !isBag(response.headers)) return undefined;
  const headers = response.headers;
  if (typeof headers.get === "function") {
    const value: unknown = headers.get(name);
    return str(value);
  }
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : str(headers[key]);
}

/** `{ error: { code, message } }` (ARM) or `{ code, message }`, from a parsed body or its text. */
function armError(err: Bag): { code?: string; message?: string } {
  const candidates: unknown[] = [err.details];
  const text = isBag(err.response) ? err.response.bodyAsText : undefined;
  if (typeof text === "string") {
    try {
      candidates.push(JSON.parse(text));
    } catch {
      // Not JSON (an HTML error page, an empty body): nothing to read.
    }
  }
  for (const body of candidates) {
    if (!isBag(body)) continue;
    const inner = isBag(body.error) ? body.error : body;
    const code = str(inner.code);
    const message = str(inner.message);
    if (code !== undefined || message !== undefined) {
      return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
    }
  }
  return {};
}

function retryAfterSeconds(response: unknown): number | undefined {
  for (const name of ["x-ms-retry-after-ms", "retry-after-ms"]) {
    const ms = header(response, name)?.trim();
    if (ms !== undefined && /^\d+(?:\.\d+)?$/.test(ms)) return Number(ms) / 1000;
  }
  const seconds = header(response, "retry-after");
  // HTTP-date values are out of scope: ARM sends whole seconds.
  return seconds !== undefined && /^\d+$/.test(seconds.trim()) ? Number(seconds) : undefined;
}

const MISSING_ACTION =
  /does not have (?:authorization|permission) to perform action ['"]([^'"]+)['"](?:\s+(?:over|on)\s+(?:the\s+linked\s+)?scope(?:\(s\))?\s+['"]([^'"]+)['"])?/i;

function isRetryableConflict(code: string | undefined, message: string): boolean {
  switch (code?.toLowerCase()) {
    case "anotheroperationinprogress":
    case "retryableerror":
      return true;
    case "operationnotallowed":
      return /another operation/i.test(message);
    case "conflict":
      return /is in progress/i.test(message);
    default:
      return false;
  }
}

function kindOf(status: number | undefined, code: string | undefined, message: string, name: string | undefined): { kind: ErrorKind; retryable: boolean } {
  const lower = code?.toLowerCase();
  if (status === 429 || lower === "toomanyrequests") return { kind: "throttled", retryable: true };
  if (status === 408 || (status !== undefined && status >= 500) || (status === undefined && code !== undefined && CONNECTION_CODES.has(code))) {
    return { kind: "transient", retryable: true };
  }
  if ((status === undefined || status === 409 || (status >= 400 && status < 500)) && isRetryableConflict(code, message)) {
    return { kind: "conflict-retry", retryable: true };
  }
  if (name !== undefined && CREDENTIAL_ERROR_NAMES.has(name)) {
    return TRANSIENT_CREDENTIAL_TEXT.test(message) || (code !== undefined && CONNECTION_CODES.has(code))
      ? { kind: "transient", retryable: true }
      : { kind: "auth", retryable: false };
  }
  if (status === 401 || status === 403 || (lower !== undefined && AUTH_CODES.has(lower))) {
    return { kind: "auth", retryable: false };
  }
  if (status === 404 || (lower !== undefined && NOT_FOUND_CODES.has(lower))) return { kind: "not-found", retryable: false };
  if (status === 409) return { kind: "conflict", retryable: false };
  if (status !== undefined && status >= 400 && status < 500) return { kind: "bad-request", retryable: false };
  return { kind: "unknown", retryable: false };
}

export function classifyError(err: unknown): ClassifiedError {
  if (!isBag(err)) return { retryable: false, kind: "unknown", message: oneLine(String(err)) };

  const status = typeof err.statusCode === "number" ? err.statusCode : undefined;
  const body = armError(err);
  // fetch() wraps socket errors: `TypeError: fetch failed` with the code on its cause.
  const causeCode = isBag(err.cause) ? str(err.cause.code) : undefined;
  const rawMessage = body.message ?? str(err.message) ?? (status === undefined ? "no message" : `HTTP ${status}`);
  const aadsts = /\b(AADSTS\d+)\b/.exec(rawMessage)?.[1];
  const code = str(err.code) ?? body.code ?? causeCode ?? aadsts;
  const message = oneLine(rawMessage);
  const { kind, retryable } = kindOf(status, code, message, str(err.name));

  const retryAfter = retryAfterSeconds(err.response);
  const action = MISSING_ACTION.exec(message);
  return {
    retryable,
    kind,
    ...(status === undefined ? {} : { status }),
    ...(code === undefined ? {} : { code }),
    message,
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    ...(action?.[1] === undefined ? {} : { missingAction: action[1] }),
    ...(action?.[2] === undefined ? {} : { scope: action[2] }),
  };
}

/** One line for logs and outcome events: `AuthorizationFailed (403): ...; missing action X on Y`. */
export function describeError(c: ClassifiedError): string {
  const head = `${c.code ?? c.kind}${c.status === undefined ? "" : ` (${c.status})`}`;
  const missing = c.missingAction === undefined ? "" : `; missing action ${c.missingAction}${c.scope === undefined ? "" : ` on ${c.scope}`}`;
  const retry = c.retryAfterSeconds === undefined ? "" : `; retry after ${c.retryAfterSeconds}s`;
  return oneLine(`${head}: ${c.message}${missing}${retry}`);
}
