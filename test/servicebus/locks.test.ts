// Peek-lock on the broker's (virtual) clock: an expired lock redelivers, renewal extends the lock,
// and a message past maxDeliveryCount lands in the dead-letter queue, read back through the SDK.
import { setTimeout as sleep } from "node:timers/promises";
import { isServiceBusError, ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from "@azure/service-bus";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WallClock } from "../../local/clock";
import { startServiceBusBroker } from "../../local/servicebus";
import { FAST, startHarness, type Harness } from "./support";

const QUEUE = "onboarding";
const LOCK_MS = 120_000; // PT2M, infra/servicebus-queue.json
let h: Harness;

beforeEach(async () => {
  h = await startHarness({ queues: [QUEUE, { name: "poison", maxDeliveryCount: 2 }] });
});
afterEach(async () => {
  await h.close();
});

function receiver(queue = QUEUE, subQueueType?: "deadLetter"): ServiceBusReceiver {
  // No SDK auto-renewal: it schedules itself on real time and would renew behind the test's back.
  return h.client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0, ...(subQueueType ? { subQueueType } : {}) });
}

async function receiveOne(r: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
  const [message] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  if (!message) throw new Error("no message received");
  return message;
}

async function settleError(p: Promise<void>): Promise<string | undefined> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isServiceBusError(error) ? error.code : error === undefined ? undefined : String(error);
}

describe("local Service Bus: locks", () => {
  it("an expired lock redelivers the message (deliveryCount + 1) and the old lock is lost", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "slow consumer", messageId: "req-1" });
    const r = receiver();
    const first = await receiveOne(r);
    expect(first.deliveryCount).toBe(0);

    h.clock.advance(LOCK_MS - 1);
    expect(h.broker.queues.get(QUEUE)?.lockedMessageCount).toBe(1);
    await expect(r.receiveMessages(1, { maxWaitTimeInMs: 200 })).resolves.toEqual([]);

    h.clock.advance(1); // the broker watches the virtual clock: the lock ends exactly now
    expect(h.broker.queues.get(QUEUE)?.lockedMessageCount).toBe(0);
    const second = await receiveOne(r);
    expect(second).toMatchObject({ messageId: "req-1", deliveryCount: 1 });
    expect(second.lockToken).not.toBe(first.lockToken);
    expect(second.lockedUntilUtc?.getTime()).toBe(h.clock.now() + LOCK_MS);
    expect(h.broker.records().some((e) => e.event === "lock-expired")).toBe(true);

    expect(await settleError(r.completeMessage(first))).toBe("MessageLockLost");
    await r.completeMessage(second);
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
  });

  it("renewMessageLock extends the lock from now by the lock duration; the message is not redelivered", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "long job" });
    const r = receiver();
    const message = await receiveOne(r);
    const firstUntil = message.lockedUntilUtc?.getTime() ?? 0;

    h.clock.advance(90_000);
    const renewed = await r.renewMessageLock(message);
    expect(renewed.getTime()).toBe(h.clock.now() + LOCK_MS);
    expect(renewed.getTime()).toBeGreaterThan(firstUntil);
    expect(message.lockedUntilUtc?.getTime()).toBe(renewed.getTime());

    h.clock.advance(60_000); // past the first lock, inside the renewed one
    expect(h.broker.queues.peek(QUEUE)[0]).toMatchObject({ deliveryCount: 0, lockedUntil: renewed.toISOString() });
    await r.completeMessage(message);
    expect(h.broker.queues.get(QUEUE)?.activeMessageCount).toBe(0);
  });

  it("renewing a lock that expired fails with MessageLockLost", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "too late" });
    const r = receiver();
    const message = await receiveOne(r);
    h.clock.advance(LOCK_MS);
    const error = await r.renewMessageLock(message).catch((e: unknown) => e);
    expect(isServiceBusError(error) && error.code).toBe("MessageLockLost");
  });

  it("after maxDeliveryCount failed deliveries the message is dead-lettered with MaxDeliveryCountExceeded", async () => {
    await h.client.createSender("poison").sendMessages({ body: { tenantId: "t-9" }, messageId: "poison-1" });
    const r = receiver("poison");
    const first = await receiveOne(r);
    await r.abandonMessage(first); // failed delivery 1 (abandon)
    const second = await receiveOne(r);
    expect(second.deliveryCount).toBe(1);
    h.clock.advance(LOCK_MS); // failed delivery 2 (lock expiry): maxDeliveryCount 2 reached
    expect(h.broker.queues.get("poison")).toMatchObject({ activeMessageCount: 0, deadLetterMessageCount: 1 });
    await expect(r.receiveMessages(1, { maxWaitTimeInMs: 200 })).resolves.toEqual([]);

    const dlq = receiver("poison", "deadLetter");
    const dead = await receiveOne(dlq);
    expect(dead).toMatchObject({
      messageId: "poison-1",
      body: { tenantId: "t-9" },
      deliveryCount: 2,
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: "Message could not be consumed after 2 delivery attempts.",
    });
    expect(dead.sequenceNumber?.toNumber()).toBe(first.sequenceNumber?.toNumber());
    // Peek on the dead-letter queue goes to <queue>/$DeadLetterQueue/$management.
    const [peeked] = await dlq.peekMessages(1);
    expect(peeked?.messageId).toBe("poison-1");
    await dlq.completeMessage(dead);
    expect(h.broker.queues.get("poison")?.deadLetterMessageCount).toBe(0);
  });

  it("the default maxDeliveryCount is the deployed one (5)", async () => {
    await h.client.createSender(QUEUE).sendMessages({ body: "x" });
    const r = receiver();
    for (let attempt = 0; attempt < 4; attempt++) await r.abandonMessage(await receiveOne(r));
    expect(h.broker.queues.get(QUEUE)?.deadLetterMessageCount).toBe(0);
    await r.abandonMessage(await receiveOne(r));
    expect(h.broker.queues.peek(QUEUE, "deadLetter")).toMatchObject([
      {
        deliveryCount: 5,
        deadLetterReason: "MaxDeliveryCountExceeded",
        deadLetterErrorDescription: "Message could not be consumed after 5 delivery attempts.",
      },
    ]);
  });
});

describe("local Service Bus: locks on a wall clock", () => {
  it("a lock expires by itself (a real timer armed for the next deadline, scaled by the clock's speed)", async () => {
    // x100: the 5-second lock lasts 50 real milliseconds.
    const broker = await startServiceBusBroker({ clock: new WallClock(100), queues: [{ name: "fast", lockDuration: "PT5S" }] });
    const client = new ServiceBusClient(broker.connectionString, FAST);
    try {
      await client.createSender("fast").sendMessages({ body: "x", messageId: "wall-1" });
      const [message] = await client.createReceiver("fast", { maxAutoLockRenewalDurationInMs: 0 }).receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(message?.deliveryCount).toBe(0);
      for (let attempt = 0; attempt < 50 && broker.queues.get("fast")?.lockedMessageCount !== 0; attempt++) await sleep(20);
      expect(broker.queues.peek("fast")).toMatchObject([{ messageId: "wall-1", deliveryCount: 1 }]);
      expect(broker.queues.peek("fast")[0]?.lockedUntil).toBeUndefined();
    } finally {
      await client.close();
      await broker.close();
    }
  });
});
