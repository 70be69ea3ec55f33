// Service Bus queue triggers on the local broker: the host receives through the real @azure/service-bus
// peek-lock receiver, settles as the Functions Service Bus extension does under host.json, and hands the
// function the trigger metadata the extension passes to the Node worker. Messages are sent, and dead
// letters read, with @azure/service-bus; everything runs on one VirtualClock.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from "@azure/service-bus";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../local/clock";
import { startLocalHost, type ServiceBusListenerInfo } from "../../local/host";
import { newtonsoftDate, serviceBusOptionsOf } from "../../local/host/serviceBusTriggers";
import { startServiceBusBroker, type ServiceBusBroker } from "../../local/servicebus";
import type * as HostApp from "../fixtures/host-app/index.js";
import { fixtureState, startFixtureHost, T0, type FixtureHost } from "./support";

const LOCK_MS = 120_000; // PT2M, infra/servicebus-queue.json
const MAX_DELIVERIES = 5; // infra/servicebus-queue.json
const FAST = { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } };
const load = (): Promise<unknown> => import("../fixtures/host-app/index.js");
// Imported after local/host (through ./support), so the fixture's functions register with the host.
const fixture = (): Promise<typeof HostApp> => import("../fixtures/host-app/index.js");

/** Polls (real time, bounded) until `condition` holds. */
async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(5)) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

describe("Service Bus queue triggers on the local broker", () => {
  let clock: VirtualClock;
  let broker: ServiceBusBroker;
  let fx: FixtureHost;
  let client: ServiceBusClient;
  const senders = new Map<string, ServiceBusSender>();

  const send = async (queue: string, message: ServiceBusMessage): Promise<void> => {
    let sender = senders.get(queue);
    if (!sender) senders.set(queue, (sender = client.createSender(queue)));
    await sender.sendMessages(message);
  };
  const listener = (name: string): ServiceBusListenerInfo => {
    const found = fx.host.serviceBus.listeners().find((l) => l.functionName === name);
    if (!found) throw new Error(`no listener for ${name}`);
    return found;
  };
  const jobsOf = async (messageId: string) => (await fixtureState()).jobs.filter((j) => j.messageId === messageId);

  beforeAll(async () => {
    clock = new VirtualClock(T0);
    broker = await startServiceBusBroker({ clock, queues: ["jobs", "manual-jobs"] });
    fx = await startFixtureHost({
      clock,
      settings: { ServiceBusConnection: broker.connectionString },
      hostJson: {
        version: "2.0",
        extensions: { serviceBus: { autoCompleteMessages: true, maxConcurrentCalls: 2, maxAutoLockRenewalDuration: "00:03:00", prefetchCount: 0 } },
      },
    });
    client = new ServiceBusClient(broker.connectionString, FAST);
  });
  afterAll(async () => {
    (await fixture()).openJobGate();
    await client?.close();
    await fx?.host.close();
    await broker?.close();
  });
  beforeEach(async () => {
    const state = await fixtureState();
    state.jobs.length = 0;
    state.jobsPeak = 0;
    (await fixture()).openJobGate();
  });

  it("listens with a peek-lock receiver per trigger: queue from %JOBS_QUEUE%, connection from its setting, settlement from host.json", () => {
    expect(fx.host.serviceBus.options).toEqual({ autoCompleteMessages: true, maxConcurrentCalls: 2, maxAutoLockRenewalDurationMs: 180_000, prefetchCount: 0 });
    expect(listener("jobs")).toMatchObject({
      queueName: "jobs",
      connection: "ServiceBusConnection",
      state: "listening",
      autoCompleteMessages: true,
      maxConcurrentCalls: 2,
    });
    // The trigger's own autoCompleteMessages wins over host.json, as in the extension.
    expect(listener("manualJobs")).toMatchObject({ queueName: "manual-jobs", state: "listening", autoCompleteMessages: false });
    const attaches = broker.records().filter((e) => e.event === "attach" && e.mode === "peekLock");
    expect(attaches.map((e) => e.entity)).toEqual(expect.arrayContaining(["jobs", "manual-jobs"]));
  });

  it("a function that throws twice, then returns, sees deliveryCount 1, 2, 3; the message ends completed (host.durable.runUntilIdle waits for it)", async () => {
    await send("jobs", { body: { kind: "flaky", failures: 2 }, messageId: "m-flaky" });
    await fx.host.durable.runUntilIdle();
    expect((await jobsOf("m-flaky")).map((j) => j.deliveryCount)).toEqual([1, 2, 3]);
    expect(broker.queues.get("jobs")).toMatchObject({ activeMessageCount: 0, lockedMessageCount: 0, deadLetterMessageCount: 0 });
    const settlements = broker
      .records()
      .filter((e) => e.event === "settle" && e.entity === "jobs")
      .map((e) => e.disposition);
    expect(settlements.slice(-3)).toEqual(["abandon", "abandon", "complete"]);
    expect(fx.logs.some((l) => l.includes("message 'm-flaky' (delivery 1) failed: transient failure on delivery 1"))).toBe(true);
  });

  it("a function that always throws ends in the dead-letter queue: MaxDeliveryCountExceeded after maxDeliveryCount deliveries", async () => {
    await send("jobs", { body: { kind: "fail" }, messageId: "m-poison" });
    await fx.host.serviceBus.drain();
    expect((await jobsOf("m-poison")).map((j) => j.deliveryCount)).toEqual([1, 2, 3, 4, 5]);
    expect(broker.queues.get("jobs")).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 1 });
    const dlq = client.createReceiver("jobs", { subQueueType: "deadLetter", maxAutoLockRenewalDurationInMs: 0 });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(dead).toMatchObject({
      messageId: "m-poison",
      body: { kind: "fail" },
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: `Message could not be consumed after ${MAX_DELIVERIES} delivery attempts.`,
      deliveryCount: MAX_DELIVERIES, // the JS SDK's count (the function saw .NET's, one more per delivery)
    });
    if (dead) await dlq.completeMessage(dead);
    await dlq.close();
  });

  it("autoCompleteMessages false: a function that settles nothing leaves the message locked; it comes back when the lock expires, and is dead-lettered in the end", async () => {
    await send("manual-jobs", { body: { kind: "ok" }, messageId: "m-manual" });
    await fx.host.serviceBus.drain();
    expect((await jobsOf("m-manual")).map((j) => j.deliveryCount)).toEqual([1]);
    expect(broker.queues.get("manual-jobs")).toMatchObject({ activeMessageCount: 1, lockedMessageCount: 1 });
    expect(fx.logs.some((l) => l.includes("autoCompleteMessages is false and nothing settled it"))).toBe(true);

    clock.advance(LOCK_MS - 1);
    await fx.host.serviceBus.drain();
    expect(await jobsOf("m-manual")).toHaveLength(1);
    clock.advance(1); // the broker ends the lock on its clock and delivers again
    await fx.host.serviceBus.drain();
    expect((await jobsOf("m-manual")).map((j) => j.deliveryCount)).toEqual([1, 2]);

    for (let expiry = 2; expiry < MAX_DELIVERIES; expiry++) {
      clock.advance(LOCK_MS);
      await fx.host.serviceBus.drain();
    }
    expect((await jobsOf("m-manual")).map((j) => j.deliveryCount)).toEqual([1, 2, 3, 4, 5]);
    clock.advance(LOCK_MS);
    await fx.host.serviceBus.drain();
    expect(broker.queues.get("manual-jobs")).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 1 });
    expect(broker.queues.peek("manual-jobs", "deadLetter")).toMatchObject([{ messageId: "m-manual", deadLetterReason: "MaxDeliveryCountExceeded" }]);
    expect(listener("manualJobs")).toMatchObject({ completed: 0, abandoned: 0 });
  });

  it("hands the function the trigger metadata as the extension passes it to the Node worker", async () => {
    const sentAt = clock.now();
    const body = {
      kind: "ok",
      ean: 2222,
      name: "gift two",
      flag: true,
      nested: { Inner: 1, at: "2026-01-01T08:00:00.000Z" },
      list: [1, 2],
      when: "2026-01-01T08:30:00Z",
      Label: "from-body",
    };
    await send("jobs", {
      body,
      messageId: "m-meta",
      contentType: "application/json",
      correlationId: "corr-1",
      subject: "onboarding",
      applicationProperties: { Tenant: "t1", attempt: 2, sentAt: new Date(T0) },
    });
    const [peeked] = broker.queues.peek("jobs");
    await fx.host.serviceBus.drain();
    const [job] = await jobsOf("m-meta");
    expect(job?.body).toEqual(body);
    const meta = job?.metadata ?? {};
    expect(meta).toEqual({
      // The extension's binding data (ServiceBusTriggerBindingStrategy), camelCased by @azure/functions.
      messageReceiver: {},
      messageSession: {},
      messageActions: {},
      sessionActions: {},
      receiveActions: {},
      client: {
        fullyQualifiedNamespace: "127.0.0.1",
        isClosed: false,
        transportType: 0,
        identifier: expect.stringMatching(/^127\.0\.0\.1-[0-9a-f-]{36}$/) as unknown,
      },
      deliveryCount: 1,
      lockToken: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/) as unknown,
      expiresAtUtc: newtonsoftDate(sentAt + 14 * 86_400_000, ""),
      expiresAt: newtonsoftDate(sentAt + 14 * 86_400_000, "+00:00"),
      enqueuedTimeUtc: newtonsoftDate(sentAt, ""),
      enqueuedTime: newtonsoftDate(sentAt, "+00:00"),
      messageId: "m-meta",
      contentType: "application/json",
      sequenceNumber: peeked?.sequenceNumber,
      subject: "onboarding",
      correlationId: "corr-1",
      // Keys inside are camelCased too; a Date property is a .NET DateTime (Utc).
      applicationProperties: { tenant: "t1", attempt: 2, sentAt: "2026-01-01T08:00:00Z" },
      userProperties: { tenant: "t1", attempt: 2, sentAt: "2026-01-01T08:00:00Z" },
      // The functions host adds the JSON body's top-level properties (Utility.ApplyBindingData): objects as
      // JSON, arrays left out, the rest as (string)JValue, which the worker JSON-parses where it can.
      kind: "ok",
      ean: 2222,
      name: "gift two",
      flag: "True",
      nested: { inner: 1, at: "2026-01-01T08:00:00Z" },
      when: "01/01/2026 08:30:00",
      label: "from-body", // replaces the extension's Label (Subject, for back-compat)
    });
    // DateTimeOffset.DateTime has DateTimeKind.Unspecified: the "Utc" times carry no zone.
    expect(String(meta.enqueuedTimeUtc)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/);
  });

  it("passes the body as the worker gets it: a string, JSON-parsed when it parses", async () => {
    await send("jobs", { body: Buffer.from("plain text, not JSON"), messageId: "m-text" });
    await send("jobs", { body: "a JSON string", messageId: "m-json-string" });
    await fx.host.serviceBus.drain();
    const [text] = await jobsOf("m-text");
    expect(text?.body).toBe("plain text, not JSON");
    expect(Object.keys(text?.metadata ?? {})).not.toContain("kind");
    expect((await jobsOf("m-json-string"))[0]?.body).toBe("a JSON string");
  });

  it("maxConcurrentCalls bounds the invocations in flight per function; the other messages wait on the broker", async () => {
    (await fixture()).closeJobGate();
    for (let i = 1; i <= 4; i++) await send("jobs", { body: { kind: "block" }, messageId: `m-conc-${i}` });
    await until("two running invocations", () => listener("jobs").running === 2);
    await sleep(100);
    const state = await fixtureState();
    expect(state.jobsRunning).toBe(2);
    expect(listener("jobs")).toMatchObject({ running: 2, inFlight: 2 });
    expect(broker.queues.get("jobs")).toMatchObject({ activeMessageCount: 4, lockedMessageCount: 2 });
    (await fixture()).openJobGate();
    await fx.host.serviceBus.drain();
    expect(state.jobs.filter((j) => String(j.messageId).startsWith("m-conc-"))).toHaveLength(4);
    expect(state.jobsPeak).toBe(2);
    expect(listener("jobs").peakRunning).toBe(2);
    expect(broker.queues.get("jobs")).toMatchObject({ activeMessageCount: 0, lockedMessageCount: 0 });
  });

  it("renews the lock while the function runs, 10 s before it ends, until maxAutoLockRenewalDuration; then the lock expires and the message is delivered again", async () => {
    (await fixture()).closeJobGate();
    const renewalsBefore = listener("jobs").lockRenewals;
    await send("jobs", { body: { kind: "block" }, messageId: "m-long" });
    await until("the invocation", () => listener("jobs").running === 1);
    const started = clock.now();
    expect(broker.queues.peek("jobs")[0]?.lockedUntil).toBe(new Date(started + LOCK_MS).toISOString());

    clock.advance(LOCK_MS - 10_001);
    await sleep(50);
    expect(listener("jobs").lockRenewals).toBe(renewalsBefore);
    clock.advance(1); // 10 s before the lock ends: the host renews through the receiver
    await until("the renewal", () => listener("jobs").lockRenewals === renewalsBefore + 1);
    expect(broker.queues.peek("jobs")[0]?.lockedUntil).toBe(new Date(clock.now() + LOCK_MS).toISOString());
    clock.advance(20_000); // past the first lock: still held
    expect(broker.queues.peek("jobs")[0]).toMatchObject({ deliveryCount: 0 });

    // The next renewal would fall after started + 3 min (maxAutoLockRenewalDuration): there is none.
    clock.advance(LOCK_MS - 20_000 - 10_000);
    await sleep(50);
    expect(listener("jobs").lockRenewals).toBe(renewalsBefore + 1);
    clock.advance(10_000); // the renewed lock ends while the function still runs
    await until("the second delivery", () => listener("jobs").running === 2);
    expect((await jobsOf("m-long")).map((j) => j.deliveryCount)).toEqual([1, 2]);
    (await fixture()).openJobGate();
    await fx.host.serviceBus.drain();
    // The first invocation's completion comes too late: its lock is gone. The second completes.
    expect(fx.logs.some((l) => l.includes("complete of message 'm-long' failed: MessageLockLost"))).toBe(true);
    expect(broker.queues.get("jobs")).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 0 });
  });

  it("sends a Service Bus queue output through the broker, where the trigger picks it up", async () => {
    const res = await fetch(`${fx.host.baseUrl}/api/enqueue-job`, { method: "POST", body: JSON.stringify({ kind: "ok", via: "output" }) });
    expect(res.status).toBe(202);
    await fx.host.serviceBus.drain();
    const state = await fixtureState();
    expect(state.jobs.filter((j) => (j.body as { via?: string }).via === "output").map((j) => j.deliveryCount)).toEqual([1]);
  });
});

describe("Service Bus trigger configuration", () => {
  let broker: ServiceBusBroker;
  beforeAll(async () => {
    broker = await startServiceBusBroker({ clock: new VirtualClock(T0), queues: ["jobs", "manual-jobs"] });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("a queue name that does not resolve, a queue the broker does not have or a missing connection setting puts that function in error; the rest of the app runs", async () => {
    const logs: string[] = [];
    const host = await startLocalHost({
      load,
      settings: { ServiceBusConnection: broker.connectionString },
      log: (l) => logs.push(l),
      clock: new VirtualClock(T0),
    });
    try {
      const byName = Object.fromEntries(host.serviceBus.listeners().map((l) => [l.functionName, l]));
      expect(byName.jobs).toMatchObject({ state: "error", error: "'%JOBS_QUEUE%' does not resolve to a value." });
      expect(byName.manualJobs).toMatchObject({ state: "listening", queueName: "manual-jobs" });
      expect(logs.some((l) => l.includes("the listener for function 'jobs' was unable to start"))).toBe(true);
    } finally {
      await host.close();
    }
    const missingQueue = await startLocalHost({
      load,
      settings: { ServiceBusConnection: broker.connectionString, JOBS_QUEUE: "no-such-queue" },
      clock: new VirtualClock(T0),
    });
    try {
      expect(missingQueue.serviceBus.listeners().find((l) => l.functionName === "jobs")).toMatchObject({
        state: "error",
        error: expect.stringMatching(/^MessagingEntityNotFound: .*no-such-queue/) as unknown,
      });
    } finally {
      await missingQueue.close();
    }
    const bare = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" }, clock: new VirtualClock(T0) });
    try {
      expect(bare.serviceBus.listeners().map((l) => [l.state, l.error])).toEqual([
        [
          "error",
          "Service Bus account connection string with name 'ServiceBusConnection' does not exist in the settings. Make sure that it is a defined App Setting.",
        ],
        [
          "error",
          "Service Bus account connection string with name 'ServiceBusConnection' does not exist in the settings. Make sure that it is a defined App Setting.",
        ],
      ]);
      expect(await (await fetch(`${bare.baseUrl}/api/hello/still`)).text()).toBe("Hello, still");
      await bare.serviceBus.drain(); // nothing listens: idle at once
    } finally {
      await bare.close();
    }
  });

  it("an identity-based connection fails the start, saying the local broker needs a connection string", async () => {
    const started = startLocalHost({ load, settings: { JOBS_QUEUE: "jobs", ServiceBusConnection__fullyQualifiedNamespace: "contoso.servicebus.windows.net" } });
    await expect(started).rejects.toThrow(
      /connection 'ServiceBusConnection' is identity-based .*accepts only SAS connection strings: set the app setting 'ServiceBusConnection'/,
    );
    expect(process.env.ServiceBusConnection__fullyQualifiedNamespace).toBeUndefined();
  });

  it("reads extensions.serviceBus from <appRoot>/host.json (default: the working directory), with the extension's defaults", async () => {
    const dir = mkdtempSync(join(tmpdir(), "host-json-"));
    try {
      writeFileSync(
        join(dir, "host.json"),
        JSON.stringify({
          version: "2.0",
          extensions: { ServiceBus: { AutoCompleteMessages: false, maxConcurrentCalls: 3, maxAutoLockRenewalDuration: "-00:00:00.0010000", prefetchCount: 4 } },
        }),
      );
      const host = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" }, appRoot: dir });
      try {
        expect(host.serviceBus.options).toEqual({
          autoCompleteMessages: false,
          maxConcurrentCalls: 3,
          maxAutoLockRenewalDurationMs: Infinity,
          prefetchCount: 4,
        });
      } finally {
        await host.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The project's host.json (the working directory): what Azure runs the app with.
    const host = await startLocalHost({ load, settings: { JOBS_QUEUE: "jobs" } });
    try {
      expect(host.serviceBus.options).toEqual({ autoCompleteMessages: true, maxConcurrentCalls: 8, maxAutoLockRenewalDurationMs: 600_000, prefetchCount: 0 });
    } finally {
      await host.close();
    }
    expect(serviceBusOptionsOf(undefined)).toMatchObject({ autoCompleteMessages: true, maxAutoLockRenewalDurationMs: 300_000, prefetchCount: 0 });
    expect(serviceBusOptionsOf(undefined).maxConcurrentCalls % 16).toBe(0);
  });
});
