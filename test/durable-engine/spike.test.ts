// The spike: the real Durable extension (3.19.0) and DTFx's Azure Storage provider on Azurite run
// durable-functions orchestrators of this process through local/durable-engine's bridge. Real time:
// the timer is 2 s, the queue polling interval at most 1 s.
import "../../local/host";
import "./spikeApp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as df from "durable-functions";
import { startAzurite, type Azurite } from "../../local/azurite";
import { appBridgeHandlers, durableFunctionsOfApp } from "../../local/durable-engine/appFunctions";
import { durableClientFor } from "../../local/durable-engine/client";
import { startDtfxEngine, type DtfxEngine } from "../../local/durable-engine/engine";

let azurite: Azurite;
let engine: DtfxEngine;
let client: df.DurableClient;

beforeAll(async () => {
  azurite = await startAzurite({ services: "all" });
  engine = await startDtfxEngine({
    storageConnectionString: azurite.connectionString,
    settings: { TASK_HUB_NAME: "spike" },
    durableTask: { hubName: "%TASK_HUB_NAME%", storageProvider: { maxQueuePollingInterval: "00:00:01" } },
    functions: durableFunctionsOfApp(),
    webhookBase: "http://127.0.0.1:7071/runtime/webhooks/durabletask",
    handlers: appBridgeHandlers(() => undefined),
    log: () => undefined,
  });
  client = durableClientFor(engine.clientBinding);
});

afterAll(async () => {
  await engine?.close();
  await azurite?.stop();
});

async function until(instanceId: string, done: (s: df.DurableOrchestrationStatus) => boolean, timeoutMs = 30_000): Promise<df.DurableOrchestrationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await client.getStatus(instanceId);
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`instance ${instanceId} still ${status.runtimeStatus} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the real Durable extension behind the bridge", () => {
  it("gives the durable client binding the extension's own rpcBaseUrl (its LocalHttpListener)", () => {
    expect(engine.rpcBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/durabletask\/$/);
    expect(engine.clientBinding.taskHubName).toBe("spike");
  });

  it("runs an orchestration with an activity, a timer, Task.all and an external event to completion; getStatus shows its custom status", async () => {
    const startedAt = Date.now();
    const id = await client.startNew("spikeFlow");
    const waiting = await until(id, (s) => s.customStatus !== null && s.customStatus !== undefined);
    expect(waiting.runtimeStatus).toBe("Running");
    expect(waiting.customStatus).toEqual({ waitingFor: "Approval" });
    await client.raiseEvent(id, "Approval", { approvedBy: "spike" });
    const done = await until(id, (s) => s.runtimeStatus === "Completed");
    expect(done.output).toEqual({ first: "Hello Tokyo", both: ["Hello Seattle", "Hello London"], approval: { approvedBy: "spike" } });
    // The durable timer held the instance for about its 2 s. Measured here: the status times are
    // whole seconds, and the engine may run the episode after a timer a little before the timer's
    // time (seen under load: a difference of 1 s between the two status times).
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_500);
  });

  it("ends a throwing orchestrator Failed with the JS message", async () => {
    const id = await client.startNew("spikeThrows");
    const failed = await until(id, (s) => s.runtimeStatus === "Failed");
    expect(String(failed.output)).toContain("spike orchestrator failed on purpose");
  });

  it("terminates a waiting instance through rpcBaseUrl", async () => {
    const id = await client.startNew("spikeFlow");
    await until(id, (s) => s.runtimeStatus === "Running" && s.customStatus !== null && s.customStatus !== undefined);
    await client.terminate(id, "spike: no approval coming");
    const terminated = await until(id, (s) => s.runtimeStatus === "Terminated");
    expect(terminated.output).toBe("spike: no approval coming");
  });
});
