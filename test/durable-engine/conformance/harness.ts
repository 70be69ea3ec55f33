// Runs one scenario of the app's workflows in a local world on one engine ("node": the local host's
// runner on a virtual clock; "dtfx": the real Durable extension and DTFx on real time) and records
// what can be compared between engines: every instance's final status, output, custom status and
// scheduled activities (from its history), every activity invocation, the ARM requests the emulator
// saw and the outcome events it received. Ids and times are normalised.
import { app } from "@azure/functions";
import { VirtualClock } from "../../../local/clock";
import { startWorld, type World, type WorldOptions } from "../../../local/fixtures/world";
import type { Azurite } from "../../../local/azurite";
import type { OrchestrationStatus } from "../../../local/host";

export type EngineName = "node" | "dtfx";

export interface ScenarioContext {
  readonly world: World;
  readonly engine: EngineName;
  /** Waits until the instance reaches one of `statuses` (default: a terminal one), on either engine. */
  waitFor(instanceId: string, statuses?: string[]): Promise<OrchestrationStatus>;
  /** Waits until `check` holds for the instance's status (custom status, say). */
  waitUntil(instanceId: string, what: string, check: (s: OrchestrationStatus | undefined) => boolean): Promise<OrchestrationStatus | undefined>;
  /** Adds something the scenario saw (an error message, say) to what is compared. */
  note(name: string, value: unknown): void;
}

export interface Scenario {
  readonly name: string;
  /** App settings for this scenario (scaled down to seconds). */
  readonly settings?: Record<string, string>;
  readonly world?: Omit<WorldOptions, "clock" | "azurite" | "durableEngine" | "settings">;
  /** Drives the world; returns when its workflow has ended (the instances observed are all there are). */
  run(ctx: ScenarioContext): Promise<void>;
}

export interface InstanceRecord {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly output: unknown;
  readonly customStatus: unknown;
  /** The current execution's history: "EventType FunctionName", sorted. */
  readonly history: string[];
}

export interface Observation {
  readonly instances: InstanceRecord[];
  /** Every activity invocation, "name" counted (retries included). */
  readonly activityCalls: Record<string, number>;
  readonly activityCallCount: number;
  /** "METHOD path?query -> status", sorted. */
  readonly armRequests: string[];
  /** Outcome event types, sorted. */
  readonly events: string[];
  /** What the scenario noted. */
  readonly notes: Record<string, unknown>;
}

// ---- activity invocations, from the app's own programming model (a preInvocation hook) ----

const invocations: string[] = [];
let hookInstalled = false;

/** Records each activity invocation; runs for both engines, as both invoke through @azure/functions. */
export function recordActivityInvocations(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  app.hook.preInvocation((context) => {
    const trigger = context.invocationContext.options.trigger.type;
    if (trigger.toLowerCase() === "activitytrigger") invocations.push(context.invocationContext.functionName);
  });
}

// ---- normalisation ----

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const HEX32 = /\b[0-9a-f]{32}\b/gi;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g;
const COMPACT_TIME = /\b\d{8}T\d{6,9}Z?\b/g;
const EPOCH_MS = /\b1[6-9]\d{11}\b/g;
const LOOPBACK_PORT = /127\.0\.0\.1:\d+/g;
/** A publish's provisionWorkload instances carry the run's start time (base 36) in their ids. */
const RUN_TIME_36 = /:[0-9a-z]{6,10}:workload:/g;
/** The consent link's signed state carries times and a signature. */
const SIGNED_STATE = /state=[A-Za-z0-9_.%-]+/g;
/** Per-world values that differ by nature (each world makes a new identity), set for each run. */
let RENAMES: ReadonlyMap<string, string> = new Map();

/** Values that differ between runs by nature (generated ids, times) become placeholders. */
export function normaliseText(text: string, keep: ReadonlySet<string>, rename: ReadonlyMap<string, string> = RENAMES): string {
  let out = text;
  for (const [from, to] of rename) out = out.split(from).join(to);
  return out
    .replace(LOOPBACK_PORT, "127.0.0.1:<port>")
    .replace(SIGNED_STATE, "state=<signed>")
    .replace(ISO_TIME, "<time>")
    .replace(COMPACT_TIME, "<time>")
    .replace(EPOCH_MS, "<time>")
    .replace(HEX32, "<id>")
    .replace(RUN_TIME_36, ":<time36>:workload:")
    .replace(GUID, (g) => (keep.has(g.toLowerCase()) ? g : "<guid>"));
}

export function normaliseValue(value: unknown, keep: ReadonlySet<string>): unknown {
  if (typeof value === "string") return normaliseText(value, keep);
  if (Array.isArray(value)) return value.map((v) => normaliseValue(v, keep));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normaliseValue(v, keep);
    return out;
  }
  return value;
}

/** GUIDs the world fixed (tenants, subscriptions, the app): kept, so a wrong one shows. */
function fixedGuids(world: World): Set<string> {
  return new Set((JSON.stringify(world.settings).match(GUID) ?? []).map((g) => g.toLowerCase()));
}

// ---- running ----

const TERMINAL = ["Completed", "Failed", "Terminated"];

/** The instance's status with its history, as the extension's HTTP API answers it (the public webhook). */
async function statusWithHistory(world: World, instanceId: string): Promise<Record<string, unknown>> {
  const code = encodeURIComponent(world.host.systemKey("durabletask_extension"));
  const url = `${world.host.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}?showHistory=true&showInput=false&code=${code}`;
  const response = await fetch(url);
  if (response.status !== 200 && response.status !== 202) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * The instance's history as "EventType FunctionName" entries, sorted: which tasks, sub-orchestrations,
 * timers and events it went through. Sorted, because completions of tasks that ran in parallel land
 * in the order they finished, which real time decides.
 */
function historyOf(status: Record<string, unknown>): string[] {
  const events = (Array.isArray(status.historyEvents) ? status.historyEvents : []) as Array<Record<string, unknown>>;
  return events.map((e) => `${String(e.EventType)}${e.FunctionName === undefined ? "" : ` ${String(e.FunctionName)}`}`).sort();
}

async function observe(world: World, keep: ReadonlySet<string>, notes: Record<string, unknown>): Promise<Observation> {
  const client = world.host.durable.client();
  const all = await client.getStatusAll();
  const instances: InstanceRecord[] = [];
  for (const summary of all) {
    const s = await client.getStatus(summary.instanceId, { showInput: false });
    const withHistory = await statusWithHistory(world, summary.instanceId);
    instances.push({
      id: normaliseText(s.instanceId, keep),
      name: s.name,
      status: s.runtimeStatus,
      output: normaliseValue(s.output ?? null, keep),
      customStatus: normaliseValue(s.customStatus ?? null, keep),
      history: historyOf(withHistory),
    });
  }
  instances.sort((a, b) => `${a.name} ${a.id}`.localeCompare(`${b.name} ${b.id}`));
  const activityCalls: Record<string, number> = {};
  for (const name of invocations) activityCalls[name] = (activityCalls[name] ?? 0) + 1;
  const log = world.emulator.control.requestLog() as Array<{ method: string; url: string; status: number }>;
  const armRequests = log
    .filter((x) => !/\/oauth2\/|\/\.well-known\/|\/_emulator\/|\/_eventgrid\/|\/msi\/|identity/i.test(x.url))
    .map((x) => {
      const url = new URL(x.url, "http://arm");
      const query = [...url.searchParams.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join("&");
      return normaliseText(`${x.method} ${url.pathname}${query ? `?${query}` : ""} -> ${x.status}`, keep);
    })
    .sort();
  const events = (world.emulator.control.receivedEvents("gallery-share-outcomes") as Array<{ type: string }>).map((e) => e.type).sort();
  return {
    instances,
    activityCalls,
    activityCallCount: invocations.length,
    armRequests,
    events,
    notes: normaliseValue(notes, keep) as Record<string, unknown>,
  };
}

export async function runScenario(scenario: Scenario, engine: EngineName, azurite: Azurite, log?: (line: string) => void): Promise<Observation> {
  invocations.length = 0;
  const world = await startWorld({
    seed: 42,
    ...scenario.world,
    emulator: { ...scenario.world?.emulator, replication: { jitter: 0, ...scenario.world?.emulator?.replication } },
    // Functions read the wall clock and orchestrations their engine's: start the virtual one now.
    clock: engine === "node" ? new VirtualClock(Date.now()) : undefined,
    azurite,
    durableEngine: engine,
    settings: scenario.settings,
    ...(log ? { log } : {}),
  });
  const notes: Record<string, unknown> = {};
  RENAMES = new Map([
    [world.identity.clientId, "<identity-client-id>"],
    [world.identity.objectId, "<identity-object-id>"],
  ]);
  try {
    const ctx: ScenarioContext = {
      world,
      engine,
      note: (name, value) => {
        notes[name] = value;
      },
      // Virtual time may run as far as needed; real time is bounded by the scenario's scale (seconds).
      waitFor: (id, statuses = TERMINAL) => world.host.durable.waitFor(id, statuses, { timeoutMs: 90_000, maxSimulatedMs: 2 * 24 * 3600_000 }),
      async waitUntil(id, what, check) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          if (engine === "node") await world.host.durable.runUntilIdle();
          const status = await world.host.durable.status(id);
          if (check(status)) return status;
          // Virtual time: idle until the next durable timer, so move the clock there (as waitFor does).
          const next = engine === "node" ? world.host.durable.nextTimerAt() : undefined;
          if (next !== undefined && world.clock instanceof VirtualClock && next > world.clock.now()) world.clock.setTime(next);
          if (Date.now() > deadline) throw new Error(`${id}: ${what} did not happen within 60 s (status ${JSON.stringify(status)})`);
          await new Promise((r) => setTimeout(r, engine === "node" ? 10 : 250));
        }
      },
    };
    try {
      await scenario.run(ctx);
    } catch (err) {
      // Say where every instance stood: the first thing to know when a scenario stalls on one engine.
      const all = await world.host.durable
        .client()
        .getStatusAll()
        .catch(() => []);
      const where = all.map((s) => `${s.instanceId} ${s.name} ${s.runtimeStatus} ${JSON.stringify(s.customStatus)}`).join("\n  ");
      throw new Error(`${engine}: ${err instanceof Error ? err.message : String(err)}\n  ${where}`);
    }
    if (engine === "node") await world.host.durable.runUntilIdle();
    return await observe(world, fixedGuids(world), notes);
  } finally {
    await world.close();
  }
}
