// The Event Grid extension's webhook, `POST /runtime/webhooks/eventgrid?functionName=NAME&code=KEY`,
// with the rules of Microsoft.Azure.WebJobs.Extensions.EventGrid (HttpRequestProcessor and
// EventGridExtensionConfigProvider):
//  - wrong or missing system key (eventgrid_extension, or the master key) -> 401;
//  - unknown or missing functionName -> 404 "cannot find function: 'NAME'";
//  - OPTIONS with WebHook-Request-Origin (CloudEvents abuse-protection handshake) -> 200 with
//    WebHook-Allowed-Origin (and WebHook-Allowed-Rate: *);
//  - header `aeg-event-type` (case-insensitive value):
//      SubscriptionValidation -> 200 {"validationResponse": code} from `[0].data.validationCode`
//        (Event Grid schema, an array) or from the object's data (CloudEvents, data possibly a JSON string);
//      Notification -> body is an array or one object; the function runs once per event, all in
//        parallel; any failure -> 500 with the exception message (Event Grid retries the batch); else 202;
//      Unsubscribe -> 202; anything else, including no header -> 400.
import type { Registration } from "./core";
import type { HostRequest, HostResponse } from "./httpServer";
import { jsonResponse, textResponse } from "./httpServer";
import { invoke, triggerBindingOf, type BindingServices, type HostLog } from "./invoke";
import { topLevelEntries, topLevelMembers } from "./jsonText";
import { keyMatches, presentedKey, type HostKeys } from "./keys";

export const EVENT_GRID_PATH = "/runtime/webhooks/eventgrid";

export function isEventGridFunction(registration: Registration): boolean {
  return String(triggerBindingOf(registration)[1].type).toLowerCase() === "eventgridtrigger";
}

function validationCode(body: unknown): string | undefined {
  const first = Array.isArray(body) ? (body[0] as unknown) : body;
  if (typeof first !== "object" || first === null) return undefined;
  let data: unknown = (first as { data?: unknown }).data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  if (typeof data !== "object" || data === null) return undefined;
  const code = (data as { validationCode?: unknown }).validationCode;
  return code === undefined || code === null ? undefined : String(code);
}

export function eventGridHandler(findFunction: (name: string) => Registration | undefined, keys: HostKeys, log: HostLog, bindings: BindingServices) {
  return async (req: HostRequest): Promise<HostResponse | undefined> => {
    if (req.url.pathname.toLowerCase() !== EVENT_GRID_PATH) return undefined;
    if (!keyMatches(presentedKey(req), keys.systemKeys.eventgrid_extension, keys.masterKey)) return { status: 401 };
    const functionName = req.url.searchParams.get("functionName") ?? "";
    const registration = functionName ? findFunction(functionName) : undefined;
    if (!registration || !isEventGridFunction(registration)) {
      return textResponse(404, `cannot find function: '${functionName}'`);
    }

    if (req.method === "OPTIONS") {
      const origin = req.headers["webhook-request-origin"];
      if (!origin) return { status: 400 };
      return { status: 200, headers: { "webhook-allowed-origin": origin, "webhook-allowed-rate": "*" } };
    }

    const eventType = (req.headers["aeg-event-type"] ?? "").toLowerCase();
    if (eventType === "subscriptionvalidation") {
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString("utf8"));
      } catch {
        return textResponse(400, "The request content should be parseable into a JSON object or array.");
      }
      const code = validationCode(body);
      if (code === undefined) return textResponse(400, "The subscription validation event carries no data.validationCode.");
      log(`[eventgrid] perform handshake with eventGrid for function: ${registration.metadata.name}`);
      return jsonResponse(200, { validationResponse: code });
    }
    if (eventType === "notification") {
      const text = req.body.toString("utf8");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return textResponse(400, "The request content should be parseable into a JSON object or array.");
      }
      if (typeof body !== "object" || body === null) {
        return textResponse(400, "The request content should be parseable into a JSON object or array.");
      }
      // Each event goes on as its own slice of the body text: re-serializing the parsed event would
      // recurse, and fail in the host on an event Azure delivers.
      const events = Array.isArray(body) ? topLevelMembers(text) : [text.trim()];
      const outcomes = await Promise.all(
        events.map((ev) =>
          invoke(registration, {
            trigger: { json: ev },
            triggerMetadata: eventMetadata(ev),
            bindings,
            log,
          }),
        ),
      );
      for (const outcome of outcomes) {
        if (!outcome.ok) {
          log(`[${registration.metadata.name}] failed: ${outcome.error.stack ?? outcome.error.message}`);
          return textResponse(500, outcome.error.message);
        }
      }
      return { status: 202 };
    }
    if (eventType === "unsubscribe") return { status: 202 };
    return { status: 400 };
  };
}

/** Trigger metadata: the event's top-level properties (strings as strings, other values as their JSON text). */
function eventMetadata(eventText: string): Record<string, { string: string } | { json: string }> {
  const meta: Record<string, { string: string } | { json: string }> = {};
  for (const [key, valueText] of topLevelEntries(eventText)) {
    if (valueText === "null") continue;
    meta[key] = valueText.startsWith('"') ? { string: JSON.parse(valueText) as string } : { json: valueText };
  }
  return meta;
}
