// Acceptance (g) and the rest of the Event Grid webhook rules.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixtureState, startFixtureHost, type FixtureHost } from "./support";

let fx: FixtureHost;
beforeAll(async () => {
  fx = await startFixtureHost();
});
afterAll(async () => {
  await fx.host.close();
});
beforeEach(async () => {
  (await fixtureState()).gridEvents.length = 0;
  (await fixtureState()).gridMetadata.length = 0;
});

function post(body: unknown, headers: Record<string, string>, target = fx.host.eventGridUrl("gridEvents")): Promise<Response> {
  return fetch(target, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

const egEvent = (id: string, data: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  topic: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg",
  subject: `/things/${id}`,
  eventType: "Microsoft.Resources.ResourceWriteSuccess",
  eventTime: "2026-01-01T08:00:00Z",
  data,
  dataVersion: "",
  metadataVersion: "1",
});

describe("Event Grid webhook", () => {
  it("(g) answers a SubscriptionValidation handshake with the validation code", async () => {
    const res = await post(
      [
        {
          id: "v1",
          eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
          subject: "",
          eventTime: "2026-01-01T08:00:00Z",
          data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://example.invalid/validate" },
          dataVersion: "2",
          metadataVersion: "1",
        },
      ],
      { "aeg-event-type": "SubscriptionValidation" },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
    expect((await fixtureState()).gridEvents).toHaveLength(0);
  });

  it("(g) answers 400 when aeg-event-type is missing (and for unknown values)", async () => {
    expect((await post([egEvent("x")], {})).status).toBe(400);
    expect((await post([egEvent("x")], { "aeg-event-type": "Something" })).status).toBe(400);
    expect((await fixtureState()).gridEvents).toHaveLength(0);
  });

  it("delivers a Notification array: one invocation per event, 202", async () => {
    const res = await post([egEvent("a"), egEvent("b"), egEvent("c")], { "aeg-event-type": "Notification" });
    expect(res.status).toBe(202);
    const ids = (await fixtureState()).gridEvents.map((e) => (e as { id: string }).id);
    expect(ids.sort()).toEqual(["a", "b", "c"]);
  });

  it("delivers a Notification that is one object (CloudEvents 1.0 as well)", async () => {
    const cloudEvent = {
      specversion: "1.0",
      id: "ce-1",
      source: "/subscriptions/x",
      type: "Microsoft.Resources.ResourceWriteSuccess",
      time: "2026-01-01T08:00:00Z",
      data: { operationName: "Microsoft.Compute/galleries/images/versions/write" },
    };
    const res = await post(cloudEvent, { "aeg-event-type": "notification" });
    expect(res.status).toBe(202);
    expect((await fixtureState()).gridEvents).toEqual([cloudEvent]);
  });

  it("answers 500 with the error when any invocation fails (Event Grid retries the batch)", async () => {
    const res = await post([egEvent("ok-1"), egEvent("bad", { fail: true })], { "aeg-event-type": "Notification" });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("event handler failed on purpose");
    expect((await fixtureState()).gridEvents.map((e) => (e as { id: string }).id)).toEqual(["ok-1"]);
  });

  it("passes each event on as its own slice of the body text (pretty-printed, brackets and escapes in strings)", async () => {
    const tricky = { ...egEvent("t-1"), subject: 'a "quoted", [bracketed] {braced}: \\ subject', data: { list: [1, { deep: ["x,]"] }], empty: {} } };
    const text = `[\n  ${JSON.stringify(egEvent("plain"))} ,\n  ${JSON.stringify(tricky, null, 2)}\n]`;
    const res = await fetch(fx.host.eventGridUrl("gridEvents"), {
      method: "POST",
      headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
      body: text,
    });
    expect(res.status).toBe(202);
    const state = await fixtureState();
    const byId = new Map(state.gridEvents.map((e) => [(e as { id: string }).id, e]));
    expect(byId.get("t-1")).toEqual(tricky);
    expect(byId.get("plain")).toEqual(egEvent("plain"));
    // Trigger metadata: the event's top-level properties, strings as strings, other values as JSON.
    expect(state.gridMetadata.map((m) => m.subject).sort()).toEqual(["/things/plain", tricky.subject].sort());
    expect(state.gridMetadata.map((m) => m.data)).toContainEqual(tricky.data);
  });

  it("adds no recursion of its own for an event nested 10,000 deep: the invocation gets it (and fails where the worker would)", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const text = JSON.stringify([egEvent("deep-1")]).replace('"data":{}', `"data":${deep}`);
    const res = await fetch(fx.host.eventGridUrl("gridEvents"), {
      method: "POST",
      headers: { "content-type": "application/json", "aeg-event-type": "Notification" },
      body: text,
    });
    // @azure/functions converts trigger metadata recursively (toCamelCaseValue) before the handler runs;
    // that is library code, the same in the Azure worker. The host itself must not fail first.
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("Maximum call stack size exceeded");
    expect(fx.logs.some((l) => l.startsWith("[gridEvents] failed: RangeError") && l.includes("toCamelCaseValue"))).toBe(true);
    expect(fx.logs.some((l) => l.includes("failed in the host"))).toBe(false);
  });

  it("accepts Unsubscribe with 202", async () => {
    expect((await post([egEvent("u")], { "aeg-event-type": "Unsubscribe" })).status).toBe(202);
  });

  it("answers the CloudEvents OPTIONS abuse-protection handshake", async () => {
    const res = await fetch(fx.host.eventGridUrl("gridEvents"), { method: "OPTIONS", headers: { "WebHook-Request-Origin": "eventgrid.azure.net" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("webhook-allowed-origin")).toBe("eventgrid.azure.net");
  });

  it("validates a CloudEvents-schema subscription (data possibly JSON-encoded)", async () => {
    const res = await post(
      { specversion: "1.0", id: "v", type: "Microsoft.EventGrid.SubscriptionValidationEvent", source: "x", data: JSON.stringify({ validationCode: "abc" }) },
      { "aeg-event-type": "SubscriptionValidation" },
    );
    expect(await res.json()).toEqual({ validationResponse: "abc" });
  });

  it("404 for an unknown function, 401 for a wrong or missing system key", async () => {
    const unknown = await post([egEvent("x")], { "aeg-event-type": "Notification" }, fx.host.eventGridUrl("noSuchFunction"));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("cannot find function: 'noSuchFunction'");
    const notEventGrid = await post([egEvent("x")], { "aeg-event-type": "Notification" }, fx.host.eventGridUrl("hello"));
    expect(notEventGrid.status).toBe(404);
    const base = `${fx.host.baseUrl}/runtime/webhooks/eventgrid?functionName=gridEvents`;
    expect((await post([egEvent("x")], { "aeg-event-type": "Notification" }, base)).status).toBe(401);
    expect((await post([egEvent("x")], { "aeg-event-type": "Notification" }, `${base}&code=${fx.host.functionKey}`)).status).toBe(401);
    expect((await post([egEvent("x")], { "aeg-event-type": "Notification" }, `${base}&code=${fx.host.masterKey}`)).status).toBe(202);
  });
});
