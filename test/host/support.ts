// Starts the local host on the fixture app (test/fixtures/host-app), on a VirtualClock by default.
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type LocalHost, type LocalHostOptions } from "../../local/host";
import type { seen } from "../fixtures/host-app/index.js";

export const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

export interface FixtureHost {
  host: LocalHost;
  clock: VirtualClock;
  logs: string[];
}

export async function startFixtureHost(options: Partial<LocalHostOptions> = {}): Promise<FixtureHost> {
  const clock = options.clock instanceof VirtualClock ? options.clock : new VirtualClock(T0);
  const logs: string[] = [];
  const host = await startLocalHost({
    load: () => import("../fixtures/host-app/index.js"),
    log: (line) => logs.push(line),
    ...options,
    // After the spread: settings given by a test add to the fixture's, they do not replace them.
    settings: { JOBS_QUEUE: "jobs", TASK_HUB_NAME: "TestHub", ...(options.settings ?? {}) },
    clock,
  });
  return { host, clock, logs };
}

export async function fixtureState(): Promise<typeof seen> {
  const mod = await import("../fixtures/host-app/index.js");
  return mod.seen;
}
