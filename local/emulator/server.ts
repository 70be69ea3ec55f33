// The HTTPS server: reads a request, applies scripted faults, routes it (ARM requests through the
// front-door pipeline), writes the answer the way ARM / Entra would, and records the exchange.
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ArmError, errors } from "./arm/errors";
import { runArm } from "./arm/pipeline";
import type { Ctx } from "./context";
import type { Core } from "./core";
import { DirectoryError } from "./directory";
import type { ActiveFault } from "./faults";
import type { EmuRequest, EmuResponse } from "./http";
import { bodyForLog, redactHeaders } from "./record";
import type { Router } from "./router";
import { controlNotFound } from "./controlRoutes";

const MAX_BODY = 16 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseBody(raw: Buffer, contentType: string | undefined): { body: unknown; invalidJson: boolean } {
  if (raw.length === 0) return { body: undefined, invalidJson: false };
  const ct = (contentType ?? "").toLowerCase();
  const text = raw.toString("utf8");
  if (ct.includes("application/x-www-form-urlencoded")) return { body: Object.fromEntries(new URLSearchParams(text)), invalidJson: false };
  try {
    return { body: JSON.parse(text) as unknown, invalidJson: false };
  } catch {
    return { body: undefined, invalidJson: ct.includes("json") };
  }
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function faultResponse(f: ActiveFault, kind: string | undefined): EmuResponse {
  const status = f.status ?? 500;
  const headers: Record<string, string> = {};
  if (f.retryAfterSeconds !== undefined) headers["retry-after"] = String(f.retryAfterSeconds);
  if (kind === "entra") {
    return {
      status,
      headers,
      body: {
        error: f.code ?? "temporarily_unavailable",
        error_description: f.message ?? "AADSTS50000: There was an error issuing a token or an issue with our sign-in service.",
        error_codes: [50000],
      },
    };
  }
  const defaults: Record<number, [string, string]> = {
    429: ["TooManyRequests", "The request is being throttled."],
    500: ["InternalServerError", "The server encountered an internal error. Please retry the request."],
    502: ["BadGateway", "The server received an invalid response from an upstream server."],
    503: ["ServiceUnavailable", "The service is unavailable. Please retry the request."],
    504: ["GatewayTimeout", "The gateway did not receive a response within the specified time period."],
    409: ["Conflict", "The request conflicts with the current state of the resource."],
  };
  const [code, message] = defaults[status] ?? ["ScriptedFault", `Scripted fault ${f.id}.`];
  return { status, headers, body: { error: { code: f.code ?? code, message: f.message ?? message } } };
}

function armHeaders(core: Core, req: EmuRequest): Record<string, string> {
  const requestId = core.nextGuid("request");
  const correlation = req.headers["x-ms-correlation-request-id"];
  return {
    "cache-control": "no-cache",
    pragma: "no-cache",
    expires: "-1",
    "x-ms-request-id": requestId,
    "x-ms-correlation-request-id": typeof correlation === "string" ? correlation : requestId,
    "x-ms-routing-request-id": `LOCAL:${new Date(core.clock.now()).toISOString().replace(/[-:.]/g, "").slice(0, 15)}Z:${requestId}`,
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
  };
}

export interface EmulatorServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startServer(core: Core, router: Router<Ctx>, tlsMaterial: { key: string; cert: string }, port: number): Promise<EmulatorServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? "GET").toUpperCase();
    // Concatenate, not resolve: a path starting with "//" (arm-authorization sends "//subscriptions/...") is not a host.
    const url = new URL(`${core.baseUrl}${req.url ?? "/"}`);
    const path = decodePath(url.pathname);
    const raw = await readBody(req);
    const contentType = req.headers["content-type"];
    const { body, invalidJson } = parseBody(raw, contentType);
    const emuReq: EmuRequest = { method, url, path, headers: req.headers, rawBody: raw, body, params: {} };
    const isControl = path === "/_emulator" || path.startsWith("/_emulator/");
    const time = new Date(core.clock.now()).toISOString();
    const realTime = Date.now();
    const ctx: Ctx = { core };
    const match = router.match(method, path);
    const route = match && "route" in match ? match.route : undefined;
    if (match && "route" in match) emuReq.params = match.params;

    let response: EmuResponse;
    if (isControl) {
      response = route ? await route.handler(emuReq, ctx) : controlNotFound();
      send(res, response);
      return;
    }
    core.ops.settle();
    const fault = core.faults.match(method, url.pathname + url.search);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.drop) {
      req.socket.destroy();
      record(0, {}, undefined);
      return;
    }
    if (fault?.status) {
      response = faultResponse(fault, route?.kind);
    } else {
      if (fault?.lro) {
        ctx.forcedOutcome = {
          status: fault.lro === "cancel" ? "Canceled" : "Failed",
          error: { code: fault.code ?? "InternalExecutionError", message: fault.message ?? "An internal execution error occurred. Please retry later." },
        };
      }
      response = await dispatch(emuReq, ctx, match, invalidJson);
    }
    const isArm = !route || route.kind === "arm";
    if (isArm) response.headers = { ...armHeaders(core, emuReq), ...response.headers };
    const sent = send(res, response);
    record(response.status, sent.headers, sent.text);

    function record(status: number, headers: Record<string, string>, text: string | undefined): void {
      core.recorder.add({
        method,
        url: url.toString(),
        requestHeaders: redactHeaders(req.headers),
        requestBody: bodyForLog(raw, contentType),
        status,
        responseHeaders: headers,
        responseBody: bodyForLog(text, headers["content-type"]),
        time,
        realTime,
      });
    }
  };

  async function dispatch(req: EmuRequest, ctx: Ctx, match: ReturnType<Router<Ctx>["match"]>, invalidJson: boolean): Promise<EmuResponse> {
    try {
      if (!match) throw errors.unsupportedRoute(req.method, req.path);
      if (!("route" in match)) throw new ArmError(405, "MethodNotAllowed", `The requested method '${req.method}' is not allowed for '${req.path}'.`);
      if (invalidJson) throw errors.invalidRequestContent("The request content was invalid and could not be deserialized.");
      if (match.route.kind === "arm") return await runArm(match.route, req, ctx);
      return await match.route.handler(req, ctx);
    } catch (e) {
      if (e instanceof ArmError) return e.toResponse();
      if (e instanceof DirectoryError) return { status: 400, body: { error: { code: "BadRequest", message: e.message } } };
      console.error("emulator: unhandled error", e);
      return { status: 500, body: { error: { code: "InternalServerError", message: e instanceof Error ? e.message : String(e) } } };
    }
  }

  const server = createServer({ key: tlsMaterial.key, cert: tlsMaterial.cert }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error("emulator: request failed", e);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    server,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Writes the response; returns the headers and body text actually sent (for the log). */
function send(res: ServerResponse, r: EmuResponse): { headers: Record<string, string>; text: string | undefined } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  let text: string | undefined;
  if (r.text !== undefined) {
    text = r.text;
    headers["content-type"] ??= "text/plain; charset=utf-8";
  } else if (r.body !== undefined) {
    text = r.pretty ? JSON.stringify(r.body, null, 2).replace(/\n/g, "\r\n") : JSON.stringify(r.body);
    headers["content-type"] = "application/json; charset=utf-8";
  }
  const buf = Buffer.from(text ?? "", "utf8");
  headers["content-length"] = String(buf.length);
  res.writeHead(r.status, headers);
  res.end(buf);
  return { headers, text: text === "" ? undefined : text };
}
