// Registrations are process-global: a second host in the same process reuses them. A WallClock
// (sped up, as in the demo) drives durable timers in real time.
import { describe, expect, it } from "vitest";
import { WallClock } from "../../local/clock";
import { startLocalHost } from "../../local/host";

const load = (): Promise<unknown> => import("../fixtures/host-app/index.js");

describe("hosts in one process", () => {
  it("a second host reuses the captured registrations; each has its own instances and keys", async () => {
    const first = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" } });
    const second = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" } });
    try {
      expect(second.registeredFunctions().map((f) => f.name)).toEqual(first.registeredFunctions().map((f) => f.name));
      expect(second.baseUrl).not.toBe(first.baseUrl);
      expect(second.functionKey).not.toBe(first.functionKey);
      expect(await (await fetch(`${second.baseUrl}/api/hello/two`)).text()).toBe("Hello, two");
      await first.close();
      expect(await (await fetch(`${second.baseUrl}/api/hello/again`)).text()).toBe("Hello, again");
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("runs durable timers on a sped-up WallClock", async () => {
    const clock = new WallClock(100_000);
    const host = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" }, clock });
    try {
      const started = clock.now();
      const id = await host.durable.startNew("activityThenTimer", { input: "wall" });
      const status = await host.durable.waitFor(id, undefined, { timeoutMs: 5_000 });
      expect(status.runtimeStatus).toBe("Completed");
      expect(clock.now() - started).toBeGreaterThanOrEqual(30 * 60_000);
      const out = status.output as { firedAt: string };
      expect(Date.parse(out.firedAt)).toBeGreaterThanOrEqual(started + 30 * 60_000);
    } finally {
      await host.close();
    }
  });
});

describe("app settings", () => {
  it("are the host's environment while it runs and are put back when it closes", async () => {
    expect(process.env.ONLY_FOR_FIRST_HOST).toBeUndefined();
    const first = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs", ONLY_FOR_FIRST_HOST: "1" } });
    expect(process.env.ONLY_FOR_FIRST_HOST).toBe("1");
    await first.close();
    expect(process.env.ONLY_FOR_FIRST_HOST).toBeUndefined();
    const second = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" } });
    try {
      expect(process.env.ONLY_FOR_FIRST_HOST).toBeUndefined();
      expect(process.env.JOBS_QUEUE).toBe("jobs");
    } finally {
      await second.close();
    }
  });
});
