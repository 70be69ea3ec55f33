// Starts the real Durable engine: the .NET host in this folder (the Durable Functions extension with
// DTFx's Azure Storage provider, in a plain WebJobs host) as a child process, and the loopback HTTP
// "bridge" its function stubs call to run the app's orchestrators and activities in this Node process.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { startServer, jsonTextResponse, jsonResponse, type HostRequest, type HostResponse, type StartedServer } from "../host/httpServer";

export type EngineFunctionKind = "orchestration" | "activity" | "entity";

export interface EngineFunction {
  name: string;
  kind: EngineFunctionKind;
}

/** What the app's function answered: its result as JSON text, or its error. */
export type BridgeOutcome = { ok: true; json: string } | { ok: false; message: string; stack?: string };

export interface BridgeHandlers {
  /** The orchestration trigger's JSON text in; the OrchestratorState JSON text out (or the JS error). */
  orchestrate(name: string, context: string): Promise<BridgeOutcome>;
  /** The activity's input as the worker's string typed data (undefined: none); its return value as JSON text out ("null": none). */
  activity(name: string, instanceId: string, input: string | undefined): Promise<BridgeOutcome>;
}

export interface DtfxEngineOptions {
  /** AzureWebJobsStorage: Azurite with blobs, queues and tables. */
  storageConnectionString: string;
  /** Settings the extension resolves (`%NAME%` in host.json), e.g. TASK_HUB_NAME. */
  settings: Record<string, string>;
  /** host.json's `extensions.durableTask` section, as the Functions host hands it to the extension. */
  durableTask: Record<string, unknown>;
  functions: EngineFunction[];
  /** Base of the webhook URLs the extension writes into management links (the local host's public listener). */
  webhookBase: string;
  handlers: BridgeHandlers;
  log: (line: string) => void;
  /** Start timeout in ms (default 120 s: DTFx creates its queues, tables and lease blobs on first start). */
  startTimeoutMs?: number;
}

export interface DtfxEngine {
  /** The durable client binding's JSON as the extension builds it (rpcBaseUrl from its LocalHttpListener). */
  readonly clientBinding: Record<string, unknown>;
  readonly rpcBaseUrl: string;
  close(): Promise<void>;
}

const ENGINE_DIR = __dirname;
const ENGINE_DLL = path.join(ENGINE_DIR, "bin", "Release", "net10.0", "durable-engine.dll");
const READY = "DURABLE_ENGINE_READY ";
// The extension writes its structured trace events to stdout on Linux (one JSON line each, many per
// second): left out of the host log, which gets the engine's console logging instead.
const ETW_PREFIX = "MS_DURABLE_FUNCTION_EVENTS_LOGS";

/** Whether the .NET SDK is on PATH. */
function dotnetAvailable(): boolean {
  const probe = spawnSync("dotnet", ["--version"], { stdio: "ignore" });
  return probe.status === 0;
}

/** Builds the engine if it has not been built (`npm run durable-engine:build` does it ahead of time). */
function ensureEngineBuilt(log: (line: string) => void = () => undefined): void {
  if (existsSync(ENGINE_DLL)) return;
  if (!dotnetAvailable())
    throw new Error("The real Durable engine needs the .NET 10 SDK (dotnet on PATH): install it, then run `npm run durable-engine:build`.");
  log(`[durable-engine] building ${ENGINE_DIR}`);
  const build = spawnSync("dotnet", ["build", ENGINE_DIR, "-c", "Release", "--nologo", "-v", "quiet"], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`dotnet build of ${ENGINE_DIR} failed:\n${build.stdout}\n${build.stderr}`);
}

function bridgeHandler(handlers: BridgeHandlers): (req: HostRequest) => Promise<HostResponse | undefined> {
  return async (req) => {
    const m = /^\/(orchestrations|activities)\/([^/]+)$/.exec(req.url.pathname);
    if (!m || req.method !== "POST") return undefined;
    const name = decodeURIComponent(m[2]!);
    const text = req.body.toString("utf8");
    let outcome: BridgeOutcome;
    if (m[1] === "orchestrations") {
      outcome = await handlers.orchestrate(name, text);
    } else {
      // The input as the extension holds it (GetInputAsJson). durable-functions sends a string input
      // already JSON-encoded, so a string token is handed on as it is: the worker's string typed data,
      // which @azure/functions JSON-parses when it can.
      const payload = JSON.parse(text) as { instanceId?: string; input?: unknown };
      const input =
        payload.input === undefined || payload.input === null ? undefined : typeof payload.input === "string" ? payload.input : JSON.stringify(payload.input);
      outcome = await handlers.activity(name, payload.instanceId ?? "", input);
    }
    if (outcome.ok) return jsonTextResponse(200, outcome.json);
    return jsonResponse(500, { message: outcome.message, stack: outcome.stack ?? "" });
  };
}

export async function startDtfxEngine(options: DtfxEngineOptions): Promise<DtfxEngine> {
  ensureEngineBuilt(options.log);
  const bridge: StartedServer = await startServer(0, () => [bridgeHandler(options.handlers)], options.log);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.settings,
    AzureWebJobsStorage: options.storageConnectionString,
    // The extension picks its out-of-process protocol from the worker runtime: node gets the JSON
    // OrchestratorState protocol that durable-functions 3.x speaks.
    FUNCTIONS_WORKER_RUNTIME: "node",
    DURABLE_ENGINE_BRIDGE_URL: bridge.origin,
    DURABLE_ENGINE_WEBHOOK_BASE: options.webhookBase,
    DURABLE_ENGINE_FUNCTIONS: JSON.stringify(options.functions),
    DURABLE_ENGINE_OPTIONS: JSON.stringify(options.durableTask),
    // The extension's LocalHttpListener is a WebHost of its own that logs every request at Information.
    Logging__LogLevel__Default: process.env.DURABLE_ENGINE_LOG_LEVEL ?? "Warning",
    DOTNET_CLI_TELEMETRY_OPTOUT: "1",
    DOTNET_NOLOGO: "1",
  };
  const child: ChildProcess = spawn("dotnet", [ENGINE_DLL], { env, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const clientBinding = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The Durable engine did not start within ${options.startTimeoutMs ?? 120_000} ms:\n${output}`)),
      options.startTimeoutMs ?? 120_000,
    );
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trimEnd();
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(READY)) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice(READY.length)) as Record<string, unknown>);
        } else if (line && !line.startsWith(ETW_PREFIX)) {
          output += `${line}\n`;
          options.log(`[durable-engine] ${line}`);
        }
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output += text;
      for (const line of text.split("\n")) if (line.trim()) options.log(`[durable-engine] ${line}`);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The Durable engine exited with code ${code} before it was ready:\n${output}`));
    });
  }).catch(async (err: unknown) => {
    child.kill("SIGKILL");
    await bridge.close();
    throw err;
  });
  const rpcBaseUrl = String(clientBinding.rpcBaseUrl ?? "");
  return {
    clientBinding,
    rpcBaseUrl,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        // Closing stdin asks for a graceful stop (the host stops its listeners and releases its leases).
        child.stdin?.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await bridge.close();
    },
  };
}
