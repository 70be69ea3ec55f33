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

export function textResponse(status: number, text: string, headers: Record<string, string> = {}): HostResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body: text };
}

export interface StartedServer {
  readonly port: number;
  readonly origin: string;
  close(): Promise<void>;
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
        const origin = `http://${req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`}`;
        const hostReq: HostRequest = { method: (req.method ?? "GET").toUpperCase(), url: new URL(req.url ?? "/", origin), headers, body: Buffer.concat(chunks) };
        let response: HostResponse | undefined;
        try {
          for (const handler of handlers()) {
            response = await handler(hostReq);
            if (response) break;
          }
          response ??= { status: 404 };
        } catch (err) {
          log(`[http] ${hostReq.method} ${hostReq.url.pathname} failed in the host: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          response = { status: 500 };
        }
        res.statusCode = response.status;
        for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
        res.end(response.body === undefined ? undefined : Buffer.from(response.body));
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
