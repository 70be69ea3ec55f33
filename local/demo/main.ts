// npm run demo: the publish-to-share workflow, end to end, on this machine.
// Starts Azurite, the Azure emulator and the local Functions host running the app unchanged; publishes
// an image version that replicates to three regions on an accelerated clock; shows what the workflow
// sees while it waits; ends with a summary and exit code 0 when every consumer tenant got access.
//
// DEMO_SPEED (default 240) is simulated seconds per real second. EMULATOR_RECORD=<file> records the
// ARM traffic as JSON Lines for the contract test.
import { readAuditRows } from "../auditTrail";
import { publishInstanceId } from "../../src/domain/instanceIds";
import type { PublishResult, PublishStatus } from "../../src/orchestrations/publishImageVersion";
import { WallClock } from "../clock";
import { CONSUMERS, GALLERY_ID, OUTCOME_TOPIC, PUBLISHER, startWorld, versionWriteEvent } from "./world";
import { callsByKind, formatDuration, progressBar } from "./report";

const SPEED = Number(process.env.DEMO_SPEED ?? "240");
// Home region first, then the others in parallel: complete after 12 + 31 = 43 simulated minutes.
const REGION_MINUTES = { westeurope: 12, northeurope: 25, eastus: 31 };
const VERSION = "1.4.0";

async function main(): Promise<number> {
  if (!(SPEED > 0)) throw new Error(`DEMO_SPEED must be a positive number; got "${process.env.DEMO_SPEED}"`);
  const clock = new WallClock(SPEED);
  const realStart = Date.now();
  const tty = process.stdout.isTTY === true;
  console.log(`gallery-share demo: simulated time runs ${SPEED}x faster than real time`);
  const world = await startWorld({ clock, seed: 2026 });
  try {
    console.log(`  emulator (ARM + Entra) ${world.emulator.url}`);
    console.log(`  local Functions host   ${world.host.baseUrl}`);
    console.log(`  Azurite (audit table)  ${world.azurite.tableEndpoint}`);
    console.log(`  publisher: gallery ${PUBLISHER.gallery} in ${PUBLISHER.resourceGroup} (tenant ${PUBLISHER.tenantId})`);
    console.log(`  app identity: managed identity ${world.identity.clientId} (IDENTITY_ENDPOINT ${world.settings.IDENTITY_ENDPOINT}); elsewhere app ${world.appId} via its federated credential, no secret`);
    console.log(`  consumers: ${CONSUMERS.map((c) => `${c.name} (${c.tenantId})`).join(", ")}\n`);

    const simStart = clock.now();
    const versionId = world.publishVersion(VERSION, { regionMinutes: REGION_MINUTES });
    const completesAt = simStart + (REGION_MINUTES.westeurope + Math.max(REGION_MINUTES.northeurope, REGION_MINUTES.eastus)) * 60_000;
    console.log(`Published ${PUBLISHER.image} ${VERSION}, replicating to ${Object.keys(REGION_MINUTES).join(", ")}`);
    const delivered = await world.deliver([versionWriteEvent(versionId)]);
    console.log(`Event Grid delivered ResourceWriteSuccess -> imageVersionEvents: HTTP ${delivered.status}\n`);
    if (delivered.status !== 202) return 1;

    const instanceId = publishInstanceId(versionId);
    let lines = 0;
    const render = (): void => {
      const s = world.host.durable.getStatus(instanceId);
      const custom = s?.customStatus as PublishStatus | undefined;
      const elapsed = formatDuration(clock.now() - simStart);
      const out = [`[${elapsed} simulated] ${s?.runtimeStatus ?? "Pending"} / ${custom?.step ?? "starting"}; replication reads: ${custom?.replication.reads ?? 0}${custom?.replication.nextReadAt ? `, next read at +${formatDuration(Date.parse(custom.replication.nextReadAt) - simStart)}` : ""}`];
      for (const r of custom?.replication.regions ?? []) out.push(`  ${r.region.padEnd(14)} ${progressBar(r.progress)} ${String(r.progress).padStart(3)}% ${r.state}`);
      if (tty && lines > 0) process.stdout.write(`\x1b[${lines}A\x1b[0J`);
      process.stdout.write(`${out.join("\n")}\n`);
      lines = out.length;
    };
    const ticker = setInterval(render, tty ? 150 : 2000);
    let status;
    try {
      status = await world.host.durable.waitFor(instanceId, undefined, { timeoutMs: 120_000 });
    } finally {
      clearInterval(ticker);
    }
    render();

    const custom = status.customStatus as PublishStatus;
    const simElapsed = clock.now() - simStart;
    console.log(`\nOrchestration ${instanceId}: ${status.runtimeStatus}`);
    if (status.runtimeStatus !== "Completed") {
      console.log(`  error: ${custom.error?.code ?? "?"}: ${custom.error?.message ?? JSON.stringify(status.output)}`);
      return 1;
    }
    const outcome = status.output as PublishResult;
    const log = world.emulator.control.requestLog();
    const audit = await readAuditRows(world.settings, GALLERY_ID);
    const events = world.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string }>;

    console.log("\nWho got access to what (audit table):");
    for (const row of audit) {
      const name = CONSUMERS.find((c) => c.tenantId === row.targetId)?.name ?? row.targetId;
      console.log(`  ${row.targetKind} ${name.padEnd(10)} ${row.result.padEnd(15)} ${PUBLISHER.gallery}/${row.rowKey.split("|").slice(0, 2).join(" ")}`);
    }
    console.log(`\nOutcome events received by the topic: ${events.map((e) => e.type).join(", ") || "none"}`);
    console.log(`Elapsed: ${formatDuration(simElapsed)} simulated, ${((Date.now() - realStart) / 1000).toFixed(1)} s real`);
    console.log(`Replication: completed at +${formatDuration(completesAt - simStart)}, detected at +${formatDuration(Date.parse(outcome.replicationDetectedAt) - simStart)} (${Math.round((Date.parse(outcome.replicationDetectedAt) - completesAt) / 1000)} s late) after ${outcome.replicationReads} reads`);
    console.log(`Share calls: ${outcome.shareCalls}`);
    console.log("ARM and Entra calls by kind:");
    for (const [kind, count] of callsByKind(log)) console.log(`  ${String(count).padStart(4)}  ${kind}`);
    const everyone = CONSUMERS.every((c) => audit.some((r) => r.targetId === c.tenantId));
    return everyone ? 0 : 1;
  } finally {
    await world.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exit(1);
  },
);
