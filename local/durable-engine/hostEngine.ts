// The real engine as the local host's durable runtime (`startLocalHost({ durable: { engine: "dtfx" } })`):
// starts it for the app's registered functions with host.json's durableTask settings, serves the public
// durable webhook by handing requests to the extension's own HTTP API, and answers the host's
// `durable` calls through a durable-functions client.
import type * as df from "durable-functions";
import { jsonResponse, type HostRequest, type HostResponse } from "../host/httpServer";
import type { BindingServices, HostLog } from "../host/invoke";
import { keyMatches, presentedKey, type HostKeys } from "../host/keys";
import { WEBHOOK_PATH } from "../host/durable/clientApi";
import type { OrchestrationStatus, RuntimeStatus } from "../host/durable/store";
import { appBridgeHandlers, durableFunctionsOfApp } from "./appFunctions";
import { durableClientFor } from "./client";
import { startDtfxEngine, type DtfxEngine } from "./engine";

/**
 * What the local host changes in host.json's durableTask section for the real engine: the Azure
 * Storage provider's queue polling backs off to 30 s when idle, which would make a local run wait up
 * to 30 s after each quiet spell; locally it backs off to 1 s at most.
 */
const LOCAL_ENGINE_DEFAULTS = { storageProvider: { maxQueuePollingInterval: "00:00:01" } } as const;

export interface HostEngineOptions {
  storageConnectionString: string;
  durableTask: Record<string, unknown> | undefined;
  /** Merged over host.json's section and LOCAL_ENGINE_DEFAULTS. */
  overrides: Record<string, unknown> | undefined;
  origin: string;
  keys: HostKeys;
  bindings: BindingServices;
  log: HostLog;
}

export interface HostEngine {
  readonly engine: DtfxEngine;
  readonly client: df.DurableClient;
  /** The durable client binding's JSON text for triggers and activities that declare it. */
  readonly bindingText: string;
  /** The public `/runtime/webhooks/durabletask/...` routes, answered by the extension's HTTP API. */
  webhook(req: HostRequest): Promise<HostResponse | undefined>;
  status(instanceId: string): Promise<OrchestrationStatus | undefined>;
  close(): Promise<void>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects, later ones winning (keys compared case-insensitively, as .NET configuration does). */
function mergeSettings(...sections: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const section of sections) {
    if (!section) continue;
    for (const [key, value] of Object.entries(section)) {
      const existing = Object.keys(out).find((k) => k.toLowerCase() === key.toLowerCase());
      const before = existing === undefined ? undefined : out[existing];
      if (existing !== undefined) delete out[existing];
      out[key] = isObject(before) && isObject(value) ? mergeSettings(before, value) : value;
    }
  }
  return out;
}

function toOrchestrationStatus(s: df.DurableOrchestrationStatus): OrchestrationStatus {
  return {
    name: s.name,
    instanceId: s.instanceId,
    runtimeStatus: s.runtimeStatus as RuntimeStatus,
    input: s.input ?? null,
    output: s.output ?? null,
    customStatus: s.customStatus ?? null,
    createdTime: new Date(s.createdTime).toISOString(),
    lastUpdatedTime: new Date(s.lastUpdatedTime).toISOString(),
  };
}

export async function startHostEngine(options: HostEngineOptions): Promise<HostEngine> {
  const code = options.keys.systemKeys.durabletask_extension;
  const engine = await startDtfxEngine({
    storageConnectionString: options.storageConnectionString,
    settings: {},
    durableTask: mergeSettings(options.durableTask, LOCAL_ENGINE_DEFAULTS, options.overrides),
    functions: durableFunctionsOfApp(),
    // The Functions host's webhook provider gives the extension its base URL with the system key, which
    // the extension then adds to every management link.
    webhookBase: `${options.origin}${WEBHOOK_PATH}?code=${encodeURIComponent(code)}`,
    handlers: appBridgeHandlers(options.log, options.bindings),
    log: options.log,
  });
  const client = durableClientFor(engine.clientBinding);
  const rpcBase = engine.rpcBaseUrl.replace(/\/$/, "");

  return {
    engine,
    client,
    bindingText: JSON.stringify(engine.clientBinding),
    async webhook(req) {
      const lower = req.url.pathname.toLowerCase();
      if (lower !== WEBHOOK_PATH && !lower.startsWith(`${WEBHOOK_PATH}/`)) return undefined;
      if (!keyMatches(presentedKey(req), code, options.keys.masterKey)) return { status: 401 };
      // The extension's HttpApiHandler serves the same routes under its rpc listener's /durabletask/.
      const target = `${rpcBase}${req.url.pathname.slice(WEBHOOK_PATH.length)}${req.url.search}`;
      try {
        const init: RequestInit = { method: req.method, headers: req.headers["content-type"] ? { "content-type": req.headers["content-type"] } : {} };
        if (req.method !== "GET" && req.method !== "HEAD" && req.body.length > 0) init.body = req.body;
        const answer = await fetch(target, init);
        const headers: Record<string, string> = {};
        for (const name of ["content-type", "location", "retry-after"]) {
          const value = answer.headers.get(name);
          if (value !== null) headers[name] = value;
        }
        return { status: answer.status, headers, body: Buffer.from(await answer.arrayBuffer()) };
      } catch (err) {
        return jsonResponse(502, { Message: `the Durable engine did not answer: ${err instanceof Error ? err.message : String(err)}` });
      }
    },
    async status(instanceId) {
      try {
        return toOrchestrationStatus(await client.getStatus(instanceId, { showInput: true }));
      } catch (err) {
        if (err instanceof Error && /404/.test(err.message)) return undefined;
        throw err;
      }
    },
    close: () => engine.close(),
  };
}
