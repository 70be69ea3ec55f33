// Receiver for the app's outcome events: an Event Grid topic endpoint
// (`POST /_eventgrid/topics/{topic}/api/events?api-version=2018-01-01`) taking a CloudEvents batch
// (or an Event Grid schema array) with a bearer token from the emulated Entra, as
// EventGridPublisherClient sends it with a TokenCredential. Events are kept per topic.
import type { Ctx } from "./context";
import { checkToken } from "./entra/tokens";
import { header, isObject, queryParam, type EmuRequest, type EmuResponse } from "./http";
import type { Route } from "./router";

function error(status: number, code: string, message: string): EmuResponse {
  return { status, body: { error: { code, message } } };
}

function publish(req: EmuRequest, ctx: Ctx): EmuResponse {
  const auth = header(req, "authorization");
  const token = auth ? /^bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
  if (!token) return error(401, "Unauthorized", "The request authorization key is not authorized. The 'Authorization' header with a bearer token is required.");
  const check = checkToken(ctx.core, token);
  if (!check.ok) return error(401, "Unauthorized", `The bearer token is not valid (${check.reason}).`);
  if (queryParam(req, "api-version") !== "2018-01-01") return error(400, "BadRequest", "The api-version is missing or not supported. Supported: 2018-01-01.");
  const events = req.body;
  if (!Array.isArray(events)) return error(400, "BadRequest", "The request body must be a JSON array of events.");
  const contentType = (header(req, "content-type") ?? "").toLowerCase();
  const cloudEvents = contentType.includes("cloudevents");
  for (const [i, e] of events.entries()) {
    if (!isObject(e)) return error(400, "BadRequest", `Event ${i} is not a JSON object.`);
    const required = cloudEvents ? ["specversion", "id", "source", "type"] : ["id", "subject", "eventType", "eventTime", "dataVersion"];
    const missing = required.filter((k) => typeof e[k] !== "string");
    if (missing.length > 0) return error(400, "BadRequest", `Event ${i} is missing required field(s): ${missing.join(", ")}.`);
  }
  const topic = (req.params.topic ?? "").toLowerCase();
  const list = ctx.core.world.events.get(topic) ?? [];
  list.push(...events.map((e) => structuredClone(e)));
  ctx.core.world.events.set(topic, list);
  return { status: 200 };
}

export function eventGridRoutes(): Route<Ctx>[] {
  return [{ method: "POST", pattern: "/_eventgrid/topics/{topic}/api/events", kind: "eventgrid", handler: publish }];
}
