// npm run bench:scale [-- --tenants=100,1000,5000] [--direct-only] [--check]: the local world (virtual clock,
// emulator, broker, Azurite) with N tenants onboarded through the queue (half direct, at most five
// per gallery, so N/10 galleries; 30 % principal and 20 % rbac, spread over the same galleries, each
// rbac tenant's administrator consenting and granting the app Contributor as the consent page asks),
// then one version published in every gallery. Per N it prints simulated times, ARM requests per tenant and
// per gallery publish, 429s, share POSTs per 3 and 30 minutes, the largest history of any instance
// and of any share coordinator execution, events replayed per tenant, registry reads per gallery
// publish and peak memory. --check exits non-zero when a bound (bench/README.md) is broken.
// Simulated time and counts only: wall time plays no part in any figure.
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import { randomBytes } from "node:crypto";
import { startAzurite } from "../local/azurite";
import { VirtualClock } from "../local/clock";
import { GALLERY_ID, ONBOARDING_QUEUE, PUBLISHER, startWorld, versionWriteEvent, type World } from "../local/fixtures/world";
import { publishInstanceId } from "../src/domain/instanceIds";
import { SHARE_BUDGET, nextCallAt } from "../src/domain/shareBudget";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const guid = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, "0")}`;

interface ScaleRow {
  readonly tenants: number;
  /** Every tenant direct (the largest gallery count the share budget serves in 3 hours). */
  readonly directOnly: boolean;
  readonly galleries: number;
  readonly onboardedActive: number;
  readonly onboardingSeconds: number;
  /** Share changes sent (put in an inbox) more than once. */
  readonly changesResent: number;
  /** What the share budget allows for the galleries' first calls: the bound next to the measured time. */
  readonly onboardingBoundSeconds: number;
  readonly publishesCompleted: number;
  readonly publishWaveSeconds: number;
  readonly armPerTenant: number;
  readonly armPerGalleryPublish: number;
  readonly throttledShareCalls: number;
  readonly throttledOther: number;
  readonly sharePostsMax3Min: number;
  readonly sharePostsMax30Min: number;
  readonly largestHistory: number;
  readonly largestCoordinatorExecution: number;
  readonly eventsReplayedPerTenant: number;
  readonly registryReadsPerGalleryPublish: number;
  readonly peakRssMb: number;
}

// Registry reads (point reads and list calls on any table client of this process: the app's), and
// every share change put in a share inbox (a change put in twice was sent again).
let tableReads = 0;
const inboxed: string[] = [];
const proto = TableClient.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ["getEntity", "listEntities"]) {
  const original = proto[method]!;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    tableReads += 1;
    return original.apply(this, args);
  };
}
const upsert = proto.upsertEntity!;
proto.upsertEntity = function (this: unknown, ...args: unknown[]) {
  const entity = args[0] as { partitionKey?: string; change?: string } | undefined;
  if (entity?.partitionKey?.startsWith("share-inbox-") && typeof entity.change === "string") {
    inboxed.push((JSON.parse(entity.change) as { requestId: string }).requestId);
  }
  return upsert.apply(this, args);
};

async function runScale(tenants: number, directOnly = false): Promise<ScaleRow> {
  const direct = directOnly ? tenants : Math.ceil(tenants / 2);
  const galleryCount = Math.max(1, Math.ceil(direct / 5));
  const names = Array.from({ length: galleryCount }, (_, i) => `scale_${i}`);
  const ids = names.map((g) => GALLERY_ID.replace(PUBLISHER.gallery, g));
  const azurite = await startAzurite();
  inboxed.length = 0;
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const w = await startWorld({
    // Functions read the wall clock, orchestrations this one: it starts now, so a consent link's
    // expiry (orchestration time) means the same to the consent page.
    clock: new VirtualClock(Date.now()),
    seed: 7,
    azurite,
    emulator: { replication: { jitter: 0 } },
    settings: { SHARE_TENANT_IDS: "", GALLERY_IDS: ids.join(","), CONSENT_STATE_KEY: randomBytes(32).toString("base64"), PUBLISHER_DISPLAY_NAME: "Contoso" },
    publisherRoles: ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"],
  });
  try {
    setUpGalleries(w, names, ids);
    const messages = tenantMessages(w, tenants, direct, ids);
    const started = w.clock.now();
    w.emulator.control.clearRequestLog();
    await send(w, messages);
    await consentAll(w, messages);
    const onboard = await waitAll(
      w,
      messages.map((m) => `onboard-${m.requestId}`),
    );
    const onboardingLog = w.emulator.control.requestLog() as LogEntry[];
    const onboardingEnd = Math.max(...onboard.map((s) => Date.parse(String(s.lastUpdatedTime))));
    const stats = w.host.durable.replayStats();

    // The publish wave: one version per gallery, 20 minutes of replication.
    w.emulator.control.clearRequestLog();
    const readsBefore = tableReads;
    const versions = names.map((image) =>
      w.emulator.control.publishVersion({
        subscriptionId: PUBLISHER.subscriptionId,
        resourceGroup: PUBLISHER.resourceGroup,
        gallery: image,
        image: "ubuntu",
        version: "2.0.0",
        location: PUBLISHER.location,
        targetRegions: ["westeurope"],
        regionMinutes: { westeurope: 20 },
      }),
    );
    for (const v of versions) await w.deliver([versionWriteEvent(v)]);
    const publishes = await waitAll(
      w,
      versions.map((v) => publishInstanceId(v)),
    );
    const publishLog = w.emulator.control.requestLog() as LogEntry[];
    const detected = Math.min(
      ...publishes.map((s) => Date.parse((s.output as { replicationDetectedAt?: string } | undefined)?.replicationDetectedAt ?? "") || Infinity),
    );
    const publishEnd = Math.max(...publishes.map((s) => Date.parse(String(s.lastUpdatedTime))));
    const allStats = w.host.durable.replayStats();
    const shares = [...onboardingLog, ...publishLog].filter(isShareCall);
    const accepted = shares.filter((s) => s.status < 300).map(timeOf);
    return {
      tenants,
      directOnly,
      galleries: galleryCount,
      onboardedActive: onboard.filter((s) => (s.output as { state?: string } | undefined)?.state === "active").length,
      onboardingSeconds: Math.round((onboardingEnd - started) / 1000),
      changesResent: inboxed.length - new Set(inboxed).size,
      onboardingBoundSeconds: Math.round(budgetBoundMs(galleryCount) / 1000),
      publishesCompleted: publishes.filter((s) => s.runtimeStatus === "Completed").length,
      publishWaveSeconds: Math.round((publishEnd - detected) / 1000),
      armPerTenant: round(armRequests(onboardingLog) / tenants),
      armPerGalleryPublish: round(armRequests(publishLog) / galleryCount),
      throttledShareCalls: shares.filter((s) => s.status === 429).length,
      throttledOther: [...onboardingLog, ...publishLog].filter((s) => s.status === 429 && !isShareCall(s)).length,
      sharePostsMax3Min: mostInWindow(accepted, 3 * MINUTE),
      sharePostsMax30Min: mostInWindow(accepted, 30 * MINUTE),
      largestHistory: Math.max(...allStats.map((s) => s.largestHistory)),
      largestCoordinatorExecution: Math.max(0, ...allStats.filter((s) => s.name === "shareCoordinator").map((s) => s.largestHistory)),
      eventsReplayedPerTenant: round(stats.reduce((n, s) => n + s.eventsReplayed, 0) / tenants),
      registryReadsPerGalleryPublish: round((tableReads - readsBefore) / galleryCount),
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
  } finally {
    clearInterval(sampler);
    await w.close();
    await azurite.stop();
  }
}

interface LogEntry {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly time?: number | string;
}

const isShareCall = (x: LogEntry): boolean => x.method === "POST" && /\/galleries\/[^/]+\/share\?/i.test(x.url);
const timeOf = (x: LogEntry): number => (typeof x.time === "number" ? x.time : Date.parse(String(x.time)));
/** ARM requests: everything but token requests. */
const armRequests = (log: readonly LogEntry[]): number => log.filter((x) => !/\/oauth2\/|\/msi\/token|\/token\?/i.test(x.url)).length;
const round = (n: number): number => Math.round(n * 100) / 100;

function mostInWindow(times: readonly number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= ms) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** When the last of `calls` share calls could be made at the earliest, all wanted at once. */
function budgetBoundMs(calls: number): number {
  const times: number[] = [];
  let at = 0;
  for (let i = 0; i < calls; i++) {
    at = nextCallAt(SHARE_BUDGET, times, at);
    times.push(at);
  }
  return at;
}

function setUpGalleries(w: World, names: readonly string[], ids: readonly string[]): void {
  const control = w.emulator.control;
  for (const [i, gallery] of names.entries()) {
    control.createGallery({
      subscriptionId: PUBLISHER.subscriptionId,
      resourceGroup: PUBLISHER.resourceGroup,
      gallery,
      location: PUBLISHER.location,
      permissions: "Groups",
    });
    control.createImageDefinition({
      subscriptionId: PUBLISHER.subscriptionId,
      resourceGroup: PUBLISHER.resourceGroup,
      gallery,
      image: "ubuntu",
      location: PUBLISHER.location,
      osType: "Linux",
      publisher: "contoso",
      offer: "ubuntu",
      sku: "scale",
    });
    for (const role of ["Reader", "Compute Gallery Sharing Admin", "User Access Administrator"] as const)
      control.addRoleAssignment({ scope: ids[i]!, principalId: w.identity.objectId, role });
  }
}

interface Message {
  readonly requestId: string;
  readonly [field: string]: unknown;
}

const RBAC_GROUP = "rg-apps";

/**
 * Direct tenants five per gallery; then, round-robin over the galleries, principal tenants (a user
 * of the publisher tenant each) and rbac tenants (one in five of all, with a subscription and a
 * resource group for the app's VMs), interleaved.
 */
function tenantMessages(w: World, tenants: number, direct: number, ids: readonly string[]): Message[] {
  const control = w.emulator.control;
  const rbac = direct === tenants ? 0 : Math.floor(tenants / 5);
  return Array.from({ length: tenants }, (_, n) => {
    const tenantId = guid("5ca1e000", n + 1);
    control.addTenant(tenantId);
    const base = { schema: "onboarding/v1", requestId: guid("5ca1e111", n + 1), tenantId, displayName: `Scale ${n + 1}` };
    if (n < direct) return { ...base, mode: "direct", galleries: [ids[Math.floor(n / 5)]] };
    const k = n - direct;
    const galleries = [ids[k % ids.length]];
    if (k < rbac * 2 && k % 2 === 0) {
      const subscriptionId = guid("5ca1e333", n + 1);
      control.addSubscription(subscriptionId, tenantId);
      control.addResourceGroup(subscriptionId, RBAC_GROUP, "westeurope");
      return { ...base, mode: "rbac", galleries, consumer: { subscriptionId, resourceGroup: RBAC_GROUP, location: "westeurope" } };
    }
    const user = control.addUser({ tenantId: PUBLISHER.tenantId, objectId: guid("5ca1e222", n + 1), displayName: `guest ${n + 1}` });
    return { ...base, mode: "principal", principal: { objectId: user.objectId, type: "User" }, galleries };
  });
}

/**
 * Each rbac tenant's administrator, as the consent page asks: follows the admin-consent link (as a
 * browser, through the emulated Entra back to the app's callback), then grants the app's service
 * principal Contributor on the resource group.
 */
async function consentAll(w: World, messages: readonly Message[]): Promise<void> {
  const control = w.emulator.control;
  for (const m of messages.filter((x) => x.mode === "rbac")) {
    const instanceId = `onboard-${m.requestId}`;
    let consent: { adminConsentUrl: string } | undefined;
    for (let i = 0; i < 50 && !consent; i++) {
      await w.host.durable.runUntilIdle();
      consent = (w.host.durable.getStatus(instanceId)?.customStatus as { consent?: { adminConsentUrl: string } } | undefined)?.consent;
    }
    if (!consent) throw new Error(`${instanceId} never asked for consent`);
    await followLikeBrowser(consent.adminConsentUrl);
    const { subscriptionId } = m.consumer as { subscriptionId: string };
    const sp = control.servicePrincipalId(PUBLISHER.appId, m.tenantId as string);
    if (!sp) throw new Error(`no service principal of the app in ${String(m.tenantId)} after consent`);
    control.addRoleAssignment({ scope: `/subscriptions/${subscriptionId}/resourceGroups/${RBAC_GROUP}`, principalId: sp, role: "Contributor" });
  }
}

async function followLikeBrowser(url: string): Promise<void> {
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(next, { redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) {
      if (response.status >= 400) throw new Error(`consent: ${next} answered ${response.status}`);
      return;
    }
    next = new URL(location, next).toString();
  }
  throw new Error("consent: too many redirects");
}

async function send(w: World, messages: readonly Message[]): Promise<void> {
  const client = new ServiceBusClient(w.serviceBus.connectionString, { retryOptions: { maxRetries: 0 } });
  try {
    const sender = client.createSender(ONBOARDING_QUEUE);
    for (let i = 0; i < messages.length; i += 200) {
      await sender.sendMessages(messages.slice(i, i + 200).map((body) => ({ body, contentType: "application/json", messageId: body.requestId })));
    }
  } finally {
    await client.close();
  }
}

/** Drives the world until every instance has ended; their final statuses. */
async function waitAll(w: World, instanceIds: readonly string[]) {
  await w.host.durable.runUntilIdle();
  const out = [];
  for (const id of instanceIds) out.push(await w.host.durable.waitFor(id, undefined, { maxSimulatedMs: 48 * HOUR, timeoutMs: 600_000 }));
  return out;
}

const BOUNDS = {
  /** Coordinator executions stay small. */
  largestCoordinatorExecution: 500,
  /** Events replayed per tenant, largest N over smallest. */
  replayRatio: 2,
  /** ARM requests per tenant and per gallery publish, largest N over smallest. */
  armRatio: 1.2,
};

function problems(rows: readonly ScaleRow[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.onboardedActive !== r.tenants) out.push(`N=${r.tenants}: ${r.tenants - r.onboardedActive} onboardings did not end active`);
    if (r.publishesCompleted !== r.galleries) out.push(`N=${r.tenants}: ${r.galleries - r.publishesCompleted} publishes did not complete`);
    if (r.throttledShareCalls > 0) out.push(`N=${r.tenants}: ${r.throttledShareCalls} share POSTs throttled`);
    if (r.changesResent > 0) out.push(`N=${r.tenants}: ${r.changesResent} share changes sent again`);
    if (r.sharePostsMax3Min > 10 || r.sharePostsMax30Min > 60)
      out.push(`N=${r.tenants}: share POSTs ${r.sharePostsMax3Min}/3 min, ${r.sharePostsMax30Min}/30 min`);
    if (r.largestCoordinatorExecution > BOUNDS.largestCoordinatorExecution)
      out.push(`N=${r.tenants}: a coordinator execution reached ${r.largestCoordinatorExecution} events`);
  }
  // The growth bounds compare the mixed runs; a direct-only run has another mix.
  const mixed = rows.filter((r) => !r.directOnly);
  const first = mixed[0];
  const last = mixed.at(-1);
  if (first && last && last !== first) {
    const ratio = (a: number, b: number): number => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);
    if (ratio(last.eventsReplayedPerTenant, first.eventsReplayedPerTenant) > BOUNDS.replayRatio) out.push("events replayed per tenant grow more than 2x");
    if (ratio(last.armPerTenant, first.armPerTenant) > BOUNDS.armRatio) out.push("ARM requests per tenant grow more than 1.2x");
    if (ratio(last.armPerGalleryPublish, first.armPerGalleryPublish) > BOUNDS.armRatio) out.push("ARM requests per gallery publish grow more than 1.2x");
    if (ratio(last.registryReadsPerGalleryPublish, first.registryReadsPerGalleryPublish) > BOUNDS.armRatio)
      out.push("registry reads per gallery publish grow with the number of tenants");
  }
  return out;
}

function format(rows: readonly ScaleRow[]): string {
  const fields: [string, (r: ScaleRow) => string | number][] = [
    ["galleries", (r) => r.galleries],
    ["onboarded active", (r) => `${r.onboardedActive}/${r.tenants}`],
    ["onboarding, simulated s (share-budget bound)", (r) => `${r.onboardingSeconds} (${r.onboardingBoundSeconds})`],
    ["share changes sent again", (r) => r.changesResent],
    ["publishes completed", (r) => `${r.publishesCompleted}/${r.galleries}`],
    ["publish wave after replication, simulated s", (r) => r.publishWaveSeconds],
    ["ARM requests per tenant (onboarding)", (r) => r.armPerTenant],
    ["ARM requests per gallery publish", (r) => r.armPerGalleryPublish],
    ["429s: share POSTs / other", (r) => `${r.throttledShareCalls} / ${r.throttledOther}`],
    ["share POSTs, most per 3 min / 30 min", (r) => `${r.sharePostsMax3Min} / ${r.sharePostsMax30Min}`],
    ["largest history: any instance / a coordinator execution", (r) => `${r.largestHistory} / ${r.largestCoordinatorExecution}`],
    ["events replayed per tenant (onboarding)", (r) => r.eventsReplayedPerTenant],
    ["registry reads per gallery publish", (r) => r.registryReadsPerGalleryPublish],
    ["peak memory, MB", (r) => r.peakRssMb],
  ];
  const header = `| figure | ${rows.map((r) => `N=${r.tenants}${r.directOnly ? " (direct only)" : ""}`).join(" | ")} |`;
  const rule = `|---|${rows.map(() => "---").join("|")}|`;
  return [header, rule, ...fields.map(([name, of]) => `| ${name} | ${rows.map(of).join(" | ")} |`)].join("\n");
}

async function main(): Promise<void> {
  const arg = process.argv.find((a) => a.startsWith("--tenants="));
  const sizes = (arg ? arg.slice("--tenants=".length) : "100,1000,5000")
    .split(",")
    .filter((s) => s !== "")
    .map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 10 || n > 20_000))
    throw new Error("--tenants must list whole numbers from 10 to 20000, e.g. --tenants=100,1000");
  const rows: ScaleRow[] = [];
  for (const n of sizes) {
    rows.push(await runScale(n));
    console.error(`bench:scale: N=${n} done`);
  }
  // By default (no --tenants=) the direct-only run follows the three sizes.
  if (process.argv.includes("--direct-only") || !arg) {
    // Direct tenants only, five per gallery, as many galleries as the share budget serves in 3 hours.
    let galleries = 1;
    while (budgetBoundMs(galleries + 1) <= 3 * HOUR) galleries += 1;
    rows.push(await runScale(galleries * 5, true));
    console.error(`bench:scale: direct only, ${galleries} galleries, done`);
  }
  console.log(format(rows));
  const broken = problems(rows);
  for (const p of broken) console.log(`bound broken: ${p}`);
  if (broken.length === 0) console.log("every bound holds");
  if (process.argv.includes("--check") && broken.length > 0) process.exitCode = 1;
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
