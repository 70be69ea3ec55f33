// Acceptance (f): a replay whose action sequence differs from history fails the instance as a
// non-deterministic orchestration, with the extension's message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType } from "../../local/host/durable/history";
import { startFixtureHost, type FixtureHost } from "./support";

let fx: FixtureHost;
beforeAll(async () => {
  fx = await startFixtureHost();
});
afterAll(async () => {
  await fx.host.close();
});

describe("non-deterministic orchestrators", () => {
  it("reports an orchestrator that schedules a different activity on replay", async () => {
    const { host, logs } = fx;
    const id = await host.durable.startNew("nonDeterministic", { instanceId: "nd-1" });
    const status = await host.durable.waitFor(id);
    expect(status.runtimeStatus).toBe("Failed");
    const output = String(status.output);
    expect(output).toMatch(/^Non-Deterministic workflow detected: /);
    expect(output).toContain("scheduled an activity task with sequence ID 0 and name 'greet'");
    expect(output).toContain("instead scheduled an activity task named 'echoActivity'");
    // The first episode scheduled greet; the replay (second episode) produced echoActivity at the same id.
    const history = host.durable.history(id);
    expect(history.filter((e) => e.EventType === EventType.TaskScheduled).map((e) => e.Name)).toEqual(["greet"]);
    expect(history.at(-1)).toMatchObject({ EventType: EventType.ExecutionCompleted, OrchestrationStatus: "Failed" });
    expect(logs.some((l) => l.includes("Non-Deterministic workflow detected"))).toBe(true);
  });

  it("reports an orchestrator that replaces a timer with an activity on replay", async () => {
    const { host } = fx;
    const id = await host.durable.startNew("nonDeterministicKind", { instanceId: "nd-2" });
    const status = await host.durable.waitFor(id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toMatch(
      /Non-Deterministic workflow detected: A previous execution of this orchestration scheduled a timer task with sequence number 0/,
    );
    expect(String(status.output)).toContain("an activity task named 'greet'");
  });

  it("a deterministic orchestrator with the same shape completes", async () => {
    const { host } = fx;
    const status = await host.durable.waitFor(await host.durable.startNew("activityThenTimer", { instanceId: "det-1", input: "x" }));
    expect(status.runtimeStatus).toBe("Completed");
  });
});
