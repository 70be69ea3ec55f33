// The Durable extension's HTTP API (HttpApiHandler), served twice like the real host does:
//  - behind `rpcBaseUrl`, what `df.getClient(context)` calls: in Azure the extension's LocalHttpListener
//    (`http://127.0.0.1:17071/durabletask/`, a listener of its own, no key). Here too a listener of its
//    own on 127.0.0.1, never the public port, under a per-host secret path prefix: durable-functions
//    sends rpc calls to `new URL(path, rpcBaseUrl)` with no key (it appends requiredQueryStringParameters
//    only to entity webhook URLs when there is no rpcBaseUrl), so the path is the only secret it carries;
//  - as the public webhook `/runtime/webhooks/durabletask/` (system key `durabletask_extension` or the
//    master key): what `createCheckStatusResponse` links point to.
// Routes: POST orchestrators/{name}/{id?}; GET instances/, GET|DELETE instances/{id};
// POST instances/{id}/terminate|suspend|resume|rewind|restart; POST instances/{id}/raiseEvent/{event}.
import { jsonResponse, jsonTextResponse, textResponse, type HostRequest, type HostResponse } from "../httpServer";
import { jsonValueText, stringifyWithRawMembers } from "../jsonText";
import { keyMatches, presentedKey, type HostKeys } from "../keys";
import type { DurableRuntime } from "./runtime";
import { FunctionNotFoundError, InstanceAlreadyExistsError } from "./runtime";
import { parseJsonText, statusTime, TERMINAL_STATUSES, type InstanceRecord } from "./store";
import { EventType, eventTypeName, type HistoryEvent } from "./history";

/** The extension's rpc path (under the per-host secret prefix on the rpc listener). */
export const RPC_PATH = "/durabletask/";
export const WEBHOOK_PATH = "/runtime/webhooks/durabletask";
const CONNECTION_NAME = "Storage";

export interface ClientContext {
  runtime: DurableRuntime;
  keys: HostKeys;
  /** The public listener's origin (webhook and management links). */
  origin: () => string;
  /** `rpcBaseUrl` of the durable client binding: the rpc listener's origin, secret prefix and RPC_PATH. */
  rpcBaseUrl: () => string;
}

/** Query suffix of management links: taskHub, connection and the system key, as the extension builds it. */
function managementQuery(ctx: ClientContext): string {
  return `taskHub=${encodeURIComponent(ctx.runtime.taskHubName)}&connection=${CONNECTION_NAME}&code=${encodeURIComponent(ctx.keys.systemKeys.durabletask_extension)}`;
}

export interface HttpManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

export function managementPayload(ctx: ClientContext, instanceId: string, origin = ctx.origin()): HttpManagementPayload {
  const prefix = `${origin}${WEBHOOK_PATH}/instances/${instanceId === "INSTANCEID" ? instanceId : encodeURIComponent(instanceId)}`;
  const q = managementQuery(ctx);
  return {
    id: instanceId,
    statusQueryGetUri: `${prefix}?${q}`,
    sendEventPostUri: `${prefix}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${prefix}/terminate?reason={text}&${q}`,
    rewindPostUri: `${prefix}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${prefix}?${q}`,
    restartPostUri: `${prefix}/restart?${q}`,
    suspendPostUri: `${prefix}/suspend?reason={text}&${q}`,
    resumePostUri: `${prefix}/resume?reason={text}&${q}`,
  };
}

/** The durable client input binding's data (BindingHelper.DurableOrchestrationClientToString). */
export function durableClientBindingData(ctx: ClientContext): Record<string, unknown> {
  const origin = ctx.origin();
  const base = `${origin}${WEBHOOK_PATH}`;
  const code = `code=${encodeURIComponent(ctx.keys.systemKeys.durabletask_extension)}`;
  return {
    taskHubName: ctx.runtime.taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${code}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
    },
    managementUrls: managementPayload(ctx, "INSTANCEID", origin),
    baseUrl: base,
    requiredQueryStringParameters: code,
    rpcBaseUrl: ctx.rpcBaseUrl(),
  };
}

/**
 * The history as the extension's status API shows it (DurableClient.GetDurableOrchestrationStatusAsync):
 * EventType as its name; a TaskScheduled (or SubOrchestrationInstanceCreated) folded into its
 * completion, which gains FunctionName and ScheduledTime (one still pending stays as it is);
 * OrchestratorStarted/Completed left out; EventId, IsPlayed, TimerFired's TimerId and the
 * scheduled id removed; results only with showHistoryOutput, inputs only with showInput.
 */
export function historyPayload(history: readonly HistoryEvent[], showInput: boolean, showHistoryOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<string, { index: number; name: string | undefined; time: string; input: string | null | undefined }>();
  const folded = new Set<number>();
  const out: Array<Record<string, unknown> | undefined> = history.map((e, index) => {
    const item: Record<string, unknown> = { EventType: eventTypeName(e.EventType), Timestamp: e.Timestamp };
    const fold = (prefix: string): void => {
      const from = scheduled.get(`${prefix}_${e.TaskScheduledId}`);
      if (!from) return;
      item.ScheduledTime = from.time;
      item.FunctionName = from.name;
      if (showInput && from.input !== undefined) item.Input = from.input;
      folded.add(from.index);
    };
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        return undefined;
      case EventType.ExecutionStarted:
        if (e.Name !== undefined) item.FunctionName = e.Name;
        if (showInput && e.Input !== undefined) item.Input = e.Input;
        break;
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated: {
        const kind = e.EventType === EventType.TaskScheduled ? "TaskScheduled" : "SubOrchestrationInstanceCreated";
        scheduled.set(`${kind}_${e.EventId}`, { index, name: e.Name, time: e.Timestamp, input: e.Input });
        if (e.Name !== undefined) item.Name = e.Name;
        if (e.InstanceId !== undefined) item.InstanceId = e.InstanceId;
        if (showInput && e.Input !== undefined) item.Input = e.Input;
        break;
      }
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const task = e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed;
        fold(task ? "TaskScheduled" : "SubOrchestrationInstanceCreated");
        const completed = e.EventType === EventType.TaskCompleted || e.EventType === EventType.SubOrchestrationInstanceCompleted;
        if (completed && showHistoryOutput && e.Result !== undefined) item.Result = parseJsonText(e.Result);
        if (e.Reason !== undefined) item.Reason = e.Reason;
        if (e.Details !== undefined) item.Details = e.Details;
        break;
      }
      case EventType.ExecutionCompleted:
        if (e.OrchestrationStatus !== undefined) item.OrchestrationStatus = e.OrchestrationStatus;
        if (showHistoryOutput && e.Result !== undefined) item.Result = parseJsonText(e.Result);
        break;
      default:
        if (e.Name !== undefined) item.Name = e.Name;
        if (showInput && e.Input !== undefined) item.Input = e.Input;
        if (e.Reason !== undefined) item.Reason = e.Reason;
    }
    if (e.FireAt !== undefined) item.FireAt = e.FireAt;
    return item;
  });
  return out.filter((item, index): item is Record<string, unknown> => item !== undefined && !folded.has(index));
}

/** The status JSON text. Input and output are spliced in as stored (JSON text), not re-serialized: a deeply nested input would make JSON.stringify throw. */
function statusPayload(rec: InstanceRecord, showInput: boolean, showHistory: boolean, showHistoryOutput: boolean): string {
  const payload: Record<string, unknown> = {
    name: rec.name,
    instanceId: rec.instanceId,
    runtimeStatus: rec.status,
    customStatus: rec.customStatus ?? null,
    createdTime: statusTime(rec.createdTime),
    lastUpdatedTime: statusTime(rec.lastUpdatedTime),
  };
  if (showHistory) payload.historyEvents = historyPayload(rec.history, showInput, showHistoryOutput);
  return stringifyWithRawMembers(payload, { input: showInput ? jsonValueText(rec.input) : "null", output: jsonValueText(rec.output) });
}

function boolParam(req: HostRequest, name: string, fallback: boolean): boolean {
  const value = req.url.searchParams.get(name);
  if (value === null) return fallback;
  if (value.toLowerCase() === "true") return true;
  if (value.toLowerCase() === "false") return false;
  return fallback;
}

/** The request body as JSON text (undefined when empty), or the 400 the real host answers for invalid JSON. */
function jsonBody(req: HostRequest): { ok: true; json: string | undefined } | { ok: false; response: HostResponse } {
  const text = req.body.toString("utf8");
  if (text.length === 0) return { ok: true, json: undefined };
  try {
    JSON.parse(text);
    return { ok: true, json: text };
  } catch {
    return { ok: false, response: jsonResponse(400, { Message: "Invalid JSON content" }) };
  }
}

function checkStatusResponse(ctx: ClientContext, instanceId: string): HostResponse {
  const links = managementPayload(ctx, instanceId);
  const { rewindPostUri: _rewind, ...body } = links;
  return jsonResponse(202, body, { location: links.statusQueryGetUri, "retry-after": "10" });
}

/** Dispatches a Durable HTTP API request whose path (after the API base) is `path`. */
async function handleApi(ctx: ClientContext, req: HostRequest, path: string): Promise<HostResponse> {
  const runtime = ctx.runtime;
  const segments = path
    .split("/")
    .filter((s) => s.length > 0)
    .map((s) => decodeURIComponent(s));
  const [controller, first, second, third] = segments;

  if (controller === "orchestrators" && first !== undefined) {
    if (req.method !== "POST") return { status: 404 };
    const body = jsonBody(req);
    if (!body.ok) return body.response;
    const inputJson = body.json;
    try {
      const id = runtime.startNew(first, second, inputJson);
      return checkStatusResponse(ctx, id);
    } catch (err) {
      // DTFx throws OrchestrationAlreadyExistsException; the extension (3.19.0) answers 409 Conflict with
      // its message alone, as the conformance suite (test/durable-engine) saw it do.
      if (err instanceof InstanceAlreadyExistsError) return jsonResponse(409, { Message: err.message });
      if (err instanceof FunctionNotFoundError) return jsonResponse(400, { Message: err.message });
      throw err;
    }
  }

  if (controller === "instances") {
    if (first === undefined) {
      if (req.method === "GET") {
        const statuses = (req.url.searchParams.get("runtimeStatus") ?? "").split(",").filter((s) => s);
        const prefix = req.url.searchParams.get("instanceIdPrefix");
        const showInput = boolParam(req, "showInput", false);
        const list = runtime.store
          .all()
          .filter((r) => statuses.length === 0 || statuses.includes(r.status))
          .filter((r) => prefix === null || r.instanceId.startsWith(prefix))
          .map((r) => statusPayload(r, showInput, false, false));
        return jsonTextResponse(200, `[${list.join(",")}]`);
      }
      if (req.method === "DELETE") {
        let deleted = 0;
        const statuses = (req.url.searchParams.get("runtimeStatus") ?? "").split(",").filter((s) => s);
        const from = Date.parse(req.url.searchParams.get("createdTimeFrom") ?? "");
        if (Number.isNaN(from)) return textResponse(400, "Please provide value for 'createdTimeFrom' parameter.");
        const toText = req.url.searchParams.get("createdTimeTo");
        const to = toText ? Date.parse(toText) : Number.POSITIVE_INFINITY;
        for (const r of runtime.store.all()) {
          if (r.createdTime < from || r.createdTime > to) continue;
          if (statuses.length > 0 && !statuses.includes(r.status)) continue;
          if (runtime.purge(r.instanceId) === "ok") deleted++;
        }
        return deleted === 0 ? { status: 404 } : jsonResponse(200, { instancesDeleted: deleted });
      }
      return { status: 404 };
    }
    const instanceId = first;
    if (second === undefined) {
      if (req.method === "GET") {
        const rec = runtime.record(instanceId);
        if (!rec) return { status: 404 };
        const body = statusPayload(rec, boolParam(req, "showInput", true), boolParam(req, "showHistory", false), boolParam(req, "showHistoryOutput", false));
        if (rec.status === "Pending" || rec.status === "Running" || rec.status === "ContinuedAsNew") {
          return jsonTextResponse(202, body, { location: req.url.href, "retry-after": "5" });
        }
        const failStatus = rec.status === "Failed" && boolParam(req, "returnInternalServerErrorOnFailure", false) ? 500 : 200;
        return jsonTextResponse(failStatus, body);
      }
      if (req.method === "DELETE") {
        const outcome = runtime.purge(instanceId);
        if (outcome === "notFound") return { status: 404 };
        if (outcome === "notTerminal") {
          const status = runtime.record(instanceId)?.status ?? "Running";
          return jsonResponse(
            412,
            `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${status}`,
          );
        }
        return jsonResponse(200, { instancesDeleted: 1 });
      }
      return { status: 404 };
    }
    if (req.method !== "POST") return { status: 404 };
    const operation = second.toLowerCase();
    if (operation === "terminate") {
      const outcome = runtime.terminate(instanceId, req.url.searchParams.get("reason") ?? undefined);
      return { status: outcome === "ok" ? 202 : outcome === "gone" ? 410 : 404 };
    }
    if (operation === "raiseevent" && third !== undefined) {
      const rec = runtime.record(instanceId);
      if (!rec) return { status: 404 };
      if (TERMINAL_STATUSES.includes(rec.status)) return { status: 410 };
      const mediaType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
      if (mediaType !== "application/json") return jsonResponse(400, { Message: "Only application/json request content is supported" });
      const body = jsonBody(req);
      if (!body.ok) return body.response;
      const inputJson = body.json;
      runtime.raiseEvent(instanceId, third, inputJson);
      return { status: 202 };
    }
    if (operation === "rewind") {
      return jsonResponse(501, "The rewind operation is not supported by the local host.");
    }
    if (operation === "suspend" || operation === "resume" || operation === "restart") {
      return jsonResponse(501, `The ${operation} operation is not supported by the local host.`);
    }
    return { status: 404 };
  }

  if (controller === "entities") return jsonResponse(501, "Durable entities are not supported by the local host.");
  return { status: 404 };
}

/** The public listener's part: the webhook (system key or master key), and nothing of the rpc API. */
export function durableWebhookHandler(ctx: ClientContext) {
  return async (req: HostRequest): Promise<HostResponse | undefined> => {
    const pathname = req.url.pathname;
    const lower = pathname.toLowerCase();
    const webhook = lower === WEBHOOK_PATH || lower.startsWith(`${WEBHOOK_PATH}/`);
    // The rpc API lives on its own listener; on the public port its path is only an unknown route, and
    // without a key that is all a caller learns: 401, as for any durable API request without a key.
    if (!webhook && !lower.startsWith(RPC_PATH)) return undefined;
    if (!keyMatches(presentedKey(req), ctx.keys.systemKeys.durabletask_extension, ctx.keys.masterKey)) return { status: 401 };
    if (!webhook) return { status: 404 };
    return handleApi(ctx, req, pathname.slice(WEBHOOK_PATH.length));
  };
}

/** The rpc listener's handler: the API under `prefix` (the secret path prefix followed by RPC_PATH); anything else 404. */
export function durableRpcHandler(ctx: ClientContext, prefix: string) {
  return async (req: HostRequest): Promise<HostResponse> => {
    const pathname = req.url.pathname;
    if (!pathname.startsWith(prefix)) return { status: 404 };
    return handleApi(ctx, req, pathname.slice(prefix.length));
  };
}
