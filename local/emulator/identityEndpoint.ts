// The App Service / Functions identity endpoint as the platform serves it: plain http on loopback
// (IDENTITY_ENDPOINT, like http://127.0.0.1:41741/msi/token) guarded by a secret header
// (IDENTITY_HEADER). One per process, shared by every emulator in it: msal-node, inside
// @azure/identity's ManagedIdentityCredential, reads IDENTITY_ENDPOINT / IDENTITY_HEADER on its first
// token request and keeps that source for the whole process (a static), and it caches
// managed-identity tokens process-wide by client id. So emulators started one after another in one
// process (a test file's worlds) must share one endpoint and one header, and their identities need
// distinct client ids. Each request goes, unchanged, to the newest live emulator that holds the
// requested identity; that emulator's `/msi/token` route checks it, answers and records it.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import type { Core } from "./core";

/** IDENTITY_HEADER of every emulator in this process (one process plays one Functions app). */
export const PROCESS_IDENTITY_HEADER = randomBytes(24).toString("base64url");

interface Holder {
  readonly core: Core;
  readonly caCertPem: string;
}

const holders: Holder[] = [];
let listening: Promise<string> | undefined;

/** Makes an emulator's managed identities reachable through the shared endpoint; returns the undo. */
export function registerIdentityHolder(holder: Holder): () => void {
  holders.push(holder);
  return () => {
    const i = holders.indexOf(holder);
    if (i >= 0) holders.splice(i, 1);
  };
}

/** Starts the shared endpoint on first use; resolves to its IDENTITY_ENDPOINT URL. */
export function sharedIdentityEndpoint(): Promise<string> {
  listening ??= listen().catch((e: unknown) => {
    listening = undefined;
    throw e;
  });
  return listening;
}

function listen(): Promise<string> {
  const server = createServer((req, res) => forward(req, res));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      // It must never keep a test run or the demo alive on its own.
      server.unref();
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`);
    });
  });
}

function holds(holder: Holder, clientId: string | undefined, objectId: string | undefined): boolean {
  for (const p of holder.core.world.principals.values()) {
    if (p.managedIdentity && ((clientId !== undefined && p.appId === clientId) || (objectId !== undefined && p.objectId === objectId))) return true;
  }
  return false;
}

/** The newest emulator holding the identity; without a match, the newest one (it answers the refusal). */
function pick(url: URL): Holder | undefined {
  const q = new Map([...url.searchParams].map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]));
  const clientId = q.get("client_id");
  const objectId = q.get("principal_id") ?? q.get("object_id");
  const newestFirst = [...holders].reverse();
  const holder = clientId !== undefined || objectId !== undefined ? newestFirst.find((h) => holds(h, clientId, objectId)) : undefined;
  return holder ?? newestFirst[0];
}

function answer(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ statusCode: status, message });
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(body)), connection: "close" });
  res.end(body);
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  // App Service serves /msi/token (Windows workers: /MSI/token/).
  if (url.pathname.replace(/\/+$/, "").toLowerCase() !== "/msi/token") {
    answer(res, 404, `Not found: ${url.pathname}`);
    return;
  }
  const target = pick(url);
  if (!target) {
    answer(res, 503, "No emulator is running in this process to serve managed identities.");
    return;
  }
  const headers: IncomingHttpHeaders = { ...req.headers };
  delete headers.host;
  const upstream = request(`${target.core.baseUrl}/msi/token${url.search}`, { method: req.method ?? "GET", headers, ca: target.caCertPem }, (up) => {
    // connection: close, so no idle keep-alive socket outlives the answer.
    res.writeHead(up.statusCode ?? 502, { ...up.headers, connection: "close" });
    up.pipe(res);
  });
  // The emulator dropped the connection (a scripted `drop` fault) or went away: drop ours too, so the
  // client sees what it would see from a failing platform endpoint.
  upstream.on("error", () => req.socket.destroy());
  req.pipe(upstream);
}
