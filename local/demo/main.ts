// npm run demo: the publish-to-share workflow, end to end, on this machine.
// Starts Azurite, the Azure emulator and the local Functions host running the app unchanged; publishes
// an image version that replicates to three regions on an accelerated clock; shows what the workflow
// sees while it waits. Then onboards three more consumer tenants through the app's API, one per
// sharing mode (direct, rbac with the admin-consent pages, principal), shows them as the registry has
// them, publishes a new version that reaches them too, ring by ring (the direct tenant's canary in
// ring 0 first, then after a soak the rest) before it becomes `latest` (the image is gated), revokes
// that version again (latest and the canaries back on the previous one), and offboards the direct
// tenant. Ends with a summary and exit code 0 only when every step did what it should.
//
// DEMO_SPEED (default 240) is simulated seconds per real second. EMULATOR_RECORD=<file> records the
// ARM traffic as JSON Lines for the contract test.
import { readAuditRows } from "../auditTrail";
import { publishInstanceId } from "../../src/domain/instanceIds";
import type { PublishResult, PublishStatus } from "../../src/orchestrations/publishImageVersion";
import { WallClock } from "../clock";
import { CONSUMERS, GALLERY_ID, OUTCOME_TOPIC, PUBLISHER, startWorld, versionWriteEvent, type World } from "../fixtures/world";
import { callsByKind, formatDuration, progressBar } from "./report";
import { latestByRegion, revokeAndShow, rolloutLine, showDashboard, showRollout } from "./rolloutDemo";
import {
  DemoFailure,
  NEW_TENANTS,
  checkReach,
  offboardDirectTenant,
  onboardNewTenants,
  onboardingWorldOptions,
  seedNewTenants,
  showTenants,
  showWorkloads,
} from "./onboardingDemo";

const SPEED = Number(process.env.DEMO_SPEED ?? "240");
// Home region first, then the others in parallel: complete after 12 + 31 = 43 simulated minutes.
const REGION_MINUTES = { westeurope: 12, northeurope: 25, eastus: 31 };
const VERSION = "1.4.0";
// The next version, published once the new tenants are onboarded: complete after 6 + 10 = 16 simulated minutes.
const NEXT_REGION_MINUTES = { westeurope: 6, northeurope: 8, eastus: 10 };
const NEXT_VERSION = "1.5.0";
/** Real-time limit of each wait for the app (an orchestration, a consent link). */
const STEP_LIMIT_MS = 60_000;

const tenantName = (id: string): string =>
  CONSUMERS.find((c) => c.tenantId === id.toLowerCase())?.name ?? NEW_TENANTS.find((t) => t.tenantId === id.toLowerCase())?.name ?? id;

interface Watched {
  readonly instanceId: string;
  readonly versionId: string;
  readonly simStart: number;
  readonly completesAt: number;
  readonly status: Awaited<ReturnType<World["host"]["durable"]["waitFor"]>>;
}

/** Publishes `version`, delivers its Event Grid event, and shows the orchestration live until it ends. */
async function publishAndWatch(world: World, clock: WallClock, version: string, regionMinutes: Record<string, number>): Promise<Watched> {
  const tty = process.stdout.isTTY === true;
  const simStart = clock.now();
  // The image's latest is gated (GATED_IMAGES): versions are published outside it, and promoted by the app.
  const versionId = world.publishVersion(version, { regionMinutes, excludeFromLatest: true });
  const others = Object.entries(regionMinutes)
    .filter(([r]) => r !== PUBLISHER.location)
    .map(([, m]) => m);
  const completesAt = simStart + ((regionMinutes[PUBLISHER.location] ?? 0) + Math.max(0, ...others)) * 60_000;
  console.log(`Published ${PUBLISHER.image} ${version}, replicating to ${Object.keys(regionMinutes).join(", ")}`);
  const delivered = await world.deliver([versionWriteEvent(versionId)]);
  console.log(`Event Grid delivered ResourceWriteSuccess -> imageVersionEvents: HTTP ${delivered.status}\n`);
  if (delivered.status !== 202) throw new DemoFailure(`the imageVersionEvents webhook answered ${delivered.status} for ${version}`);

  const instanceId = publishInstanceId(versionId);
  let lines = 0;
  const render = (): void => {
    const s = world.host.durable.getStatus(instanceId);
    const custom = s?.customStatus as PublishStatus | undefined;
    const elapsed = formatDuration(clock.now() - simStart);
    const out = [
      `[${elapsed} simulated] ${s?.runtimeStatus ?? "Pending"} / ${custom?.step ?? "starting"}; replication reads: ${custom?.replication.reads ?? 0}${custom?.replication.nextReadAt ? `, next read at +${formatDuration(Date.parse(custom.replication.nextReadAt) - simStart)}` : ""}`,
    ];
    for (const r of custom?.replication.regions ?? [])
      out.push(`  ${r.region.padEnd(14)} ${progressBar(r.progress)} ${String(r.progress).padStart(3)}% ${r.state}`);
    const rollout = rolloutLine(custom, simStart);
    if (rollout) out.push(rollout);
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
  console.log(`\nOrchestration ${instanceId}: ${status.runtimeStatus}`);
  if (status.runtimeStatus !== "Completed") {
    const custom = status.customStatus as PublishStatus;
    console.log(`  error: ${custom.error?.code ?? "?"}: ${custom.error?.message ?? JSON.stringify(status.output)}`);
  }
  return { instanceId, versionId, simStart, completesAt, status };
}

async function auditLines(world: World, version: string): Promise<Array<{ targetId: string; line: string }>> {
  const audit = await readAuditRows(world.settings, GALLERY_ID);
  return audit
    .filter((row) => row.rowKey.split("|")[1] === version)
    .map((row) => ({
      targetId: row.targetId,
      line: `  ${row.targetKind} ${tenantName(row.targetId).padEnd(10)} ${row.result.padEnd(15)} ${PUBLISHER.gallery}/${row.rowKey.split("|").slice(0, 2).join(" ")}`,
    }));
}

async function main(): Promise<number> {
  if (!(SPEED > 0)) throw new Error(`DEMO_SPEED must be a positive number; got "${process.env.DEMO_SPEED}"`);
  const clock = new WallClock(SPEED);
  const realStart = Date.now();
  console.log(`gallery-share demo: simulated time runs ${SPEED}x faster than real time`);
  const world = await startWorld({ clock, seed: 2026, ...onboardingWorldOptions() });
  try {
    seedNewTenants(world);
    console.log(`  emulator (ARM + Entra) ${world.emulator.url}`);
    console.log(`  local Functions host   ${world.host.baseUrl}`);
    console.log(`  operator dashboard     ${world.host.baseUrl}/api/dashboard (development sign-in while the demo runs)`);
    console.log(`  Azurite (audit table)  ${world.azurite.tableEndpoint}`);
    console.log(`  publisher: gallery ${PUBLISHER.gallery} in ${PUBLISHER.resourceGroup} (tenant ${PUBLISHER.tenantId})`);
    console.log(
      `  app identity: managed identity ${world.identity.clientId} (IDENTITY_ENDPOINT ${world.settings.IDENTITY_ENDPOINT}); elsewhere app ${world.appId} via its federated credential, no secret`,
    );
    console.log(`  consumers: ${CONSUMERS.map((c) => `${c.name} (${c.tenantId})`).join(", ")}`);
    console.log(`  to onboard later: ${NEW_TENANTS.map((t) => `${t.name} (${t.mode})`).join(", ")}\n`);

    // 1. The first version, shared with the consumers of SHARE_TENANT_IDS.
    const first = await publishAndWatch(world, clock, VERSION, REGION_MINUTES);
    if (first.status.runtimeStatus !== "Completed") return 1;
    const simElapsed = clock.now() - first.simStart;
    const outcome = first.status.output as PublishResult;
    const audit = await auditLines(world, VERSION);
    const events = world.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string }>;

    console.log("\nWho got access to what (audit table):");
    for (const row of audit) console.log(row.line);
    console.log(`\nOutcome events received by the topic: ${events.map((e) => e.type).join(", ") || "none"}`);
    console.log(`Elapsed: ${formatDuration(simElapsed)} simulated, ${((Date.now() - realStart) / 1000).toFixed(1)} s real`);
    console.log(
      `Replication: completed at +${formatDuration(first.completesAt - first.simStart)}, detected at +${formatDuration(Date.parse(outcome.replicationDetectedAt) - first.simStart)} (${Math.round((Date.parse(outcome.replicationDetectedAt) - first.completesAt) / 1000)} s late) after ${outcome.replicationReads} reads`,
    );
    console.log(`Share calls: ${outcome.shareCalls}`);
    const everyone = CONSUMERS.every((c) => audit.some((r) => r.targetId === c.tenantId));
    if (!everyone) throw new DemoFailure(`not every consumer has an audit row for ${VERSION}`);

    // 2. Three more tenants, one per mode, through POST /api/onboarding.
    console.log(`\nOnboarding ${NEW_TENANTS.map((t) => t.name).join(", ")} (POST /api/onboarding -> Service Bus queue -> onboardTenant):`);
    await onboardNewTenants(world, (line) => console.log(line), STEP_LIMIT_MS);
    console.log("");
    const onboarded = await showTenants(world, "Tenants after onboarding", (line) => console.log(line));
    if (!(onboarded.length === NEW_TENANTS.length && onboarded.every((t) => t.state === "active")))
      throw new DemoFailure(
        `expected ${NEW_TENANTS.length} active tenants, the registry has ${onboarded.map((t) => `${t.displayName} ${t.state}`).join(", ")}`,
      );
    const built = showWorkloads(onboarded, "VMs and scale sets the app built in the customers' tenants", (line) => console.log(line));
    if (!built.every((x) => x.workload.imageVersion.endsWith(`/versions/${VERSION}`))) throw new DemoFailure(`not every VM and scale set runs ${VERSION}`);

    // 3. The next version reaches them too.
    console.log("");
    const next = await publishAndWatch(world, clock, NEXT_VERSION, NEXT_REGION_MINUTES);
    if (next.status.runtimeStatus !== "Completed") return 1;
    const nextOutcome = next.status.output as PublishResult;
    const targets = [...nextOutcome.added.tenantIds, ...nextOutcome.alreadyShared.tenantIds];
    console.log(
      `Share targets of ${NEXT_VERSION}: tenants ${targets.map(tenantName).join(", ")} (${nextOutcome.added.tenantIds.length} added, ${nextOutcome.alreadyShared.tenantIds.length} already shared; ${nextOutcome.shareCalls} share calls)`,
    );
    const direct = NEW_TENANTS.find((t) => t.mode === "direct")!;
    if (!targets.includes(direct.tenantId)) throw new DemoFailure(`${direct.name} (direct) is not among the share targets of ${NEXT_VERSION}`);
    const nextAudit = await auditLines(world, NEXT_VERSION);
    for (const row of nextAudit) console.log(row.line);
    if (!nextAudit.some((r) => r.targetId === direct.tenantId)) throw new DemoFailure(`the audit table has no row for ${direct.name} and ${NEXT_VERSION}`);
    console.log(`How the onboarded tenants get to ${NEXT_VERSION}:`);
    await checkReach(world, NEXT_VERSION, (line) => console.log(line));
    const moved = nextOutcome.workloads;
    console.log(
      `VMs and scale sets moved to ${NEXT_VERSION}: ${moved ? `${moved.succeeded} of ${moved.total} (${moved.failed} failed, at most ${moved.maxInFlight} at once)` : "none"}`,
    );
    if (!moved || moved.failed > 0 || moved.succeeded !== built.length)
      throw new DemoFailure(`expected all ${built.length} VMs and scale sets moved to ${NEXT_VERSION}: ${JSON.stringify(moved)}`);
    // Woodgrove asked for ring 0 (the canary); Adatum named no ring: the last one.
    const members = [
      { ring: 0, name: "Woodgrove", tenantId: direct.tenantId },
      { ring: 2, name: "Adatum", tenantId: NEW_TENANTS.find((t) => t.mode === "rbac")!.tenantId },
    ];
    await showRollout(world, NEXT_VERSION, nextOutcome.rollout, members, next.simStart, (line) => console.log(line));

    // 4. The new version turns out bad: revoked, latest and the canaries go back to the previous one.
    console.log(`\nRevoking ${NEXT_VERSION} (latest was ${latestByRegion(world)}):`);
    await revokeAndShow(world, next.versionId, VERSION, (line) => console.log(line), STEP_LIMIT_MS);

    // 5. The direct tenant leaves.
    console.log(`\nOffboarding ${direct.name} (POST /api/offboarding -> Service Bus queue -> offboardTenant):`);
    await offboardDirectTenant(world, NEXT_VERSION, tenantName, (line) => console.log(line), STEP_LIMIT_MS);

    console.log("\nSummary");
    const end = await showTenants(world, "Tenants at the end", (line) => console.log(line));
    const expected = NEW_TENANTS.map((t) => `${t.name}:${t.mode === "direct" ? "offboarded" : "active"}`).sort();
    const actual = end.map((t) => `${t.displayName}:${t.state}`).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      throw new DemoFailure(`expected tenants ${expected.join(", ")} at the end, the registry has ${actual.join(", ")}`);
    const running = showWorkloads(end, "VMs and scale sets in the customers' tenants", (line) => console.log(line));
    if (!running.every((x) => x.workload.imageVersion.endsWith(`/versions/${VERSION}`) && x.workload.provisioningState === "Succeeded"))
      throw new DemoFailure(`not every VM and scale set runs ${VERSION} again after the revocation`);
    await showDashboard(world, (line) => console.log(line));
    const allEvents = world.emulator.control.receivedEvents(OUTCOME_TOPIC) as Array<{ type: string }>;
    const eventCounts = new Map<string, number>();
    for (const e of allEvents) eventCounts.set(e.type, (eventCounts.get(e.type) ?? 0) + 1);
    console.log(`Outcome events in all: ${[...eventCounts].map(([type, n]) => `${type}${n > 1 ? ` x${n}` : ""}`).join(", ")}`);
    console.log(`Elapsed in all: ${formatDuration(clock.now() - first.simStart)} simulated, ${((Date.now() - realStart) / 1000).toFixed(1)} s real`);
    console.log("ARM and Entra calls by kind:");
    for (const [kind, count] of callsByKind(world.emulator.control.requestLog())) console.log(`  ${String(count).padStart(4)}  ${kind}`);
    console.log("\nDemo OK: every step did what it should.");
    return 0;
  } finally {
    await world.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof DemoFailure) console.error(`\nDemo FAILED: ${err.message}`);
    else console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
