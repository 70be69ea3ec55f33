import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyEvent } from "../../src/domain/events";

// Microsoft's official samples, unmodified, vendored in specs/eventgrid.
const EXAMPLES = path.resolve(__dirname, "../../specs/eventgrid/specification/eventgrid/data-plane");
const sample = (relative: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EXAMPLES, relative), "utf8")) as Record<string, unknown>;
const eventGridSample = () => sample("Microsoft.Resources/stable/2018-01-01/examples/event-grid-schema/resource_write_success.json");
const cloudEventSample = () => sample("Microsoft.Resources/stable/2018-01-01/examples/cloud-events-schema/resource_write_success.json");
const notificationSample = () => sample("Microsoft.ResourceNotifications/stable/2018-01-01/examples/event-grid-schema/Resources_CreatedOrUpdated.json");

const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
// Lower-case `resourcegroups`, as in Microsoft's samples.
const VERSION_URI = `/subscriptions/${SUB.toUpperCase()}/resourcegroups/publisher-rg/providers/Microsoft.Compute/galleries/golden/images/ubuntu/versions/1.0.3`;
const CANONICAL = `/subscriptions/${SUB}/resourceGroups/publisher-rg/providers/Microsoft.Compute/galleries/golden/images/ubuntu/versions/1.0.3`;

/** The sample with its resource turned into a gallery image version, as the README of the samples describes. */
function asImageVersionWrite(event: Record<string, unknown>, dataChanges: Record<string, unknown> = {}): Record<string, unknown> {
  const data = event.data as Record<string, unknown>;
  return {
    ...event,
    subject: VERSION_URI,
    data: {
      ...data,
      resourceProvider: "Microsoft.Compute",
      resourceUri: VERSION_URI,
      operationName: "Microsoft.Compute/galleries/images/versions/write",
      ...dataChanges,
    },
  };
}

describe("classifyEvent on Microsoft's samples", () => {
  it("recognises an image version write in the Event Grid schema", () => {
    expect(classifyEvent(asImageVersionWrite(eventGridSample()))).toEqual({
      kind: "imageVersionWritten",
      schema: "EventGrid",
      eventId: "4db48cba-50a2-455a-93b4-de41a3b5b7f6",
      eventTime: "2018-07-19T18:38:04.6117357Z",
      correlationId: "{ID}",
      imageVersionId: CANONICAL,
      ref: { subscriptionId: SUB, resourceGroup: "publisher-rg", gallery: "golden", image: "ubuntu", version: "1.0.3" },
    });
  });

  it("recognises an image version write in CloudEvents 1.0", () => {
    expect(classifyEvent(asImageVersionWrite(cloudEventSample()))).toMatchObject({
      kind: "imageVersionWritten",
      schema: "CloudEvents",
      eventId: "4db48cba-50a2-455a-93b4-de41a3b5b7f6",
      eventTime: "2018-07-19T18:38:04.6117357Z",
      imageVersionId: CANONICAL,
    });
  });

  it("ignores the unchanged storage account samples without error", () => {
    const reason = 'operation "Microsoft.Storage/storageAccounts/write" is not Microsoft.Compute/galleries/images/versions/write';
    expect(classifyEvent(eventGridSample())).toEqual({ kind: "ignore", schema: "EventGrid", eventId: "4db48cba-50a2-455a-93b4-de41a3b5b7f6", reason });
    expect(classifyEvent(cloudEventSample())).toEqual({ kind: "ignore", schema: "CloudEvents", eventId: "4db48cba-50a2-455a-93b4-de41a3b5b7f6", reason });
  });

  it("ignores a resource notification about another resource type (the unchanged storage account sample)", () => {
    expect(classifyEvent(notificationSample())).toEqual({
      kind: "ignore",
      schema: "EventGrid",
      eventId: "4eef929a-a65c-47dd-93e2-46b8c17c6c17",
      reason: 'resource type "Microsoft.Storage/storageAccounts" is not Microsoft.Compute/galleries/images/versions',
    });
  });

  it("ignores other event types", () => {
    const deleted = { ...notificationSample(), eventType: "Microsoft.ResourceNotifications.Resources.Deleted" };
    expect(classifyEvent(deleted)).toEqual({
      kind: "ignore",
      schema: "EventGrid",
      eventId: "4eef929a-a65c-47dd-93e2-46b8c17c6c17",
      reason:
        'event type "Microsoft.ResourceNotifications.Resources.Deleted" is not Microsoft.Resources.ResourceWriteSuccess or Microsoft.ResourceNotifications.Resources.CreatedOrUpdated',
    });
  });

  it("reads a resource notification about an image version as a replication hint", () => {
    const event = notificationSample();
    const data = event.data as Record<string, unknown>;
    const resourceInfo = {
      ...(data.resourceInfo as Record<string, unknown>),
      id: VERSION_URI,
      name: "1.0.3",
      type: "microsoft.compute/galleries/images/versions",
    };
    expect(classifyEvent({ ...event, subject: VERSION_URI, data: { ...data, resourceInfo } })).toEqual({
      kind: "replicationHint",
      schema: "EventGrid",
      eventId: "4eef929a-a65c-47dd-93e2-46b8c17c6c17",
      eventTime: "2023-07-28T20:13:10.8418063Z",
      imageVersionId: CANONICAL,
      ref: { subscriptionId: SUB, resourceGroup: "publisher-rg", gallery: "golden", image: "ubuntu", version: "1.0.3" },
    });
  });

  it("rejects a version notification whose resource id is not a version's, naming the field", () => {
    const event = notificationSample();
    const data = event.data as Record<string, unknown>;
    const resourceInfo = { id: "/subscriptions/x/resourceGroups/rg", type: "Microsoft.Compute/galleries/images/versions" };
    const result = classifyEvent({ ...event, data: { ...data, resourceInfo } });
    expect(result.kind).toBe("invalid");
    expect(result.kind === "invalid" ? result.errors.map((e) => e.path) : []).toEqual(["data.resourceInfo.id"]);
    expect(classifyEvent({ ...event, data: {} })).toEqual({ kind: "invalid", errors: [{ path: "data.resourceInfo", rule: "is required" }] });
  });
});

describe("classifyEvent on edge cases", () => {
  it("ignores a version write that did not succeed", () => {
    expect(classifyEvent(asImageVersionWrite(eventGridSample(), { status: "Failed" }))).toMatchObject({
      kind: "ignore",
      reason: 'the image version write has status "Failed", not Succeeded',
    });
  });

  it("matches the event type and operation name in any case", () => {
    const event = asImageVersionWrite(
      { ...eventGridSample(), eventType: "microsoft.resources.resourcewritesuccess" },
      { operationName: "MICROSOFT.COMPUTE/GALLERIES/IMAGES/VERSIONS/WRITE", status: "succeeded" },
    );
    expect(classifyEvent(event).kind).toBe("imageVersionWritten");
  });

  it("leaves out eventTime when an Event Grid event has none", () => {
    const { eventTime: _t, ...event } = asImageVersionWrite(eventGridSample());
    const classified = classifyEvent(event);
    expect(classified.kind === "imageVersionWritten" && "eventTime" in classified).toBe(false);
  });

  it("leaves out eventTime and correlationId when the event has none", () => {
    const { time: _time, ...cloud } = asImageVersionWrite(cloudEventSample(), { correlationId: undefined });
    const classified = classifyEvent(cloud);
    expect(classified.kind).toBe("imageVersionWritten");
    expect("eventTime" in classified).toBe(false);
    expect("correlationId" in classified).toBe(false);
  });

  it("rejects a version write whose resourceUri is not an image version id", () => {
    expect(classifyEvent(asImageVersionWrite(eventGridSample(), { resourceUri: "/subscriptions/x/resourcegroups/rg" }))).toEqual({
      kind: "invalid",
      errors: [
        {
          path: "data.resourceUri",
          rule: "must be an image version id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/galleries/{gallery}/images/{image}/versions/{version}",
        },
      ],
    });
    const badVersion = VERSION_URI.replace("1.0.3", "latest");
    expect(classifyEvent(asImageVersionWrite(eventGridSample(), { resourceUri: badVersion }))).toEqual({
      kind: "invalid",
      errors: [{ path: "data.resourceUri", rule: "must be an image version id: version must be major.minor.patch: three whole numbers from 0 to 2147483647" }],
    });
    expect(classifyEvent(asImageVersionWrite(eventGridSample(), { resourceUri: undefined }))).toEqual({
      kind: "invalid",
      errors: [{ path: "data.resourceUri", rule: "is required" }],
    });
  });

  it("lists every failing field of a malformed version write", () => {
    const { id: _id, ...event } = asImageVersionWrite(eventGridSample(), { resourceUri: "nope" });
    expect(classifyEvent({ ...event, eventTime: 5 })).toEqual({
      kind: "invalid",
      errors: [
        { path: "id", rule: "is required" },
        { path: "eventTime", rule: "must be a string" },
        { path: "data.resourceUri", rule: expect.stringMatching(/^must be an image version id like/) as unknown as string },
      ],
    });
  });

  it("rejects missing or malformed data on a ResourceWriteSuccess event", () => {
    const { data: _data, ...noData } = eventGridSample();
    expect(classifyEvent(noData)).toEqual({ kind: "invalid", errors: [{ path: "data", rule: "is required" }] });
    expect(classifyEvent({ ...noData, data: "text" })).toEqual({ kind: "invalid", errors: [{ path: "data", rule: "must be an object" }] });
    expect(classifyEvent({ ...noData, data: { operationName: "", status: 1 } })).toEqual({
      kind: "invalid",
      errors: [
        { path: "data.operationName", rule: "must not be empty" },
        { path: "data.status", rule: "must be a string" },
      ],
    });
  });

  it("rejects a malformed envelope even for events that are not ours", () => {
    expect(classifyEvent({ ...notificationSample(), id: "" })).toEqual({ kind: "invalid", errors: [{ path: "id", rule: "must not be empty" }] });
    const storageWithoutId = { ...eventGridSample(), id: undefined };
    expect(classifyEvent(storageWithoutId)).toEqual({ kind: "invalid", errors: [{ path: "id", rule: "is required" }] });
  });

  it("reports a missing type and id on an object that is neither schema", () => {
    expect(classifyEvent({})).toEqual({
      kind: "invalid",
      errors: [
        { path: "id", rule: "is required" },
        { path: "eventType", rule: "is required" },
      ],
    });
  });

  it("checks the CloudEvents envelope, including specversion", () => {
    const { specversion: _s, source: _src, ...noVersion } = cloudEventSample();
    expect(classifyEvent(noVersion)).toEqual({
      kind: "invalid",
      errors: [
        { path: "specversion", rule: "is required" },
        { path: "source", rule: "is required" },
      ],
    });
    expect(classifyEvent({ ...cloudEventSample(), specversion: "0.3" })).toEqual({
      kind: "invalid",
      errors: [{ path: "specversion", rule: 'must be "1.0" (CloudEvents 1.0)' }],
    });
  });

  it("rejects anything that is not an event object", () => {
    for (const raw of [null, "event", 42, [eventGridSample()]]) {
      expect(classifyEvent(raw)).toEqual({ kind: "invalid", errors: [{ path: "", rule: "must be an event object" }] });
    }
  });

  it("never echoes a long type name whole", () => {
    const classified = classifyEvent({ ...notificationSample(), eventType: "T".repeat(500) });
    const reason = classified.kind === "ignore" ? classified.reason : "";
    expect(reason).toContain("TTT…");
    expect(reason.length).toBeLessThan(260);
  });
});
