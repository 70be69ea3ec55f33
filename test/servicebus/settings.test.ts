// The broker's default queue settings are the ones infra/ deploys: infra/servicebus-queue.json,
// which infra/app/messaging.bicep loads as the queue's properties. The Bicep compiler type-checks
// the file as the queue's body (test/infra/bicep.test.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { QUEUE_SETTINGS_FILE, readDeployedQueueSettings, startServiceBusBroker } from "../../local/servicebus";
import { parseIsoDuration } from "../../local/servicebus/isoDuration";
import { parseQueueSettings, resolveQueueLimits } from "../../local/servicebus/settings";

const root = path.resolve(__dirname, "../..");
const bicepPath = path.join(root, "infra/app/messaging.bicep");

describe("local Service Bus: queue settings", () => {
  it("messaging.bicep deploys the queue with loadJsonContent of infra/servicebus-queue.json", () => {
    const bicep = readFileSync(bicepPath, "utf8");
    const queue = /resource onboardingQueue 'Microsoft\.ServiceBus\/namespaces\/queues@[\w-]+' = \{\n([\s\S]*?)\n\}/.exec(bicep);
    expect(queue?.[1]).toBeDefined();
    const properties = /^ {2}properties: loadJsonContent\('([^']+)'\)$/m.exec(queue?.[1] ?? "");
    expect(properties?.[1]).toBe("../servicebus-queue.json");
    // loadJsonContent resolves relative to the .bicep file.
    expect(path.resolve(path.dirname(bicepPath), properties?.[1] ?? "")).toBe(QUEUE_SETTINGS_FILE);
  });

  it("a queue created without settings has exactly the file's settings", async () => {
    const file = JSON.parse(readFileSync(path.join(root, "infra/servicebus-queue.json"), "utf8")) as unknown;
    expect(readDeployedQueueSettings()).toEqual(file);
    const broker = await startServiceBusBroker({ queues: ["onboarding", { name: "short-lock", lockDuration: "PT30S" }] });
    try {
      expect(broker.queues.get("onboarding")?.settings).toEqual(file);
      expect(broker.queues.get("short-lock")?.settings).toEqual({ ...(file as object), lockDuration: "PT30S" });
      expect(resolveQueueLimits(readDeployedQueueSettings())).toEqual({
        lockDurationMs: 120_000,
        maxDeliveryCount: 5,
        duplicateDetection: true,
        duplicateWindowMs: 86_400_000,
        defaultTimeToLiveMs: 14 * 86_400_000,
        deadLetterOnExpiration: true,
      });
    } finally {
      await broker.close();
    }
  });

  it("reads ISO 8601 durations as Service Bus writes them", () => {
    expect(parseIsoDuration("PT2M")).toBe(120_000);
    expect(parseIsoDuration("P1D")).toBe(86_400_000);
    expect(parseIsoDuration("PT0.5S")).toBe(500);
    expect(parseIsoDuration("P1DT2H3M4S")).toBe(((24 + 2) * 60 + 3) * 60_000 + 4000);
    expect(parseIsoDuration("P10675199DT2H48M5.4775807S")).toBe(922_337_203_685_477); // TimeSpan.MaxValue
    for (const bad of ["", "P", "PT", "2M", "P1M", "P1Y", "PT1H30"]) expect(() => parseIsoDuration(bad), bad).toThrow(RangeError);
  });

  it("refuses settings Service Bus would refuse, or the broker cannot honour", () => {
    const base = readDeployedQueueSettings();
    expect(() => parseQueueSettings({ ...base, lockDuration: "PT6M" }, "q")).toThrow(/lockDuration must be between 5s and 300s/);
    expect(() => parseQueueSettings({ ...base, duplicateDetectionHistoryTimeWindow: "PT10S" }, "q")).toThrow(/duplicateDetectionHistoryTimeWindow/);
    expect(() => parseQueueSettings({ ...base, maxDeliveryCount: 0 }, "q")).toThrow(/maxDeliveryCount/);
    expect(() => parseQueueSettings({ ...base, requiresSession: true }, "q")).toThrow(/requiresSession is not supported/);
    expect(() => parseQueueSettings({ ...base, lockDuration: 60 }, "q")).toThrow(/'lockDuration' must be a string/);
  });
});
