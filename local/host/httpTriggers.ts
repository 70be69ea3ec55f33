// HTTP triggers on `/api/<route>`: route templates, methods, function keys (401 like the host), the
// request as RpcHttpData into the library (which builds the HttpRequest) and the handler's
// HttpResponse back out of RpcHttpData.
import type { Registration } from "./core";
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from "./coreTypes";
import type { HostRequest, HostResponse } from "./httpServer";
import { invoke, jsonTypedData, triggerBindingOf, type BindingServices, type HostLog } from "./invoke";
import { authorized, type HostKeys } from "./keys";
import { matchRoute, parseRoute, type RouteTemplate } from "./routes";

export const ROUTE_PREFIX = "api";

export interface HttpFunction {
  registration: Registration;
  route: RouteTemplate;
  methods: string[] | undefined;
  authLevel: string;
}

export function httpFunctionOf(registration: Registration): HttpFunction | undefined {
  const [, trigger] = triggerBindingOf(registration);
  if (String(trigger.type).toLowerCase() !== "httptrigger") return undefined;
  const route = typeof trigger.route === "string" && trigger.route.length > 0 ? trigger.route : registration.metadata.name;
  const methods = Array.isArray(trigger.methods) ? trigger.methods.map((m) => String(m).toUpperCase()) : undefined;
  const authLevel = typeof trigger.authLevel === "string" ? trigger.authLevel : "function";
  return { registration, route: parseRoute(route), methods, authLevel };
}

function cookieHeader(cookie: RpcHttpCookie): string {
  let text = `${cookie.name ?? ""}=${cookie.value ?? ""}`;
  if (cookie.domain?.value) text += `; Domain=${cookie.domain.value}`;
  if (cookie.path?.value) text += `; Path=${cookie.path.value}`;
  const seconds = cookie.expires?.value?.seconds;
  if (seconds !== undefined && seconds !== null) text += `; Expires=${new Date(Number(seconds) * 1000).toUTCString()}`;
  if (cookie.maxAge?.value !== undefined && cookie.maxAge.value !== null) text += `; Max-Age=${cookie.maxAge.value}`;
  if (cookie.secure?.value) text += "; Secure";
  if (cookie.httpOnly?.value) text += "; HttpOnly";
  if (cookie.sameSite === "lax") text += "; SameSite=Lax";
  else if (cookie.sameSite === "strict") text += "; SameSite=Strict";
  else if (cookie.sameSite === "explicitNone") text += "; SameSite=None";
  return text;
}

function bodyBytes(body: RpcTypedData | null | undefined): Uint8Array | string | undefined {
  if (!body) return undefined;
  if (body.bytes) return body.bytes;
  if (typeof body.string === "string") return body.string;
  if (typeof body.json === "string") return body.json;
  return undefined;
}

export function toHostResponse(http: RpcHttpData): HostResponse {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) headers[name] = value;
  const cookies = (http.cookies ?? []).map(cookieHeader);
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  const status = Number(http.statusCode ?? "200");
  return { status: Number.isFinite(status) ? status : 200, headers, body: bodyBytes(http.body) };
}

export function httpTriggerHandler(functions: () => readonly HttpFunction[], keys: HostKeys, log: HostLog, bindings: BindingServices) {
  return async (req: HostRequest): Promise<HostResponse | undefined> => {
    const prefix = `/${ROUTE_PREFIX}/`;
    const pathname = req.url.pathname;
    if (!pathname.toLowerCase().startsWith(prefix) && pathname.toLowerCase() !== `/${ROUTE_PREFIX}`) return undefined;
    const path = pathname.slice(prefix.length);
    const candidates = [...functions()].sort((a, b) => b.route.literals - a.route.literals || b.route.segments.length - a.route.segments.length);
    for (const fn of candidates) {
      const params = matchRoute(fn.route, path);
      if (!params) continue;
      // A route whose methods do not include this one does not match (the host answers 404).
      if (fn.methods && !fn.methods.includes(req.method)) continue;
      if (!authorized(req, fn.authLevel, keys)) return { status: 401 };
      return invokeHttp(fn, req, params, log, bindings);
    }
    return { status: 404 };
  };
}

async function invokeHttp(fn: HttpFunction, req: HostRequest, params: Record<string, string>, log: HostLog, bindings: BindingServices): Promise<HostResponse> {
  // As the host's ToRpcHttp: one entry per name, a repeated parameter's values joined with commas
  // (StringValues.ToString()); the URL keeps the query string as sent.
  const query: Record<string, string> = {};
  for (const k of new Set(req.url.searchParams.keys())) query[k] = req.url.searchParams.getAll(k).join(",");
  const http: RpcHttpData = {
    method: req.method,
    url: req.url.href,
    headers: req.headers,
    query,
    params,
    body: req.body.length > 0 ? { bytes: new Uint8Array(req.body) } : null,
  };
  const outcome = await invoke(fn.registration, {
    trigger: { http },
    bindings,
    triggerMetadata: {
      Query: jsonTypedData(query),
      Headers: jsonTypedData(req.headers),
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { string: v }])),
    },
    log,
  });
  if (!outcome.ok) {
    log(`[${fn.registration.metadata.name}] failed: ${outcome.error.stack ?? outcome.error.message}`);
    return { status: 500 };
  }
  let typed: RpcTypedData | null | undefined;
  for (const [name, binding] of Object.entries(fn.registration.metadata.bindings)) {
    if (binding.direction !== "out" || String(binding.type).toLowerCase() !== "http") continue;
    typed = name === "$return" ? outcome.response.returnValue : outcome.response.outputData?.find((o) => o.name === name)?.data;
    break;
  }
  if (!typed?.http) return { status: 204 };
  return toHostResponse(typed.http);
}
