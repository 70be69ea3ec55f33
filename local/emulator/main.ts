// `npm run emulator`: the Azure double standalone, seeded with the demo world (demo.ts), until
// SIGINT/SIGTERM. Settings (environment): EMULATOR_PORT (default 0 = any free port),
// EMULATOR_SEED (1), EMULATOR_SPEED (wall clock speed, default 60: an hour of replication per real
// minute), EMULATOR_VIRTUAL_CLOCK=1 (a virtual clock moved only via POST /_emulator/clock/advance),
// EMULATOR_RECORD (JSON Lines recording), EMULATOR_INFO_FILE (write the endpoints as JSON there).
import { writeFileSync } from "node:fs";
import { VirtualClock, WallClock, type Clock } from "../clock";
import { DEMO, describeDemoWorld, seedDemoWorld } from "./demo";
import { startEmulator } from "./index";
import { stopOnSignal } from "../stopOnSignal";

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${raw}'`);
  return n;
}

async function main(): Promise<void> {
  const portArg = process.argv.find((a) => a.startsWith("--port="));
  const port = portArg ? Number(portArg.slice("--port=".length)) : numberEnv("EMULATOR_PORT", 0);
  const speed = numberEnv("EMULATOR_SPEED", 60);
  const virtual = process.env.EMULATOR_VIRTUAL_CLOCK === "1";
  const clock: Clock = virtual ? new VirtualClock(Date.now()) : new WallClock(speed);
  const emulator = await startEmulator({ port, clock, seed: numberEnv("EMULATOR_SEED", 1), world: seedDemoWorld });
  const info = {
    armEndpoint: emulator.armEndpoint,
    authorityHost: emulator.authorityHost,
    caFile: emulator.caFile,
    controlApi: `${emulator.url}/_emulator`,
    identityEndpoint: emulator.identityEndpoint,
    identityHeader: emulator.identityHeader,
    demo: DEMO,
  };
  if (process.env.EMULATOR_INFO_FILE) writeFileSync(process.env.EMULATOR_INFO_FILE, JSON.stringify(info, null, 2));
  const lines = [
    "gallery-share Azure emulator ready",
    `  ARM endpoint:     ${emulator.armEndpoint}`,
    `  Authority host:   ${emulator.authorityHost}`,
    `  CA file:          ${emulator.caFile}   (NODE_EXTRA_CA_CERTS for other processes)`,
    `  Control API:      ${emulator.url}/_emulator`,
    `  Clock:            ${virtual ? "virtual (POST /_emulator/clock/advance)" : `wall clock x${speed}`}`,
    `  Recording:        ${process.env.EMULATOR_RECORD || "off (set EMULATOR_RECORD=<file.jsonl>)"}`,
    "Demo world:",
    ...describeDemoWorld(),
    "Ctrl+C stops it.",
  ];
  process.stdout.write(lines.join("\n") + "\n");

  stopOnSignal("emulator", () => emulator.close());
}

main().catch((e: unknown) => {
  console.error("emulator failed to start:", e);
  process.exit(1);
});
