// The host's HTTP listener on 127.0.0.1: reads each request whole, hands it to the first route
// handler that claims it, and writes the answer. Handlers never see node's IncomingMessage.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface HostRequest {
  method: string;
  url: URL;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface HostResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
}

/** Returns undefined when the request is not for this handler. */
export type RouteHandler = (req: HostRequest) => Promise<HostResponse | undefined> | HostResponse | undefined;

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HostResponse {
  return { status, headers: { "content-type": "application/json; charset=utf-8", ...headers }, body: JSON.stringify(value) };
}

/** A JSON response from JSON text the caller built. */
export function jsonTextResponse(status: number, json: string, headers: Record<string, string> = {}): HostResponse {
  return { status, headers: { "content-type": "application/json; charset=utf-8", ...headers }, body: json };
}

export function textResponse(status: number, text: string, headers: Record<string, string> = {}): HostResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body: text };
}

/**
 * The request's URL, or undefined when it is not one the host can route: a Host header that makes no
 * URL, or a path with a percent-escape that does not decode (`%ZZ`, or bytes that are not UTF-8). Such
 * a request is answered 400 before any handler (route, key check) sees it, so it learns nothing of them.
 */
export function requestUrl(target: string, host: string): URL | undefined {
  let url: URL;
  try {
    const base = new URL(`http://${host}`);
    // The Host header names a host and port, nothing more.
    if (base.pathname !== "/" || base.search !== "" || base.hash !== "" || base.username !== "" || base.password !== "") return undefined;
    // Origin-form targets are appended to the origin, so `//x/api/...` stays a path, not a host.
    url = target.startsWith("/") ? new URL(`${base.origin}${target}`) : new URL(target);
  } catch {
    return undefined;
  }
  try {
    for (const segment of url.pathname.split("/")) decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  return url;
}

export interface StartedServer {
  readonly port: number;
  readonly origin: string;
  close(): Promise<void>;
}

/** Writes the answer; a handler's response node refuses (e.g. an invalid header value) becomes a bare 500. */
function write(res: http.ServerResponse, response: HostResponse, log: (line: string) => void): void {
  try {
    res.statusCode = response.status;
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    res.end(response.body === undefined ? undefined : Buffer.from(response.body));
  } catch (err) {
    log(`[http] could not write the response: ${err instanceof Error ? err.message : String(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 500;
    res.end();
  }
}

export async function startServer(port: number, handlers: () => readonly RouteHandler[], log: (line: string) => void): Promise<StartedServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      void (async () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined) continue;
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
        }
        const method = (req.method ?? "GET").toUpperCase();
        const url = requestUrl(req.url ?? "/", req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`);
        let response: HostResponse | undefined;
        if (!url) {
          // As Kestrel answers a request it cannot parse: 400, before routing and keys.
          log(`[http] ${method} ${JSON.stringify(req.url ?? "")}: 400, not a URL the host can route`);
          response = textResponse(400, "Bad Request");
        } else {
          const hostReq: HostRequest = { method, url, headers, body: Buffer.concat(chunks) };
          try {
            for (const handler of handlers()) {
              response = await handler(hostReq);
              if (response) break;
            }
            response ??= { status: 404 };
          } catch (err) {
            log(`[http] ${method} ${url.pathname} failed in the host: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
            response = { status: 500 };
          }
        }
        write(res, response, log);
      })();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    origin: `http://127.0.0.1:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
