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
    expect(body.statusQueryGetUri).toBe(
      `${host.baseUrl}/runtime/webhooks/durabletask/instances/client-1?taskHub=TestHub&connection=Storage&code=${encodeURIComponent(systemKey)}`,
    );
    expect(body.sendEventPostUri).toContain("/instances/client-1/raiseEvent/{eventName}?");

    await host.durable.runUntilIdle();
    const running = await fetch(body.statusQueryGetUri);
    expect(running.status).toBe(202);
    expect(await running.json()).toMatchObject({
      name: "activityThenTimer",
      instanceId: "client-1",
      runtimeStatus: "Running",
      input: "Ada",
      customStatus: { step: "waiting" },
      output: null,
    });
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

  it("shows the history as the extension does: a scheduled task folded into its completion, no OrchestratorStarted/Completed, no ids", async () => {
    // Found by the conformance suite (test/durable-engine): the extension's status API rewrites DTFx's
    // history (DurableClient.GetDurableOrchestrationStatusAsync); the runner used to list it raw.
    const { host } = fx;
    await api("orchestrators/activityThenTimer/client-history", { method: "POST", body: JSON.stringify("Ada") });
    await host.durable.waitFor("client-history");
    const systemKey = encodeURIComponent(host.systemKey("durabletask_extension"));
    const res = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/client-history?showHistory=true&showHistoryOutput=true&code=${systemKey}`);
    const body = (await res.json()) as { historyEvents: Array<Record<string, unknown>> };
    const types = body.historyEvents.map((e) => e.EventType);
    expect(types).not.toContain("OrchestratorStarted");
    expect(types).not.toContain("OrchestratorCompleted");
    expect(types).not.toContain("TaskScheduled");
    const completed = body.historyEvents.find((e) => e.EventType === "TaskCompleted");
    expect(completed).toMatchObject({ FunctionName: expect.any(String), ScheduledTime: expect.any(String) });
    expect(completed).not.toHaveProperty("TaskScheduledId");
    expect(body.historyEvents.find((e) => e.EventType === "TimerFired")).not.toHaveProperty("TimerId");
    expect(body.historyEvents.every((e) => !("EventId" in e) && !("IsPlayed" in e))).toBe(true);
    expect(body.historyEvents[0]).toMatchObject({ EventType: "ExecutionStarted", FunctionName: "activityThenTimer" });
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

  it("starting a running instance id again fails the client call (409 from the extension API, as 3.19.0 answers)", async () => {
    const { host } = fx;
    await api("orchestrators/waitsForever/client-5", { method: "POST" });
    await host.durable.runUntilIdle();
    const again = await api("orchestrators/waitsForever/client-5", { method: "POST" });
    expect(again.status).toBe(500);
    expect(fx.logs.some((l) => l.startsWith("[startOrchestration] failed") && l.includes("409"))).toBe(true);
    const direct = await fetch(
      `${host.baseUrl}/runtime/webhooks/durabletask/orchestrators/waitsForever/client-5?code=${encodeURIComponent(host.systemKey("durabletask_extension"))}`,
      { method: "POST" },
    );
    expect(direct.status).toBe(409);
    expect(await direct.json()).toEqual({ Message: "An Orchestration instance with the status Running already exists." });
    await host.durable.terminate("client-5");
  });

  it("sendEventPostUri works as a plain webhook", async () => {
    const { host } = fx;
    const res = await api("orchestrators/approval/client-6", { method: "POST" });
    const links = (await res.json()) as CheckStatus;
    await host.durable.runUntilIdle();
    const raised = await fetch(links.sendEventPostUri.replace("{eventName}", "approve"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '"yes"',
    });
    expect(raised.status).toBe(202);
    expect((await host.durable.waitFor("client-6")).output).toEqual({ approved: "yes" });
    const gone = await fetch(links.sendEventPostUri.replace("{eventName}", "approve"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '"again"',
    });
    expect(gone.status).toBe(410);
  });
});

interface ClientBindingData {
  taskHubName: string;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
}

async function bindingData(): Promise<ClientBindingData> {
  const res = await fetch(`${fx.host.baseUrl}/api/client-binding-data?code=${encodeURIComponent(fx.host.masterKey)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as ClientBindingData;
}

describe("the durable client API on the public port", () => {
  it("answers 401 to the rpc API's paths without a key, and serves nothing there with one", async () => {
    const { host } = fx;
    await host.durable.startNew("fanOut", { instanceId: "public-1", input: ["p"] });
    await host.durable.waitFor("public-1");
    const requests: Array<[string, string]> = [
      ["GET", "/durabletask/instances/"],
      ["GET", "/durabletask/instances/public-1"],
      ["GET", "/DurableTask/instances/public-1"],
      ["POST", "/durabletask/orchestrators/waitsForever/public-2"],
      ["POST", "/durabletask/instances/public-1/terminate"],
      ["DELETE", "/durabletask/instances/public-1"],
    ];
    for (const [method, path] of requests) {
      const anonymous = await fetch(`${host.baseUrl}${path}`, { method });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(await anonymous.text()).toBe("");
      const keyed = await fetch(`${host.baseUrl}${path}?code=${encodeURIComponent(host.masterKey)}`, { method });
      expect(keyed.status, `${method} ${path} with the master key`).toBe(404);
    }
    expect(host.durable.getStatus("public-1")?.runtimeStatus).toBe("Completed");
    expect(host.durable.getStatus("public-2")).toBeUndefined();
  });

  it("the webhook answers 401 without the durabletask_extension key or the master key", async () => {
    const { host } = fx;
    for (const code of ["", "?code=nope", `?code=${encodeURIComponent(host.functionKey)}`]) {
      expect((await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${code}`)).status).toBe(401);
    }
    expect((await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/?code=${encodeURIComponent(host.masterKey)}`)).status).toBe(200);
  });

  it("gives the client an rpcBaseUrl on a loopback listener of its own, under a secret path prefix", async () => {
    const { host } = fx;
    const data = await bindingData();
    const rpc = new URL(data.rpcBaseUrl);
    expect(rpc.hostname).toBe("127.0.0.1");
    expect(rpc.origin).not.toBe(host.baseUrl);
    expect(rpc.pathname).toMatch(/^\/[A-Za-z0-9_-]{40,}\/durabletask\/$/);
    expect(data.baseUrl).toBe(`${host.baseUrl}/runtime/webhooks/durabletask`);
    expect(data.requiredQueryStringParameters).toBe(`code=${encodeURIComponent(host.systemKey("durabletask_extension"))}`);
    // The client's calls resolve against it, as durable-functions does: new URL(path, rpcBaseUrl).
    const list = await fetch(new URL("instances/", data.rpcBaseUrl));
    expect(list.status).toBe(200);
    // Without the prefix the rpc listener serves nothing; the public port does not know the prefix.
    expect((await fetch(`${rpc.origin}/durabletask/instances/`)).status).toBe(404);
    expect((await fetch(`${rpc.origin}/`)).status).toBe(404);
    expect((await fetch(`${host.baseUrl}${rpc.pathname}instances/`)).status).toBe(404);
  });
});

describe("deeply nested orchestration input", () => {
  it("hands an input nested 10,000 deep to the orchestrator without recursing in the host, and reports it in the status", async () => {
    const { host } = fx;
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const code = encodeURIComponent(host.systemKey("durabletask_extension"));
    const start = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/orchestrators/inputDepth/deep-1?code=${code}`, { method: "POST", body: deep });
    expect(start.status).toBe(202);
    const links = (await start.json()) as CheckStatus;
    const status = await host.durable.waitFor("deep-1");
    // It fails in durable-functions itself (Utils.parseTimestampsAsDates recurses over the input), code
    // that runs in the Azure worker too; not in the host ("Local host error ...").
    expect(status).toMatchObject({ runtimeStatus: "Failed", output: "Orchestrator function 'inputDepth' failed: Maximum call stack size exceeded" });
    expect(host.durable.history("deep-1").at(-1)?.Details).toContain("parseTimestampsAsDates");
    expect(fx.logs.some((l) => l.includes("internal error in episode"))).toBe(false);
    const res = await fetch(links.statusQueryGetUri);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`"input":${deep}`);
    const listed = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/?showInput=true&code=${code}`);
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain(`"input":${deep}`);
  });
});
