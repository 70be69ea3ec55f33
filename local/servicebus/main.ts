// `npx tsx local/servicebus/main.ts`: the local Service Bus broker alone, until SIGINT/SIGTERM.
// Prints the connection string. Settings (environment): SERVICEBUS_PORT (or --port=N; default
// 5672, the port the SDK assumes for UseDevelopmentEmulator=true without one; 0 = any free port),
// SERVICEBUS_QUEUES (comma-separated, default "onboarding", settings from
// infra/servicebus-queue.json), SERVICEBUS_KEY_NAME / SERVICEBUS_KEY (default
// RootManageSharedAccessKey and a fresh random key), SERVICEBUS_SPEED (wall clock speed, default 1),
// SERVICEBUS_RECORD (JSON Lines record), SERVICEBUS_INFO_FILE (write the connection string as JSON there).
import { writeFileSync } from "node:fs";
import { WallClock } from "../clock";
import { startServiceBusBroker } from "./index";
import { stopOnSignal } from "../stopOnSignal";

function numberSetting(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const portArg = process.argv.find((a) => a.startsWith("--port="))?.slice("--port=".length);
  const port = numberSetting(portArg ?? process.env.SERVICEBUS_PORT, "SERVICEBUS_PORT", 5672);
  const speed = numberSetting(process.env.SERVICEBUS_SPEED, "SERVICEBUS_SPEED", 1);
  const queues = (process.env.SERVICEBUS_QUEUES ?? "onboarding")
    .split(",")
    .map((q) => q.trim())
    .filter((q) => q.length > 0);
  const broker = await startServiceBusBroker({
    port,
    queues,
    clock: new WallClock(speed),
    ...(process.env.SERVICEBUS_KEY_NAME ? { keyName: process.env.SERVICEBUS_KEY_NAME } : {}),
    ...(process.env.SERVICEBUS_KEY ? { key: process.env.SERVICEBUS_KEY } : {}),
  });
  if (process.env.SERVICEBUS_INFO_FILE) {
    writeFileSync(
      process.env.SERVICEBUS_INFO_FILE,
      JSON.stringify({ connectionString: broker.connectionString, port: broker.port, queues: broker.queues.list().map((q) => q.name) }, null, 2),
    );
  }
  const lines = [
    "gallery-share local Service Bus ready (AMQP on 127.0.0.1)",
    `  Connection string: ${broker.connectionString}`,
    ...broker.queues
      .list()
      .map(
        (q) =>
          `  Queue:             ${q.name} (lock ${q.settings.lockDuration}, maxDeliveryCount ${q.settings.maxDeliveryCount}, duplicate window ${q.settings.requiresDuplicateDetection ? q.settings.duplicateDetectionHistoryTimeWindow : "off"})`,
      ),
    `  Clock:             wall clock x${speed}`,
    `  Recording:         ${broker.recordPath ?? "off (set SERVICEBUS_RECORD=<file.jsonl>)"}`,
    "Ctrl+C stops it.",
  ];
  process.stdout.write(lines.join("\n") + "\n");

  stopOnSignal("broker", () => broker.close());
}

main().catch((e: unknown) => {
  const inUse = typeof e === "object" && e !== null && (e as { code?: unknown }).code === "EADDRINUSE";
  console.error("the local Service Bus broker failed to start:", inUse ? `${String(e)} (set SERVICEBUS_PORT=0 for any free port)` : e);
  process.exit(1);
});
