// The durable client (`df.getClient(context)`) from HTTP triggers, unchanged, against the host's
// rpc endpoint; createCheckStatusResponse links served by the host's durabletask webhook.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFixtureHost, type FixtureHost } from "./support";

let fx: FixtureHost;
beforeAll(async () => {
  fx = await startFixtureHost();
});
afterAll(async () => {
  await fx.host.close();
});

interface CheckStatus {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  purgeHistoryDeleteUri: string;
}

function api(path: string, init?: RequestInit): Promise<Response> {
  const sep = path.includes("?") ? "&" : "?";
  return fetch(`${fx.host.baseUrl}/api/${path}${sep}code=${fx.host.functionKey}`, init);
}

describe("durable client from an HTTP trigger", () => {
  it("startNew + createCheckStatusResponse: 202 with Location and management links that work", async () => {
    const { host } = fx;
    const res = await api("orchestrators/activityThenTimer/client-1", { method: "POST", body: JSON.stringify("Ada") });
    expect(res.status).toBe(202);
    const body = (await res.json()) as CheckStatus;
    expect(body.id).toBe("client-1");
    expect(res.headers.get("location")).toBe(body.statusQueryGetUri);
    expect(res.headers.get("retry-after")).toBe("10");
    const systemKey = host.systemKey("durabletask_extension");
    expect(body.statusQueryGetUri).toBe(`${host.baseUrl}/runtime/webhooks/durabletask/instances/client-1?taskHub=TestHub&connection=Storage&code=${encodeURIComponent(systemKey)}`);
    expect(body.sendEventPostUri).toContain("/instances/client-1/raiseEvent/{eventName}?");

    await host.durable.runUntilIdle();
    const running = await fetch(body.statusQueryGetUri);
    expect(running.status).toBe(202);
    expect(await running.json()).toMatchObject({ name: "activityThenTimer", instanceId: "client-1", runtimeStatus: "Running", input: "Ada", customStatus: { step: "waiting" }, output: null });
    expect((await fetch(body.statusQueryGetUri.replace(/code=[^&]+/, "code=nope"))).status).toBe(401);

    await host.durable.waitFor("client-1");
    const done = await fetch(body.statusQueryGetUri);
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ runtimeStatus: "Completed", output: { greeting: "Hello, Ada!" } });

    const purge = await fetch(body.purgeHistoryDeleteUri, { method: "DELETE" });
    expect(purge.status).toBe(200);
    expect(await purge.json()).toEqual({ instancesDeleted: 1 });
    expect(host.durable.getStatus("client-1")).toBeUndefined();
  });

  it("getStatus through the client", async () => {
    const { host } = fx;
    await api("orchestrators/fanOut/client-2", { method: "POST", body: JSON.stringify(["x", "y"]) });
    await host.durable.waitFor("client-2");
    const res = await api("status/client-2");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ runtimeStatus: "Completed", output: ["Hello, x!", "Hello, y!"], customStatus: null, input: ["x", "y"] });
    const missing = await api("status/no-such-instance");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/HTTP 404/);
  });

  it("generates an instance id when none is given", async () => {
    const res = await api("orchestrators/fanOut", { method: "POST", body: JSON.stringify(["z"]) });
    const body = (await res.json()) as CheckStatus;
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await fx.host.durable.waitFor(body.id)).output).toEqual(["Hello, z!"]);
  });

  it("raiseEvent and terminate through the client", async () => {
    const { host } = fx;
    await api("orchestrators/approval/client-3", { method: "POST" });
    await host.durable.runUntilIdle();
    expect((await api("raise/client-3/approve", { method: "POST", body: JSON.stringify({ ok: 1 }) })).status).toBe(202);
    expect((await host.durable.waitFor("client-3")).output).toEqual({ approved: { ok: 1 } });

    await api("orchestrators/waitsForever/client-4", { method: "POST" });
    await host.durable.runUntilIdle();
    expect((await api("terminate/client-4", { method: "POST" })).status).toBe(202);
    expect(await host.durable.waitFor("client-4")).toMatchObject({ runtimeStatus: "Terminated", output: "stopped by test" });
  });

  it("starting a running instance id again fails the client call (409 from the extension API)", async () => {
    const { host } = fx;
    await api("orchestrators/waitsForever/client-5", { method: "POST" });
    await host.durable.runUntilIdle();
    const again = await api("orchestrators/waitsForever/client-5", { method: "POST" });
    expect(again.status).toBe(500);
    expect(fx.logs.some((l) => l.includes("409"))).toBe(true);
    const direct = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/orchestrators/waitsForever/client-5?code=${encodeURIComponent(host.systemKey("durabletask_extension"))}`, { method: "POST" });
    expect(direct.status).toBe(409);
    await host.durable.terminate("client-5");
  });

  it("sendEventPostUri works as a plain webhook", async () => {
    const { host } = fx;
    const res = await api("orchestrators/approval/client-6", { method: "POST" });
    const links = (await res.json()) as CheckStatus;
    await host.durable.runUntilIdle();
    const raised = await fetch(links.sendEventPostUri.replace("{eventName}", "approve"), { method: "POST", headers: { "content-type": "application/json" }, body: '"yes"' });
    expect(raised.status).toBe(202);
    expect((await host.durable.waitFor("client-6")).output).toEqual({ approved: "yes" });
    const gone = await fetch(links.sendEventPostUri.replace("{eventName}", "approve"), { method: "POST", headers: { "content-type": "application/json" }, body: '"again"' });
    expect(gone.status).toBe(410);
  });
});
