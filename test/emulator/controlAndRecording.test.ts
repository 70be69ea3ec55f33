// The control API over HTTPS (/_emulator), the outcome-event receiver driven by the real
// EventGridPublisherClient, and the JSON Lines recording (EMULATOR_RECORD) with secrets redacted.
import { EventGridPublisherClient } from "@azure/eventgrid";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startEmulator, type Emulator } from "../../local/emulator";
import { compute, credential, PUB } from "./helpers";

const recordPath = join(mkdtempSync(join(tmpdir(), "emulator-record-")), "traffic.jsonl");
let emu: Emulator;

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${emu.url}/_emulator${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  emu = await startEmulator({ clock: new VirtualClock(), recordPath });
});

afterAll(async () => {
  await emu.close();
});

describe("control API over HTTPS", () => {
  it("seeds a world, publishes a version and moves the virtual clock", async () => {
    expect((await control("POST", "/tenants", { tenantId: PUB.tenantId, displayName: "Publisher" })).status).toBe(200);
    await control("POST", "/subscriptions", { subscriptionId: PUB.subscriptionId, tenantId: PUB.tenantId });
    await control("POST", "/resourceGroups", { subscriptionId: PUB.subscriptionId, resourceGroup: PUB.resourceGroup, location: PUB.location });
    const app = (await control("POST", "/apps", { appId: PUB.appId, homeTenantId: PUB.tenantId, secret: PUB.secret })).json as { servicePrincipalId: string };
    await control("POST", "/roleAssignments", { scope: `/subscriptions/${PUB.subscriptionId}`, principalId: app.servicePrincipalId, role: "Reader" });
    await control("POST", "/galleries", {
      subscriptionId: PUB.subscriptionId,
      resourceGroup: PUB.resourceGroup,
      gallery: PUB.gallery,
      location: PUB.location,
      permissions: "Groups",
    });
    await control("POST", "/images", {
      subscriptionId: PUB.subscriptionId,
      resourceGroup: PUB.resourceGroup,
      gallery: PUB.gallery,
      image: PUB.image,
      location: PUB.location,
    });
    const published = await control("POST", "/versions", {
      subscriptionId: PUB.subscriptionId,
      resourceGroup: PUB.resourceGroup,
      gallery: PUB.gallery,
      image: PUB.image,
      version: "1.0.0",
      targetRegions: ["eastus"],
      regionMinutes: { eastus: 30 },
    });
    expect((published.json as { id: string }).id).toMatch(/\/versions\/1\.0\.0$/);
    const before = (await control("GET", "/clock")).json as { now: number; virtual: boolean };
    expect(before.virtual).toBe(true);
    const after = (await control("POST", "/clock/advance", { minutes: 31 })).json as { now: number };
    expect(after.now - before.now).toBe(31 * 60_000);
    const client = compute(emu, credential(emu, PUB.tenantId, PUB.appId, PUB.secret), PUB.subscriptionId);
    const v = await client.galleryImageVersions.get(PUB.resourceGroup, PUB.gallery, PUB.image, "1.0.0", { expand: "ReplicationStatus" });
    expect(v.replicationStatus?.aggregatedState).toBe("Completed");
    expect(((await control("POST", "/faults", { path: "x" })).json as { id: string }).id).toMatch(/^fault-/);
    await control("DELETE", "/faults");
    expect((await control("POST", "/nope", {})).status).toBe(404);
    expect((await control("POST", "/subscriptions", {})).json).toEqual({ error: "'subscriptionId' (string) is required" });
  });

  it("scripts faults and mints tokens over HTTP", async () => {
    await control("POST", "/faults", { method: "GET", pathRegex: "/galleries/[^/?]+\\?", status: 500, code: "InternalServerError", count: 1 });
    const token = ((await control("POST", "/tokens", { tenantId: PUB.tenantId, appId: PUB.appId })).json as { access_token: string }).access_token;
    const url = `${emu.armEndpoint}/subscriptions/${PUB.subscriptionId}/resourceGroups/${PUB.resourceGroup}/providers/Microsoft.Compute/galleries/${PUB.gallery}?api-version=2025-03-03`;
    const first = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(first.status).toBe(500);
    const second = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(second.status).toBe(200);
    const unknownVersion = await fetch(url.replace("2025-03-03", "2099-01-01"), { headers: { authorization: `Bearer ${token}` } });
    expect(((await unknownVersion.json()) as { error: { code: string } }).error.code).toBe("NoRegisteredProviderFound");
    const malformed = await fetch(url.replace("2025-03-03", "latest"), { headers: { authorization: `Bearer ${token}` } });
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("InvalidApiVersionParameter");
  });
});

describe("outcome-event receiver", () => {
  it("accepts a CloudEvents batch from EventGridPublisherClient with an Entra token", async () => {
    const cred = credential(emu, PUB.tenantId, PUB.appId, PUB.secret);
    const client = new EventGridPublisherClient(`${emu.url}/_eventgrid/topics/gallery-share-outcomes/api/events`, "CloudEvent", cred);
    await client.send([
      { type: "GalleryShare.VersionShared", source: "/gallery-share", subject: "1.0.0", data: { tenants: 2 } },
      { type: "GalleryShare.VersionFailed", source: "/gallery-share", data: { regions: ["westus2"] } },
    ]);
    const events = emu.control.receivedEvents("gallery-share-outcomes") as { type: string; specversion: string; data: unknown }[];
    expect(events.map((e) => e.type)).toEqual(["GalleryShare.VersionShared", "GalleryShare.VersionFailed"]);
    expect(events[0]).toMatchObject({ specversion: "1.0", data: { tenants: 2 } });
    expect(((await control("GET", "/events?topic=gallery-share-outcomes")).json as unknown[]).length).toBe(2);
    const anonymous = await fetch(`${emu.url}/_eventgrid/topics/gallery-share-outcomes/api/events?api-version=2018-01-01`, { method: "POST", body: "[]" });
    expect(anonymous.status).toBe(401);
  });
});

describe("request log and JSON Lines recording", () => {
  it("records every exchange except control calls, as parsed JSON, with secrets redacted", () => {
    const lines = readFileSync(recordPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBe(emu.control.requestLog().length);
    for (const l of lines) {
      expect(Object.keys(l).slice(0, 7)).toEqual(["method", "url", "requestHeaders", "requestBody", "status", "responseHeaders", "responseBody"]);
      expect(String(l.url)).not.toContain("/_emulator");
    }
    const text = readFileSync(recordPath, "utf8");
    expect(text).not.toContain(PUB.secret);
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    const tokenCall = lines.find((l) => String(l.url).includes("/oauth2/v2.0/token"));
    expect(String(tokenCall?.requestBody)).toContain("client_secret=***");
    expect((tokenCall?.responseBody as { access_token: string }).access_token).toBe("REDACTED");
    const armCall = lines.find((l) => String(l.url).includes("/galleryImageVersions") || String(l.url).includes("/versions/1.0.0"));
    expect((armCall?.requestHeaders as Record<string, string>).authorization).toBe("Bearer REDACTED");
    expect((armCall?.responseBody as { name: string }).name).toBe("1.0.0");
  });

  it("reset empties the world, the log and the faults", async () => {
    await control("POST", "/reset");
    expect(emu.control.requestLog()).toEqual([]);
    expect(emu.control.servicePrincipalId(PUB.appId, PUB.tenantId)).toBeUndefined();
  });
});
