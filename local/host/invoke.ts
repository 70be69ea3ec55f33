// Invokes a registered function the way the Node worker does: through the library's own programming
// model (`getInvocationModel(coreCtx)` -> `getArguments()` -> pre-invocation hooks -> `invokeFunction()`
// -> post-invocation hooks -> `getResponse()`), so inputs and outputs go through the same typed-data
// conversion as in Azure (JSON strings parsed, HttpRequest built from RpcHttpData, HttpResponse turned
// back into RpcHttpData, return values typed as string/json/int/bytes).
import { randomUUID } from "node:crypto";
import { hooks, programmingModel, type Registration } from "./core";
import type {
  CoreInvocationContext,
  LibraryInvocationContext,
  RpcBindingInfo,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcTypedData,
} from "./coreTypes";

export type HostLog = (line: string) => void;

/** What the host adds around an invocation: data of non-trigger input bindings, and honouring outputs. */
export interface BindingServices {
  extraInput(bindingName: string, binding: RpcBindingInfo): RpcTypedData | undefined;
  applyOutputs(registration: Registration, response: RpcInvocationResponse): void;
}

export interface InvokeOptions {
  /** Typed data of the trigger binding. */
  trigger: RpcTypedData | undefined;
  /** Data for the other input bindings (durable client, ...) and output handling. */
  bindings?: BindingServices;
  triggerMetadata?: Record<string, RpcTypedData>;
  retryContext?: { retryCount: number; maxRetryCount: number };
  /** Runs after the library built the InvocationContext, before the hooks: adds host-provided extras. */
  prepare?: (context: LibraryInvocationContext, inputs: unknown[]) => void;
  log: HostLog;
}

export type InvokeOutcome =
  { ok: true; response: RpcInvocationResponse; result: unknown; invocationId: string } | { ok: false; error: Error; invocationId: string };

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === "string") return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}

export function triggerBindingOf(registration: Registration): [string, RpcBindingInfo] {
  for (const [name, binding] of Object.entries(registration.metadata.bindings)) {
    if (typeof binding.type === "string" && /trigger$/i.test(binding.type)) return [name, binding];
  }
  throw new Error(`Function "${registration.metadata.name}" has no trigger binding`);
}

export function triggerTypeOf(registration: Registration): string {
  return String(triggerBindingOf(registration)[1].type);
}

async function runHooks(name: string, hookContext: Record<string, unknown>): Promise<void> {
  for (const hook of hooks(name)) await hook(hookContext);
}

const appHookData: Record<string, unknown> = {};

export async function runAppStartHooks(functionAppDirectory: string): Promise<void> {
  await runHooks("appStart", { hookData: {}, appHookData, functionAppDirectory });
}

export async function runAppTerminateHooks(): Promise<void> {
  await runHooks("appTerminate", { hookData: {}, appHookData });
}

export async function invoke(registration: Registration, options: InvokeOptions): Promise<InvokeOutcome> {
  const model = programmingModel();
  const invocationId = randomUUID();
  const name = registration.metadata.name;
  if (!model) return { ok: false, error: new Error("No programming model was registered: did the app load @azure/functions?"), invocationId };

  const [triggerName] = triggerBindingOf(registration);
  const inputData: RpcParameterBinding[] = [{ name: triggerName, data: options.trigger ?? null }];
  for (const [bindingName, binding] of Object.entries(registration.metadata.bindings)) {
    if (bindingName === triggerName || binding.direction !== "in") continue;
    const data = options.bindings?.extraInput(bindingName, binding);
    if (data !== undefined) inputData.push({ name: bindingName, data });
  }

  const coreCtx: CoreInvocationContext = {
    invocationId,
    metadata: registration.metadata,
    request: {
      invocationId,
      functionId: registration.metadata.functionId ?? name,
      inputData,
      triggerMetadata: options.triggerMetadata ?? {},
      retryContext: options.retryContext ?? null,
      traceContext: null,
    },
    log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
      options.log(`[${name}] ${category === "user" ? "" : `${category} `}${level}: ${message}`);
    },
  };

  try {
    const invocationModel = model.getInvocationModel(coreCtx);
    const { context, inputs: initialInputs } = await invocationModel.getArguments();
    let inputs = initialInputs;
    options.prepare?.(context, inputs);

    const hookData: Record<string, unknown> = {};
    let callback = registration.callback;
    const pre: Record<string, unknown> = { hookData, appHookData, invocationContext: context, functionCallback: callback, inputs };
    coreCtx.state = "preInvocationHooks";
    await runHooks("preInvocation", pre);
    inputs = Array.isArray(pre.inputs) ? (pre.inputs as unknown[]) : inputs;
    if (typeof pre.functionCallback === "function") callback = pre.functionCallback as typeof callback;

    coreCtx.state = "invocation";
    let result: unknown;
    let error: unknown;
    let failed = false;
    try {
      result = await invocationModel.invokeFunction(context, inputs, callback);
    } catch (err) {
      failed = true;
      error = err;
    }
    const post: Record<string, unknown> = { hookData, appHookData, invocationContext: context, inputs, result, error };
    coreCtx.state = "postInvocationHooks";
    await runHooks("postInvocation", post);
    result = post.result;
    if (post.error !== error) {
      failed = post.error !== undefined && post.error !== null;
      error = post.error;
    }
    if (failed) return { ok: false, error: toError(error), invocationId };

    const response = await invocationModel.getResponse(context, result);
    options.bindings?.applyOutputs(registration, response);
    return { ok: true, response, result, invocationId };
  } catch (err) {
    return { ok: false, error: toError(err), invocationId };
  }
}

// ---- typed data, host side ----

export function jsonTypedData(value: unknown): RpcTypedData {
  return { json: JSON.stringify(value) };
}

export function stringTypedData(value: string): RpcTypedData {
  return { string: value };
}

/**
 * What a typed value is as JSON text, the form the Durable extension keeps in history
 * (a string return becomes a JSON string, bytes become base64 as .NET serializes byte[]).
 * undefined/null -> undefined (no value).
 */
export function typedDataToJsonText(data: RpcTypedData | null | undefined): string | undefined {
  if (!data) return undefined;
  if (typeof data.json === "string") return data.json;
  if (typeof data.string === "string") return JSON.stringify(data.string);
  if (typeof data.int === "number") return String(data.int);
  if (typeof data.double === "number") return String(data.double);
  const bytes = data.bytes ?? data.stream;
  if (bytes) return JSON.stringify(Buffer.from(bytes).toString("base64"));
  if (data.collectionString?.string) return JSON.stringify(data.collectionString.string);
  return undefined;
}

/** The invocation's return value (the `$return` binding or the plain return of a non-HTTP trigger). */
export function returnValueOf(response: RpcInvocationResponse): RpcTypedData | undefined {
  return response.returnValue ?? undefined;
}
