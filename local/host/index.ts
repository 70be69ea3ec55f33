// A local stand-in for the Azure Functions host (see README.md): loads the app's function modules
// unchanged, serves HTTP triggers and the Event Grid webhook, feeds Service Bus queue and timer
// triggers, and runs orchestrations and activities on the Durable host's wire protocol.
import type * as df from "durable-functions";
import { WallClock, type Clock } from "../clock";
import { durableClientFor } from "../durable-engine/client";
import { startHostEngine, type HostEngine } from "../durable-engine/hostEngine";
import { Alarms } from "./alarms";
import { findRegistration, installFunctionsCore, programmingModel, registrations, coreState, type Registration } from "./core";
import type { RpcBindingInfo, RpcInvocationResponse, RpcTypedData } from "./coreTypes";
import { durableClientBindingData, durableRpcHandler, durableWebhookHandler, RPC_PATH, type ClientContext } from "./durable/clientApi";
import type { HistoryEvent } from "./durable/history";
import { DurableRuntime, type ReplayStats, type WaitForOptions } from "./durable/runtime";
import type { OrchestrationStatus } from "./durable/store";
import { easyAuthHandler } from "./easyAuth";
import { EVENT_GRID_PATH, eventGridHandler } from "./eventGridWebhook";
import { httpFunctionOf, httpTriggerHandler, ROUTE_PREFIX, type HttpFunction } from "./httpTriggers";
import { jsonResponse, startServer, textResponse, type HostRequest, type HostResponse, type StartedServer } from "./httpServer";
import { invoke, jsonTypedData, runAppStartHooks, runAppTerminateHooks, stringTypedData, triggerTypeOf, type BindingServices, type HostLog } from "./invoke";
import { createKeys, keyMatches, newKey, presentedKey } from "./keys";
import {
  readHostJson,
  serviceBusOptionsOf,
  ServiceBusTriggers,
  type HostJson,
  type ServiceBusExtensionOptions,
  type ServiceBusListenerInfo,
} from "./serviceBusTriggers";
import { startTimerTriggers, timerFunctionOf, type TimerFunction } from "./timerTriggers";

export type { OrchestrationStatus } from "./durable/store";
export type { WaitForOptions } from "./durable/runtime";
export type { HostJson, ServiceBusExtensionOptions, ServiceBusListenerInfo } from "./serviceBusTriggers";
export type { HistoryEvent } from "./durable/history";

// Importing the host installs the @azure/functions-core stand-in at once, so app modules imported
// after it (by a test, for a helper) register with the host instead of sending @azure/functions into
// "test mode". Import local/host before any module that calls app.* / df.app.*.
installFunctionsCore();

export interface LocalHostOptions {
  /** Loads the app's function modules, e.g. () => import("../../src/functions"). Called after the host has installed its @azure/functions-core stand-in and set process.env from `settings`. */
  load: () => Promise<unknown>;
  /** App settings -> process.env before load. */
  settings: Record<string, string>;
  /** Default: new WallClock(1). */
  clock?: Clock;
  /** 0 = any free port; the host binds 127.0.0.1 only. */
  port?: number;
  /** Generated if absent. */
  functionKey?: string;
  masterKey?: string;
  /** Where the host's own and the functions' context.log lines go (default: silent). */
  log?: (line: string) => void;
  /** Durable settings (defaults as the Azure Storage provider: 6 days / 3 days; task hub from settings.TASK_HUB_NAME or "LocalTaskHub"). */
  durable?: {
    /**
     * Which engine runs orchestrations and activities. "node" (default): this host's own runner, on
     * `clock` (fast, virtual time in tests). "dtfx": the real Durable extension and DTFx with the Azure
     * Storage provider (local/durable-engine; needs the .NET SDK, and AzureWebJobsStorage with blobs,
     * queues and tables), on real time; host.json's durableTask section configures it.
     */
    engine?: "node" | "dtfx";
    /** "dtfx" only: settings merged over host.json's durableTask section (e.g. { storageProvider: { ... } }). */
    engineSettings?: Record<string, unknown>;
    taskHubName?: string;
    maximumShortTimerMs?: number;
    longRunningTimerIntervalMs?: number;
    maxConcurrentActivities?: number;
    maxConcurrentOrchestrations?: number;
  };
  /** The function app's directory: its host.json configures the Service Bus extension. Default process.cwd(). */
  appRoot?: string;
  /** host.json content to use instead of `<appRoot>/host.json` (`extensions.serviceBus` is read). */
  hostJson?: HostJson;
}

export interface LocalHost {
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly functionKey: string;
  readonly masterKey: string;
  readonly clock: Clock;
  /** `${baseUrl}/runtime/webhooks/eventgrid?functionName=NAME&code=<eventgrid_extension system key>` */
  eventGridUrl(functionName: string): string;
  /** A system key: "eventgrid_extension" or "durabletask_extension". */
  systemKey(name: "eventgrid_extension" | "durabletask_extension"): string;
  readonly durable: {
    /** The engine in use ("dtfx": the calls that read the Node runner's store synchronously throw; use status, client). */
    readonly engine: "node" | "dtfx";
    /** A durable-functions client of this host's engine, as a trigger's `df.getClient(context)` gets it. */
    client(): df.DurableClient;
    /** The instance's status, from either engine (undefined: no such instance). */
    status(instanceId: string): Promise<OrchestrationStatus | undefined>;
    startNew(name: string, options?: { instanceId?: string; input?: unknown }): Promise<string>;
    getStatus(instanceId: string): OrchestrationStatus | undefined;
    /** Host-format history events of the current execution. */
    history(instanceId: string): HistoryEvent[];
    listInstances(): OrchestrationStatus[];
    raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void>;
    terminate(instanceId: string, reason?: string): Promise<void>;
    /** Runs everything runnable now (activities, episodes, Service Bus deliveries, timer-trigger runs) until nothing is. */
    runUntilIdle(): Promise<void>;
    /** Time of the earliest pending durable timer, if any. */
    nextTimerAt(): number | undefined;
    /** Per instance: episodes, executions, history events replayed and the largest history (the Node engine only). */
    replayStats(): ReplayStats[];
    /** Drives work until the instance reaches one of `statuses` (default: Completed, Failed, Terminated). With a VirtualClock and autoAdvance (default true), whenever idle it moves the clock to the next durable timer; fails if idle with no timer, or after maxSimulatedMs. With another clock it waits (timeoutMs of real time, default 30 s). */
    waitFor(instanceId: string, statuses?: string[], options?: WaitForOptions): Promise<OrchestrationStatus>;
  };
  /** Service Bus queue triggers, fed by the broker their `connection` setting names (send with @azure/service-bus; read dead letters from the broker). */
  readonly serviceBus: {
    /** Waits until no listening trigger's queue has a message available and no invocation, settlement or output is in flight; fails after timeoutMs of real time (default 30 s) without progress. */
    drain(options?: { timeoutMs?: number }): Promise<void>;
    /** One entry per Service Bus trigger: queue, state (listening or the error that stopped it), settings and counters. */
    listeners(): ServiceBusListenerInfo[];
    /** The extension's options in effect (host.json extensions.serviceBus, with the extension's defaults). */
    readonly options: ServiceBusExtensionOptions;
  };
  /** Every registered function: name, trigger type, and for HTTP triggers the path template ("/api/..."). */
  registeredFunctions(): Array<{ name: string; trigger: string; route?: string }>;
  close(): Promise<void>;
}

let capabilitiesRequested = false;

/**
 * The host's durable calls on the real engine. It keeps its own time and store: the calls that read
 * the Node runner's store synchronously, or drive it, have nothing to read or drive there and say so.
 */
function engineDurableApi(engine: HostEngine, serviceBus: ServiceBusTriggers): LocalHost["durable"] {
  const unavailable = (call: string, instead: string) => (): never => {
    throw new Error(`host.durable.${call} reads or drives the Node runner, but this host runs durable.engine "dtfx": use ${instead}`);
  };
  return {
    engine: "dtfx",
    client: () => engine.client,
    status: (id) => engine.status(id),
    startNew: (name, opts) =>
      engine.client.startNew(name, {
        ...(opts?.instanceId ? { instanceId: opts.instanceId } : {}),
        ...(opts?.input === undefined ? {} : { input: opts.input }),
      }),
    getStatus: unavailable("getStatus", "host.durable.status(id)"),
    history: unavailable("history", "host.durable.client().getStatus(id, { showHistory: true })"),
    listInstances: unavailable("listInstances", "host.durable.client().getStatusAll()"),
    raiseEvent: (id, eventName, data) => engine.client.raiseEvent(id, eventName, data ?? null),
    terminate: (id, reason) => engine.client.terminate(id, reason ?? ""),
    runUntilIdle: unavailable("runUntilIdle", "host.durable.waitFor(id) (the engine runs by itself, on real time)"),
    nextTimerAt: unavailable("nextTimerAt", "host.durable.status(id) (the engine's timers are real time)"),
    replayStats: unavailable("replayStats", "the real engine's own telemetry"),
    // Real time: poll the engine's status API until the instance reaches one of the statuses.
    waitFor: async (id, statuses = ["Completed", "Failed", "Terminated"], opts) => {
      const deadline = Date.now() + (opts?.timeoutMs ?? 30_000);
      for (;;) {
        serviceBus.invalidate();
        const status = await engine.status(id);
        if (status && statuses.includes(status.runtimeStatus)) return status;
        if (Date.now() > deadline)
          throw new Error(`instance '${id}' is ${status?.runtimeStatus ?? "unknown"}, not ${statuses.join(" or ")}, after ${opts?.timeoutMs ?? 30_000} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}

function functionsOfType<T>(pick: (r: Registration) => T | undefined): T[] {
  const out: T[] = [];
  for (const r of registrations()) {
    const picked = pick(r);
    if (picked !== undefined) out.push(picked);
  }
  return out;
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  installFunctionsCore();
  const clock = options.clock ?? new WallClock(1);
  const log: HostLog = options.log ?? (() => undefined);
  const keys = createKeys(options.functionKey, options.masterKey);
  const env = process.env;
  let origin = "";
  // The durable client's rpc API gets a listener of its own (as the extension's LocalHttpListener), under
  // a secret path prefix: only the in-process client, which gets it in its binding data, can call it.
  const rpcPrefix = `/${newKey()}${RPC_PATH}`;
  let rpcOrigin = "";

  const hostJson = options.hostJson ?? readHostJson(options.appRoot ?? process.cwd());
  const engineKind = options.durable?.engine ?? "node";
  // Set once the app has loaded (the engine's stubs are made for its registered functions).
  let hostEngine: HostEngine | undefined;
  const alarms = new Alarms(clock);
  const timerRuns = new Set<Promise<unknown>>();
  const serviceBus = new ServiceBusTriggers({
    clock,
    alarms,
    log,
    env,
    options: serviceBusOptionsOf(hostJson),
    bindings: { extraInput: (name, binding) => extraInput(name, binding), applyOutputs: (registration, response) => applyOutputs(registration, response) },
  });
  const runtime = new DurableRuntime({
    clock,
    alarms,
    log,
    taskHubName: options.durable?.taskHubName ?? options.settings.TASK_HUB_NAME ?? "LocalTaskHub",
    maximumShortTimerMs: options.durable?.maximumShortTimerMs,
    longRunningTimerIntervalMs: options.durable?.longRunningTimerIntervalMs,
    maxConcurrentActivities: options.durable?.maxConcurrentActivities,
    maxConcurrentOrchestrations: options.durable?.maxConcurrentOrchestrations,
    // Activities that declare the durable client get it, as the extension gives them.
    bindings: { extraInput: (name, binding) => extraInput(name, binding), applyOutputs: (registration, response) => applyOutputs(registration, response) },
    otherWork: {
      isIdle: () => serviceBus.isIdle() && timerRuns.size === 0,
      settle: async () => {
        await serviceBus.drain();
        await Promise.allSettled([...timerRuns]);
      },
    },
  });
  const clientContext: ClientContext = { runtime, keys, origin: () => origin, rpcBaseUrl: () => `${rpcOrigin}${rpcPrefix}` };

  function extraInput(_bindingName: string, binding: RpcBindingInfo): RpcTypedData | undefined {
    const type = String(binding.type).toLowerCase();
    if (type === "durableclient" || type === "orchestrationclient") {
      return stringTypedData(hostEngine ? hostEngine.bindingText : JSON.stringify(durableClientBindingData(clientContext)));
    }
    return undefined;
  }

  /** Output bindings the host can honour: Service Bus queue outputs are sent to the queue through their connection. */
  function applyOutputs(registration: Registration, response: RpcInvocationResponse): void {
    serviceBus.applyOutputs(registration, response);
  }

  const bindings: BindingServices = { extraInput, applyOutputs };
  const nodeWebhook = durableWebhookHandler(clientContext);
  const handlers = [
    // OPERATOR_SIGN_IN=easyauth: the host plays App Service Authentication in front of the app.
    ...(options.settings.OPERATOR_SIGN_IN?.trim().toLowerCase() === "easyauth" ? [easyAuthHandler()] : []),
    adminHandler,
    eventGridHandler(
      (name) => {
        const r = findRegistration(name);
        return r && r.metadata.name === name ? r : undefined;
      },
      keys,
      log,
      bindings,
    ),
    (req: HostRequest) => (hostEngine ? hostEngine.webhook(req) : nodeWebhook(req)),
    httpTriggerHandler(() => functionsOfType(httpFunctionOf), keys, log, bindings),
    rootHandler,
  ];
  const server = await startServer(options.port ?? 0, () => handlers, log);
  origin = server.origin;
  let rpcServer: StartedServer;
  try {
    const rpcHandlers = [durableRpcHandler(clientContext, rpcPrefix)];
    rpcServer = await startServer(0, () => rpcHandlers, log);
  } catch (err) {
    await server.close();
    throw err;
  }
  rpcOrigin = rpcServer.origin;
  const closeServers = async (): Promise<void> => {
    await Promise.all([server.close(), rpcServer.close()]);
  };

  // App settings, then the app. process.env is process-wide: on close the host puts back what it
  // changed (where nobody changed it since), so one host's settings never leak into the next.
  const applied = new Map<string, { before: string | undefined; value: string }>();
  const setEnv = (name: string, value: string): void => {
    if (!applied.has(name)) applied.set(name, { before: env[name], value });
    else applied.get(name)!.value = value;
    env[name] = value;
  };
  const restoreEnv = (): void => {
    for (const [name, { before, value }] of applied) {
      if (env[name] !== value) continue;
      if (before === undefined) delete env[name];
      else env[name] = before;
    }
    applied.clear();
  };
  for (const [name, value] of Object.entries(options.settings)) setEnv(name, value);
  if (env.FUNCTIONS_WORKER_RUNTIME === undefined) setEnv("FUNCTIONS_WORKER_RUNTIME", "node");
  setEnv("WEBSITE_HOSTNAME", `127.0.0.1:${server.port}`);
  coreState().systemLog = (level, category, message) => log(`[worker] ${category} ${level}: ${message}`);
  try {
    await options.load();
    if (registrations().length === 0) {
      throw new Error(
        "The app registered no functions with the local host. If @azure/functions printed 'Switching ... to test mode', a module calling app.* / df.app.* " +
          "was imported before local/host (which installs @azure/functions-core): import local/host first, or the app only through `load`.",
      );
    }
    const model = programmingModel();
    if (model?.getCapabilities && !capabilitiesRequested) {
      capabilitiesRequested = true;
      const capabilities = await model.getCapabilities({});
      if (capabilities.HttpUri) log("[host] warning: the app enabled HTTP streaming (app.setup({ enableHttpStream: true })), which this host does not support");
    }
    await runAppStartHooks(process.cwd());
  } catch (err) {
    await closeServers();
    alarms.close();
    restoreEnv();
    throw err;
  }

  let timerFunctions: TimerFunction[] = [];
  try {
    if (engineKind === "dtfx") {
      const extensions = hostJson?.extensions ?? {};
      const section = Object.entries(extensions).find(([k]) => k.toLowerCase() === "durabletask")?.[1];
      hostEngine = await startHostEngine({
        storageConnectionString: env.AzureWebJobsStorage ?? "",
        durableTask: typeof section === "object" && section !== null ? (section as Record<string, unknown>) : undefined,
        overrides: options.durable?.engineSettings,
        origin,
        keys,
        bindings,
        log,
      });
    }
    timerFunctions = functionsOfType((r) => timerFunctionOf(r, env));
    // Service Bus listeners start with the host, as the extension's listeners do.
    await serviceBus.start(registrations());
  } catch (err) {
    await hostEngine?.close();
    await serviceBus.close();
    await closeServers();
    alarms.close();
    restoreEnv();
    throw err;
  }
  const stopTimers = startTimerTriggers(timerFunctions, clock, alarms, log, timerRuns, bindings);
  log(
    `[host] listening on ${origin}; functions: ${registrations()
      .map((r) => `${r.metadata.name} (${triggerTypeOf(r)})`)
      .join(", ")}`,
  );

  async function adminHandler(req: HostRequest): Promise<HostResponse | undefined> {
    const path = req.url.pathname.toLowerCase();
    if (!path.startsWith("/admin/")) return undefined;
    if (!keyMatches(presentedKey(req), keys.masterKey)) return { status: 401 };
    if (path === "/admin/host/status" && req.method === "GET")
      return jsonResponse(200, { state: "Running", version: "local", processUptime: Math.round(process.uptime() * 1000) });
    const m = /^\/admin\/functions\/([^/]+)$/.exec(req.url.pathname);
    if (m?.[1] && req.method === "POST") {
      const registration = findRegistration(decodeURIComponent(m[1]));
      if (!registration) return { status: 404 };
      let input: unknown;
      try {
        input = req.body.length > 0 ? (JSON.parse(req.body.toString("utf8")) as { input?: unknown }).input : undefined;
      } catch {
        return textResponse(400, 'The body must be JSON: {"input": "..."}');
      }
      const type = triggerTypeOf(registration).toLowerCase();
      const trigger =
        type === "timertrigger"
          ? jsonTypedData({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false })
          : input === undefined
            ? undefined
            : stringTypedData(typeof input === "string" ? input : JSON.stringify(input));
      const p = invoke(registration, { trigger, bindings, log });
      timerRuns.add(p);
      void p.finally(() => timerRuns.delete(p));
      return { status: 202 };
    }
    return { status: 404 };
  }

  function rootHandler(req: HostRequest): HostResponse | undefined {
    if (req.url.pathname === "/" && req.method === "GET") return textResponse(200, "gallery-share local Functions host is running");
    return undefined;
  }

  let closed = false;
  const host: LocalHost = {
    baseUrl: origin,
    functionKey: keys.functionKey,
    masterKey: keys.masterKey,
    clock,
    eventGridUrl: (functionName) =>
      `${origin}${EVENT_GRID_PATH}?functionName=${encodeURIComponent(functionName)}&code=${encodeURIComponent(keys.systemKeys.eventgrid_extension)}`,
    systemKey: (name) => keys.systemKeys[name],
    durable: hostEngine
      ? engineDurableApi(hostEngine, serviceBus)
      : {
          engine: "node",
          client: () => durableClientFor(durableClientBindingData(clientContext)),
          status: async (id) => runtime.getStatus(id),
          startNew: async (name, opts) => runtime.startNew(name, opts?.instanceId, opts?.input === undefined ? undefined : JSON.stringify(opts.input)),
          getStatus: (id) => runtime.getStatus(id),
          history: (id) => runtime.history(id),
          listInstances: () => runtime.listInstances(),
          raiseEvent: async (id, eventName, data) => {
            const outcome = runtime.raiseEvent(id, eventName, data === undefined ? undefined : JSON.stringify(data));
            if (outcome === "notFound") throw new Error(`No instance with ID '${id}' found.`);
          },
          terminate: async (id, reason) => {
            const outcome = runtime.terminate(id, reason);
            if (outcome === "notFound") throw new Error(`No instance with ID '${id}' found.`);
          },
          // A message may have been sent since the last look at the queues: look again.
          runUntilIdle: () => {
            serviceBus.invalidate();
            return runtime.runUntilIdle();
          },
          nextTimerAt: () => runtime.nextTimerAt(),
          replayStats: () => runtime.replayStats(),
          waitFor: (id, statuses, opts) => {
            serviceBus.invalidate();
            return runtime.waitFor(id, statuses, opts);
          },
        },
    serviceBus: {
      drain: (opts) => serviceBus.drain(opts),
      listeners: () => serviceBus.info(),
      get options() {
        return serviceBus.options;
      },
    },
    registeredFunctions: () =>
      registrations().map((r) => {
        const entry: { name: string; trigger: string; route?: string } = { name: r.metadata.name, trigger: triggerTypeOf(r) };
        const http: HttpFunction | undefined = httpFunctionOf(r);
        if (http) entry.route = `/${ROUTE_PREFIX}/${http.route.template}`;
        return entry;
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      stopTimers();
      runtime.close();
      await hostEngine?.close();
      await serviceBus.close();
      alarms.close();
      await closeServers();
      await runAppTerminateHooks();
      restoreEnv();
    },
  };
  return host;
}
