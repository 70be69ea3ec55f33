// The app's workflows, scaled down to seconds so that each ends within about a minute on the real
// engine (whose timers are real time): replication polls every 5 s, regions replicate in seconds,
// retries start after 1 s.
import { publishInstanceId } from "../../../src/domain/instanceIds";
import { versionWriteEvent } from "../../../local/demo/world";
import type { Scenario } from "./harness";

/** Seconds as the emulator's replication minutes. */
const seconds = (s: number): number => s / 60;

export const FAST_SETTINGS: Record<string, string> = {
  REPLICATION_POLL_MIN_SECONDS: "5",
  REPLICATION_POLL_MAX_SECONDS: "5",
  REPLICATION_TIMEOUT_MINUTES: "5",
  ACTIVITY_RETRY_FIRST_SECONDS: "1",
  ACTIVITY_RETRY_ATTEMPTS: "3",
};

export const publishWaitsForReplication: Scenario = {
  name: "publish waits for replication, then shares",
  settings: FAST_SETTINGS,
  async run({ world, waitFor }) {
    // Home region 3 s, then the others 4 s: complete at 7 s, between the reads at 5 s and 10 s.
    const versionId = world.publishVersion("1.0.0", { regionMinutes: { westeurope: seconds(3), northeurope: seconds(4), eastus: seconds(4) } });
    const response = await world.deliver([versionWriteEvent(versionId)]);
    if (response.status !== 202) throw new Error(`the Event Grid webhook answered ${response.status}`);
    await waitFor(publishInstanceId(versionId));
  },
};

export const SCENARIOS: readonly Scenario[] = [publishWaitsForReplication];
