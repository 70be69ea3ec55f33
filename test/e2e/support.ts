// Helpers for the end-to-end tests: one Azurite per test file, a fresh world per test on a virtual
// clock, and reading the emulator's request log the way the assertions need it.
import { spawn } from "node:child_process";
import path from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startAzurite, type Azurite } from "../../local/azurite";
import { VirtualClock } from "../../local/clock";
import { ONBOARDING_QUEUE, startWorld, type World, type WorldOptions } from "../../local/fixtures/world";

/** Registers the hooks; `start` gives a world (closed after the test) with exact, jitter-free replication. */
export function useWorlds(): { start(options?: WorldOptions): Promise<World> } {
  let azurite: Azurite | undefined;
  let world: World | undefined;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  return {
    async start(options = {}) {
      world = await startWorld({ clock: new VirtualClock(), seed: 42, emulator: { replication: { jitter: 0 } }, ...options, ...(azurite ? { azurite } : {}) });
      return world;
    },
  };
}

export interface LoggedExchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly responseBody?: unknown;
  readonly requestBody?: unknown;
  readonly requestHeaders: Record<string, string>;
  readonly time?: number | string;
  /** Wall-clock arrival (epoch ms): SDK retry waits are real time even when the emulator's clock is virtual. */
  readonly realTime?: number;
  readonly responseHeaders?: Record<string, string>;
}

export function armLog(world: World): LoggedExchange[] {
  return world.emulator.control.requestLog() as LoggedExchange[];
}

export const isShareCall = (x: LoggedExchange): boolean => x.method === "POST" && /\/galleries\/[^/]+\/share\?/i.test(x.url);
export const isVersionRead = (x: LoggedExchange): boolean =>
  x.method === "GET" && /\/images\/[^/]+\/versions\/[^/?]+\?/i.test(x.url) && /expand=ReplicationStatus/i.test(x.url);

export function aggregatedState(x: LoggedExchange): string | undefined {
  const body = x.responseBody as { properties?: { replicationStatus?: { aggregatedState?: string } } } | undefined;
  return body?.properties?.replicationStatus?.aggregatedState;
}

export function timeOf(x: LoggedExchange): number {
  return typeof x.time === "number" ? x.time : Date.parse(String(x.time));
}

/** What a browser does with redirects: follows them (bounded), sending nothing it was not given. `onHop` sees each next address. */
export async function followLikeBrowser(url: string, onHop?: (next: string) => void): Promise<Response> {
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const response = await fetch(next, { redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return response;
    next = new URL(location, next).toString();
    onHop?.(next);
  }
  throw new Error("too many redirects");
}

/** Runs the world until the onboarding shows its consent links (bounded). */
export async function consentLinksOf(w: World, instanceId: string): Promise<{ consentPageUrl: string; adminConsentUrl: string }> {
  for (let i = 0; i < 50; i++) {
    await w.host.durable.runUntilIdle();
    const custom = w.host.durable.getStatus(instanceId)?.customStatus as { consent?: { consentPageUrl: string; adminConsentUrl: string } } | undefined;
    if (custom?.consent) return custom.consent;
  }
  throw new Error(`${instanceId} never asked for consent`);
}

/**
 * Puts requests on the world's onboarding queue with the real ServiceBusSender, as any sender may:
 * JSON bodies, messageId = the request's requestId unless `messageIds` names others.
 */
export async function sendRequests(w: World, bodies: readonly Record<string, unknown>[], messageIds?: readonly string[]): Promise<void> {
  const client = new ServiceBusClient(w.serviceBus.connectionString, { retryOptions: { maxRetries: 0 } });
  try {
    await client
      .createSender(ONBOARDING_QUEUE)
      .sendMessages(bodies.map((body, i) => ({ body, contentType: "application/json", messageId: messageIds?.[i] ?? String(body.requestId ?? `m-${i}`) })));
  } finally {
    await client.close();
  }
}

/** Runs the `gallery-share` command line (src/cli/galleryShare.ts through tsx) with the arguments and extra environment. */
export function runCli(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = path.resolve(__dirname, "../..");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src/cli/galleryShare.ts"), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
