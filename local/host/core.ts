// Stand-in for `@azure/functions-core`, the built-in module the Azure Functions Node worker injects.
// `@azure/functions` requires it lazily (on the first `app.*` registration); outside the worker the
// require fails and the library switches to "test mode", skipping every registration. Installing this
// shim makes `require("@azure/functions-core")` resolve to a process-wide registry instead, so the app's
// `app.*` / `df.app.*` calls land here exactly as they land in the worker.
//
// Registrations are process-global, as a module loads once: the registry lives on globalThis so that a
// second host in the same process (or a second copy of this file, e.g. one loaded by vite and one by
// Node) sees the same functions.
import Module from "node:module";
import type { FunctionCallback, FunctionMetadata, HookCallback, ProgrammingModel, RpcLogCategory, RpcLogLevel } from "./coreTypes";

export const CORE_MODULE_NAME = "@azure/functions-core";

export interface Registration {
  readonly metadata: FunctionMetadata;
  readonly callback: FunctionCallback;
}

class Disposable {
  #callback: (() => void) | undefined;
  constructor(callback: () => void) {
    this.#callback = callback;
  }
  dispose(): void {
    const cb = this.#callback;
    this.#callback = undefined;
    cb?.();
  }
}

interface CoreState {
  readonly functions: Map<string, Registration>;
  readonly hooks: Map<string, HookCallback[]>;
  programmingModel: ProgrammingModel | undefined;
  /** Where worker-level (system) log lines go; the active host points it at its own log. */
  systemLog: (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;
  readonly coreApi: Record<string, unknown>;
  installed: boolean;
}

const STATE_KEY = Symbol.for("gallery-share.local-host.functions-core");

function createState(): CoreState {
  const state: CoreState = {
    functions: new Map(),
    hooks: new Map(),
    programmingModel: undefined,
    systemLog: () => undefined,
    coreApi: {},
    installed: false,
  };
  // The module object `@azure/functions` gets. Mirrors the worker's API (registerFunction,
  // setProgrammingModel, getProgrammingModel, registerHook, log, Disposable, version).
  Object.assign(state.coreApi, {
    version: "3.0.0-local",
    Disposable,
    registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
      if (!metadata || typeof metadata.name !== "string" || !metadata.name) {
        throw new Error("registerFunction: metadata.name is required");
      }
      if (typeof callback !== "function") throw new Error(`registerFunction: the callback of "${metadata.name}" is not a function`);
      const existing = [...state.functions.keys()].find((n) => n.toLowerCase() === metadata.name.toLowerCase());
      if (existing !== undefined) {
        throw new Error(`A function with name "${metadata.name}" has already been registered.`);
      }
      state.functions.set(metadata.name, { metadata, callback });
      return new Disposable(() => state.functions.delete(metadata.name));
    },
    setProgrammingModel(model: ProgrammingModel): void {
      state.programmingModel = model;
    },
    getProgrammingModel(): ProgrammingModel | undefined {
      return state.programmingModel;
    },
    registerHook(hookName: string, callback: HookCallback): Disposable {
      const known = ["preInvocation", "postInvocation", "appStart", "appTerminate", "log"];
      if (!known.includes(hookName)) throw new RangeError(`Unrecognized hook "${hookName}"`);
      const list = state.hooks.get(hookName) ?? [];
      list.push(callback);
      state.hooks.set(hookName, list);
      return new Disposable(() => {
        const current = state.hooks.get(hookName);
        if (current)
          state.hooks.set(
            hookName,
            current.filter((c) => c !== callback),
          );
      });
    },
    log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
      state.systemLog(level, category, message);
    },
  });
  return state;
}

export function coreState(): CoreState {
  const holder = globalThis as unknown as Record<symbol, CoreState | undefined>;
  let state = holder[STATE_KEY];
  if (!state) {
    state = createState();
    holder[STATE_KEY] = state;
  }
  return state;
}

type LoadFn = (request: string, parent: unknown, isMain: boolean) => unknown;

/**
 * Makes `require("@azure/functions-core")` return the shim, from now on, in this process.
 * Must run before the app's first `app.*` call (the library caches a failed lookup for good).
 */
export function installFunctionsCore(): void {
  const state = coreState();
  if (state.installed) return;
  const moduleStatics = Module as unknown as { _load: LoadFn };
  const original = moduleStatics._load;
  moduleStatics._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (request === CORE_MODULE_NAME) return state.coreApi;
    return original.call(this, request, parent, isMain);
  };
  state.installed = true;
}

export function registrations(): Registration[] {
  return [...coreState().functions.values()];
}

export function findRegistration(name: string): Registration | undefined {
  const functions = coreState().functions;
  const exact = functions.get(name);
  if (exact) return exact;
  for (const [key, reg] of functions) if (key.toLowerCase() === name.toLowerCase()) return reg;
  return undefined;
}

export function programmingModel(): ProgrammingModel | undefined {
  return coreState().programmingModel;
}

export function hooks(name: string): readonly HookCallback[] {
  return coreState().hooks.get(name) ?? [];
}
