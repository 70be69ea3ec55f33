// Receive and settle through the real @azure/service-bus client: complete, abandon, explicit
// dead-letter, defer, receive-and-delete, and the streaming subscribe() path.
import { isServiceBusError, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support";

const QUEUE = "onboarding";
let h: Harness;

beforeEach(async () => {
  h = await startHarness({ queues: [QUEUE] });
});
afterEach(async () => {
  await h.close();
});

/** Peek-lock receiver without the SDK's auto lock renewal (it runs on real time, the broker on the virtual clock). */
function receiver(subQueueType?: "deadLetter") {
  return h.client.createReceiver(QUEUE, { maxAutoLockRenewalDurationInMs: 0, ...(subQueueType ? { subQueueType } : {}) });
}

async function receiveOne(r: ReturnType<typeof receiver>): Promise<ServiceBusReceivedMessage> {
  const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  if (!message) throw new Error("no message received");
  return message;
}

describe("local Service Bus: receive and settle", () => {
  it("delivers what was sent with its properties and the broker's annotations, and complete removes it", async () => {
    const before = h.clock.now();
    await h.client.createSender(QUEUE).sendMessages({
      body: { tenantId: "t-1", action: "onboard" },
      messageId: "req-1",
      correlationId: "corr-1",
      contentType: "application/json",
      subject: "onboard",
      applicationProperties: { source: "portal", attempt: 1 },
    });
    const r = receiver();
    const message = await receiveOne(r);
    expect(message).toMatchObject({
      body: { tenantId: "t-1", action: "onboard" },
      messageId: "req-1",
      correlationId: "corr-1",
      contentType: "application/json",
      subject: "onboard",
      applicationProperties: { source: "portal", attempt: 1 },
      deliveryCount: 0,
      state: "active",
    });
    expect(message.sequenceNumber?.toNumber()).toBe(1);
    expect(message.enqueuedTimeUtc?.getTime()).toBe(before);
    // PT2M from infra/servicebus-queue.json, on the broker's (virtual) clock.
    expect(message.lockedUntilUtc?.getTime()).toBe(before + 120_000);
    expect(message.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(h.broker.queues.get(QUEUE)?.lockedMessageCount).toBe(1);

    await r.completeMessage(message);
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 0, lockedMessageCount: 0 });
    await expect(r.receiveMessages(1, { maxWaitTimeInMs: 300 })).resolves.toEqual([]);
  });

  it("abandon puts the message back with one more delivery (deliveryCount 0, then 1) and the properties to modify", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "retry me", messageId: "req-2" });
    const r = receiver();
    const first = await receiveOne(r);
    expect(first.deliveryCount).toBe(0);
    await r.abandonMessage(first, { lastError: "storage throttled" });

    const second = await receiveOne(r);
    expect(second.messageId).toBe("req-2");
    expect(second.deliveryCount).toBe(1);
    expect(second._rawAmqpMessage.header?.deliveryCount).toBe(1);
    expect(second.lockToken).not.toBe(first.lockToken);
    expect(second.applicationProperties).toEqual({ lastError: "storage throttled" });
    await r.completeMessage(second);
  });

  it("an explicit dead-letter keeps its reason and description, readable from the dead-letter queue", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "not json", messageId: "req-3", applicationProperties: { source: "portal" } });
    const r = receiver();
    await r.deadLetterMessage(await receiveOne(r), { deadLetterReason: "MalformedRequest", deadLetterErrorDescription: "body is not a JSON object" });
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 1 });

    const dlq = receiver("deadLetter");
    const dead = await receiveOne(dlq);
    expect(dead).toMatchObject({
      messageId: "req-3",
      body: "not json",
      deadLetterReason: "MalformedRequest",
      deadLetterErrorDescription: "body is not a JSON object",
      deliveryCount: 0,
    });
    expect(dead.applicationProperties).toEqual({
      source: "portal",
      DeadLetterReason: "MalformedRequest",
      DeadLetterErrorDescription: "body is not a JSON object",
    });
    await dlq.completeMessage(dead);
    expect(h.broker.queues.get(QUEUE)?.deadLetterMessageCount).toBe(0);
  });

  it("defer hides the message from receives until it is fetched by sequence number; settling it goes through $management", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "later", messageId: "req-4" });
    const r = receiver();
    const message = await receiveOne(r);
    await r.deferMessage(message);
    await expect(r.receiveMessages(1, { maxWaitTimeInMs: 300 })).resolves.toEqual([]);
    expect(h.broker.queues.get(QUEUE)?.deferredMessageCount).toBe(1);

    const sequenceNumber = message.sequenceNumber;
    if (!sequenceNumber) throw new Error("no sequence number");
    const [deferred] = await r.receiveDeferredMessages(sequenceNumber);
    expect(deferred).toMatchObject({ messageId: "req-4", state: "deferred" });
    if (!deferred) throw new Error("not returned");
    await r.completeMessage(deferred);
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ deferredMessageCount: 0, activeMessageCount: 0 });
  });

  it("a message sent without a messageId gets one from the broker (a GUID without dashes), as Service Bus does", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "anonymous" });
    const r = h.client.createReceiver(QUEUE); // default auto lock renewal: it needs a messageId to stop
    const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(message?.messageId).toMatch(/^[0-9a-f]{32}$/);
    if (message) await r.completeMessage(message);
  });

  it("receive-and-delete hands the message over settled, without a lock", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "fire and forget" });
    const r = h.client.createReceiver(QUEUE, { receiveMode: "receiveAndDelete" });
    const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(message?.body).toBe("fire and forget");
    expect(message?.lockToken).toBeUndefined();
    expect(h.broker.queues.get(QUEUE)).toMatchObject({ activeMessageCount: 0, lockedMessageCount: 0 });
  });

  it("an empty receive ends with a drain the broker answers (the link stays attached)", async () => {
    const r = receiver();
    await expect(r.receiveMessages(3, { maxWaitTimeInMs: 200 })).resolves.toEqual([]);
    await h.client.createSender(QUEUE).sendMessages({ body: "after the drain" });
    const message = await receiveOne(r);
    expect(message.body).toBe("after the drain");
    const events = h.broker.records().map((e) => e.event);
    expect(events).toContain("drain");
    // One receiver link attached for the queue, never detached by the SDK's drain timeout.
    expect(h.broker.records().filter((e) => e.event === "detach")).toEqual([]);
    await r.completeMessage(message);
  });

  it("subscribe() (streaming receiver) gets each message and auto-completes it", async () => {
    const sender = h.client.createSender(QUEUE);
    await sender.sendMessages([{ body: "s1" }, { body: "s2" }]);
    const r = receiver();
    const seen: unknown[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const subscription = r.subscribe({
        processMessage: async (message) => {
          seen.push(message.body);
          if (seen.length === 2) {
            setImmediate(() => void subscription.close().then(resolve, reject));
          }
        },
        processError: async (args) => reject(args.error),
      });
    });
    await done;
    expect(seen).toEqual(["s1", "s2"]);
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
  });

  it("a settlement on a completed message's token is refused by the SDK before it reaches the broker", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "once" });
    const r = receiver();
    const message = await receiveOne(r);
    await r.completeMessage(message);
    const error = await r.completeMessage(message).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isServiceBusError(error)).toBe(false);
  });
});

describe("local Service Bus: long queues", () => {
  it("delivers more messages than one AMQP session holds unsettled (2,048), to a receiver with credit for all", async () => {
    const total = 2_600;
    const sender = h.client.createSender(QUEUE);
    for (let i = 0; i < total; i += 500) {
      await sender.sendMessages(Array.from({ length: Math.min(500, total - i) }, (_, j) => ({ body: { n: i + j }, messageId: `m-${i + j}` })));
    }
    const r = receiver();
    const seen = new Set<number>();
    // Credit for everything at once: the broker sends what the session holds, and the rest as they settle.
    for (let round = 0; round < 20 && seen.size < total; round++) {
      const batch = await r.receiveMessages(total, { maxWaitTimeInMs: 2000 });
      for (const m of batch) {
        seen.add((m.body as { n: number }).n);
        await r.completeMessage(m);
      }
    }
    expect(seen.size).toBe(total);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
  }, 60_000);
});
